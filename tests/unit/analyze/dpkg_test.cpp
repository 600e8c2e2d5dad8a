#include <catch2/catch.hpp>

#include <algorithm>

#include "scanner/analyze/analyzer.h"
#include "tsv.h"

using namespace scangate;

namespace {

const Analyzer& dpkg() {
  static const auto a = make_dpkg_analyzer();
  return *a;
}

std::vector<std::vector<std::string>> rows_of(const AnalysisResult& r) {
  std::vector<std::vector<std::string>> got;
  for (const auto& p : r.packages) got.push_back({p.name, p.version, p.src_name, p.src_version, p.arch});
  std::sort(got.begin(), got.end());
  return got;
}

bool any_warning_has(const AnalysisResult& r, const std::string& s) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const auto& w) { return w.find(s) != std::string::npos; });
}

}  // namespace

TEST_CASE("dpkg required() wants the status file and status.d entries", "[dpkg]") {
  CHECK(dpkg().required("var/lib/dpkg/status"));
  CHECK(dpkg().required("var/lib/dpkg/status.d/libc6"));
  CHECK(dpkg().required("var/lib/dpkg/status.d/base"));
  CHECK_FALSE(dpkg().required("var/lib/dpkg/status.d/libc6.md5sums"));
  CHECK_FALSE(dpkg().required("var/lib/dpkg/status.d/"));
  CHECK_FALSE(dpkg().required("var/lib/dpkg/status.d/sub/x"));
  CHECK_FALSE(dpkg().required("var/lib/dpkg/status-old"));
  CHECK_FALSE(dpkg().required("var/lib/dpkg/available"));
  CHECK_FALSE(dpkg().required("usr/var/lib/dpkg/status"));
}

