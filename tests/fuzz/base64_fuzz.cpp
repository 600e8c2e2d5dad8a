// libFuzzer target: base64 (scanner/core/base64.h), what DSSE envelopes, Docker `auth` fields,
// Kubernetes Secret data and kubeconfig certificates hold.
//
// Properties, for any bytes x:
//   - decode(encode(x)) == x, and encode(x) is padded base64 of the right length;
//   - decode(x) succeeds only when x, without its ASCII whitespace, is padded base64 (the header's
//     "nullopt when `in` is not base64"): alphabet characters, '=' only as one or two final pads;
//     and then encode(decode(x)) is x without whitespace, but for the unused low bits of the last
//     group (RFC 4648 3.5: a decoder may ignore them).
#include "scanner/core/base64.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("base64_fuzz", what, in); }

bool is_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// RFC 4648 section 4 with padding; `s` has no whitespace.
bool is_padded_base64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  std::size_t pads = 0;
  while (pads < 2 && pads < s.size() && s[s.size() - 1 - pads] == '=') ++pads;
  for (std::size_t i = 0; i + pads < s.size(); ++i)
    if (!is_alphabet(s[i])) return false;
  return true;
}

int value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : 63;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);

  const std::string enc = base64_encode(in);
  if (enc.size() != (in.size() + 2) / 3 * 4 || !is_padded_base64(enc)) fail("encode gave " + enc, in);
  const auto back = base64_decode(enc);
  if (!back || *back != in) fail("decode(encode(x)) is not x", in);

  std::string clean;
  for (char c : in)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r') clean += c;
  const auto dec = base64_decode(in);
  if (dec.has_value() != is_padded_base64(clean))
    fail(std::string("decode ") + (dec ? "accepts" : "refuses") + " what is " +
             (is_padded_base64(clean) ? "" : "not ") + "padded base64",
         in);
  if (!dec) return 0;
  std::size_t pads = 0;
  while (pads < clean.size() && clean[clean.size() - 1 - pads] == '=') ++pads;
  if (dec->size() != clean.size() / 4 * 3 - pads) fail("decoded " + std::to_string(dec->size()) + " bytes", in);
  const std::string again = base64_encode(*dec);
  if (again.size() != clean.size()) fail("encode(decode(x)) has another length: " + again, in);
  // Equal but for the bits of the last group's final character that carry no byte.
  for (std::size_t i = 0; i < clean.size(); ++i) {
    if (again[i] == clean[i]) continue;
    const bool last_char = pads > 0 && i == clean.size() - pads - 1;
    const int unused_mask = pads == 1 ? 0x03 : 0x0f;  // xxx= carries 2 unused bits, xx== 4
    if (!last_char || (value(again[i]) & ~unused_mask) != (value(clean[i]) & ~unused_mask))
      fail("encode(decode(x)) differs at " + std::to_string(i) + ": " + again, in);
  }
  return 0;
}
