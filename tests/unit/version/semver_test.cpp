// SemVer comparator against the semver-aqua (strict SemVer 2.0) and semver-masterminds (loose
// "1.3" == "1.3.0") rows of testdata/versions/semver.tsv.
#include <catch2/catch.hpp>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::expected_sign;
using scangate::test::read_vectors;
using scangate::test::sign;

TEST_CASE("compare_semver orders the semver-aqua and semver-masterminds rows", "[version][semver]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/semver.tsv")) {
    if (row.fields[0] != "semver-aqua" && row.fields[0] != "semver-masterminds") continue;
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    auto ab = sv::compare_semver(row.fields[1], row.fields[2]);
    auto ba = sv::compare_semver(row.fields[2], row.fields[1]);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == want);
    CHECK(sign(*ba) == -want);
    auto via_scheme = sv::compare(sv::Scheme::kSemver, row.fields[1], row.fields[2]);
    REQUIRE(via_scheme.ok());
    CHECK(sign(*via_scheme) == want);
    ++rows;
  }
  REQUIRE(rows > 25);
}

TEST_CASE("compare_semver rejects malformed versions", "[version][semver]") {
  // "1.2..4" is the npm "invalid version" row of trivy_isvulnerable.tsv.
  for (const char* bad : {"1.2..4", "", "x", "1.2.3.4", "1.2.3-", "1.2.3-a..b", "1.2.3+", "one"}) {
    INFO(bad);
    auto r = sv::compare_semver(bad, "1.0.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
    CHECK_FALSE(sv::valid(sv::Scheme::kSemver, bad));
  }
}
