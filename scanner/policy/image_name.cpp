#include "scanner/policy/image_name.h"

#include "scanner/policy/glob.h"

namespace scangate::policy {

std::string normalize_repository(std::string_view ref) {
  if (auto at = ref.find('@'); at != std::string_view::npos) ref = ref.substr(0, at);
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) ref = ref.substr(0, colon);
  if (ref.empty()) return {};
  std::string_view domain, rest = ref;
  if (size_t first = ref.find('/'); first != std::string_view::npos) {
    std::string_view head = ref.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      domain = head;
      rest = ref.substr(first + 1);
    }
  }
  std::string out;
  if (domain.empty() || domain == "index.docker.io" || domain == "registry-1.docker.io") {
    out = "docker.io/";
    if (rest.find('/') == std::string_view::npos) out += "library/";
  } else {
    out = std::string(domain) + "/";
  }
  out += rest;
  return out;
}

std::string short_digest(std::string_view digest) {
  size_t colon = digest.find(':');
  size_t keep = colon == std::string_view::npos ? 8 : colon + 1 + 8;
  if (digest.size() <= keep) return std::string(digest);
  return std::string(digest.substr(0, keep)) + "…";
}

bool is_sha256_digest(std::string_view s) {
  constexpr std::string_view prefix = "sha256:";
  if (s.size() != prefix.size() + 64 || s.substr(0, prefix.size()) != prefix) return false;
  for (char c : s.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool image_matches(std::string_view pattern, const ImageIdentity& image) {
  if (pattern.substr(0, 7) == "sha256:") return !image.digest.empty() && pattern == image.digest;
  if (image.repository.empty()) return false;
  return glob_match(pattern, image.repository);
}

}  // namespace scangate::policy
