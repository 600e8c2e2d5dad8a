// Comparator decisions no shared vector exercised (found by tests/mutation/run.sh):
//  - dpkg splits the revision at the LAST '-', so an upstream version may hold '-'
//    (deb-version(7)); every expectation below was checked with `dpkg --compare-versions`
//    (dpkg 1.21, Debian 12).
//  - npm's caret on 0.0.z pins the patch: ^0.0.1 is >=0.0.1 <0.0.2-0 (node-semver README,
//    "Caret Ranges"; test/fixtures/range-exclude.js lists ['^0.0.1', '0.0.2']).
#include <catch2/catch.hpp>

#include "scanner/version/version.h"

namespace sv = scangate::version;

namespace {

int sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

}  // namespace

TEST_CASE("compare_deb: the revision starts after the last '-', upstream keeps its own '-' (mutation guard)",
          "[version][deb][mutation]") {
  struct Row {
    const char* a;
    const char* b;
    int want;
  };
  // dpkg --compare-versions A gt B for each, i.e. upstream "1.0-2" > upstream "1.0".
  const Row rows[] = {
      {"1.0-2-1", "1.0-10", 1},     {"0.9-2-1", "0.9-10", 1},  {"1:2.4-3-1", "1:2.4-20", 1},
      {"1.2-3-4", "1.2-3.1-1", -1}, {"1.0-2-1", "1.0-2-1", 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.a, r.b);
    auto ab = sv::compare_deb(r.a, r.b);
    auto ba = sv::compare_deb(r.b, r.a);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(sign(*ab) == r.want);
    CHECK(sign(*ba) == -r.want);
  }
  // The same decision through an advisory range: 1.0-2-1 is not below a fix at 1.0-10.
  auto vulnerable = sv::satisfies(sv::Scheme::kDeb, "1.0-2-1", "< 1.0-10");
  REQUIRE(vulnerable.ok());
  CHECK_FALSE(*vulnerable);
}

TEST_CASE("npm caret ranges on 0.0.z allow that patch only (mutation guard)", "[version][semver][mutation]") {
  struct Row {
    const char* range;
    const char* version;
    bool want;
  };
  const Row rows[] = {
      {"^0.0.1", "0.0.1", true},   // range-include
      {"^0.0.1", "0.0.2", false},  // range-exclude
      {"^0.0.3", "0.0.4", false}, {"^0.0.3", "0.1.0", false},
      {"^0.0.3", "0.0.2", false}, {"^0.0", "0.0.9", true},  // ^0.0 is >=0.0.0 <0.1.0-0
      {"^0.1.2", "0.1.9", true},                            // ^0.1.2 is >=0.1.2 <0.2.0-0
      {"^0.1.2", "0.2.0", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.range, r.version);
    auto ok = sv::satisfies(sv::Scheme::kSemver, r.version, r.range);
    REQUIRE(ok.ok());
    CHECK(*ok == r.want);
  }
}
