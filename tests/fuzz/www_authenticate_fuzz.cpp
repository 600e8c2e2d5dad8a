// libFuzzer target: the WWW-Authenticate header parser (scanner/image/www_authenticate.h), which
// reads what any registry answers.
//
// Properties: a refusal is kFormat; an accepted header has non-empty, lowercase schemes and
// lowercase parameter names, param() finds every parameter, and the challenges written back
// (`scheme token68` or `scheme k="v", ...`, values as quoted strings) parse to the same challenges.
#include <cctype>

#include "scanner/image/www_authenticate.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("www_authenticate_fuzz", what, in); }

bool is_lower(const std::string& s) {
  for (char c : s)
    if (std::tolower(static_cast<unsigned char>(c)) != c) return false;
  return true;
}

std::string render(const std::vector<AuthChallenge>& challenges) {
  std::string out;
  for (const auto& ch : challenges) {
    if (!out.empty()) out += ", ";
    out += ch.scheme;
    if (!ch.token68.empty()) {
      out += " " + ch.token68;
      continue;
    }
    bool first = true;
    for (const auto& [k, v] : ch.params) {
      out += first ? " " : ", ";
      first = false;
      out += k + "=\"";
      for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
  }
  return out;
}

std::string describe(const std::vector<AuthChallenge>& challenges) {
  std::string s;
  for (const auto& ch : challenges) {
    s += "[" + ch.scheme + " token68=" + ch.token68;
    for (const auto& [k, v] : ch.params) s += " " + k + "=" + fuzz::shown(v, 100);
    s += "]";
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  auto got = parse_www_authenticate(in);
  if (!got.ok()) {
    if (got.error().kind != ErrorKind::kFormat) fail("refused with another kind: " + got.error().message, in);
    return 0;
  }
  if (got->empty()) fail("accepted with no challenge", in);
  for (const auto& ch : *got) {
    if (ch.scheme.empty() || !is_lower(ch.scheme)) fail("scheme \"" + ch.scheme + "\"", in);
    if (!ch.token68.empty() && !ch.params.empty()) fail("both token68 and parameters", in);
    for (const auto& [k, v] : ch.params) {
      if (k.empty() || !is_lower(k)) fail("parameter name \"" + k + "\"", in);
      std::string upper = k;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (ch.param(upper) != v) fail("param(" + upper + ") misses its value", in);
    }
  }
  const std::string written = render(*got);
  auto again = parse_www_authenticate(written);
  if (!again.ok()) fail("written back as \"" + written + "\" it is refused: " + again.error().message, in);
  if (describe(*again) != describe(*got))
    fail("written back as \"" + written + "\" it reads " + describe(*again) + ", not " + describe(*got), in);
  return 0;
}
