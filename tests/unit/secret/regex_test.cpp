#include "scanner/secret/regex.h"

#include <catch2/catch.hpp>

using scangate::secret::Regex;
using scangate::secret::Span;

namespace {

std::vector<std::pair<std::size_t, std::size_t>> all(const Regex& re, std::string_view s, std::size_t group = 0) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  auto r = re.for_each_match(s, [&](std::span<const Span> g) { out.emplace_back(g[group].begin, g[group].end); });
  REQUIRE(r.ok());
  return out;
}

}  // namespace

TEST_CASE("regex keeps Go's meaning of ^ and $ without (?m)", "[secret][regex]") {
  auto plain = Regex::compile(R"(^multi-line: \d+$)");
  REQUIRE(plain.ok());
  CHECK(all(*plain, "123\nmulti-line: 123\n123").empty());
  CHECK(all(*plain, "multi-line: 123\n").empty());  // Go's $ does not match before a final \n
  CHECK(all(*plain, "multi-line: 123").size() == 1);

  auto multi = Regex::compile(R"((?m)^multi-line: \d+$)");
  REQUIRE(multi.ok());
  const auto m = all(*multi, "123\nmulti-line: 123\n123");
  REQUIRE(m.size() == 1);
  CHECK(m[0] == std::make_pair<std::size_t, std::size_t>(4, 19));
}

TEST_CASE("regex: duplicate group names, inline flags, Go escapes", "[secret][regex]") {
  auto re = Regex::compile(R"re(user:\s*"(?P<secret>\w+)"\s*password:\s*"(?P<secret>\w+)")re");
  REQUIRE(re.ok());
  CHECK(re->groups_named("secret") == std::vector<int>{1, 2});
  CHECK(re->groups_named("other").empty());
  const std::string s = R"re(user: "alice" password: "hunter22")re";
  CHECK(all(*re, s, 1) == std::vector<std::pair<std::size_t, std::size_t>>{{7, 12}});
  CHECK(all(*re, s, 2) == std::vector<std::pair<std::size_t, std::size_t>>{{25, 33}});

  auto ci = Regex::compile(R"(LTAI(?i)[a-z0-9]{4}\z)");
  REQUIRE(ci.ok());
  CHECK(all(*ci, "LTAIAbC1").size() == 1);
  CHECK(all(*ci, "ltaiAbC1").empty());  // (?i) applies only after it

  auto esc = Regex::compile(R"([0-9a-zA-Z\-\_]{3}\/x)");
  REQUIRE(esc.ok());
  CHECK(all(*esc, "a-_/x").size() == 1);
}

TEST_CASE("regex: successive matches, empty matches, unset groups, errors", "[secret][regex]") {
  auto re = Regex::compile("a*");
  REQUIRE(re.ok());
  // Go: FindAllIndex("baaab", "a*") = [0 0] [1 4] [5 5]  (the empty match at 4 abuts [1 4]).
  CHECK(all(*re, "baaab") == std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 4}, {5, 5}});

  auto opt = Regex::compile("x(?P<s>y)?");
  REQUIRE(opt.ok());
  std::vector<bool> set;
  auto r = opt->for_each_match("xy x", [&](std::span<const Span> g) { set.push_back(g[1].set()); });
  REQUIRE(r.ok());
  CHECK(set == std::vector<bool>{true, false});

  auto bad = Regex::compile("(unclosed");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("offset") != std::string::npos);

  // A pattern that backtracks without end stops with an error, not a hang.
  auto slow = Regex::compile("(a|aa)+$");
  REQUIRE(slow.ok());
  const std::string input = std::string(5000, 'a') + "b";
  auto walked = slow->for_each_match(input, [](std::span<const Span>) {});
  CHECK_FALSE(walked.ok());

  // Deep repetition over a big block needs more than the default JIT stack.
  auto block = Regex::compile(R"(--- start ---(.|\s)*--- stop ---)");
  REQUIRE(block.ok());
  const std::string big = "--- start ---\n" + std::string(200000, 'x') + "\n--- stop ---\n";
  auto found = block->search(big);
  REQUIRE(found.ok());
  CHECK(*found);
}
