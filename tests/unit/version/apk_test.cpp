// apk comparator against testdata/versions/apk.tsv (go-apk-version's cases from apk-tools'
// version.data, plus Trivy's APK comparer table).
#include <catch2/catch.hpp>

#include <set>

#include "scanner/version/version.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::expected_sign;
using scangate::test::read_vectors;
using scangate::test::sign;

TEST_CASE("compare_apk orders every apk.tsv pair as apk-tools does", "[version][apk]") {
  int rows = 0;
  for (const auto& row : read_vectors("versions/apk.tsv")) {
    INFO(row.text);
    REQUIRE(row.fields.size() == 4);
    REQUIRE(row.fields[0] == "apk");
    int want = expected_sign(row.fields[3]);
    REQUIRE(want != 99);
    auto ab = sv::compare_apk(row.fields[1], row.fields[2]);
    auto ba = sv::compare_apk(row.fields[2], row.fields[1]);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == want);
    CHECK(sign(*ba) == -want);
    auto via_scheme = sv::compare(sv::Scheme::kApk, row.fields[1], row.fields[2]);
    REQUIRE(via_scheme.ok());
    CHECK(sign(*via_scheme) == want);
    ++rows;
  }
  REQUIRE(rows > 700);
}

TEST_CASE("valid(kApk) accepts apk.tsv versions and rejects the invalid ones", "[version][apk]") {
  // The apk.tsv header notes "1.0bc" is invalid (two letters); "23_foo" carries "foo", which is
  // not one of apk-tools' suffixes (alpha beta pre rc cvs svn git hg p). Both still compare.
  const std::set<std::string> invalid = {"1.0bc", "23_foo"};
  int rows = 0;
  for (const auto& row : read_vectors("versions/apk.tsv")) {
    for (int i : {1, 2}) {
      INFO(row.text);
      CHECK(sv::valid(sv::Scheme::kApk, row.fields[i]) == (invalid.count(row.fields[i]) == 0));
    }
    ++rows;
  }
  REQUIRE(rows > 700);
}

TEST_CASE("compare_apk rejects an empty version with a format error", "[version][apk]") {
  auto r = sv::compare_apk("", "1.0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == scangate::ErrorKind::kFormat);
  CHECK_FALSE(sv::valid(sv::Scheme::kApk, ""));
}
