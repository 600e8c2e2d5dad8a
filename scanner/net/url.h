// The one URL parser of the scanner: http(s) URLs as the HTTP client, the registry client, the
// feed downloads and the CSPM sinks use them. Absolute http/https URLs only; no user information.
#pragma once

#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::net {

struct Url {
  std::string scheme;  // "http" | "https", lower case
  std::string host;    // lower case; "[::1]" for IPv6 (brackets kept)
  int port = 0;        // the explicit port, else the scheme's default (80, 443)
  std::string target;  // "/path?query": never empty, never a fragment

  // "https://host:443": what connections are pooled by and credentials are bound to.
  std::string origin() const;
  // "host:port", the port always written.
  std::string host_port() const;
  // The path without the query.
  std::string path() const;
  // For messages: scheme://host[:port]/path, the default port and the query (it may carry
  // tokens or signatures) left out.
  std::string display() const;
  // The whole URL (query included): scheme://host[:port]/path?query.
  std::string str() const;
  bool same_origin(const Url& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
  }
};

// Parses "http(s)://host[:port][/path][?query][#fragment]"; the fragment is dropped. Errors are
// kFormat and quote (a bounded prefix of) the input.
Result<Url> parse_url(std::string_view text);

// Resolves a redirect's Location (absolute, scheme-relative "//host/...", absolute-path or
// relative-path reference) against the URL that answered with it.
Result<Url> resolve_location(const Url& base, std::string_view location);

// Splits "host[:port]" / "[v6][:port]" into host and port text (port empty when absent).
void split_host_port(std::string_view host_port, std::string_view* host, std::string_view* port);

// Percent-encodes everything but RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~), for a
// query parameter's name or value or a form field.
std::string percent_encode(std::string_view s);

// localhost, 127.0.0.0/8 and ::1, given as a host or a "host:port" (IPv6 in brackets).
bool is_loopback_host(std::string_view host_or_host_port);

}  // namespace scangate::net