// Trivy's fixtures: columns name full_version epoch upstream revision src_name src_epoch
// src_version src_release arch. The source's full version is [src_epoch:]src_version[-src_release].
TEST_CASE("dpkg reproduces Trivy's expected package lists", "[dpkg][pkgdb]") {
  struct Case {
    const char* name;
    size_t rows;
    size_t warnings_min;
  };
  const Case cases[] = {
      {"trivy_dpkg_valid", 90, 0},
      {"trivy_dpkg_corrupsed", 4, 2},  // a stanza without Version, one without Status
      {"trivy_dpkg_digest", 2, 0},
      {"trivy_dpkg_third-party", 2, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto tsv = test::read_tsv(test::testdata(std::string("pkgdb/dpkg/") + c.name + ".expected.tsv"));
    REQUIRE(tsv.size() == c.rows);
    std::vector<std::vector<std::string>> expected;
    for (const auto& row : tsv) {
      REQUIRE(row.size() == 10);
      std::string src_full = (row[6] != "0" ? row[6] + ":" : "") + row[7] + (row[8].empty() ? "" : "-" + row[8]);
      expected.push_back({row[0], row[1], row[5], src_full, row[9]});
    }
    std::sort(expected.begin(), expected.end());
    const std::string content = test::read_file(test::testdata(std::string("pkgdb/dpkg/") + c.name + ".status"));
    auto r = dpkg().analyze({"var/lib/dpkg/status", content});
    REQUIRE(r.ok());
    CHECK(rows_of(*r) == expected);
    CHECK(r->warnings.size() >= c.warnings_min);
    for (const auto& p : r->packages) {
      CHECK(p.type == "deb");
      CHECK(p.file_path == "var/lib/dpkg/status");
    }
  }
}

// osv-scalibr's fixture: columns name version source_name source_version status arch; an
// empty source column means "same as the binary package".
TEST_CASE("dpkg reproduces osv-scalibr's bookworm list", "[dpkg][pkgdb]") {
  auto tsv = test::read_tsv(test::testdata("pkgdb/dpkg/scalibr_bookworm_valid.expected.tsv"));
  REQUIRE(tsv.size() == 7);
  std::vector<std::vector<std::string>> expected;
  for (const auto& row : tsv) {
    REQUIRE(row.size() == 6);
    CHECK(row[4] == "install ok installed");
    expected.push_back({row[0], row[1], row[2].empty() ? row[0] : row[2], row[3].empty() ? row[1] : row[3], row[5]});
  }
  std::sort(expected.begin(), expected.end());
  const std::string content = test::read_file(test::testdata("pkgdb/dpkg/scalibr_bookworm_valid.status"));
  auto r = dpkg().analyze({"var/lib/dpkg/status", content});
  REQUIRE(r.ok());
  CHECK(rows_of(*r) == expected);
  CHECK(r->warnings.empty());
}

TEST_CASE("dpkg corrupsed fixture: the skipped stanzas are named in warnings", "[dpkg][pkgdb]") {
  const std::string content = test::read_file(test::testdata("pkgdb/dpkg/trivy_dpkg_corrupsed.status"));
  auto r = dpkg().analyze({"var/lib/dpkg/status", content});
  REQUIRE(r.ok());
  CHECK(any_warning_has(*r, "brokenPackageWithNoVersionThatShouldGetThrownOut"));
  CHECK(any_warning_has(*r, "invalidpkg"));
}

TEST_CASE("dpkg status states: packages whose files are on disk are reported", "[dpkg]") {
  struct Case {
    const char* status;
    bool reported;
  };
  const Case cases[] = {
      {"install ok installed", true},        {"deinstall ok installed", true},
      {"hold ok installed", true},           {"install ok half-configured", true},
      {"install ok unpacked", true},         {"install ok half-installed", true},
      {"install ok triggers-pending", true}, {"deinstall ok config-files", false},
      {"purge ok not-installed", false},     {"install reinstreq not-installed", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    std::string st = std::string("Package: foo\nStatus: ") + c.status + "\nArchitecture: amd64\nVersion: 1.0-1\n";
    auto r = dpkg().analyze({"var/lib/dpkg/status", st});
    REQUIRE(r.ok());
    CHECK(r->packages.size() == (c.reported ? 1u : 0u));
  }
}

TEST_CASE("dpkg status.d entries (distroless) carry no Status and are installed", "[dpkg]") {
  const std::string libc6 =
      "Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\nSource: glibc\n"
      "Description: GNU C Library: Shared libraries\n Contains the standard libraries.\n";
  auto r = dpkg().analyze({"var/lib/dpkg/status.d/libc6", libc6});
  REQUIRE(r.ok());
  REQUIRE(r->packages.size() == 1);
  const auto& p = r->packages[0];
  CHECK(p.name == "libc6");
  CHECK(p.version == "2.36-9+deb12u7");
  CHECK(p.src_name == "glibc");
  CHECK(p.src_version == "2.36-9+deb12u7");
  CHECK(p.file_path == "var/lib/dpkg/status.d/libc6");

  // The same stanza in the main status file, without Status:, is not trusted as installed.
  auto main = dpkg().analyze({"var/lib/dpkg/status", libc6});
  REQUIRE(main.ok());
  CHECK(main->packages.empty());
  CHECK(any_warning_has(*main, "no Status"));
}

TEST_CASE("dpkg: Source forms and malformed input", "[dpkg]") {
  auto r = dpkg().analyze({"var/lib/dpkg/status",
                           "Package: util-linux-extra\nStatus: install ok installed\nSource: util-linux (2.38.1-5)\n"
                           "Version: 2.38.1-5+b1\nArchitecture: amd64\n\n"
                           "Package: attr\nstatus: install ok installed\nVERSION: 1:2.5.1-4\nArchitecture: amd64\n"});
  REQUIRE(r.ok());
  REQUIRE(r->packages.size() == 2);
  CHECK(r->packages[0].src_name == "util-linux");
  CHECK(r->packages[0].src_version == "2.38.1-5");
  CHECK(r->packages[1].version == "1:2.5.1-4");  // the epoch is kept; field names are case-insensitive

  auto bad = dpkg().analyze({"var/lib/dpkg/status", "Package: a\nStatus: install ok installed\ngarbage line\n"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::kFormat);
  CHECK(bad.error().message.find("var/lib/dpkg/status:3") != std::string::npos);

  auto cont = dpkg().analyze({"var/lib/dpkg/status", " leading continuation\n"});
  REQUIRE_FALSE(cont.ok());
  CHECK(cont.error().message.find("var/lib/dpkg/status:1") != std::string::npos);

  std::string binary("\x00\x01\x02\xff\xfe", 5);
  auto bin = dpkg().analyze({"var/lib/dpkg/status", binary});
  REQUIRE_FALSE(bin.ok());
}
