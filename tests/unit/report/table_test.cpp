// write_table: totals per severity against the seed scenario's independently computed
// counts, row order, alignment, truncation and terminal-safe text.
#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "report_fixtures.h"
#include "scanner/report/report.h"

using namespace scangate;
using nlohmann::json;
using scangate::test::load_json;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

std::size_t display_width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

bool is_table_line(const std::string& l) {
  for (const char* p : {"┌", "│", "├", "└"}) {
    if (l.rfind(p, 0) == 0) return true;
  }
  return false;
}

// Index of the first line containing `needle`, or -1.
long find_line(const std::vector<std::string>& lines, const std::string& needle) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string::npos) return static_cast<long>(i);
  }
  return -1;
}

Finding make_finding(const std::string& pkg, const std::string& id, Severity s, const std::string& title = "") {
  Finding f;
  f.vuln_id = id;
  f.pkg = {"apk", pkg, "1.0-r0", pkg, "1.0-r0", "x86_64", {}, "lib/apk/db/installed", {}};
  f.severity = s;
  f.status = "fixed";
  f.fixed_version = "1.0-r1";
  f.title = title;
  return f;
}

}  // namespace

TEST_CASE("table: totals per severity equal the scenario's expected counts", "[table]") {
  auto summary = scangate::test::scenario_summary("findings(pkg,vuln)");
  struct Case {
    std::string image, alpine;
  };
  auto c = GENERATE(Case{"python-3.6.15-alpine3.14", "3.14.2"}, Case{"python-3.12.4-alpine3.20", "3.20.1"});
  INFO(c.image);
  ReportInput in = scangate::test::scenario_input(c.image, c.alpine);
  const auto& n = summary.at(c.image);  // total, CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN
  std::string expected = "Total: " + std::to_string(n[0]) + " (UNKNOWN: " + std::to_string(n[5]) +
                         ", LOW: " + std::to_string(n[4]) + ", MEDIUM: " + std::to_string(n[3]) +
                         ", HIGH: " + std::to_string(n[2]) + ", CRITICAL: " + std::to_string(n[1]) + ")";
  std::string out = write_table(in);
  auto lines = lines_of(out);
  REQUIRE(lines.size() > 3);
  CHECK(lines[0] == in.targets[0].target);
  CHECK(lines[1] == std::string(display_width(lines[0]), '='));
  CHECK(lines[2] == expected);
  // One row per finding holds a vulnerability id: count the ids' appearances.
  for (const auto& r : scangate::test::scenario_rows(c.image)) {
    INFO(r.pkg << " " << r.vuln_id);
    CHECK(out.find("│ " + r.vuln_id + " ") != std::string::npos);
  }
}

TEST_CASE("table: a clean target prints its heading and a zero total, without a table", "[table]") {
  auto summary = scangate::test::scenario_summary("findings(pkg,vuln)");
  REQUIRE(summary.at("alpine-3.15.11")[0] == 0);  // the remediated control of the scenario
  ReportInput in;
  in.meta.reference = "alpine:3.15.11";
  in.targets.push_back({"alpine:3.15.11 (alpine 3.15.11)", "os-pkgs", "alpine", {}, {}});
  CHECK(write_table(in) ==
        "alpine:3.15.11 (alpine 3.15.11)\n===============================\n"
        "Total: 0 (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0)\n\n");
}

TEST_CASE("table: rows sorted by package, then severity (highest first) - columns aligned", "[table]") {
  ReportInput in;
  ScanTarget t{"img (alpine 3.20.3)", "os-pkgs", "alpine", {}, {}};
  t.findings = {make_finding("zlib", "CVE-2022-37434", Severity::kCritical),
                make_finding("busybox", "CVE-1", Severity::kLow), make_finding("busybox", "CVE-2", Severity::kCritical),
                make_finding("busybox", "CVE-3", Severity::kMedium)};
  in.targets.push_back(t);
  auto lines = lines_of(write_table(in));
  long c2 = find_line(lines, "CVE-2 "), c3 = find_line(lines, "CVE-3 "), c1 = find_line(lines, "CVE-1 ");
  long z = find_line(lines, "CVE-2022-37434");
  REQUIRE(c2 >= 0);
  CHECK(c2 < c3);
  CHECK(c3 < c1);
  CHECK(c1 < z);
  CHECK(lines[static_cast<std::size_t>(c2)].find("busybox") != std::string::npos);
  CHECK(lines[static_cast<std::size_t>(c3)].find("busybox") == std::string::npos);  // merged Library cell
  CHECK(lines[static_cast<std::size_t>(z)].find("zlib") != std::string::npos);
  CHECK(find_line(lines, "Total: 4 (UNKNOWN: 0, LOW: 1, MEDIUM: 1, HIGH: 0, CRITICAL: 2)") == 2);
  // Header row names the columns; the fix is in the row.
  long h = find_line(lines, "Library");
  REQUIRE(h >= 0);
  for (const char* col : {"Vulnerability", "Severity", "Status", "Installed Version", "Fixed Version", "Title"}) {
    CHECK(lines[static_cast<std::size_t>(h)].find(col) != std::string::npos);
  }
  CHECK(lines[static_cast<std::size_t>(z)].find("1.0-r1") != std::string::npos);
  // Every line of the table has the same display width.
  std::size_t width = 0;
  for (const auto& l : lines) {
    if (!is_table_line(l)) continue;
    if (width == 0) width = display_width(l);
    CHECK(display_width(l) == width);
  }
  CHECK(width > 0);
}

