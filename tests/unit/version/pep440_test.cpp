// PEP 440 comparator against testdata/versions/pep440.tsv (every ordered pair of the 54 sorted
// versions of pypa/packaging's tests) and pep440_normalize.tsv (go-pep440-version String()).
#include <catch2/catch.hpp>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::expected_sign;
using scangate::test::read_vectors;
using scangate::test::sign;
using scangate::test::unescape;

TEST_CASE("compare_pep440 orders every pep440.tsv pair", "[version][pep440]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/pep440.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    REQUIRE(row.fields[0] == "pep440");
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    auto r = sv::compare_pep440(row.fields[1], row.fields[2]);
    REQUIRE(r.ok());
    CHECK(sign(*r) == want);
    ++rows;
  }
  REQUIRE(rows > 2900);
}

TEST_CASE("normalize_pep440 gives the PEP 440 normal form of pep440_normalize.tsv", "[version][pep440]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/pep440_normalize.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    REQUIRE(row.fields[0] == "pep440-normalize");
    std::string input = unescape(row.fields[1]);  // the header: inputs may carry Go escapes
    auto norm = sv::normalize_pep440(input);
    REQUIRE(norm.ok());
    CHECK(*norm == row.fields[2]);
    auto eq = sv::compare_pep440(input, row.fields[2]);
    REQUIRE(eq.ok());
    CHECK(*eq == 0);
    CHECK(sv::valid(sv::Scheme::kPep440, input));
    ++rows;
  }
  REQUIRE(rows > 100);
}

TEST_CASE("compare_pep440 rejects versions outside the PEP 440 grammar", "[version][pep440]") {
  // "1.2..4" is Trivy's "invalid version" row (trivy_isvulnerable.tsv); the others break the
  // PEP 440 grammar (empty release, letters in the release, empty local label).
  for (const char* bad : {"1.2..4", "", "abc", "1.0+", "1.0+a..b", "1.0-foo"}) {
    INFO(bad);
    auto r = sv::compare_pep440(bad, "1.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
    CHECK_FALSE(sv::valid(sv::Scheme::kPep440, bad));
  }
}
