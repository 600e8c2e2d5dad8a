#include "scanner/image/keyring.h"

#include "scanner/core/text_safe.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace scangate {
namespace {

// "host[:port]/path" -> host (lowercase), port, path ("" or starting with '/').
struct Split {
  std::vector<std::string> parts;
  std::string port;
  std::string path;
};

Split split(std::string_view s) {
  Split out;
  auto slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(s.substr(slash));
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close != std::string_view::npos) {
      host = authority.substr(1, close - 1);
      if (close + 1 < authority.size() && authority[close + 1] == ':') out.port = authority.substr(close + 2);
    }
  } else if (auto colon = authority.rfind(':');
             colon != std::string_view::npos && authority.find(':') == colon) {  // one colon: host:port
    host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  std::string h = ascii_lower(host);
  size_t start = 0;
  for (;;) {
    auto dot = h.find('.', start);
    out.parts.push_back(h.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

bool is_docker_hub(std::string_view registry) { return registry == kDockerHubDomain; }

}  // namespace

std::string keyring_key(std::string_view raw) {
  std::string_view s = raw;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (s.size() >= scheme.size() && ascii_lower(s.substr(0, scheme.size())) == scheme) {
      s.remove_prefix(scheme.size());
      break;
    }
  }
  for (char stop : {'?', '#'})
    if (auto at = s.find(stop); at != std::string_view::npos) s = s.substr(0, at);
  auto slash = s.find('/');
  std::string host = ascii_lower(s.substr(0, slash));
  if (host.empty()) return {};
  std::string path = slash == std::string_view::npos ? std::string() : std::string(s.substr(slash));
  // Docker's clients treat /v1/ and /v2/ as the host itself.
  if (path.rfind("/v1/", 0) == 0 || path.rfind("/v2/", 0) == 0) path = path.substr(3);
  if (path.empty() || path == "/") return host;
  return host + path;
}

bool keyring_match(std::string_view key, std::string_view target) {
  Split k = split(key);
  Split t = split(target);
  if (k.port != t.port) return false;
  if (k.parts.size() != t.parts.size()) return false;
  if (t.path.compare(0, k.path.size(), k.path) != 0) return false;
  for (size_t i = 0; i < k.parts.size(); ++i)
    if (::fnmatch(k.parts[i].c_str(), t.parts[i].c_str(), 0) != 0) return false;
  return true;
}

void DockerKeyring::add(const CredentialStore& store, const std::string& origin) {
  for (const auto& [raw, cred] : store.entries) {
    std::string key = keyring_key(raw);
    if (key.empty() || cred.empty()) continue;
    entries_.push_back(KeyedCredential{cred, origin, std::move(key)});
  }
}

std::vector<KeyedCredential> DockerKeyring::lookup(const Reference& ref) const {
  const std::string target = ascii_lower(ref.registry) + "/" + ref.repository;
  std::vector<std::string> keys;
  for (const auto& e : entries_)
    if (std::find(keys.begin(), keys.end(), e.key) == keys.end()) keys.push_back(e.key);
  std::sort(keys.begin(), keys.end(), std::greater<>());
  std::vector<KeyedCredential> out;
  for (const auto& key : keys) {
    if (!keyring_match(key, target)) continue;
    for (const auto& e : entries_)
      if (e.key == key) out.push_back(e);
  }
  if (out.empty() && is_docker_hub(ref.registry)) {
    for (const auto& e : entries_)
      if (e.key == "index.docker.io" || e.key == "registry-1.docker.io") out.push_back(e);
  }
  return out;
}

}  // namespace scangate
