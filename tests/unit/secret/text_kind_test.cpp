#include "scanner/secret/text_kind.h"

#include <catch2/catch.hpp>

using namespace scangate::secret;

TEST_CASE("looks_binary follows file(1)'s text bytes", "[secret][text]") {
  CHECK_FALSE(looks_binary("plain text\twith tabs\r\nand lines\n"));
  CHECK_FALSE(looks_binary("caf\xC3\xA9 and invalid \xff\xfe bytes"));
  CHECK_FALSE(looks_binary("\x1b[31mcolour\x1b[0m"));
  CHECK(
      looks_binary(std::string("\x7f"
                               "ELF",
                               4)));
  CHECK(looks_binary(std::string("a\0b", 3)));
  CHECK(looks_binary("x\x01y"));
  // Only the first 300 bytes are looked at.
  CHECK_FALSE(looks_binary(std::string(300, 'a') + std::string(1, '\0')));
}

TEST_CASE("to_valid_utf8 replaces invalid sequences", "[secret][text]") {
  CHECK(to_valid_utf8("ok caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "ok caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(to_valid_utf8("a\xffz") == "a\xEF\xBF\xBDz");
  CHECK(to_valid_utf8("cut \xE2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(to_valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(to_valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
}
