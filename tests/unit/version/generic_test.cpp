// Generic comparator against the generic-aqua rows of testdata/versions/semver.tsv (Trivy's
// GenericComparer, aquasecurity/go-version pkg/version).
#include <catch2/catch.hpp>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::expected_sign;
using scangate::test::read_vectors;
using scangate::test::sign;

TEST_CASE("compare_generic orders the generic-aqua rows", "[version][generic]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/semver.tsv")) {
    if (row.fields[0] != "generic-aqua") continue;
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    auto ab = sv::compare_generic(row.fields[1], row.fields[2]);
    auto ba = sv::compare_generic(row.fields[2], row.fields[1]);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == want);
    CHECK(sign(*ba) == -want);
    auto via_scheme = sv::compare(sv::Scheme::kGeneric, row.fields[1], row.fields[2]);
    REQUIRE(via_scheme.ok());
    CHECK(sign(*via_scheme) == want);
    ++rows;
  }
  REQUIRE(rows > 30);
}

TEST_CASE("compare_generic rejects malformed versions", "[version][generic]") {
  // "1.2..4" is the generic "invalid version" row of trivy_isvulnerable.tsv.
  for (const char* bad : {"1.2..4", "", "*", "v", "1.2-", "1.2+", "1.2 3"}) {
    INFO(bad);
    auto r = sv::compare_generic(bad, "1.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
    CHECK_FALSE(sv::valid(sv::Scheme::kGeneric, bad));
  }
}
