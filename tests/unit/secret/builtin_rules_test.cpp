#include "scanner/secret/builtin_rules.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "scanner/secret/regex.h"
#include "scanner/secret/secret_scanner.h"
#include "support/test_support.h"

using namespace scangate;

namespace {

struct RefRule {
  std::string id, category, severity, title;
  std::set<std::string> keywords;
};

// RULES-reference.tsv: id, category, severity, title, regex, secret group, keywords
// (" | "-joined, Go-escaped), allow rules, path.
std::vector<RefRule> reference_rules() {
  std::vector<RefRule> out;
  std::istringstream in(scangate::test::read_file(scangate::test::testdata("secrets/RULES-reference.tsv")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> c;
    std::size_t i = 0;
    for (;;) {
      const std::size_t j = line.find('\t', i);
      c.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    c.resize(9);
    RefRule r{c[0], c[1], c[2], c[3], {}};
    if (r.severity.rfind("(none", 0) == 0) r.severity = "UNKNOWN";  // "(none->UNKNOWN)"
    std::string kws = c[6];
    std::size_t p = 0;
    while (!kws.empty()) {
      const std::size_t q = kws.find(" | ", p);
      std::string k = kws.substr(p, q == std::string::npos ? std::string::npos : q - p);
      std::string unescaped;
      for (std::size_t t = 0; t < k.size(); ++t) {
        if (k[t] == '\\' && t + 1 < k.size()) ++t;
        unescaped.push_back(k[t]);
      }
      r.keywords.insert(unescaped);
      if (q == std::string::npos) break;
      p = q + 3;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace

TEST_CASE("built-in secret rules agree with Trivy's ids, categories, severities", "[secret][builtin]") {
  const auto ref = reference_rules();
  REQUIRE(ref.size() == 105);
  std::map<std::string, SecretRuleSpec> mine;
  for (auto& r : builtin_secret_rules()) mine.emplace(r.id, r);

  int implemented = 0;
  for (const auto& r : ref) {
    INFO("rule " << r.id);
    auto it = mine.find(r.id);
    REQUIRE(it != mine.end());
    ++implemented;
    CHECK(it->second.category == r.category);
    CHECK((it->second.severity.empty() ? std::string("UNKNOWN") : it->second.severity) == r.severity);
    CHECK(it->second.title == r.title);
    CHECK(std::set<std::string>(it->second.keywords.begin(), it->second.keywords.end()) == r.keywords);
  }
  std::cout << "secret built-in rules: " << implemented << "/" << ref.size() << " of Trivy's implemented\n";

  // scangate's additions are exactly the documented ones.
  std::set<std::string> extra;
  for (const auto& [id, r] : mine) {
    bool in_ref = false;
    for (const auto& x : ref) in_ref = in_ref || x.id == id;
    if (!in_ref) extra.insert(id);
  }
  CHECK(extra == std::set<std::string>{"docker-config-auth"});
}

TEST_CASE("built-in secret rules all compile and report their metadata", "[secret][builtin]") {
  auto scanner = SecretScanner::create();
  REQUIRE(scanner.ok());
  CHECK(scanner->warnings().empty());
  CHECK(scanner->rule_ids().size() == 106);

  // A finding carries the rule's Trivy metadata (ionic-api-token has none: UNKNOWN).
  const auto got = scanner->scan("app/env", "IONIC_TOKEN = 'ion_" + std::string(42, 'a') + "'\n");
  REQUIRE(got.size() == 1);
  CHECK(got[0].rule_id == "ionic-api-token");
  CHECK(got[0].category == "Ionic");
  CHECK(got[0].severity == "UNKNOWN");
  CHECK(got[0].title == "Ionic API token");
}

TEST_CASE("built-in allow rules have Trivy's ids", "[secret][builtin]") {
  std::set<std::string> ids;
  for (const auto& a : builtin_secret_allow_rules()) ids.insert(a.id);
  for (const char* id : {"tests", "examples", "vendor", "usr-dirs", "locale-dir", "markdown", "node.js", "golang",
                         "python", "rubygems", "wordpress", "anaconda-log"}) {
    CHECK(ids.count(id) == 1);
  }
}

TEST_CASE("guarded built-in regexes report exactly the plain regexes' matches", "[secret][builtin]") {
  // Regex::compile_guarded is a speed-up only: same whole matches, same secret groups.
  std::vector<std::string> inputs;
  for (const auto& e : std::filesystem::directory_iterator(scangate::test::testdata("secrets"))) {
    if (e.path().extension() == ".txt" || e.path().extension() == ".js" || e.path().extension() == ".json") {
      inputs.push_back(scangate::test::read_file(e.path().string()));
    }
  }
  const std::string a36(36, 'a');
  const std::string k16 = "Q2W3E4R5T6Y7U8I9";
  inputs.push_back("ghp_" + a36 + " ghp_" + a36 + ",ghp_" + a36 + "ghp_" + a36);
  inputs.push_back("AKIA" + k16 + "\nAKIA" + k16 + "\n\n AKIA" + k16 + " AKIA" + k16);
  inputs.push_back("hf_" + std::string(34, 'b') + " hf_" + std::string(34, 'c') + "\n");
  inputs.push_back("ek_" + std::string(32, 'a') + "|ek_" + std::string(32, 'b') + "ek_" + std::string(32, 'c'));
  inputs.push_back("sk_live_" + std::string(20, 'z') + "\tpk_test_" + std::string(20, 'y') + "_pk_test_x");

  int guarded = 0;
  for (const auto& rule : builtin_secret_rules()) {
    if (rule.regex.rfind("([^0-9a-zA-Z_]|^)", 0) != 0) continue;
    ++guarded;
    INFO("rule " << rule.id);
    auto plain = secret::Regex::compile(rule.regex);
    auto fast = secret::Regex::compile_guarded(rule.regex);
    REQUIRE(plain.ok());
    REQUIRE(fast.ok());
    const auto pg = plain->groups_named(rule.secret_group_name);
    const auto fg = fast->groups_named(rule.secret_group_name);
    REQUIRE(pg.size() == fg.size());
    for (const auto& text : inputs) {
      using Hit = std::vector<std::size_t>;
      auto collect = [&](const secret::Regex& re, const std::vector<int>& groups) {
        std::vector<Hit> hits;
        auto r = re.for_each_match(text, [&](std::span<const secret::Span> g) {
          Hit h{g[0].begin, g[0].end};
          for (int n : groups) {
            h.push_back(g[static_cast<std::size_t>(n)].begin);
            h.push_back(g[static_cast<std::size_t>(n)].end);
          }
          hits.push_back(h);
        });
        REQUIRE(r.ok());
        return hits;
      };
      CHECK(collect(*plain, pg) == collect(*fast, fg));
    }
  }
  CHECK(guarded >= 15);
}
