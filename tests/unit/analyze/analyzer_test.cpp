#include "scanner/analyze/analyzer.h"

#include <catch2/catch.hpp>

using namespace scangate;

namespace {
class Fake : public Analyzer {
 public:
  Fake(std::string t, int v) : t_(std::move(t)), v_(v) {}
  std::string_view type() const override { return t_; }
  int version() const override { return v_; }
  bool required(std::string_view p) const override { return p == "fake"; }
  Result<AnalysisResult> analyze(const AnalysisInput&) const override { return AnalysisResult{}; }

 private:
  std::string t_;
  int v_;
};
}  // namespace

TEST_CASE("registry rejects duplicate types and keys versions", "[registry]") {
  AnalyzerRegistry r;
  REQUIRE(r.add(std::make_unique<Fake>("zeta", 3)).ok());
  REQUIRE(r.add(std::make_unique<Fake>("alpha", 1)).ok());
  auto dup = r.add(std::make_unique<Fake>("zeta", 4));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message.find("zeta") != std::string::npos);
  CHECK_FALSE(r.add(nullptr).ok());
  CHECK(r.all().size() == 2);
  CHECK(r.versions_key() == "alpha:1,zeta:3");
  CHECK(r.any_required("fake"));
  CHECK_FALSE(r.any_required("other"));
  CHECK(r.find("alpha") != nullptr);
  CHECK(r.find("beta") == nullptr);
}

TEST_CASE("builtin registry holds the five analyzers", "[registry]") {
  auto r = AnalyzerRegistry::builtin();
  CHECK(r.all().size() == 5);
  CHECK(r.versions_key() == "apk:1,dpkg:1,npm:1,os-release:1,python:1");
  for (const char* p : {"etc/os-release", "lib/apk/db/installed", "var/lib/dpkg/status",
                        "usr/lib/python3/site-packages/a-1.dist-info/METADATA", "node_modules/a/package.json"})
    CHECK(r.any_required(p));
  CHECK_FALSE(r.any_required("etc/passwd"));
  CHECK_FALSE(r.any_required("usr/bin/busybox"));
  CHECK_FALSE(r.add(make_apk_analyzer()).ok());
}
