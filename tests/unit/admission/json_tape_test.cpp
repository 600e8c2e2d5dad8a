// json::Tape against RFC 8259: what must parse, what must be rejected, and decoding.
#include <catch2/catch.hpp>

#include "webhook/admission/json_tape.h"

using namespace scangate::admission::json;

namespace {
bool parses(std::string_view s) { return Tape::parse(s).ok(); }
}  // namespace

TEST_CASE("valid documents (RFC 8259)", "[json]") {
  for (const char* ok :
       {"{}", "[]", "0", "-0", "1.5e10", "-12.25E-3", "1E+2", "\"\"", "true", "false", "null",
        " \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] } \n", "[\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC\"", "{\"a\":{\"b\":{\"c\":[[[null]]]}}}"}) {
    INFO(ok);
    CHECK(parses(ok));
  }
}

TEST_CASE("invalid documents are rejected with a position", "[json]") {
  for (const char* bad : {"",
                          " ",
                          "{",
                          "[",
                          "[1,]",
                          "{\"a\":1,}",
                          "{\"a\" 1}",
                          "{a:1}",
                          "{'a':1}",
                          "[01]",
                          "[1.]",
                          "[.5]",
                          "[1e]",
                          "[+1]",
                          "[-]",
                          "[tru]",
                          "[nul]",
                          "[True]",
                          "\"abc",
                          "\"a\nb\"",
                          "\"\\x\"",
                          "\"\\u12\"",
                          "\"\\uZZZZ\"",
                          "\"\\ud800\"",
                          "\"\\udc00\"",
                          "\"\\ud800\\u0041\"",
                          "[1] [2]",
                          "{}x",
                          "[1 2]",
                          "\"\xFF\"",
                          "\"\xC0\xAF\"",
                          "\"\xED\xA0\x80\"",
                          "\"\xF4\x90\x80\x80\"",
                          "\"\xE2\x82\"",
                          "[NaN]",
                          "[Infinity]",
                          "/* c */ {}"}) {
    INFO(bad);
    auto r = Tape::parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::StartsWith("malformed JSON at line "));
  }
}

TEST_CASE("error positions are line and column", "[json]") {
  auto r = Tape::parse("{\n  \"a\": 1,\n  \"b\" 2\n}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "malformed JSON at line 3, column 7: expected ':' after an object key");
}

TEST_CASE("depth is bounded without recursion", "[json]") {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  CHECK_FALSE(Tape::parse(deep, 128).ok());
  CHECK(Tape::parse(deep, 256).ok());
  std::string huge(4u << 20, '[');  // 4 MiB of '[' costs one linear pass
  CHECK_THAT(Tape::parse(huge).error().message, Catch::Contains("nested deeper than 128 levels"));
}

TEST_CASE("navigation and decoding", "[json]") {
  std::string text =
      R"({"kind":"Pod","spec":{"containers":[{"name":"a","image":"nginx:1.25"},{"name":"b\u00e9","image":"x\/y"}]},
                        "n":42,"t":true,"f":false,"z":null,"k\u0031":"escaped key"})";
  auto tape = Tape::parse(text);
  REQUIRE(tape.ok());
  Value root = tape->root();
  CHECK(root.is_object());
  CHECK(root.get("kind")->string_equals("Pod"));
  CHECK(root.get("n")->type() == Type::kNumber);
  CHECK(root.get("t")->as_bool());
  CHECK_FALSE(root.get("f")->as_bool());
  CHECK(root.get("z")->is_null());
  CHECK_FALSE(root.get("missing").has_value());
  CHECK(root.get("k1")->str() == "escaped key");
  std::vector<std::pair<std::string, std::string>> seen;
  root.get("spec")->get("containers")->for_each_element([&](const Value& c) {
    seen.emplace_back(c.get("name")->str(), c.get("image")->str());
  });
  CHECK(seen == std::vector<std::pair<std::string, std::string>>{{"a", "nginx:1.25"}, {"b\xC3\xA9", "x/y"}});
  std::vector<std::string> keys;
  root.for_each_member([&](const Value& k, const Value&) { keys.push_back(k.str()); });
  CHECK(keys == std::vector<std::string>{"kind", "spec", "n", "t", "f", "z", "k1"});
  auto pair = Tape::parse(R"("\ud83d\ude00")");
  CHECK(pair->root().str() == "\xF0\x9F\x98\x80");
}

TEST_CASE("append_quoted escapes and repairs", "[json]") {
  std::string out;
  append_quoted("a\"b\\c\n\x01 caf\xC3\xA9 \xFF", out);
  CHECK(out == "\"a\\\"b\\\\c\\n\\u0001 caf\xC3\xA9 \xEF\xBF\xBD\"");
  CHECK(Tape::parse(out).ok());
  CHECK(Tape::parse(out)->root().str() == "a\"b\\c\n\x01 caf\xC3\xA9 \xEF\xBF\xBD");
}
