#include "scanner/vulndb/build.h"

#include <filesystem>
#include <system_error>
#include <thread>

#include "scanner/vulndb/alpine_secdb.h"
#include "scanner/vulndb/debian_tracker.h"
#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/osv.h"
#include "scanner/vulndb/validate.h"
#include "scanner/vulndb/writer.h"

namespace scangate::vulndb {
namespace {

// A folder next to the output for downloads, removed when the build ends.
class DownloadDir {
 public:
  ~DownloadDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  Result<std::string> next_file(const std::string& output) {
    if (path_.empty()) {
      std::string tmpl = output + ".download-XXXXXX";
      std::vector<char> buf(tmpl.begin(), tmpl.end());
      buf.push_back('\0');
      if (!::mkdtemp(buf.data())) return Error(ErrorKind::kIo, "cannot create a download folder next to " + output);
      path_ = buf.data();
    }
    return path_ + "/" + std::to_string(++n_);
  }

 private:
  std::string path_;
  int n_ = 0;
};

class Builder {
 public:
  Builder(const BuildOptions& opts, VulnDbWriter& writer) : opts_(opts), w_(writer) {}

  void say(const std::string& msg) const {
    if (opts_.progress) opts_.progress(msg);
  }

  // Downloads a URL source into the download folder; a local path is returned as it is.
  Result<std::string> local(const std::string& src) {
    if (!is_url(src)) return src;
    auto file = dl_.next_file(opts_.output);
    if (!file) return file.error();
    say("downloading " + src);
    SG_TRY(fetch_to_file(src, file.value(), opts_.fetch));
    return file.value();
  }

  Result<void> text_source(const std::string& kind, const std::string& src,
                           Result<ImportStats> (*import)(std::string_view, std::string_view, FeedSink&,
                                                         const ProgressFn&)) {
    auto path = local(src);
    if (!path) return path.error();
    auto text = detail::read_whole_file(path.value());
    if (!text) return text.error();
    ValidatingSink sink = checked(src);
    auto stats = import(text.value(), src, sink, opts_.progress);
    if (!stats) return stats.error();
    sink.finish(stats.value());
    w_.add_source({kind, src, stats.value()});
    return Ok();
  }

  Result<void> osv_source(const std::string& src) {
    auto path = local(src);
    if (!path) return path.error();
    ValidatingSink sink = checked(src);
    auto stats = import_osv_path(path.value(), sink, opts_.progress, src);
    if (!stats) return stats.error();
    sink.finish(stats.value());
    w_.add_source({"osv", src, stats.value()});
    return Ok();
  }

  Result<void> nvd_source(const std::string& src) {
    ValidatingSink sink = checked(src);
    if (!is_url(src)) {
      auto stats = import_nvd_path(src, sink, opts_.progress);
      if (!stats) return stats.error();
      sink.finish(stats.value());
      w_.add_source({"nvd", src, stats.value()});
      return Ok();
    }
    FetchOptions fo = opts_.fetch;
    if (!opts_.nvd_api.api_key.empty()) fo.headers.emplace_back("apiKey", opts_.nvd_api.api_key);
    ImportStats stats;
    std::size_t start = 0;
    for (std::size_t page = 0;; ++page) {
      if (page >= opts_.nvd_api.max_pages)
        return Error(ErrorKind::kLimit, src + ": more than " + std::to_string(opts_.nvd_api.max_pages) + " pages");
      if (page > 0) std::this_thread::sleep_for(opts_.nvd_api.page_delay);
      std::string url = src + (src.find('?') == std::string::npos ? "?" : "&") + "startIndex=" + std::to_string(start) +
                        "&resultsPerPage=" + std::to_string(opts_.nvd_api.results_per_page);
      auto body = fetch_to_string(url, fo);
      if (!body) return body.error();
      auto info = import_nvd_text(body.value(), url, sink, &stats);
      if (!info) return info.error();
      if (!info.value().is_page) return Error(ErrorKind::kFormat, url + ": not an NVD CVE API 2.0 response page");
      if (info.value().start_index != start)
        return Error(ErrorKind::kFormat, url + ": the server answered startIndex " +
                                             std::to_string(info.value().start_index) + " for " +
                                             std::to_string(start) + " (it does not page the NVD API)");
      start += info.value().records;
      say(src + ": NVD " + std::to_string(start) + "/" + std::to_string(info.value().total_results));
      if (info.value().records == 0 || start >= info.value().total_results) break;
    }
    sink.finish(stats);
    w_.add_source({"nvd", src, stats});
    return Ok();
  }

