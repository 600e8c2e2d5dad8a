// `scangate db update` and NVD: the yearly JSON 2.0 data feeds by default, `--nvd-api` pages the
// CVE API 2.0, `--nvd URL.json.gz` reads one feed. The loopback FeedServer of tests/unit/vulndb
// serves the real scenario records. The default feed location is replaced through the CLI's
// undocumented seams SCANGATE_NVD_FEEDS_URL (the folder of nvdcve-2.0-*.json.gz) and
// SCANGATE_NVD_FEEDS_YEARS ("2025-2026"): two yearly files and modified instead of 2002..now.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "scanner/cli/commands.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"
#include "unit/vulndb/feed_server.h"

using namespace scangate;
using nlohmann::json;
using scangate::test::FeedServer;
using scangate::test::read_file;
using scangate::test::testdata;
namespace stdfs = std::filesystem;

namespace {

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran run_cli(const std::vector<std::string>& argv) {
  std::ostringstream out, err;
  Ran r;
  r.code = cli::run(argv, cli::Io{out, err});
  r.out = out.str();
  r.err = err.str();
  return r;
}

json records() { return json::parse(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")))["vulnerabilities"]; }

// 2025: the first 32 records, 2026: the rest, modified: none (an empty feed, as NVD's can be).
std::map<std::string, std::string> feed_files(bool truncate_2026 = false) {
  json all = records(), y2025 = json::array(), y2026 = json::array();
  for (std::size_t i = 0; i < all.size(); ++i) (i < 32 ? y2025 : y2026).push_back(all[i]);
  std::map<std::string, std::string> files;
  auto add = [&](const std::string& name, const std::string& text) {
    std::string gz = test::gzip(text);
    files["/feeds/nvdcve-2.0-" + name + ".json.gz"] = gz;
    files["/feeds/nvdcve-2.0-" + name + ".meta"] = test::meta_for(text, gz);
  };
  add("2025", test::feed_text(y2025));
  add("2026", test::feed_text(y2026));
  add("modified", test::feed_text(json::array()));
  if (truncate_2026) {
    std::string& gz = files["/feeds/nvdcve-2.0-2026.json.gz"];
    gz.resize(gz.size() / 2);
  }
  return files;
}

std::string expected_severity(const std::string& id) {
  for (const auto& r : records())
    if (r["cve"]["id"] == id) return r["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseSeverity"];
  return "";
}

std::string severity_in(const std::string& db_path, const std::string& id) {
  auto db = vulndb::VulnDb::open(db_path);
  REQUIRE(db.ok());
  auto d = db.value()->detail(id);
  REQUIRE(d.ok());
  REQUIRE(d.value().has_value());
  return vulndb::to_string(d.value()->severity);
}

std::vector<std::string> base_args(const FeedServer& s, const std::string& db) {
  return {"db",
          "update",
          "--db",
          db,
          "--alpine-secdb",
          s.url("/alpine/v3.14/main.json"),
          "--debian-tracker",
          s.url("/debian/tracker/data/json"),
          "--osv",
          s.url("/osv/PyPI/all.zip")};
}

}  // namespace

TEST_CASE("scangate db update: NVD from the yearly feeds by default") {
  std::string dir = test::make_temp_dir("sg-cli-nvd-feeds");
  FeedServer server(dir, "127.0.0.1", feed_files());
  ::setenv("SCANGATE_NVD_FEEDS_URL", server.url("/feeds/").c_str(), 1);
  ::setenv("SCANGATE_NVD_FEEDS_YEARS", "2025-2026", 1);
  auto r = run_cli(base_args(server, dir + "/db.sqlite"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(server.nvd_requests() == 0);
  CHECK(server.requests("/feeds/nvdcve-2.0-2025.json.gz") == 1);
  CHECK(server.requests("/feeds/nvdcve-2.0-modified.meta") == 1);
  CHECK(r.err.find("NVD feed 2/3: downloading " + server.url("/feeds/nvdcve-2.0-2026.json.gz")) != std::string::npos);
  CHECK(severity_in(dir + "/db.sqlite", "CVE-2022-37434") == expected_severity("CVE-2022-37434"));
  CHECK(severity_in(dir + "/db.sqlite", "CVE-2026-34743") == expected_severity("CVE-2026-34743"));

  SECTION("a truncated feed fails the update, names the URL and keeps the DB") {
    const std::string bytes = read_file(dir + "/db.sqlite");
    FeedServer bad(dir, "127.0.0.1", feed_files(/*truncate_2026=*/true));
    ::setenv("SCANGATE_NVD_FEEDS_URL", bad.url("/feeds/").c_str(), 1);
    auto args = base_args(bad, dir + "/db.sqlite");
    args.push_back("--quiet");
    auto f = run_cli(args);
    CHECK(f.code != 0);
    CHECK(f.err.find(bad.url("/feeds/nvdcve-2.0-2026.json.gz")) != std::string::npos);
    CHECK(f.err.find("truncated gzip") != std::string::npos);
    CHECK(f.err.find("previous DB") != std::string::npos);
    CHECK(read_file(dir + "/db.sqlite") == bytes);
  }
  ::unsetenv("SCANGATE_NVD_FEEDS_URL");
  ::unsetenv("SCANGATE_NVD_FEEDS_YEARS");
  stdfs::remove_all(dir);
}

TEST_CASE("scangate db update --nvd-api pages the API and --nvd takes a .json.gz URL") {
  std::string dir = test::make_temp_dir("sg-cli-nvd-feeds");
  FeedServer server(dir, "127.0.0.1", feed_files());
  auto args = base_args(server, dir + "/db.sqlite");
  SECTION("--nvd-api with --nvd pointing at the (loopback) API") {
    args.insert(args.end(), {"--nvd-api", "--nvd", server.url("/rest/json/cves/2.0"), "--quiet"});
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(server.nvd_requests() == 1);  // 64 records, 2000 a page
    CHECK(server.requests("/feeds/nvdcve-2.0-2025.json.gz") == 0);
  }
  SECTION("--nvd URL.json.gz") {
    args.insert(args.end(), {"--nvd", server.url("/feeds/nvdcve-2.0-2026.json.gz"), "--quiet"});
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(server.nvd_requests() == 0);
    CHECK(server.requests("/feeds/nvdcve-2.0-2026.json.gz") == 1);
    CHECK(server.requests("/feeds/nvdcve-2.0-2026.meta") == 1);
  }
  CHECK(severity_in(dir + "/db.sqlite", "CVE-2026-34743") == expected_severity("CVE-2026-34743"));
  stdfs::remove_all(dir);
}

TEST_CASE("scangate db --help names --nvd-api") {
  auto r = run_cli({"db", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("--nvd-api") != std::string::npos);
  CHECK(r.out.find("yearly JSON 2.0 data feeds") != std::string::npos);
}
