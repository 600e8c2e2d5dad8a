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

// apk.tsv has _p and _pre rows but no _cvs/_svn/_git/_hg, so a comparator that ranked those as
// pre-releases passed every vector. apk-tools src/version.c has two suffix tables: alpha beta pre
// rc (pre-release, ranked below the bare version) and cvs svn git hg p (post-release, ranked above
// it, in that order). Each pair below follows from those two tables and the token rules. The base
// version is 1.2, not 1.0: in apk-tools 2 a ".0" component is a leading-zero token after which
// any suffix sorts above the bare version, so "1.0_x" > "1.0" for every suffix and would not tell
// a pre-release from a post-release.
TEST_CASE("compare_apk ranks cvs/svn/git/hg/p suffixes as post-releases", "[version][apk]") {
  struct Pair {
    const char* a;
    const char* b;
    int want;  // sign of compare(a, b)
  };
  const Pair pairs[] = {
      // a post-release snapshot is newer than the release it follows ...
      {"1.2_git20200101", "1.2", 1},
      {"1.2_svn", "1.2", 1},
      {"1.2_cvs", "1.2", 1},
      {"1.2_hg", "1.2", 1},
      {"1.2_p1", "1.2", 1},
      {"1.2_cvs20200101-r0", "1.2-r0", 1},
      {"1.2_git20200101-r0", "1.2-r5", 1},
      // ... and newer than every pre-release of it ...
      {"1.2_svn", "1.2_rc1", 1},
      {"1.2_cvs", "1.2_rc9", 1},
      {"1.2_git1", "1.2_alpha", 1},
      {"1.2_hg", "1.2_beta2", 1},
      {"1.2_cvs", "1.2_pre", 1},
      // ... but older than the next release.
      {"1.2_git20200101", "1.2.1", -1},
      {"1.2_svn999", "1.3", -1},
      {"1.2_hg5", "1.2.0", -1},
      // Among themselves: cvs < svn < git < hg < p.
      {"1.2_cvs", "1.2_svn", -1},
      {"1.2_svn", "1.2_git", -1},
      {"1.2_git", "1.2_hg", -1},
      {"1.2_hg", "1.2_p", -1},
      {"1.2_cvs99", "1.2_p1", -1},
      {"1.2_git20991231", "1.2_hg1", -1},
      // The suffix number orders snapshots of one kind; the revision breaks ties.
      {"1.2_git20200101", "1.2_git20200102", -1},
      {"1.2_git20200101-r1", "1.2_git20200101-r0", 1},
      {"1.2_git20200101", "1.2_git20200101", 0},
      // A post suffix after a pre-release suffix stays within that pre-release.
      {"1.2_alpha_git1", "1.2_alpha", 1},
      {"1.2_alpha_git1", "1.2_beta", -1},
      {"1.2_rc1_p2", "1.2_rc1", 1},
      {"1.2_rc1_p2", "1.2", -1},
  };
  for (const auto& p : pairs) {
    INFO(p.a << " vs " << p.b);
    CHECK(sv::valid(sv::Scheme::kApk, p.a));
    CHECK(sv::valid(sv::Scheme::kApk, p.b));
    auto ab = sv::compare_apk(p.a, p.b);
    auto ba = sv::compare_apk(p.b, p.a);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == p.want);
    CHECK(sign(*ba) == -p.want);
  }
}
