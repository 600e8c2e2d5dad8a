// `db update` from NVD's yearly JSON 2.0 data feeds (nvdcve-2.0-<YEAR>.json.gz + -modified, each
// beside its .meta), served gzip'd by the loopback FeedServer. The feeds are cut from the 64 real
// records of tests/data/scenario/nvd/nvdcve-2.0-scenario.json; the seam that keeps this to a few
// files is UpdateSources::nvd_feeds (base URL and years; the CLI's is SCANGATE_NVD_FEEDS_URL and
// SCANGATE_NVD_FEEDS_YEARS, see tests/unit/cli/db_update_feeds_test.cpp).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "feed_server.h"
#include "scanner/vulndb/build.h"
#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using nlohmann::json;
using scangate::test::feed_text;
using scangate::test::FeedServer;
using scangate::test::gzip;
using scangate::test::meta_for;
using scangate::test::read_file;
using scangate::test::testdata;
namespace fs = std::filesystem;

namespace {

json scenario_records() {
  return json::parse(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")))["vulnerabilities"];
}

json record_of(const json& records, const std::string& id) {
  for (const auto& r : records)
    if (r["cve"]["id"] == id) return r;
  FAIL("no record " << id);
  return {};
}

// The scenario split as the feeds would hold it: two "yearly" files and a "modified" one with
//  - CVE-2022-37434 (CRITICAL 9.8 in its yearly file) re-scored LOW 3.1 with a later lastModified;
//  - CVE-2023-42364 (MEDIUM) re-scored CRITICAL but with an *earlier* lastModified: the yearly wins.
struct Feeds {
  json records = scenario_records();
  std::map<std::string, std::string> files;  // server path -> body
  std::map<std::string, std::string> texts;  // feed name -> uncompressed JSON

  Feeds() {
    json y2025 = json::array(), y2026 = json::array();
    for (std::size_t i = 0; i < records.size(); ++i) (i < 32 ? y2025 : y2026).push_back(records[i]);
    json newer = record_of(records, "CVE-2022-37434");
    newer["cve"]["lastModified"] = "2026-12-01T10:00:00.000";
    auto& m = newer["cve"]["metrics"]["cvssMetricV31"][0];
    m["cvssData"]["baseScore"] = 3.1;
    m["cvssData"]["baseSeverity"] = "LOW";
    m["cvssData"]["vectorString"] = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N";
    json older = record_of(records, "CVE-2023-42364");
    older["cve"]["lastModified"] = "2023-01-01T00:00:00.000";
    older["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseSeverity"] = "CRITICAL";
    older["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 9.9;
    add("2025", feed_text(y2025));
    add("2026", feed_text(y2026));
    add("modified", feed_text(json::array({newer, older})));
  }
  void add(const std::string& name, const std::string& text, bool with_meta = true) {
    std::string gz = gzip(text);
    texts[name] = text;
    files["/feeds/nvdcve-2.0-" + name + ".json.gz"] = gz;
    if (with_meta)
      files["/feeds/nvdcve-2.0-" + name + ".meta"] = meta_for(text, gz);
    else
      files.erase("/feeds/nvdcve-2.0-" + name + ".meta");
  }
};

UpdateOptions feed_options(const FeedServer& s, const std::string& out) {
  UpdateOptions o;
  o.output = out;
  o.sources.alpine_secdb = {s.url("/alpine/v3.14/main.json")};
  o.sources.debian_tracker = {s.url("/debian/tracker/data/json")};
  o.sources.osv = {s.url("/osv/PyPI/all.zip")};
  // sources.nvd stays the default: NVD comes from the feeds.
  o.sources.nvd_feeds.base_url = s.url("/feeds/");
  o.sources.nvd_feeds.first_year = 2025;  // last_year 0: the clock's year, 2026
  o.fetch.retries = 0;
  o.fetch.connect_timeout = std::chrono::seconds(5);
  o.fetch.read_timeout = std::chrono::seconds(10);
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };  // 2026-01-01T00:00:00Z
  return o;
}

std::string severity_of(const VulnDb& db, const std::string& id) {
  auto d = db.detail(id);
  REQUIRE(d.ok());
  REQUIRE(d.value().has_value());
  return to_string(d.value()->severity);
}

std::size_t files_in(const std::string& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("nvd feeds: the URLs run from 2002 to the current year, then modified") {
  NvdFeedOptions o;
  auto urls = nvd_feed_urls(o, 2026);
  REQUIRE(urls.size() == 26);  // 2002..2026 and modified
  CHECK(urls.front() == "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-2002.json.gz");
  CHECK(urls[24] == "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-2026.json.gz");
  CHECK(urls.back() == "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-modified.json.gz");
  o.recent = true;
  o.base_url = "http://mirror/nvd";
  o.first_year = 2024;
  o.last_year = 2024;
  CHECK(nvd_feed_urls(o, 2030) == std::vector<std::string>{"http://mirror/nvd/nvdcve-2.0-2024.json.gz",
                                                           "http://mirror/nvd/nvdcve-2.0-modified.json.gz",
                                                           "http://mirror/nvd/nvdcve-2.0-recent.json.gz"});
  CHECK(nvd_meta_name_for("https://x/nvdcve-2.0-2024.json.gz") == "https://x/nvdcve-2.0-2024.meta");
  CHECK(nvd_meta_name_for("https://x/page.json") == "");
}

TEST_CASE("nvd feeds: lastModified stamps of both NVD spellings order by time") {
  CHECK(compare_nvd_timestamps("2023-08-04T18:48Z", "2023-08-04T18:48:00.000") == 0);
  CHECK(compare_nvd_timestamps("2023-08-04T18:48Z", "2023-08-04T18:48:00.001") < 0);
  CHECK(compare_nvd_timestamps("2023-11-30T05:07:10.827", "2023-11-30T05:07:10.83") < 0);
  CHECK(compare_nvd_timestamps("2024-01-01T00:00:00", "2023-12-31T23:59:59.999") > 0);
  CHECK(compare_nvd_timestamps("2026-12-01T10:00:00.000", "2022-07-19T00:56Z") > 0);
}

TEST_CASE("nvd feeds: a .meta file is read as NVD writes it") {
  auto m = parse_nvd_feed_meta(
      "lastModifiedDate:2025-06-01T03:00:02-04:00\r\nsize:123456\r\nzipSize:1000\r\ngzSize:999\r\nsha256:"
      "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\r\n",
      "x.meta");
  REQUIRE(m.ok());
  CHECK(m->last_modified == "2025-06-01T03:00:02-04:00");
  CHECK(m->size == 123456u);
  CHECK(m->sha256 == "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  CHECK_FALSE(parse_nvd_feed_meta("<html>not found</html>", "x.meta").ok());
  CHECK_FALSE(parse_nvd_feed_meta("sha256:1234\r\n", "x.meta").ok());
}

TEST_CASE("db update builds NVD from the yearly feeds and modified, the later lastModified winning") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-feeds");
  Feeds feeds;
  FeedServer server(dir, "127.0.0.1", feeds.files);
  auto opts = feed_options(server, dir + "/db.sqlite");
  std::vector<std::string> progress;
  opts.progress = [&](std::string_view m) { progress.emplace_back(m); };
  auto info = update_db(opts);
  REQUIRE(info.ok());
  CHECK(server.nvd_requests() == 0);  // the API is not paged
  for (const char* name : {"2025", "2026", "modified"}) {
    CHECK(server.requests(std::string("/feeds/nvdcve-2.0-") + name + ".json.gz") == 1);
    CHECK(server.requests(std::string("/feeds/nvdcve-2.0-") + name + ".meta") == 1);
  }
  REQUIRE(info->sources.size() == 4);
  CHECK(info->sources[3].kind == "nvd");
  CHECK(info->sources[3].stats.vulnerabilities == 64);  // 64 CVEs; of the two in both files one record each
  CHECK(info->sources[3].stats.files == 3);
  auto said = [&](const std::string& s) {
    return std::any_of(progress.begin(), progress.end(), [&](const std::string& p) { return p.find(s) != p.npos; });
  };
  CHECK(said("NVD feed 1/3: downloading " + server.url("/feeds/nvdcve-2.0-2025.json.gz")));
  CHECK(said("NVD feed 3/3: downloading " + server.url("/feeds/nvdcve-2.0-modified.json.gz")));
  CHECK(said("32 records (size and sha256 match its .meta)"));

  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  // modified's record is newer: its re-scoring wins.
  CHECK(severity_of(*db.value(), "CVE-2022-37434") == "LOW");
  // modified's record is older than the yearly one: the yearly record stays.
  CHECK(severity_of(*db.value(), "CVE-2023-42364") == "MEDIUM");
  // Every other CVE with one CVSS v3.1 metric has that metric's baseSeverity, read off the record.
  int checked = 0;
  for (const auto& r : feeds.records) {
    std::string id = r["cve"]["id"];
    if (id == "CVE-2022-37434" || id == "CVE-2023-42364") continue;
    const json& metrics = r["cve"].value("metrics", json::object());
    if (!metrics.contains("cvssMetricV31") || metrics["cvssMetricV31"].size() != 1) continue;
    INFO(id);
    CHECK(severity_of(*db.value(), id) == metrics["cvssMetricV31"][0]["cvssData"]["baseSeverity"].get<std::string>());
    ++checked;
  }
  CHECK(checked >= 50);
  CHECK(files_in(dir) == 2);  // db + pypi.zip: the downloads are gone
  fs::remove_all(dir);
}

TEST_CASE("db update: a feed without a .meta is imported unchecked") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-feeds");
  Feeds feeds;
  feeds.files.erase("/feeds/nvdcve-2.0-2026.meta");
  FeedServer server(dir, "127.0.0.1", feeds.files);
  auto opts = feed_options(server, dir + "/db.sqlite");
  auto info = update_db(opts);
  REQUIRE(info.ok());
  CHECK(info->sources[3].stats.vulnerabilities == 64);
  fs::remove_all(dir);
}

TEST_CASE("db update: a bad NVD feed fails the update and leaves the previous DB untouched") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-feeds");
  Feeds feeds;
  const std::string good_2026 = feeds.texts["2026"];
  std::string expect_url_part;
  std::string expect_message;
  scangate::ErrorKind expect_kind = scangate::ErrorKind::kFormat;
  std::uint64_t cap = kMaxGunzipBytes;
  SECTION("a gzip bomb: past the uncompressed cap") {
    // 8 MiB of zeros gzip to a few KiB; the cap (2 GiB by default) is lowered to 1 MiB here.
    feeds.add("2026", std::string(8u << 20, '0'), /*with_meta=*/false);
    cap = 1u << 20;
    expect_url_part = "/feeds/nvdcve-2.0-2026.json.gz";
    expect_message = "expands past 1 MiB uncompressed";
    expect_kind = scangate::ErrorKind::kLimit;
  }
  SECTION("a truncated gzip") {
    std::string gz = gzip(good_2026);
    feeds.files["/feeds/nvdcve-2.0-2026.json.gz"] = gz.substr(0, gz.size() / 2);
    expect_url_part = "/feeds/nvdcve-2.0-2026.json.gz";
    expect_message = "truncated gzip";
  }
  SECTION("not gzip at all") {
    feeds.files["/feeds/nvdcve-2.0-2026.json.gz"] = good_2026;
    expect_url_part = "/feeds/nvdcve-2.0-2026.json.gz";
    expect_message = "not a gzip file";
  }
  SECTION("bad JSON inside a good gzip") {
    feeds.add("2026", good_2026.substr(0, good_2026.size() - 100));
    expect_url_part = "/feeds/nvdcve-2.0-2026.json.gz";
    expect_message = "truncated file?";
  }
  SECTION("a download that does not match its .meta") {
    std::string other = feeds.texts["2025"];
    feeds.files["/feeds/nvdcve-2.0-2026.meta"] = meta_for(other, gzip(other));
    expect_url_part = "/feeds/nvdcve-2.0-2026.json.gz";
    expect_message = "its .meta says";
  }
  SECTION("a year missing upstream") {
    feeds.files.erase("/feeds/nvdcve-2.0-2025.json.gz");
    expect_url_part = "/feeds/nvdcve-2.0-2025.json.gz";
    expect_message = "HTTP 404";
    expect_kind = scangate::ErrorKind::kNotFound;
  }
  // The previous DB, from the good feeds.
  std::string out = dir + "/db.sqlite";
  std::string first_revision;
  {
    Feeds good;
    FeedServer server(dir, "127.0.0.1", good.files);
    auto first = update_db(feed_options(server, out));
    REQUIRE(first.ok());
    first_revision = first->revision;
  }
  const std::string bytes = read_file(out);
  FeedServer server(dir, "127.0.0.1", feeds.files);
  auto opts = feed_options(server, out);
  opts.max_uncompressed = cap;
  auto r = update_db(opts);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == expect_kind);
  CHECK(r.error().message.find(server.url(expect_url_part)) != std::string::npos);
  CHECK(r.error().message.find(expect_message) != std::string::npos);
  CHECK(r.error().message.find("previous DB") != std::string::npos);
  CHECK(read_file(out) == bytes);
  auto db = VulnDb::open(out);
  REQUIRE(db.ok());
  CHECK(db.value()->revision() == first_revision);
  CHECK(files_in(dir) == 2);  // db + pypi.zip
  fs::remove_all(dir);
}

