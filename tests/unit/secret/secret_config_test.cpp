#include "scanner/secret/secret_config.h"

#include <catch2/catch.hpp>

#include <filesystem>

#include "scanner/secret/secret_scanner.h"
#include "support/test_support.h"

using namespace scangate;
using scangate::test::testdata;

TEST_CASE("every secret config in the shared test data loads and builds a scanner", "[secret][config]") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(testdata("secrets"))) {
    if (e.path().extension() != ".yaml" || e.path().filename() == "symfony-secret.yaml") continue;  // an input
    INFO(e.path().string());
    auto cfg = load_secret_config(e.path().string());
    REQUIRE(cfg.ok());
    auto scanner = SecretScanner::create(*cfg);
    REQUIRE(scanner.ok());
    ++n;
  }
  CHECK(n == 21);
}

TEST_CASE("secret config: fields are read as Trivy's format defines them", "[secret][config]") {
  auto cfg = load_secret_config(testdata("secrets/exclude-block.yaml"));
  REQUIRE(cfg.ok());
  REQUIRE(cfg->rules.size() == 1);
  const auto& r = cfg->rules[0];
  CHECK(r.id == "rule1");
  CHECK(r.category == "general");
  CHECK(r.title == "Generic Rule");
  CHECK(r.severity == "HIGH");
  CHECK(r.secret_group_name == "secret");
  CHECK(r.exclude_block.description == "exclude blocks");
  REQUIRE(r.exclude_block.regexes.size() == 1);
  CHECK(r.exclude_block.regexes[0] == "--- ignore block start ---(.|\\s)*--- ignore block stop ---");
  CHECK(cfg->disable_allow_rules == std::vector<std::string>{"tests"});

  auto allow = load_secret_config(testdata("secrets/allow-path.yaml"));
  REQUIRE(allow.ok());
  REQUIRE(allow->rules[0].allow_rules.size() == 1);
  CHECK(allow->rules[0].allow_rules[0].path == ".*\\.txt");

  auto kw = load_secret_config(testdata("secrets/config-happy-keywords.yaml"));
  REQUIRE(kw.ok());
  CHECK(kw->rules[0].keywords == std::vector<std::string>{"secret"});
}

TEST_CASE("secret config: severities are normalised, bad ones become UNKNOWN with a warning", "[secret][config]") {
  auto bad = load_secret_config(testdata("secrets/config-with-incorrect-severity.yaml"));
  REQUIRE(bad.ok());
  auto s1 = SecretScanner::create(*bad);
  REQUIRE(s1.ok());
  REQUIRE(s1->warnings().size() == 1);
  CHECK(s1->warnings()[0].find("\"bad\"") != std::string::npos);
  CHECK(s1->warnings()[0].find("rule1") != std::string::npos);

  auto lower = load_secret_config(testdata("secrets/config-with-non-uppercase-severity.yaml"));
  REQUIRE(lower.ok());
  auto s2 = SecretScanner::create(*lower);
  REQUIRE(s2.ok());
  CHECK(s2->warnings().empty());  // "uNknown" is a valid severity in another case

  auto none = load_secret_config(testdata("secrets/config-without-severity.yaml"));
  REQUIRE(none.ok());
  auto s3 = SecretScanner::create(*none);
  REQUIRE(s3.ok());
  REQUIRE(s3->warnings().size() == 1);
  CHECK(s3->warnings()[0].find("no severity") != std::string::npos);
}

TEST_CASE("secret config: enable-builtin-rules and disable-rules select rules", "[secret][config]") {
  auto enable = load_secret_config(testdata("secrets/config-enable-ghp.yaml"));
  REQUIRE(enable.ok());
  auto s1 = SecretScanner::create(*enable);
  REQUIRE(s1.ok());
  CHECK(s1->rule_ids() == std::vector<std::string>{"github-pat"});

  auto disable = load_secret_config(testdata("secrets/config-disable-rule1.yaml"));
  REQUIRE(disable.ok());
  auto s2 = SecretScanner::create(*disable);
  REQUIRE(s2.ok());
  const auto ids = s2->rule_ids();
  CHECK(std::find(ids.begin(), ids.end(), "rule1") == ids.end());
  CHECK(std::find(ids.begin(), ids.end(), "github-pat") != ids.end());

  SecretConfig typo;
  typo.disable_rules = {"github-patt"};
  typo.enable_builtin_rules = {"no-such-rule", "github-pat"};
  typo.disable_allow_rules = {"markdwon"};
  auto s3 = SecretScanner::create(typo);
  REQUIRE(s3.ok());
  CHECK(s3->warnings().size() == 3);
}

