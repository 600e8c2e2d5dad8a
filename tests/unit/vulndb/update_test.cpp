// update_db against a loopback HTTP server (port 0) serving the real feed samples.
#include <catch2/catch.hpp>

#include <filesystem>

#include "scanner/vulndb/build.h"
#include "scanner/vulndb/vuln_db.h"
#include "feed_server.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::FeedServer;
using scangate::test::read_file;
using scangate::test::testdata;
namespace fs = std::filesystem;

namespace {

UpdateOptions options(const FeedServer& s, const std::string& out) {
  UpdateOptions o;
  o.output = out;
  o.sources.alpine_secdb = {s.url("/alpine/v3.14/main.json"), s.url("/alpine/v3.20/main.json")};
  o.sources.debian_tracker = {s.url("/debian/tracker/data/json")};
  o.sources.osv = {s.url("/osv/PyPI/all.zip")};
  o.sources.nvd = {s.url("/rest/json/cves/2.0")};
  o.nvd_api.results_per_page = 20;
  o.nvd_api.page_delay = std::chrono::milliseconds(0);
  o.fetch.retries = 0;
  o.fetch.connect_timeout = std::chrono::seconds(5);
  o.fetch.read_timeout = std::chrono::seconds(10);
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  return o;
}

}  // namespace

TEST_CASE("db update downloads every source (NVD paged) and swaps the DB in") {
  std::string dir = scangate::test::make_temp_dir("sg-update");
  FeedServer server(dir);
  auto opts = options(server, dir + "/db.sqlite");
  std::vector<std::string> progress;
  opts.progress = [&](std::string_view m) { progress.emplace_back(m); };
  auto info = update_db(opts);
  REQUIRE(info.ok());
  CHECK(server.nvd_requests() == 4);  // 64 records, 20 a page
  CHECK(info->vulnerabilities >= 64);
  CHECK(info->advisories_by_ecosystem.at("pypi") == 2);
  CHECK(info->advisories_by_ecosystem.count("debian") == 1);
  REQUIRE(info->sources.size() == 5);
  CHECK(info->sources[4].stats.vulnerabilities == 64);
  CHECK(info->sources[0].location == opts.sources.alpine_secdb[0]);

  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  auto zlib = db.value()->advisories("alpine", "3.14", "zlib");
  REQUIRE(zlib.ok());
  bool found = false;
  for (const auto& a : zlib.value())
    if (a.vuln_id == "CVE-2022-37434") {
      found = true;
      CHECK(a.severity == Severity::kCritical);
    }
  CHECK(found);
  // Downloads are cleaned up: only the DB is left.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);  // db + pypi.zip
  fs::remove_all(dir);
}

TEST_CASE("a failing source leaves the previous DB untouched") {
  std::string dir = scangate::test::make_temp_dir("sg-update");
  FeedServer server(dir);
  auto opts = options(server, dir + "/db.sqlite");
  auto first = update_db(opts);
  REQUIRE(first.ok());
  const std::string bytes = read_file(opts.output);

  SECTION("404") {
    opts.sources.osv.push_back(server.url("/osv/npm/all.zip"));
    auto r = update_db(opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kNotFound);
    CHECK(r.error().message.find(server.url("/osv/npm/all.zip")) != std::string::npos);
    CHECK(r.error().message.find("HTTP 404") != std::string::npos);
    CHECK(r.error().message.find("previous DB") != std::string::npos);
  }
  SECTION("a truncated feed names the URL and the byte") {
    opts.sources.alpine_secdb.push_back(server.url("/broken/main.json"));
    auto r = update_db(opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(server.url("/broken/main.json") + ": byte ") != std::string::npos);
  }
  SECTION("a mirror that does not page the NVD API") {
    opts.sources.nvd = {server.url("/static/nvd")};
    opts.nvd_api.results_per_page = 10;
    auto r = update_db(opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("does not page") != std::string::npos);
  }
  SECTION("nobody listening") {
    opts.sources.debian_tracker = {"http://127.0.0.1:1/tracker/data/json"};
    auto r = update_db(opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kNetwork);
  }
  CHECK(read_file(opts.output) == bytes);
  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  CHECK(db.value()->revision() == first->revision);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);  // db + pypi.zip
  fs::remove_all(dir);
}

// Issue 11's reproduction: `scangate db build --nvd http://127.0.0.1:P/... --nvd-api-key-file K`
// against a server that answers 302 to http://127.0.0.2:P2/... delivered the NVD apiKey header to
// 127.0.0.2. The key now stays on the origin it was given for.
TEST_CASE("db build --nvd: the apiKey does not follow a redirect to another origin") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-redirect");
  FeedServer first(dir, "127.0.0.1");
  FeedServer elsewhere(dir, "127.0.0.2");  // 127.0.0.2 is loopback too, and another origin
  first.redirect_to = elsewhere.url("/");
  BuildOptions o;
  o.output = dir + "/db.sqlite";
  o.nvd = {first.url("/redirect/rest/json/cves/2.0")};
  o.nvd_api.api_key = "nvd-secret-key-0123";
  o.nvd_api.results_per_page = 20;
  o.nvd_api.page_delay = std::chrono::milliseconds(0);
  o.fetch.retries = 0;
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  auto info = build_db(o);
  REQUIRE(info.ok());
  REQUIRE(info->sources.size() == 1);
  CHECK(info->sources[0].stats.vulnerabilities == 64);  // the redirect itself still works
  auto keys = elsewhere.nvd_api_keys();
  CHECK(keys.size() == 4);  // four pages, each redirected
  for (const auto& k : keys) CHECK(k == "<none>");
  fs::remove_all(dir);
}

TEST_CASE("db build --nvd: a redirect on the same origin keeps the apiKey") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-redirect");
  FeedServer server(dir);
  server.redirect_to = server.url("/");
  BuildOptions o;
  o.output = dir + "/db.sqlite";
  o.nvd = {server.url("/redirect/rest/json/cves/2.0")};
  o.nvd_api.api_key = "nvd-secret-key-0123";
  o.nvd_api.results_per_page = 20;
  o.nvd_api.page_delay = std::chrono::milliseconds(0);
  o.fetch.retries = 0;
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  auto info = build_db(o);
  REQUIRE(info.ok());
  auto keys = server.nvd_api_keys();
  CHECK(keys.size() == 4);
  for (const auto& k : keys) CHECK(k == "nvd-secret-key-0123");
  fs::remove_all(dir);
}
