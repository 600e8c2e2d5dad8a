#include <catch2/catch.hpp>

#include <algorithm>

#include "scanner/analyze/analyzer.h"
#include "tsv.h"

using namespace scangate;

namespace {

const Analyzer& apk() {
  static const auto a = make_apk_analyzer();
  return *a;
}

Result<AnalysisResult> parse_fixture(const std::string& name) {
  static std::string content;  // AnalysisInput holds a view
  content = test::read_file(test::testdata("pkgdb/apk/" + name));
  return apk().analyze({"lib/apk/db/installed", content});
}

}  // namespace

TEST_CASE("apk required() wants only the installed database", "[apk]") {
  CHECK(apk().required("lib/apk/db/installed"));
  CHECK_FALSE(apk().required("lib/apk/db/installed.bak"));
  CHECK_FALSE(apk().required("usr/lib/apk/db/installed"));
  CHECK_FALSE(apk().required("lib/apk/db/triggers"));
  CHECK(apk().type() == "apk");
}

TEST_CASE("apk parses osv-scalibr's alpine 3.18 installed file", "[apk][pkgdb]") {
  // columns: name version origin(src_name) arch license
  auto expected = test::read_tsv(test::testdata("pkgdb/apk/scalibr_alpine318_installed.expected.tsv"));
  REQUIRE(expected.size() == 15);
  auto r = parse_fixture("scalibr_alpine318_installed");
  REQUIRE(r.ok());
  std::vector<std::vector<std::string>> got;
  for (const auto& p : r->packages) {
    CHECK(p.type == "apk");
    CHECK(p.file_path == "lib/apk/db/installed");
    REQUIRE(p.licenses.size() == 1);
    got.push_back({p.name, p.version, p.src_name, p.arch, p.licenses[0]});
  }
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  CHECK(got == expected);
  CHECK(r->warnings.empty());
}

TEST_CASE("apk parses Trivy's installed file and skips the record without a version", "[apk][pkgdb]") {
  // columns: name version src_name src_version
  auto expected = test::read_tsv(test::testdata("pkgdb/apk/trivy_apk_installed.expected.tsv"));
  REQUIRE(expected.size() == 15);
  auto r = parse_fixture("trivy_apk_installed");
  REQUIRE(r.ok());
  std::vector<std::vector<std::string>> got;
  for (const auto& p : r->packages) got.push_back({p.name, p.version, p.src_name, p.src_version});
  // The fixture's order is the database's order.
  CHECK(got == expected);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("invalidPackageWithoutAVersion") != std::string::npos);
  CHECK(r->warnings[0].find("lib/apk/db/installed:23") != std::string::npos);
}

TEST_CASE("apk: a malformed line is a format error naming the file and line", "[apk]") {
  const std::string db = "P:musl\nV:1.2.5-r0\n\nthis is not an apk line\n";
  auto r = apk().analyze({"lib/apk/db/installed", db});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("lib/apk/db/installed:4") != std::string::npos);

  auto empty = apk().analyze({"lib/apk/db/installed", ""});
  REQUIRE(empty.ok());
  CHECK(empty->packages.empty());

  // CRLF line ends and a record without a trailing blank line.
  auto crlf = apk().analyze({"lib/apk/db/installed", "P:zlib\r\nV:1.3.1-r1\r\nA:x86_64\r\no:zlib-src\r\n"});
  REQUIRE(crlf.ok());
  REQUIRE(crlf->packages.size() == 1);
  CHECK(crlf->packages[0].version == "1.3.1-r1");
  CHECK(crlf->packages[0].src_name == "zlib-src");
  CHECK(crlf->packages[0].licenses.empty());
}
