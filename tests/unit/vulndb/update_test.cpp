// update_db against a loopback HTTP server (port 0) serving the real feed samples.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <thread>

#include "scanner/vulndb/build.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"
#include "zip_writer.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;
namespace fs = std::filesystem;

namespace {

// Serves the testdata feeds as their upstreams lay them out; stops when destroyed.
class FeedServer {
 public:
  explicit FeedServer(const std::string& workdir, const std::string& address = "127.0.0.1") : address_(address) {
    for (const char* rel : {"v3.14", "v3.20"})
      files_[std::string("/alpine/") + rel + "/main.json"] =
          read_file(testdata(std::string("scenario/secdb/") + rel + "-main.json"));
    files_["/debian/tracker/data/json"] =
        read_file(testdata("vulndb/debian-tracker/vunnel-debian-tracker-sample.json"));
    std::string zip = workdir + "/pypi.zip";
    scangate::test::write_zip(
        zip, {{"GHSA-r9hx-vwmv-q579.json", read_file(testdata("vulndb/osv-pypi/GHSA-r9hx-vwmv-q579.json"))},
              {"GHSA-mq26-g339-26xf.json", read_file(testdata("vulndb/osv-pypi/GHSA-mq26-g339-26xf.json"))}});
    files_["/osv/PyPI/all.zip"] = read_file(zip);
    nvd_ = nlohmann::json::parse(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")));

    for (const auto& [path, body] : files_) {
      std::string b = body;
      svr_.Get(path, [b](const httplib::Request&, httplib::Response& res) {
        res.set_content(b, "application/octet-stream");
      });
    }
    // The NVD API: pages by startIndex/resultsPerPage.
    svr_.Get("/rest/json/cves/2.0", [this](const httplib::Request& req, httplib::Response& res) {
      ++nvd_requests_;
      {
        std::lock_guard<std::mutex> l(mu_);
        nvd_api_keys_.push_back(req.has_header("apiKey") ? req.get_header_value("apiKey") : "<none>");
      }
      std::size_t start = std::stoul(req.get_param_value("startIndex"));
      std::size_t per = std::stoul(req.get_param_value("resultsPerPage"));
      auto all = nvd_["vulnerabilities"];
      nlohmann::json page = nvd_;
      page["vulnerabilities"] = nlohmann::json::array();
      for (std::size_t i = start; i < all.size() && i < start + per; ++i) page["vulnerabilities"].push_back(all[i]);
      page["startIndex"] = start;
      page["resultsPerPage"] = page["vulnerabilities"].size();
      page["totalResults"] = all.size();
      res.set_content(page.dump(), "application/json");
    });
    // A mirror that ignores paging: always the first 10 records.
    svr_.Get("/static/nvd", [this](const httplib::Request&, httplib::Response& res) {
      nlohmann::json page = nvd_;
      page["vulnerabilities"] = nlohmann::json::array();
      for (std::size_t i = 0; i < 10; ++i) page["vulnerabilities"].push_back(nvd_["vulnerabilities"][i]);
      page["resultsPerPage"] = 10;
      res.set_content(page.dump(), "application/json");
    });
    // Redirects to wherever redirect_to says, keeping the query (the NVD paging parameters).
    svr_.Get(R"(/redirect/(.*))", [this](const httplib::Request& req, httplib::Response& res) {
      std::string query = req.target.find('?') == std::string::npos ? "" : req.target.substr(req.target.find('?'));
      res.status = 302;
      res.set_header("Location", redirect_to + req.matches[1].str() + query);
    });
    svr_.Get("/broken/main.json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"distroversion\": \"v3.18\", \"packages\": [", "application/json");
    });
    // The client keeps its connection for the next download; a short keep-alive lets stop() end
    // the server's wait for it sooner.
    svr_.set_keep_alive_timeout(1);
    port_ = svr_.bind_to_any_port(address_);
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 200 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FeedServer() {
    svr_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://" + address_ + ":" + std::to_string(port_) + path; }
  int nvd_requests() const { return nvd_requests_; }
  // The apiKey header of each NVD request ("<none>" when absent).
  std::vector<std::string> nvd_api_keys() const {
    std::lock_guard<std::mutex> l(mu_);
    return nvd_api_keys_;
  }
  std::string redirect_to;  // prefix of the Location /redirect/<rest> answers with (set before requests)

 private:
  std::string address_;
  httplib::Server svr_;
  mutable std::mutex mu_;
  std::vector<std::string> nvd_api_keys_;
  std::map<std::string, std::string> files_;
  nlohmann::json nvd_;
  std::atomic<int> nvd_requests_{0};
  int port_ = 0;
  std::thread thread_;
};

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
