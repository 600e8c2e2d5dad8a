// Debian version ordering (deb-version(7)): [epoch:]upstream_version[-debian_revision],
// each part compared with dpkg's verrevcmp.
#include "scanner/version/internal.h"

namespace scangate::version {
namespace {

using detail::is_alpha;
using detail::is_digit;

// dpkg's order(): digits 0 (never reached), letters by ASCII, '~' below everything including
// the end of the string, other characters above all letters.
int order(char c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c != '\0') return static_cast<unsigned char>(c) + 256;
  return 0;
}

struct DebVersion {
  std::string_view epoch;     // digits, empty = 0
  std::string_view upstream;  // non-empty
  std::string_view revision;  // may be empty
};

Result<DebVersion> parse(std::string_view raw) {
  std::string_view s = detail::trim(raw);
  if (s.empty()) {
    return detail::format_error("deb", "version", raw, "the version is empty; expected [epoch:]upstream[-revision]");
  }
  for (char c : s) {
    if (detail::is_space(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return detail::format_error("deb", "version", raw, "it contains whitespace or control characters");
    }
  }
  DebVersion v;
  std::size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    v.epoch = s.substr(0, colon);
    if (!detail::all_digits(v.epoch)) {
      return detail::format_error("deb", "version", raw, "the epoch before ':' must be a non-empty number");
    }
    s.remove_prefix(colon + 1);
  }
  std::size_t dash = s.rfind('-');
  if (dash != std::string_view::npos) {
    v.revision = s.substr(dash + 1);
    s = s.substr(0, dash);
    if (v.revision.empty()) {
      return detail::format_error("deb", "version", raw, "the revision after the last '-' is empty");
    }
  }
  v.upstream = s;
  if (v.upstream.empty()) { return detail::format_error("deb", "version", raw, "the upstream version is empty"); }
  return v;
}

}  // namespace

int compare_deb_fragment(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      int ac = order(at(a, i));
      int bc = order(at(b, j));
      if (ac != bc) return ac < bc ? -1 : 1;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    int first_diff = 0;
    while (i < a.size() && j < b.size() && is_digit(a[i]) && is_digit(b[j])) {
      if (first_diff == 0) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(a[i])) return 1;
    if (j < b.size() && is_digit(b[j])) return -1;
    if (first_diff != 0) return first_diff < 0 ? -1 : 1;
  }
  return 0;
}

namespace detail {
bool valid_deb(std::string_view v) { return parse(v).ok(); }
}  // namespace detail

Result<int> compare_deb(std::string_view a, std::string_view b) {
  auto va = parse(a);
  if (!va.ok()) return va.error();
  auto vb = parse(b);
  if (!vb.ok()) return vb.error();
  int c = detail::compare_digits(va->epoch, vb->epoch);
  if (c != 0) return c;
  c = compare_deb_fragment(va->upstream, vb->upstream);
  if (c != 0) return c;
  return compare_deb_fragment(va->revision, vb->revision);
}

}  // namespace scangate::version
