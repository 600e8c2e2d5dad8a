// satisfies() against testdata/versions/pep440_specifier.tsv (go-pep440-version specifier tests)
// and the apk, deb, pep440 and semantic/generic rows of grype_constraints.tsv.
#include <catch2/catch.hpp>

#include <map>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::read_vectors;

namespace {

bool parse_bool(const std::string& s) {
  REQUIRE((s == "true" || s == "false"));
  return s == "true";
}

}  // namespace

TEST_CASE("satisfies(kPep440) matches pep440_specifier.tsv", "[version][constraint][pep440]") {
  int rows = 0;
  int prerelease_rows = 0;
  for (const auto& row : read_vectors("versions/pep440_specifier.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    sv::MatchOptions opts;
    if (row.fields[0] == "pep440-spec-prerelease") {
      opts.include_prerelease = true;  // TestVersion_CheckWithPreRelease: WithPreRelease(true)
      ++prerelease_rows;
    } else {
      REQUIRE(row.fields[0] == "pep440-spec");
    }
    auto got = sv::satisfies(sv::Scheme::kPep440, row.fields[1], row.fields[2], opts);
    REQUIRE(got.ok());
    CHECK(*got == parse_bool(row.fields[3]));
    ++rows;
  }
  REQUIRE(rows > 180);
  REQUIRE(prerelease_rows > 0);
}

// grype_constraints.tsv formats run here, and the scheme each maps to. Grype's "semantic"
// format is hashicorp-style go-version with plain comparisons (">2" means ">2.0.0"), which is
// this library's generic scheme; npm ranges would read ">2" as ">=3.0.0".
// Skipped formats (other ecosystems): rpm, maven, jvm, gem, portage, kb, golang, bitnami, fuzzy.
TEST_CASE("satisfies() matches grype_constraints.tsv for apk, deb, pep440 and semantic",
          "[version][constraint][grype]") {
  const std::map<std::string, sv::Scheme> formats = {
      {"apk", sv::Scheme::kApk},
      {"deb", sv::Scheme::kDeb},
      {"pep440", sv::Scheme::kPep440},
      {"semantic", sv::Scheme::kGeneric},
      {"generic(mixed)", sv::Scheme::kGeneric},
  };
  // Grype's matchers include pre-releases in ranges ("2.0-beta-3" satisfies ">1.0, <2.0").
  sv::MatchOptions opts;
  opts.include_prerelease = true;
  std::map<std::string, int> ran;
  int skipped_defects = 0;
  for (const auto& row : read_vectors("versions/grype_constraints.tsv")) {
    auto it = formats.find(row.fields[0]);
    if (it == formats.end()) continue;
    INFO(row.text);
    REQUIRE(row.fields.size() >= 4);
    // Extraction defect: Grype's literal constraint "\"4.5.1\" || \"4.5.2\"" was cut at its
    // first escaped quote, leaving a lone backslash. The real constraint is checked below.
    if (row.fields[2] == "\\") {
      ++skipped_defects;
      continue;
    }
    auto got = sv::satisfies(it->second, row.fields[1], row.fields[2], opts);
    REQUIRE(got.ok());
    CHECK(*got == parse_bool(row.fields[3]));
    ++ran[row.fields[0]];
  }
  CHECK(ran["apk"] >= 34);
  CHECK(ran["deb"] >= 75);
  CHECK(ran["pep440"] >= 38);
  CHECK(ran["semantic"] >= 99);
  CHECK(ran["generic(mixed)"] >= 6);
  CHECK(skipped_defects <= 1);
}

TEST_CASE("satisfies() unquotes double-quoted versions (Grype's vulndb double-quoted case)",
          "[version][constraint][grype]") {
  // grype pep440/fuzzy constraint tests, "vulndb fuzzy constraint double quoted":
  // version 4.5.2, constraint "\"4.5.1\" || \"4.5.2\"", satisfied true.
  auto got = sv::satisfies(sv::Scheme::kPep440, "4.5.2", "\"4.5.1\" || \"4.5.2\"");
  REQUIRE(got.ok());
  CHECK(*got);
}

TEST_CASE("satisfies(kSemver) follows the node-semver README examples", "[version][constraint][npm]") {
  struct Case {
    const char* version;
    const char* range;
    bool want;
  };
  // node-semver README: usage example, and "Prerelease Tags" (">1.2.3-alpha.3" allows
  // 1.2.3-alpha.7 and 3.4.5 but not 3.4.5-alpha.9).
  const Case cases[] = {
      {"1.2.3", "1.x || >=2.5.0 || 5.0.0 - 7.2.3", true},
      {"1.2.3-alpha.7", ">1.2.3-alpha.3", true},
      {"3.4.5-alpha.9", ">1.2.3-alpha.3", false},
      {"3.4.5", ">1.2.3-alpha.3", true},
  };
  for (const auto& c : cases) {
    INFO(c.version << " in " << c.range);
    auto got = sv::satisfies(sv::Scheme::kSemver, c.version, c.range);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
  // README: with includePrerelease, 3.4.5-alpha.9 is allowed by >1.2.3-alpha.3.
  sv::MatchOptions inc;
  inc.include_prerelease = true;
  auto got = sv::satisfies(sv::Scheme::kSemver, "3.4.5-alpha.9", ">1.2.3-alpha.3", inc);
  REQUIRE(got.ok());
  CHECK(*got);
}

TEST_CASE("satisfies() reports malformed constraints as format errors", "[version][constraint]") {
  // Trivy's "invalid constraint" rows use "!1.0.0" (trivy_isvulnerable.tsv).
  for (auto s : {sv::Scheme::kApk, sv::Scheme::kDeb, sv::Scheme::kPep440, sv::Scheme::kSemver, sv::Scheme::kGeneric}) {
    auto got = sv::satisfies(s, "1.2.4", "!1.0.0");
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().kind == scangate::ErrorKind::kFormat);
  }
}
