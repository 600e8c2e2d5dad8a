// A loopback HTTP server (port 0) serving the real feed samples of tests/data as their upstreams
// lay them out (Alpine secdb, the Debian tracker, OSV all.zip, the paged NVD API), plus any extra
// files a test hands it. Shared by the `db update` tests of tests/unit/vulndb and tests/unit/cli.
#pragma once

#include <catch2/catch.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scanner/core/sha256.h"
#include "support/test_support.h"
#include "unit/vulndb/zip_writer.h"

namespace scangate::test {

// Serves the testdata feeds as their upstreams lay them out; stops when destroyed.
class FeedServer {
 public:
  // `extra`: more files to serve as they are (path -> body), e.g. gzip'd NVD feeds; a request for
  // each is counted (requests()).
  explicit FeedServer(const std::string& workdir, const std::string& address = "127.0.0.1",
                      std::map<std::string, std::string> extra = {})
      : address_(address) {
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

    for (auto& [path, body] : extra) {
      std::string p = path, b = std::move(body);
      svr_.Get(p, [this, p, b](const httplib::Request&, httplib::Response& res) {
        {
          std::lock_guard<std::mutex> l(mu_);
          ++requests_[p];
        }
        res.set_content(b, "application/octet-stream");
      });
    }
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
  // How many times an `extra` file was asked for.
  int requests(const std::string& path) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = requests_.find(path);
    return it == requests_.end() ? 0 : it->second;
  }
  std::string redirect_to;  // prefix of the Location /redirect/<rest> answers with (set before requests)

 private:
  std::string address_;
  httplib::Server svr_;
  mutable std::mutex mu_;
  std::vector<std::string> nvd_api_keys_;
  std::map<std::string, int> requests_;
  std::map<std::string, std::string> files_;
  nlohmann::json nvd_;
  std::atomic<int> nvd_requests_{0};
  int port_ = 0;
  std::thread thread_;
};

// gzip of `data` (libarchive's gzip writer: the library sg_vulndb already links).
inline std::string gzip(const std::string& data) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  auto write_cb = [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  REQUIRE(archive_write_open(a, &out, nullptr, write_cb, nullptr) == ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_pathname(e, "feed.json");
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
  archive_entry_free(e);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

// NVD's .meta layout: CRLF lines, the sha256 of the uncompressed JSON in upper case.
inline std::string meta_for(const std::string& text, const std::string& gz) {
  std::string hex = scangate::Sha256::digest(text).substr(7);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "lastModifiedDate:2026-01-01T03:00:01-05:00\r\nsize:" + std::to_string(text.size()) +
         "\r\nzipSize:0\r\ngzSize:" + std::to_string(gz.size()) + "\r\nsha256:" + hex + "\r\n";
}

// A feed document as NVD lays it out, holding `records`.
inline std::string feed_text(const nlohmann::json& records) {
  nlohmann::json doc = {{"resultsPerPage", records.size()},
                        {"startIndex", 0},
                        {"totalResults", records.size()},
                        {"format", "NVD_CVE"},
                        {"version", "2.0"},
                        {"timestamp", "2026-01-01T07:00:00.000"},
                        {"vulnerabilities", records}};
  return doc.dump();
}

}  // namespace scangate::test
