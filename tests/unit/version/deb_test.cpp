// dpkg comparator against testdata/versions/deb.tsv and deb_fragment.tsv (go-deb-version, Trivy
// and Grype tables, every row cross-checked with dpkg --compare-versions).
#include <catch2/catch.hpp>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::expected_sign;
using scangate::test::read_vectors;
using scangate::test::sign;

TEST_CASE("compare_deb orders every deb.tsv pair as dpkg does", "[version][deb]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/deb.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    REQUIRE(row.fields[0] == "deb");
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    auto ab = sv::compare_deb(row.fields[1], row.fields[2]);
    auto ba = sv::compare_deb(row.fields[2], row.fields[1]);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == want);
    CHECK(sign(*ba) == -want);
    CHECK(sv::valid(sv::Scheme::kDeb, row.fields[1]));
    CHECK(sv::valid(sv::Scheme::kDeb, row.fields[2]));
    ++rows;
  }
  REQUIRE(rows >= 40);
}

TEST_CASE("compare_deb_fragment follows verrevcmp including the ~ rules", "[version][deb]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/deb_fragment.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    REQUIRE(row.fields[0] == "deb-fragment");
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    CHECK(sign(sv::compare_deb_fragment(row.fields[1], row.fields[2])) == want);
    CHECK(sign(sv::compare_deb_fragment(row.fields[2], row.fields[1])) == -want);
    CHECK(sv::compare_deb_fragment(row.fields[1], row.fields[1]) == 0);
    ++rows;
  }
  REQUIRE(rows > 10);
}

TEST_CASE("compare_deb rejects malformed versions with a format error", "[version][deb]") {
  for (const char* bad : {"", "   ", "a:1.0", ":1.0", "1:", "1.0-", "1.0 2"}) {
    INFO(bad);
    auto r = sv::compare_deb(bad, "1.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
    CHECK_FALSE(sv::valid(sv::Scheme::kDeb, bad));
  }
}
