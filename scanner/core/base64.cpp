#include "scanner/core/base64.h"

#include <openssl/evp.h>

#include <cctype>

namespace scangate {

std::optional<std::string> base64_decode(std::string_view in) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) return std::nullopt;
  if (clean.empty()) return std::string();
  // EVP_DecodeBlock reads '=' anywhere as a zero digit and drops unknown trailing characters, so
  // only the RFC 4648 alphabet goes to it, with one or two '=' at the end (tests/fuzz/base64_fuzz).
  const size_t pads = clean.back() != '=' ? 0 : clean[clean.size() - 2] != '=' ? 1 : 2;
  for (size_t i = 0; i + pads < clean.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(clean[i])) && clean[i] != '+' && clean[i] != '/') return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (clean.back() == '=') --len;
  if (clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace scangate
