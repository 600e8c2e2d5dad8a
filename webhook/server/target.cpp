#include "webhook/server/target.h"

#include "scanner/core/duration.h"

namespace scangate::webhook {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto dk = percent_decode(k);
    if (dk && *dk == key) return percent_decode(v);
  }
  return std::nullopt;
}

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  auto r = try_parse_duration(s, DurationUnits::kGo);
  const auto* d = std::get_if<std::chrono::nanoseconds>(&r);
  if (d == nullptr || *d < d->zero() || *d > std::chrono::hours(24)) return std::nullopt;
  return *d;
}

std::optional<std::chrono::nanoseconds> request_timeout(std::string_view query) {
  auto v = query_param(query, "timeout");
  if (!v) return std::nullopt;
  return parse_go_duration(*v);
}

}  // namespace scangate::webhook
