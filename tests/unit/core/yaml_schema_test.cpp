// The declarative YAML schema helper, on a small config of its own: every type, the places
// (line, column, key path) and the wording of each kind of problem.
#include "scanner/core/yaml_schema.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using namespace scangate;
namespace ys = scangate::yaml_schema;
using namespace std::chrono_literals;

namespace {

struct Peer {
  std::string name;
  int64_t port = 0;
  int line = 0;
};

struct Config {
  std::string name;
  bool debug = false;
  int64_t workers = 0;
  double ratio = 0;
  std::chrono::nanoseconds ttl{0};
  std::size_t level = 99;
  std::vector<std::string> tags;
  std::string nested_path;
  std::map<std::string, int64_t> limits;
  std::vector<Peer> peers;
};

ys::Type schema(Config& c) {
  return ys::mapping({
      {"name", ys::string([&c](std::string s) { c.name = std::move(s); }, {.if_empty = "give it a name"}), true,
       "every config needs a name"},
      {"debug", ys::boolean([&c](bool b) { c.debug = b; })},
      {"workers", ys::integer(1, 64, [&c](int64_t n) { c.workers = n; })},
      {"ratio", ys::number(0, 1, [&c](double d) { c.ratio = d; })},
      {"ttl",
       ys::duration([&c](std::chrono::nanoseconds d) { c.ttl = d; },
                    {.check = [](std::chrono::nanoseconds d, const std::string& text) -> std::optional<std::string> {
                      if (d < d.zero()) return ys::quote(text) + " is negative";
                      return std::nullopt;
                    }})},
      {"level", ys::one_of({"low", "high"}, [&c](std::size_t i) { c.level = i; })},
      {"tags", ys::list(ys::string([&c](std::string s) { c.tags.push_back(std::move(s)); }), {.hint = "write [a, b]"})},
      {"nested", ys::mapping({{"path", ys::string([&c](std::string s) { c.nested_path = std::move(s); })}})},
      {"limits",
       ys::free_map(
           [](const std::string& key) -> std::optional<std::string> {
             if (key.rfind("x-", 0) == 0) return std::nullopt;
             return "limit names start with x-";
           },
           [&c](const std::string& key) { return ys::integer(0, 10, [&c, key](int64_t n) { c.limits[key] = n; }); })},
      {"peers", ys::list_into<Peer>(c.peers,
                                    [](Peer& p, const YAML::Node& n, const ys::Where& w, ys::Checker& ck) {
                                      p.line = w.line;
                                      ys::mapping({
                                          {"name", ys::string([&p](std::string s) { p.name = std::move(s); }), true,
                                           "a peer needs a name"},
                                          {"port", ys::integer(1, 65535, [&p](int64_t port) { p.port = port; })},
                                      })(n, w, ck);
                                      if (n.IsMap() && p.port == 1) ck.value_error(w, "port 1 is reserved");
                                    })},
  });
}

// Checks `text` and returns the problems rendered "line:column path: describe".
std::vector<std::string> problems_of(const std::string& text, Config* out = nullptr) {
  Config cfg;
  ys::Checker c;
  auto docs = ys::load_all(text, c);
  if (docs && !docs->empty()) ys::check((*docs)[0], schema(cfg), c);
  std::vector<std::string> lines;
  for (const auto& p : c.problems())
    lines.push_back(std::to_string(p.line) + ":" + std::to_string(p.column) + " " + p.path + ": " + ys::describe(p));
  if (out) *out = cfg;
  return lines;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("yaml_schema: a good document binds every type", "[yaml_schema]") {
  Config c;
  auto problems = problems_of(R"(name: gate
debug: True
workers: 8
ratio: 0.25
ttl: 1d12h
level: high
tags: [a, b]
nested: {path: /x}
limits: {x-a: 1, x-b: 10}
peers:
  - name: one
    port: 80
  - {name: two}
)",
                              &c);
  CHECK(problems.empty());
  CHECK(c.name == "gate");
  CHECK(c.debug);
  CHECK(c.workers == 8);
  CHECK(c.ratio == 0.25);
  CHECK(c.ttl == 36h);
  CHECK(c.level == 1);
  CHECK(c.tags == std::vector<std::string>{"a", "b"});
  CHECK(c.nested_path == "/x");
  CHECK(c.limits == std::map<std::string, int64_t>{{"x-a", 1}, {"x-b", 10}});
  REQUIRE(c.peers.size() == 2);
  CHECK(c.peers[0].name == "one");
  CHECK(c.peers[0].port == 80);
  CHECK(c.peers[0].line == 11);
  CHECK(c.peers[1].name == "two");
  CHECK(c.peers[1].line == 13);
}

TEST_CASE("yaml_schema: unknown, duplicate and missing keys", "[yaml_schema]") {
  CHECK(problems_of("name: a\nnmae: b\n") ==
        Lines{"2:1 nmae: unknown key; allowed: name, debug, workers, ratio, ttl, level, tags, nested, limits, peers"});
  CHECK(problems_of("name: a\nname: b\n") == Lines{"2:1 name: appears twice; give each key once"});
  CHECK(problems_of("debug: true\n") == Lines{"1:0 name: missing; every config needs a name"});
  CHECK(problems_of("name: a\nnested:\n  path: x\n  paht: y\n") ==
        Lines{"4:3 nested.paht: unknown key; allowed: path"});
  CHECK(problems_of("name: a\n? [x]\n: 1\n") == Lines{"2:3 : a key must be a plain name, not a list"});
  // The known keys are handed over as data too.
  Config cfg;
  ys::Checker c;
  ys::check(YAML::Load("name: a\nbogus: 1\n"), schema(cfg), c);
  REQUIRE(c.count() == 1);
  CHECK(c.problems()[0].kind == ys::ProblemKind::kUnknownKey);
  CHECK(c.problems()[0].allowed.size() == 10);
}

TEST_CASE("yaml_schema: wrong kinds of value", "[yaml_schema]") {
  CHECK(problems_of("name: [a]\n") == Lines{"1:1 name: expected a single value, got a list"});
  CHECK(problems_of("name:\n") == Lines{"1:1 name: expected a single value, got no value"});
  CHECK(problems_of("name: a\ntags: a\n") == Lines{"2:1 tags: expected a list, got a single value; write [a, b]"});
  CHECK(problems_of("name: a\nnested: [1]\n") == Lines{"2:1 nested: expected a map of keys, got a list"});
  CHECK(problems_of("name: a\ntags:\n  - a\n  - {b: c}\n") == Lines{"4:5 tags[1]: expected a single value, got a map"});
  CHECK(problems_of("- a\n") == Lines{"1:0 : expected a map of keys, got a list"});
}

TEST_CASE("yaml_schema: values outside their set say what is allowed", "[yaml_schema]") {
  CHECK(problems_of("name: a\ndebug: yes\n") == Lines{"2:1 debug: 'yes' is not a boolean; allowed: true, false"});
  CHECK(problems_of("name: a\nworkers: 0\n") ==
        Lines{"2:1 workers: '0' is not allowed; expected a whole number from 1 to 64"});
  CHECK(problems_of("name: a\nworkers: 8.5\n") ==
        Lines{"2:1 workers: '8.5' is not allowed; expected a whole number from 1 to 64"});
  CHECK(problems_of("name: a\nratio: 2\n") == Lines{"2:1 ratio: '2' is not allowed; expected a number from 0 to 1"});
  CHECK(problems_of("name: a\nratio: nan\n") ==
        Lines{"2:1 ratio: 'nan' is not allowed; expected a number from 0 to 1"});
  CHECK(problems_of("name: a\nlevel: mid\n") == Lines{"2:1 level: 'mid' is not allowed; allowed: low, high"});
  CHECK(problems_of("name: ''\n") == Lines{"1:1 name: is empty; give it a name"});
  CHECK(problems_of("name: a\nlimits: {x-a: 11, y: 1}\n") ==
        Lines{"2:10 limits.x-a: '11' is not allowed; expected a whole number from 0 to 10",
              "2:19 limits.y: limit names start with x-"});
  // An enum problem carries its values.
  Config cfg;
  ys::Checker c;
  ys::check(YAML::Load("name: a\nlevel: mid\n"), schema(cfg), c);
  REQUIRE(c.count() == 1);
  CHECK(c.problems()[0].allowed == std::vector<std::string>{"low", "high"});
}

TEST_CASE("yaml_schema: durations follow the one grammar, the caller's check refuses more", "[yaml_schema]") {
  Config c;
  CHECK(problems_of("name: a\nttl: 7d\n", &c).empty());
  CHECK(c.ttl == 168h);
  CHECK(problems_of("name: a\nttl: 1.5h\n", &c).empty());
  CHECK(c.ttl == 90min);
  CHECK(problems_of("name: a\nttl: 24\n") ==
        Lines{"2:1 ttl: '24' is not a duration (missing unit after 24; use ns, us, ms, s, m, h or d)"});
  CHECK(problems_of("name: a\nttl: 3w\n") ==
        Lines{"2:1 ttl: '3w' is not a duration (unknown unit \"w\"; use ns, us, ms, s, m, h or d)"});
  CHECK(problems_of("name: a\nttl: -1h\n") == Lines{"2:1 ttl: '-1h' is negative"});
}

TEST_CASE("yaml_schema: every problem of a document is reported, in order", "[yaml_schema]") {
  auto p = problems_of("debug: 2\nworkers: many\nlevel: [x]\npeers:\n  - port: 1\n  - 7\n");
  CHECK(p == Lines{"1:1 debug: '2' is not a boolean; allowed: true, false",
                   "2:1 workers: 'many' is not allowed; expected a whole number from 1 to 64",
                   "3:1 level: expected a single value, got a list", "5:5 peers[0].name: missing; a peer needs a name",
                   "5:5 peers[0]: port 1 is reserved", "6:5 peers[1]: expected a map of keys, got a single value",
                   "1:0 name: missing; every config needs a name"});
}

TEST_CASE("yaml_schema: list_into keeps only the items without problems", "[yaml_schema]") {
  Config c;
  problems_of("name: a\npeers:\n  - {name: ok, port: 2}\n  - {name: bad, port: 0}\n  - {name: ok2}\n", &c);
  REQUIRE(c.peers.size() == 2);
  CHECK(c.peers[0].name == "ok");
  CHECK(c.peers[1].name == "ok2");
}

TEST_CASE("yaml_schema: null_is_empty, any_of and ignored", "[yaml_schema]") {
  std::vector<std::string> items;
  std::string text = "unset";
  ys::Type t = ys::mapping({
      {"s", ys::string([&](std::string s) { text = std::move(s); }, {.null_is_empty = true})},
      {"l", ys::list(ys::string([&](std::string s) { items.push_back(s); }), {.null_is_empty = true})},
      {"m", ys::mapping({}, {.null_is_empty = true})},
      {"one-or-many", ys::any_of({ys::string([&](std::string s) { items.push_back(s); }),
                                  ys::list(ys::string([&](std::string s) { items.push_back(s); }))},
                                 "a string or a list of strings")},
      {"skip", ys::ignored()},
  });
  ys::Checker c;
  ys::check(YAML::Load("s:\nl:\nm:\none-or-many: a\nskip: {anything: [1]}\n"), t, c);
  CHECK(c.ok());
  CHECK(text.empty());
  CHECK(items == std::vector<std::string>{"a"});
  ys::check(YAML::Load("one-or-many: [b, c]\n"), t, c);
  CHECK(c.ok());
  CHECK(items == std::vector<std::string>{"a", "b", "c"});
  ys::check(YAML::Load("one-or-many: {b: c}\n"), t, c);
  REQUIRE(c.count() == 1);
  CHECK(ys::describe(c.problems()[0]) == "expected a string or a list of strings, got a map");
}

TEST_CASE("yaml_schema: scalar hands the text to a function that may refuse it", "[yaml_schema]") {
  std::string seen;
  ys::Type t = ys::mapping({{"port", ys::scalar([&](const std::string& v) -> Result<void> {
                               if (v == "0") return Error(ErrorKind::kInvalidArgument, "port must not be 0");
                               seen = v;
                               return Ok();
                             })}});
  ys::Checker c;
  ys::check(YAML::Load("port: 80\n"), t, c);
  CHECK(c.ok());
  CHECK(seen == "80");
  ys::check(YAML::Load("port: 0\n"), t, c);
  REQUIRE(c.count() == 1);
  CHECK(c.problems()[0].kind == ys::ProblemKind::kValue);
  CHECK(c.problems()[0].message == "port must not be 0");
}

TEST_CASE("yaml_schema: load_all reports syntax errors with their place", "[yaml_schema]") {
  ys::Checker c;
  CHECK_FALSE(ys::load_all("a: [1,\nb: 2\n", c).has_value());
  REQUIRE(c.count() == 1);
  CHECK(c.problems()[0].kind == ys::ProblemKind::kSyntax);
  CHECK(c.problems()[0].line > 0);
  CHECK_FALSE(c.problems()[0].message.empty());

  ys::Checker ok;
  auto docs = ys::load_all("a: 1\n---\nb: 2\n", ok);
  REQUIRE(docs.has_value());
  CHECK(docs->size() == 2);
  auto none = ys::load_all("", ok);
  REQUIRE(none.has_value());
  CHECK(none->empty());
  CHECK(ok.ok());
  // Deep nesting is an error, never a crash.
  ys::Checker deep;
  auto d = ys::load_all(std::string(5000, '[') + "\n", deep);
  CHECK_FALSE(d.has_value());
}

TEST_CASE("yaml_schema: render joins the problems one a line", "[yaml_schema]") {
  Config cfg;
  ys::Checker c;
  ys::check(YAML::Load("name: a\ndebug: 1\nworkers: 0\n"), schema(cfg), c);
  CHECK(c.render([](const ys::Problem& p) { return "f:" + std::to_string(p.line) + ": " + p.path; }) ==
        "f:2: debug\nf:3: workers");
  CHECK(ys::quote("a\tb") == "'a?b'");
  CHECK(ys::join({"a", "b", "c"}, " | ") == "a | b | c");
}

TEST_CASE("yaml_schema: a file that is not UTF-8 is refused with its place, never read", "[yaml_schema]") {
  // An attacker's policy `exemptNamespaces: ["\xff"]` once reached nlohmann's dump() and aborted
  // the CLI and the webhook's reload.
  ys::Checker c;
  CHECK_FALSE(ys::load_all("a: 1\nb: [\"x\xff\"]\n", c).has_value());
  REQUIRE(c.count() == 1);
  CHECK(c.problems()[0].line == 2);
  CHECK(c.problems()[0].column == 7);  // b, :, space, [, ", x, then the byte
  CHECK(c.problems()[0].message.find("not valid UTF-8 (byte 0xFF)") != std::string::npos);
  // Overlong forms and surrogates are not UTF-8 either; real multi-byte text is.
  ys::Checker overlong, surrogate, good;
  CHECK_FALSE(ys::load_all("a: \xc0\xaf\n", overlong).has_value());
  CHECK_FALSE(ys::load_all("a: \xed\xa0\x80\n", surrogate).has_value());
  CHECK(ys::load_all("a: \"caf\xc3\xa9 \xe2\x9c\x93\"\n", good).has_value());
}
