#include "scanner/net/url.h"

#include <cctype>

#include "scanner/core/text_safe.h"

namespace scangate::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool bad_target_char(char c) { return static_cast<unsigned char>(c) < 0x21 || c == 0x7f; }

bool default_port(const Url& u) {
  return (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
}

}  // namespace

std::string Url::origin() const { return scheme + "://" + host_port(); }

std::string Url::host_port() const { return host + ":" + std::to_string(port); }

std::string Url::path() const { return target.substr(0, target.find('?')); }

std::string Url::display() const {
  return scheme + "://" + host + (default_port(*this) ? std::string() : ":" + std::to_string(port)) + path();
}

std::string Url::str() const {
  return scheme + "://" + host + (default_port(*this) ? std::string() : ":" + std::to_string(port)) + target;
}

void split_host_port(std::string_view hp, std::string_view* host, std::string_view* port) {
  *port = {};
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) {
      *host = hp;
      return;
    }
    *host = hp.substr(0, close + 1);
    if (close + 1 < hp.size() && hp[close + 1] == ':') *port = hp.substr(close + 2);
    return;
  }
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos) {
    *host = hp;
    return;
  }
  *host = hp.substr(0, colon);
  *port = hp.substr(colon + 1);
}

Result<Url> parse_url(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::kFormat, "invalid URL \"" + printable(s, 200) + "\": " + why);
  };
  auto sep = s.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  Url u;
  u.scheme = lower(s.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("only http and https are supported");
  std::string_view rest = s.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return bad("user information in URLs is not supported");
  std::string_view host, port;
  split_host_port(authority, &host, &port);
  if (host.empty() || host == "[]") return bad("no host");
  if (host.front() == '[' && host.back() != ']') return bad("unterminated IPv6 address");
  for (char c : host)
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x21 || c == '/' || c == '\\')
      return bad("bad host");
  u.host = lower(host);
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return bad("bad port");
    u.port = std::stoi(std::string(port));
    if (u.port <= 0 || u.port > 65535) return bad("port out of range");
  } else if (authority.size() > host.size()) {
    return bad("empty port");
  } else {
    u.port = u.scheme == "https" ? 443 : 80;
  }
  if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty())
    u.target = "/";
  else if (tail.front() == '?')
    u.target = "/" + std::string(tail);
  else
    u.target = std::string(tail);
  for (char c : u.target)
    if (bad_target_char(c)) return bad("control characters or spaces in the path");
  return u;
}

Result<Url> resolve_location(const Url& base, std::string_view loc) {
  if (auto hash = loc.find('#'); hash != std::string_view::npos) loc = loc.substr(0, hash);
  if (loc.find("://") != std::string_view::npos && loc.find("://") < loc.find_first_of("/?")) return parse_url(loc);
  if (loc.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(loc));
  Url u = base;
  if (loc.empty()) {
    // An empty reference is the base itself.
  } else if (loc.front() == '/') {
    u.target = std::string(loc);
  } else if (loc.front() == '?') {
    u.target = base.path() + std::string(loc);
  } else {
    std::string path = base.path();
    u.target = path.substr(0, path.rfind('/') + 1) + std::string(loc);
  }
  for (char c : u.target)
    if (bad_target_char(c)) return Error(ErrorKind::kFormat, "redirect location contains control characters or spaces");
  return u;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

bool is_loopback_host(std::string_view host_or_host_port) {
  std::string all = lower(host_or_host_port);
  if (all == "::1") return true;
  std::string_view host, port;
  split_host_port(all, &host, &port);
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8 as a dotted quad
  int parts = 0;
  size_t start = 0;
  while (true) {
    auto dot = host.find('.', start);
    std::string_view p = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (std::stoi(std::string(p)) > 255) return false;
    if (parts == 0 && p != "127") return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

}  // namespace scangate::net
