#include <catch2/catch.hpp>

#include "scanner/analyze/analyzer.h"

using namespace scangate;

namespace {
const Analyzer& npm() {
  static const auto a = make_npm_analyzer();
  return *a;
}
Result<AnalysisResult> run(const std::string& json) {
  static std::string keep;
  keep = json;
  return npm().analyze({"app/node_modules/x/package.json", keep});
}
}  // namespace

TEST_CASE("npm required() wants package.json directly inside node_modules/<name>", "[npm]") {
  for (const char* p : {"app/node_modules/express/package.json", "node_modules/lodash/package.json",
                        "usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json",
                        "app/node_modules/a/node_modules/b/package.json"}) {
    CAPTURE(p);
    CHECK(npm().required(p));
  }
  for (const char* p : {"app/package.json", "package.json", "app/node_modules/package.json",
                        "app/node_modules/@scope/package.json", "app/node_modules/express/lib/package.json",
                        "app/node_modules/express/test/fixtures/package.json", "app/node_modules/.bin/package.json",
                        "app/node_modules/express/package.json.bak", "app/not_node_modules/x/package.json"}) {
    CAPTURE(p);
    CHECK_FALSE(npm().required(p));
  }
}

TEST_CASE("npm reads name and version and every licence form", "[npm]") {
  auto r = run(R"({"name":"express","version":"4.17.1","license":"MIT","dependencies":{"a":"1"}})");
  REQUIRE(r.ok());
  REQUIRE(r->packages.size() == 1);
  const auto& p = r->packages[0];
  CHECK(p.type == "npm");
  CHECK(p.name == "express");
  CHECK(p.version == "4.17.1");
  CHECK(p.licenses == std::vector<std::string>{"MIT"});
  CHECK(p.file_path == "app/node_modules/x/package.json");

  auto obj = run(R"({"name":"@scope/a","version":"1.0.0","license":{"type":"ISC","url":"https://x"}})");
  REQUIRE(obj.ok());
  CHECK(obj->packages.at(0).name == "@scope/a");
  CHECK(obj->packages.at(0).licenses == std::vector<std::string>{"ISC"});

  auto arr = run(R"({"name":"b","version":"0.1.0","licenses":[{"type":"MIT"},"Apache-2.0",{"url":"x"},7]})");
  REQUIRE(arr.ok());
  CHECK(arr->packages.at(0).licenses == std::vector<std::string>{"MIT", "Apache-2.0"});

  auto none = run(R"({"name":"c","version":"2.0.0","license":42})");
  REQUIRE(none.ok());
  CHECK(none->packages.at(0).licenses.empty());
}

TEST_CASE("npm skips package.json without name or version and rejects bad JSON", "[npm]") {
  for (const char* j : {R"({"version":"1.0.0"})", R"({"name":"a"})", R"({"name":"a","version":1})",
                        R"({"name":"","version":"1.0.0"})"}) {
    CAPTURE(j);
    auto r = run(j);
    REQUIRE(r.ok());
    CHECK(r->packages.empty());
    CHECK(r->warnings.size() == 1);
  }
  for (const char* j : {"", "{", R"({"name":"a",})", "[1,2]", "\"str\"", "\xff\xfe"}) {
    CAPTURE(j);
    auto r = run(j);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kFormat);
    CHECK(r.error().message.find("app/node_modules/x/package.json") != std::string::npos);
  }
  // Deep nesting is handled without recursion blowing the stack.
  std::string deep =
      "{\"name\":\"d\",\"version\":\"1\",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = run(deep);
  REQUIRE(r.ok());
  CHECK(r->packages.size() == 1);
}
