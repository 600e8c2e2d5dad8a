// printable(): server-provided text made safe for error messages (it lives in scanner/core; its
// callers that matter are the HTTP client and the registry code, hence its test here).
#include "scanner/core/text_safe.h"

#include <catch2/catch.hpp>

using scangate::printable;

TEST_CASE("printable: control, line-separator and bidi characters become visible escapes", "[text]") {
  CHECK(printable("plain text, UTF-8 \xC3\xA9t\xC3\xA9 stays") == "plain text, UTF-8 \xC3\xA9t\xC3\xA9 stays");
  CHECK(printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(printable(std::string("nul\0del\x7f", 8)) == "nul\\x00del\\x7f");
  CHECK(printable("c1 \xC2\x85 \xC2\x9B") == "c1 \\u0085 \\u009b");
  CHECK(printable("ls \xE2\x80\xA8 ps \xE2\x80\xA9") == "ls \\u2028 ps \\u2029");
  CHECK(printable("\xE2\x80\xAA\xE2\x80\xAE\xE2\x81\xA6\xE2\x81\xA9") == "\\u202a\\u202e\\u2066\\u2069");
  CHECK(printable("bad \xFF\xC0 utf8") == "bad ?? utf8");
}

TEST_CASE("printable: the length cap cuts between characters and says so", "[text]") {
  CHECK(printable("abcdef", 6) == "abcdef");
  CHECK(printable("abcdefg", 6) == "abcdef...");
  CHECK(printable("ab\xC3\xA9", 3) == "ab...");  // the 2-byte character is not split
  CHECK(printable("ab\ncd", 3) == "ab...");      // nor is an escape
}