 private:
  // Every importer's records pass through here before the writer: see validate.h.
  ValidatingSink checked(const std::string& src) {
    return ValidatingSink(w_, src, opts_.warn ? opts_.warn : opts_.progress);
  }

  const BuildOptions& opts_;
  VulnDbWriter& w_;
  DownloadDir dl_;
};

}  // namespace

Result<DbInfo> build_db(const BuildOptions& opts) {
  if (opts.output.empty()) return Error(ErrorKind::kInvalidArgument, "db build: --output FILE is required");
  if (opts.alpine_secdb.empty() && opts.debian_tracker.empty() && opts.osv.empty() && opts.nvd.empty())
    return Error(ErrorKind::kInvalidArgument,
                 "db build: no sources; give --alpine-secdb, --debian-tracker, --osv or --nvd");
  auto writer = VulnDbWriter::create(opts.output);
  if (!writer) return writer.error();
  VulnDbWriter& w = *writer.value();
  {
    Builder b(opts, w);
    for (const auto& s : opts.alpine_secdb) SG_TRY(b.text_source("alpine-secdb", s, &import_alpine_secdb_text));
    for (const auto& s : opts.debian_tracker) SG_TRY(b.text_source("debian-tracker", s, &import_debian_tracker_text));
    for (const auto& s : opts.osv) SG_TRY(b.osv_source(s));
    for (const auto& s : opts.nvd) SG_TRY(b.nvd_source(s));
  }
  if (opts.progress) opts.progress("finalising " + opts.output);
  auto now = opts.clock ? opts.clock() : std::chrono::system_clock::now();
  return w.commit(now);
}

UpdateSources default_update_sources() {
  UpdateSources s;
  std::vector<std::string> releases;
  for (int minor = 10; minor <= 21; ++minor) releases.push_back("v3." + std::to_string(minor));
  releases.push_back("edge");
  for (const auto& r : releases)
    for (const char* repo : {"main", "community"})
      s.alpine_secdb.push_back("https://secdb.alpinelinux.org/" + r + "/" + repo + ".json");
  s.debian_tracker.push_back("https://security-tracker.debian.org/tracker/data/json");
  for (const char* eco : {"PyPI", "npm", "Alpine", "Debian"})
    s.osv.push_back(std::string("https://osv-vulnerabilities.storage.googleapis.com/") + eco + "/all.zip");
  s.nvd.push_back("https://services.nvd.nist.gov/rest/json/cves/2.0");
  return s;
}

Result<DbInfo> update_db(const UpdateOptions& opts) {
  if (opts.output.empty()) return Error(ErrorKind::kInvalidArgument, "db update: no DB path given");
  BuildOptions b;
  b.output = opts.output;
  b.alpine_secdb = opts.sources.alpine_secdb;
  b.debian_tracker = opts.sources.debian_tracker;
  b.osv = opts.sources.osv;
  b.nvd = opts.sources.nvd;
  b.fetch = opts.fetch;
  b.nvd_api = opts.nvd_api;
  b.progress = opts.progress;
  b.warn = opts.warn;
  b.clock = opts.clock;
  auto r = build_db(b);
  if (!r) return r.error().wrap("db update failed, the previous DB (if any) is unchanged");
  return r;
}

}  // namespace scangate::vulndb
