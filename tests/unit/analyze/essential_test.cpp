// Which files a scan must read whole (issue 12): the OS package databases and the OS release
// files are essential (unreadable or malformed = the scan fails); one language package's manifest
// is not (it is skipped with a warning). And the npm analyzer's bound on nesting.
#include <catch2/catch.hpp>

#include "scanner/analyze/analyzer.h"

using namespace scangate;

TEST_CASE("essential: OS package DBs and release files are, language manifests are not", "[analyzer][essential]") {
  const auto reg = AnalyzerRegistry::builtin();
  for (const char* p : {"lib/apk/db/installed", "var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6", "etc/os-release",
                        "usr/lib/os-release", "etc/alpine-release", "etc/debian_version"}) {
    CAPTURE(p);
    CHECK(reg.any_required(p));
    CHECK(reg.any_essential(p));
  }
  for (const char* p :
       {"usr/lib/python3.9/site-packages/pip-23.0.dist-info/METADATA",
        "usr/lib/python3.9/site-packages/x.egg-info/PKG-INFO", "app/node_modules/express/package.json"}) {
    CAPTURE(p);
    CHECK(reg.any_required(p));
    CHECK_FALSE(reg.any_essential(p));
  }
  CHECK_FALSE(reg.any_essential("etc/passwd"));
  CHECK(reg.find("apk")->essential());
  CHECK(reg.find("dpkg")->essential());
  CHECK(reg.find("os-release")->essential());
  CHECK_FALSE(reg.find("python")->essential());
  CHECK_FALSE(reg.find("npm")->essential());
}

TEST_CASE("npm: a package.json nested past 200,000 levels is a format error naming the file", "[npm]") {
  const auto npm = make_npm_analyzer();
  // Brackets inside strings do not count.
  const std::string in_strings = R"({"name":"s","version":"1","x":")" + std::string(300000, '[') + "\"}";
  auto s = npm->analyze({"app/node_modules/s/package.json", in_strings});
  REQUIRE(s.ok());
  CHECK(s->packages.size() == 1);

  const std::string at_limit =
      "{\"name\":\"d\",\"version\":\"1\",\"x\":" + std::string(199999, '[') + std::string(199999, ']') + "}";
  auto ok = npm->analyze({"app/node_modules/d/package.json", at_limit});
  REQUIRE(ok.ok());
  CHECK(ok->packages.size() == 1);

  const std::string over =
      "{\"name\":\"d\",\"version\":\"1\",\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto r = npm->analyze({"app/node_modules/d/package.json", over});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("app/node_modules/d/package.json") != std::string::npos);
  CHECK(r.error().message.find("200000") != std::string::npos);
}
