#include "scanner/secret/location.h"

#include <catch2/catch.hpp>

using namespace scangate;
using scangate::secret::describe_location;
using scangate::secret::LineIndex;

TEST_CASE("line index", "[secret][location]") {
  const LineIndex idx("ab\ncd\n");
  CHECK(idx.count() == 3);
  CHECK(idx.line_of(0) == 0);
  CHECK(idx.line_of(2) == 0);  // the newline belongs to its line
  CHECK(idx.line_of(3) == 1);
  CHECK(idx.line_of(6) == 2);
  CHECK(idx.end(0) == 2);
  CHECK(idx.end(2) == 6);
}

TEST_CASE("describe_location: lines, offset, context", "[secret][location]") {
  const std::string masked = "l1\nl2\nkey=*****\nl4\nl5\n";
  SecretFinding f;
  describe_location(masked, LineIndex(masked), 10, 15, f);
  CHECK(f.offset == 10);
  CHECK(f.start_line == 3);
  CHECK(f.end_line == 3);
  CHECK(f.match == "key=*****");
  REQUIRE(f.code_lines.size() == 4);  // 2 before, 1 after
  CHECK(f.code_lines.front() == std::make_pair(1, std::string("l1")));
  CHECK(f.code_lines.back() == std::make_pair(4, std::string("l4")));

  SecretFinding first;
  describe_location(masked, LineIndex(masked), 0, 2, first);
  CHECK(first.code_lines.size() == 2);  // line 1 and the one after it
}

TEST_CASE("describe_location: long lines are cut around the secret", "[secret][location]") {
  // A 150-byte line with the secret at 60..70: 30 bytes before, 20 after.
  std::string line = std::string(60, 'a') + std::string(10, '*') + std::string(80, 'b');
  const std::string masked = "short\n" + line + "\n" + std::string(120, 'c') + "\n";
  SecretFinding f;
  describe_location(masked, LineIndex(masked), 6 + 60, 6 + 70, f);
  CHECK(f.match == std::string(30, 'a') + std::string(10, '*') + std::string(20, 'b'));
  REQUIRE(f.code_lines.size() == 3);
  CHECK(f.code_lines[1].second == f.match);                // the cause line shows the window
  CHECK(f.code_lines[2].second == std::string(100, 'c'));  // other long lines: the first 100 bytes

  // Near the line's start or end the window stops at the line.
  SecretFinding g;
  describe_location(masked, LineIndex(masked), 6 + 10, 6 + 20, g);
  CHECK(g.match.substr(0, 10) == std::string(10, 'a'));
  CHECK(g.match.size() == 10 + 10 + 20);
}

TEST_CASE("describe_location: output is valid UTF-8", "[secret][location]") {
  const std::string masked = "a\xff\xfe=*****\n";
  SecretFinding f;
  describe_location(masked, LineIndex(masked), 4, 9, f);
  CHECK(f.match == "a\xEF\xBF\xBD\xEF\xBF\xBD=*****");
}
