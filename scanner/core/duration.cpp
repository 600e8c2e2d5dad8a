#include "scanner/core/duration.h"

#include <cstdint>
#include <limits>

#include "scanner/core/utf8.h"

namespace scangate {

namespace {

constexpr std::uint64_t kBit63 = std::uint64_t{1} << 63;  // |min int64|; one more than the largest value

struct Unit {
  std::string_view name;
  std::uint64_t ns;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek small letter mu
    {"ms", 1000 * 1000},
    {"s", 1000 * 1000 * 1000},
    {"m", std::uint64_t{60} * 1000 * 1000 * 1000},
    {"h", std::uint64_t{3600} * 1000 * 1000 * 1000},
    {"d", std::uint64_t{86400} * 1000 * 1000 * 1000},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

DurationError error(std::string reason, DurationUnits units) {
  return DurationError{std::move(reason), duration_units_hint(units)};
}

DurationError out_of_range() {
  return DurationError{"out of range; the largest duration is 2562047h47m16.854775807s (about 292 years)", ""};
}

}  // namespace

const char* duration_units_hint(DurationUnits units) {
  return units == DurationUnits::kGo ? "use ns, us, ms, s, m or h" : "use ns, us, ms, s, m, h or d";
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMax = 80;
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  std::size_t i = 0;
  for (; i < text.size() && i < kMax;) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence_length(text, i)) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    if (c < 0x20 || c == 0x7F || c >= 0x80) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
  if (i < text.size()) out += "…";
  return out;
}

std::string DurationError::message(std::string_view text) const {
  std::string out = "invalid duration " + quote_for_message(text) + ": " + reason;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

// Follows Go's time.ParseDuration step by step, including where it checks for overflow and how
// it rounds fractions (through a double), so that every value Go accepts comes out the same.
std::variant<std::chrono::nanoseconds, DurationError> try_parse_duration(std::string_view text, DurationUnits units) {
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) {
    if (text.empty()) return DurationError{"it is empty", "write e.g. 90s, 30m, 1h30m or 24h"};
    return error("expected a number after " + quote_for_message(text), units);
  }
  std::uint64_t total = 0;
  while (!s.empty()) {
    const std::string_view group = s;
    if (!(s.front() == '.' || is_digit(s.front())))
      return error("expected a number at " + quote_for_message(group), units);
    // [0-9]*: an error on overflow.
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (v > kBit63 / 10) return out_of_range();
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (v > kBit63) return out_of_range();
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // (\.[0-9]*)?: digits past what fits only stop adding precision.
    std::uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      std::size_t k = 0;
      for (; k < s.size() && is_digit(s[k]); ++k) {
        if (overflow) continue;
        if (f > (kBit63 - 1) / 10) {
          overflow = true;
          continue;
        }
        std::uint64_t y = f * 10 + static_cast<std::uint64_t>(s[k] - '0');
        if (y > kBit63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = k > 0;
      s.remove_prefix(k);
    }
    if (!pre && !post) return error("expected a number at " + quote_for_message(group), units);
    // The unit: everything up to the next number.
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    const std::string_view number = group.substr(0, group.size() - s.size());
    if (u == 0) return error("missing unit after " + std::string(number), units);
    const std::string_view name = s.substr(0, u);
    s.remove_prefix(u);
    std::uint64_t unit = 0;
    for (const auto& known : kUnits)
      if (known.name == name && !(known.name == "d" && units == DurationUnits::kGo)) unit = known.ns;
    if (unit == 0) return error("unknown unit " + quote_for_message(name), units);
    if (v > kBit63 / unit) return out_of_range();
    v *= unit;
    if (f > 0) {
      // A double is exact enough for fractions of the largest unit (Go does the same).
      v += static_cast<std::uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kBit63) return out_of_range();
    }
    total += v;
    if (total > kBit63) return out_of_range();
  }
  if (neg) {
    if (total == kBit63) return std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::min());
    return std::chrono::nanoseconds(-static_cast<std::int64_t>(total));
  }
  if (total > kBit63 - 1) return out_of_range();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

Result<std::chrono::nanoseconds> duration_from_text(std::string_view text, DurationUnits units) {
  auto r = try_parse_duration(text, units);
  if (auto* e = std::get_if<DurationError>(&r)) return Error(ErrorKind::kInvalidArgument, e->message(text));
  return std::get<std::chrono::nanoseconds>(r);
}

}  // namespace scangate
