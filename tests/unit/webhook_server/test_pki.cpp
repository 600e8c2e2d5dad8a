#include "test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace scangate::test {

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

void add_ext(X509* issuer, X509* subject, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(subject, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

X509* new_cert(EVP_PKEY* key, long serial, long days, const char* cn) {
  X509* x = X509_new();
  check(x != nullptr, "X509_new");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  return x;
}

std::string pem_cert(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem_key(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

struct TestCa::Impl {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Impl() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TestCa::TestCa() : impl_(std::make_unique<Impl>()) {
  impl_->key = EVP_EC_gen("P-256");
  check(impl_->key != nullptr, "EVP_EC_gen");
  impl_->cert = new_cert(impl_->key, 1, 365, "scangate test CA");
  X509_set_issuer_name(impl_->cert, X509_get_subject_name(impl_->cert));
  add_ext(impl_->cert, impl_->cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(impl_->cert, impl_->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(impl_->cert, impl_->cert, NID_subject_key_identifier, "hash");
  check(X509_sign(impl_->cert, impl_->key, EVP_sha256()) > 0, "X509_sign(CA)");
  ca_pem_ = pem_cert(impl_->cert);
}

TestCa::~TestCa() = default;

std::pair<std::string, std::string> TestCa::issue(long serial, long valid_days) const {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "EVP_EC_gen");
  X509* x = new_cert(key, serial, valid_days, "scangate-webhook.test");
  X509_set_issuer_name(x, X509_get_subject_name(impl_->cert));
  add_ext(impl_->cert, x, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(impl_->cert, x, NID_key_usage, "critical,digitalSignature");
  add_ext(impl_->cert, x, NID_ext_key_usage, "serverAuth");
  add_ext(impl_->cert, x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  add_ext(impl_->cert, x, NID_authority_key_identifier, "keyid:always");
  check(X509_sign(x, impl_->key, EVP_sha256()) > 0, "X509_sign");
  auto out = std::make_pair(pem_cert(x), pem_key(key));
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp);
}

}  // namespace scangate::test
