#include "scanner/attest/dsse.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "scanner/core/base64.h"
#include "scanner/core/json_depth.h"

namespace scangate::attest {
namespace {

// Standard or URL-safe base64, padded or not.
std::optional<std::string> decode_any_base64(std::string_view in) {
  std::string s(in);
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  return base64_decode(s);
}

Result<std::string> string_field(const nlohmann::json& j, const char* key, const std::string& where, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Error(ErrorKind::kFormat, "DSSE envelope: " + where + key + " is missing");
    return std::string();
  }
  if (!it->is_string()) return Error(ErrorKind::kFormat, "DSSE envelope: " + where + key + " is not a string");
  return it->get<std::string>();
}

}  // namespace

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Result<Envelope> parse_envelope(std::string_view json) {
  if (json.size() > kMaxEnvelopeBytes)
    return Error(ErrorKind::kLimit, "DSSE envelope is larger than " + std::to_string(kMaxEnvelopeBytes >> 20) + " MiB");
  if (json_nesting(json, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting)
    return Error(ErrorKind::kFormat, "DSSE envelope nests deeper than any envelope does");
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return Error(ErrorKind::kFormat, "DSSE envelope is not JSON");
  if (!j.is_object()) return Error(ErrorKind::kFormat, "DSSE envelope is not a JSON object");
  Envelope e;
  auto type = string_field(j, "payloadType", "", true);
  if (!type.ok()) return type.error();
  e.payload_type = std::move(type).value();
  auto payload = string_field(j, "payload", "", true);
  if (!payload.ok()) return payload.error();
  auto decoded = decode_any_base64(*payload);
  if (!decoded) return Error(ErrorKind::kFormat, "DSSE envelope: payload is not base64");
  e.payload = std::move(*decoded);
  auto sigs = j.find("signatures");
  if (sigs == j.end() || sigs->is_null()) return e;  // verified as "no signatures"
  if (!sigs->is_array()) return Error(ErrorKind::kFormat, "DSSE envelope: signatures is not an array");
  if (sigs->size() > kMaxSignatures)
    return Error(ErrorKind::kLimit, "DSSE envelope has " + std::to_string(sigs->size()) + " signatures (at most " +
                                        std::to_string(kMaxSignatures) + " are read)");
  for (size_t i = 0; i < sigs->size(); ++i) {
    const auto& s = (*sigs)[i];
    const std::string where = "signatures[" + std::to_string(i) + "].";
    if (!s.is_object())
      return Error(ErrorKind::kFormat, "DSSE envelope: " + where.substr(0, where.size() - 1) + " is not an object");
    auto keyid = string_field(s, "keyid", where, false);
    if (!keyid.ok()) return keyid.error();
    auto sig = string_field(s, "sig", where, true);
    if (!sig.ok()) return sig.error();
    auto raw = decode_any_base64(*sig);
    if (!raw) return Error(ErrorKind::kFormat, "DSSE envelope: " + where + "sig is not base64");
    e.signatures.push_back({std::move(keyid).value(), std::move(*raw)});
  }
  return e;
}

std::string render_envelope(const Envelope& e) {
  nlohmann::json sigs = nlohmann::json::array();
  for (const auto& s : e.signatures) sigs.push_back({{"keyid", s.keyid}, {"sig", base64_encode(s.sig)}});
  nlohmann::json j = {{"payloadType", e.payload_type}, {"payload", base64_encode(e.payload)}, {"signatures", sigs}};
  return j.dump();
}

Result<Envelope> sign_envelope(std::string payload_type, std::string payload, const SigningKey& key) {
  auto sig = key.sign(pae(payload_type, payload));
  if (!sig.ok()) return sig.error();
  Envelope e{std::move(payload_type), std::move(payload), {}};
  e.signatures.push_back({"", std::move(sig).value()});
  return e;
}

const PublicKey* verify_envelope(const Envelope& e, std::span<const PublicKey> trusted) {
  if (e.signatures.empty()) return nullptr;
  // One hash of the (possibly large) PAE, then one cheap check per key and signature.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string signed_bytes = pae(e.payload_type, e.payload);
  if (EVP_Digest(signed_bytes.data(), signed_bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) return nullptr;
  const std::string_view digest(reinterpret_cast<const char*>(md), len);
  for (const auto& k : trusted)
    for (const auto& s : e.signatures)
      if (k.verify_sha256(digest, s.sig)) return &k;
  return nullptr;
}

}  // namespace scangate::attest
