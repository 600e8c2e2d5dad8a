#include "scanner/image/reference.h"

#include <cctype>
#include <vector>

#include "scanner/image/digest.h"

namespace scangate {
namespace {

constexpr size_t kNameTotalLengthMax = 255;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 300)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += '?';
    else
      out += c;
  }
  if (s.size() > 300) out += "...";
  return out + "\"";
}

Error invalid(std::string_view input, const std::string& why) {
  return Error(ErrorKind::kInvalidArgument, "invalid image reference " + quote(input) + ": " + why);
}

// path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    // a separator run
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  for (char ch : c)
    if (!is_alnum(ch) && ch != '-') return false;
  return true;
}

// host [":" port], host := domain-name | "[" ipv6 "]"
bool valid_domain(std::string_view d, std::string* why) {
  std::string_view host = d, port;
  if (!d.empty() && d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos) {
      *why = "IPv6 address is missing its closing ']'";
      return false;
    }
    std::string_view ip = d.substr(1, close - 1);
    if (ip.empty() || ip.find_first_not_of("0123456789abcdefABCDEF:") != std::string_view::npos) {
      *why = "the IPv6 address " + quote(ip) + " may contain only hex digits and ':' (no zones)";
      return false;
    }
    host = d.substr(0, close + 1);
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *why = "unexpected characters after the IPv6 address";
        return false;
      }
      port = rest.substr(1);
      if (port.empty()) {
        *why = "the registry port is empty";
        return false;
      }
    }
  } else {
    auto colon = d.find(':');
    if (colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      if (port.empty()) {
        *why = "the registry port is empty";
        return false;
      }
    }
    size_t start = 0;
    while (true) {
      auto dot = host.find('.', start);
      std::string_view comp = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (!valid_domain_component(comp)) {
        *why = "registry host " + quote(host) +
               " is not a valid host name (letters, digits and inner '-', separated by '.')";
        return false;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (!port.empty() && (port.find_first_not_of("0123456789") != std::string_view::npos)) {
    *why = "registry port " + quote(port) + " must be a number";
    return false;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !is_word(t.front())) return false;
  for (char c : t)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

bool is_64_hex_identifier(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::effective_tag() const {
  if (!tag.empty()) return tag;
  return digest.empty() ? "latest" : "";
}

std::string Reference::normalized() const {
  std::string out = name();
  std::string t = effective_tag();
  if (!t.empty()) out += ":" + t;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar() const {
  std::string out;
  if (registry == kDockerHubDomain) {
    constexpr std::string_view kLib = "library/";
    std::string_view repo = repository;
    if (repo.substr(0, kLib.size()) == kLib && repo.find('/', kLib.size()) == std::string_view::npos)
      out = std::string(repo.substr(kLib.size()));
    else
      out = repository;
  } else {
    out = name();
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::manifest_reference() const { return digest.empty() ? effective_tag() : digest; }

Result<Reference> parse_reference(std::string_view input) {
  if (input.empty()) return invalid(input, "the reference is empty");
  for (char c : input) {
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20)
      return invalid(input, "whitespace and control characters are not allowed");
  }
  if (input.find("://") != std::string_view::npos)
    return invalid(input, "a reference has no URL scheme; write registry/repository[:tag] without \"https://\"");
  if (is_64_hex_identifier(input))
    return invalid(input,
                   "a 64-character hexadecimal string is an image ID, not a repository name; "
                   "use repository@sha256:<hex> to pin a digest");

  Reference ref;
  std::string_view name = input;
  if (auto at = input.find('@'); at != std::string_view::npos) {
    std::string_view dg = input.substr(at + 1);
    name = input.substr(0, at);
    auto v = validate_digest(dg);
    if (!v.ok()) return invalid(input, v.error().message);
    ref.digest = std::string(dg);
  }
  if (name.empty()) return invalid(input, "the repository name is missing");
  if (name.front() == '[' && name.find('/') == std::string_view::npos)
    return invalid(input, "a registry address needs a repository after it (e.g. [::1]:5000/app)");
  auto last_slash = name.rfind('/');
  auto last_colon = name.rfind(':');
  if (last_colon != std::string_view::npos && (last_slash == std::string_view::npos || last_colon > last_slash)) {
    std::string_view tag = name.substr(last_colon + 1);
    name = name.substr(0, last_colon);
    if (!valid_tag(tag))
      return invalid(input, "tag " + quote(tag) +
                                " is not valid: it must start with a letter, digit or '_', contain only "
                                "letters, digits, '_', '.' and '-', and be at most 128 characters");
    ref.tag = std::string(tag);
  }
  if (name.empty()) return invalid(input, "the repository name is missing");
  if (name.size() > kNameTotalLengthMax)
    return invalid(
        input, "the repository name is " + std::to_string(name.size()) + " characters long; at most 255 are allowed");

  std::string_view domain, path = name;
  if (auto slash = name.find('/'); slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    bool has_upper = false;
    for (char c : first) has_upper |= (c >= 'A' && c <= 'Z');
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper ||
        (!first.empty() && first.front() == '[')) {
      domain = first;
      path = name.substr(slash + 1);
    }
  }
  if (!domain.empty()) {
    std::string why;
    if (!valid_domain(domain, &why)) return invalid(input, why);
  }
  if (path.empty()) return invalid(input, "the repository path after the registry is empty");
  size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    std::string_view comp =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!valid_path_component(comp)) {
      bool upper = false;
      for (char c : comp) upper |= (c >= 'A' && c <= 'Z');
      if (upper) return invalid(input, "repository name " + quote(path) + " must be lowercase");
      if (comp.empty()) return invalid(input, "repository name " + quote(path) + " has an empty path component");
      return invalid(input, "repository path component " + quote(comp) +
                                " is not valid: use lowercase letters and digits, separated by '.', '_', "
                                "'__' or '-', starting and ending with a letter or digit");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }

  ref.registry = domain.empty() ? std::string(kDockerHubDomain) : std::string(domain);
  if (ref.registry == "index.docker.io") ref.registry = std::string(kDockerHubDomain);
  ref.repository = std::string(path);
  if (ref.registry == kDockerHubDomain && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  return ref;
}

}  // namespace scangate