TEST_CASE("db build --nvd takes a .json.gz feed as a file (its .meta beside it checked) and as a URL") {
  std::string dir = scangate::test::make_temp_dir("sg-nvd-feeds");
  Feeds feeds;
  std::string all = feed_text(feeds.records);
  std::string gz = gzip(all);
  {
    std::ofstream(dir + "/nvdcve-2.0-scenario.json.gz", std::ios::binary) << gz;
    std::ofstream(dir + "/nvdcve-2.0-scenario.meta", std::ios::binary) << meta_for(all, gz);
  }
  FeedServer server(dir, "127.0.0.1", {{"/mirror/nvdcve-2.0-scenario.json.gz", gz}});
  BuildOptions o;
  o.output = dir + "/db.sqlite";
  o.fetch.retries = 0;
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  SECTION("file") {
    o.nvd = {dir + "/nvdcve-2.0-scenario.json.gz"};
    auto info = build_db(o);
    REQUIRE(info.ok());
    CHECK(info->sources[0].stats.vulnerabilities == 64);
    auto db = VulnDb::open(o.output);
    REQUIRE(db.ok());
    CHECK(severity_of(*db.value(), "CVE-2022-37434") ==
          record_of(feeds.records, "CVE-2022-37434")["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseSeverity"]
              .get<std::string>());
  }
  SECTION("file whose .meta does not match") {
    std::ofstream(dir + "/nvdcve-2.0-scenario.meta", std::ios::binary) << meta_for(all + " ", gz);
    o.nvd = {dir + "/nvdcve-2.0-scenario.json.gz"};
    auto info = build_db(o);
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().message.find("its .meta says") != std::string::npos);
    CHECK_FALSE(fs::exists(o.output));
  }
  SECTION("URL (no .meta on that server: imported unchecked)") {
    o.nvd = {server.url("/mirror/nvdcve-2.0-scenario.json.gz")};
    auto info = build_db(o);
    REQUIRE(info.ok());
    CHECK(info->sources[0].location == o.nvd[0]);
    CHECK(info->sources[0].stats.vulnerabilities == 64);
    CHECK(server.nvd_requests() == 0);
  }
  fs::remove_all(dir);
}
