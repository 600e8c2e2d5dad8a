#include "scanner/kube/ca_bundle.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>

namespace scangate::kube {

Result<size_t> check_ca_bundle(std::string_view pem, const std::string& what) {
  if (pem.size() > kMaxCaBundleBytes)
    return Error(ErrorKind::kLimit, what + " is " + std::to_string(pem.size()) + " bytes, more than a CA bundle (" +
                                        std::to_string(kMaxCaBundleBytes) + ")");
  // Every armoured block must be a certificate: a private key in the file would be published.
  size_t blocks = 0;
  for (size_t at = pem.find("-----BEGIN "); at != std::string_view::npos; at = pem.find("-----BEGIN ", at + 1)) {
    ++blocks;
    if (pem.compare(at, 27, "-----BEGIN CERTIFICATE-----") != 0)
      return Error(ErrorKind::kFormat, what + " holds a PEM block that is not a CERTIFICATE");
  }
  if (blocks == 0) return Error(ErrorKind::kFormat, what + " holds no PEM certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return Error(ErrorKind::kInternal, what + ": out of memory");
  ERR_clear_error();
  size_t parsed = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++parsed;
  }
  // The loop ends at the end of the text (no further BEGIN line) or at a block that does not parse.
  const unsigned long err = ERR_peek_last_error();
  const bool at_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!at_end || parsed != blocks)
    return Error(ErrorKind::kFormat, what + " holds a certificate that does not parse (" + std::to_string(parsed) +
                                         " of " + std::to_string(blocks) +
                                         " read whole): cut short, or being written?");
  return parsed;
}

Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kIo, "cannot read " + what + " " + path);
  std::string out;
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes)
      return Error(ErrorKind::kLimit,
                   what + " " + path + " is larger than " + std::to_string(max_bytes) + " bytes; refused");
  }
  if (in.bad()) return Error(ErrorKind::kIo, "cannot read " + what + " " + path);
  return out;
}

}  // namespace scangate::kube