TEST_CASE("table: long titles are cut, control characters never reach the terminal", "[table]") {
  json golden = load_json("reports/trivy_alpine-310.json.golden");
  ReportInput in = scangate::test::input_from_golden(golden);
  in.targets[0].findings[0].title = std::string(200, 'x');
  in.targets[0].findings[1].title =
      "evil \x1b[2J\x1b[31mred\r\nnext \xC2\x9B"
      "6n";
  std::string out = write_table(in);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\r') == std::string::npos);
  CHECK(out.find("\xC2\x9B") == std::string::npos);
  CHECK(out.find(std::string(200, 'x')) == std::string::npos);
  CHECK(out.find(std::string(47, 'x') + "...") != std::string::npos);
  // Golden titles that fit stay whole.
  CHECK(out.find(golden["Results"][0]["Vulnerabilities"][2]["Title"].get<std::string>()) != std::string::npos);
  std::size_t width = 0;
  for (const auto& l : lines_of(out)) {
    if (!is_table_line(l)) continue;
    if (width == 0) width = display_width(l);
    CHECK(display_width(l) == width);
  }
}

TEST_CASE("table: language targets are named with their type - secrets per file with masked match", "[table]") {
  ReportInput in;
  Finding f = make_finding("pip", "GHSA-mq26-g339-26xf", Severity::kMedium, "pip: mercurial configuration injection");
  f.pkg.type = "pypi";
  in.targets.push_back({"Python", "lang-pkgs", "python-pkg", {f.pkg}, {f}});
  json golden = load_json("reports/trivy_secrets.json.golden");
  in.inventory.secrets = scangate::test::input_from_golden(golden).inventory.secrets;
  auto lines = lines_of(write_table(in));
  CHECK(find_line(lines, "Python (python-pkg)") == 0);
  long s = find_line(lines, "deploy.sh (secrets)");
  REQUIRE(s > 0);
  CHECK(lines[static_cast<std::size_t>(s) + 2] == "Total: 2 (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 1)");
  long aws = find_line(lines, "aws-access-key-id");
  REQUIRE(aws > s);
  CHECK(lines[static_cast<std::size_t>(aws)].find("export AWS_ACCESS_KEY_ID=********************") !=
        std::string::npos);
  // Context lines of the file are not part of the table (only the masked match is).
  CHECK(find_line(lines, "ghp_0123456789") == -1);
}

TEST_CASE("table: fixes to apply: per package the highest fixed version, and what has no fix", "[table]") {
  const std::string image = "python-3.6.15-alpine3.14";
  ReportInput in = scangate::test::scenario_input(image, "3.14.3");
  int expat = 0;
  for (const auto& r : scangate::test::scenario_rows(image)) expat += r.pkg == "expat" ? 1 : 0;
  REQUIRE(expat > 0);
  // expat's fixes in the scenario are 2.4.3-r0 ... 2.5.0-r0: one upgrade to 2.5.0-r0 fixes them all.
  std::string out = write_table(in);
  CHECK(out.find("Fixes to apply:\n") != std::string::npos);
  CHECK(out.find("  expat 2.4.1-r0 -> 2.5.0-r0 (fixes " + std::to_string(expat) + ")\n") != std::string::npos);
  CHECK(out.find("no fix available") == std::string::npos);

  // Debian: 1:1.2 > 1.9 by epoch; a finding without a fix is named as such.
  ReportInput deb;
  Finding a = make_finding("bash", "CVE-A", Severity::kHigh);
  a.pkg.type = "deb";
  a.pkg.version = "0.9-1";
  a.fixed_version = "1.9-1";
  Finding b = a;
  b.vuln_id = "CVE-B";
  b.fixed_version = "1:1.2-1";
  Finding c = a;
  c.vuln_id = "CVE-C";
  c.fixed_version.clear();
  deb.targets.push_back({"img (debian 12)", "os-pkgs", "debian", {}, {a, b, c}});
  out = write_table(deb);
  CHECK(out.find("  bash 0.9-1 -> 1:1.2-1 (fixes 2)\n") != std::string::npos);
  CHECK(out.find("  no fix available yet: bash (1)\n") != std::string::npos);
}