TEST_CASE("secret config: structural errors name the place", "[secret][config]") {
  auto unknown = parse_secret_config("rules:\n  - id: a\n    regex: x\n    severty: HIGH\n", "t.yaml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::kFormat);
  CHECK(unknown.error().message.find("t.yaml line 4") != std::string::npos);
  CHECK(unknown.error().message.find("severty") != std::string::npos);

  auto top = parse_secret_config("disable-rule:\n  - github-pat\n", "t.yaml");
  REQUIRE_FALSE(top.ok());
  CHECK(top.error().message.find("disable-rule") != std::string::npos);

  auto type = parse_secret_config("rules:\n  - id: a\n    regex: x\n    keywords: secret\n", "t.yaml");
  REQUIRE_FALSE(type.ok());
  CHECK(type.error().message.find("rules[0].keywords must be a list") != std::string::npos);

  auto noid = parse_secret_config("rules:\n  - regex: x\n", "t.yaml");
  REQUIRE_FALSE(noid.ok());
  CHECK(noid.error().message.find("has no id") != std::string::npos);

  auto noregex = parse_secret_config("rules:\n  - id: a\n", "t.yaml");
  REQUIRE_FALSE(noregex.ok());
  CHECK(noregex.error().message.find("no regex") != std::string::npos);

  auto dup = parse_secret_config("rules:\n  - id: a\n    regex: x\n  - id: a\n    regex: y\n", "t.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message.find("used twice") != std::string::npos);

  auto syntax = parse_secret_config("rules: [\n", "t.yaml");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().message.find("not valid YAML") != std::string::npos);

  auto list = parse_secret_config("- a\n- b\n", "t.yaml");
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().message.find("must be a map") != std::string::npos);

  auto empty = parse_secret_config("", "t.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->rules.empty());

  auto missing = load_secret_config(testdata("secrets/no-such-config.yaml"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
}

TEST_CASE("secret config: regex problems are reported with the rule id", "[secret][config]") {
  auto bad = parse_secret_config("rules:\n  - id: broken\n    regex: 'secret=(unclosed'\n", "t.yaml");
  REQUIRE(bad.ok());
  auto s = SecretScanner::create(*bad);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::kInvalidArgument);
  CHECK(s.error().message.find("rule \"broken\" regex") != std::string::npos);

  auto group = parse_secret_config(
      "rules:\n  - id: g\n    regex: 'secret=(?P<value>\\w+)'\n"
      "    secret-group-name: secret\n",
      "t.yaml");
  REQUIRE(group.ok());
  auto s2 = SecretScanner::create(*group);
  REQUIRE_FALSE(s2.ok());
  CHECK(s2.error().message.find("secret-group-name \"secret\"") != std::string::npos);

  auto allow = parse_secret_config("allow-rules:\n  - id: x\n    path: '(['\n", "t.yaml");
  REQUIRE(allow.ok());
  auto s3 = SecretScanner::create(*allow);
  REQUIRE_FALSE(s3.ok());
  CHECK(s3.error().message.find("allow rule \"x\" path") != std::string::npos);
}

TEST_CASE("secret config: keys given twice are errors, and every problem is reported", "[secret][config]") {
  // yaml-cpp keeps the last of two equal keys; Trivy's YAML reader refuses them, and so do we.
  auto dup = parse_secret_config("disable-rules: [a]\ndisable-rules: [b]\n", "t.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message ==
        "secret config t.yaml line 2 column 1: disable-rules: appears twice; give each key once");

  auto many = parse_secret_config(
      "rules:\n  - id: a\n    regex: x\n    severty: HIGH\n  - regex: y\nallow-rules:\n  - id: nothing\n", "t.yaml");
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().message ==
        "secret config t.yaml line 4 column 5: rules[0].severty: unknown key; allowed: id, category, title, severity, "
        "regex, keywords, path, allow-rules, exclude-block, secret-group-name\n"
        "secret config t.yaml line 5 column 5: rules[1]: has no id; every rule needs one (findings and disable-rules "
        "use it)\n"
        "secret config t.yaml line 7 column 5: allow-rules[0]: needs a regex or a path, or it allows nothing");

  // Empty values still read as empty, as in Trivy.
  auto empty =
      parse_secret_config("rules:\n  - id: a\n    regex: x\n    title:\n    keywords:\nexclude-block:\n", "t.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->rules[0].title.empty());
  CHECK(empty->rules[0].keywords.empty());
}
