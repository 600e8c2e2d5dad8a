#include "scanner/vulndb/build.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>

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

// Across a set of NVD feeds, lets through a CVE's record only when it is newer (lastModified) than
// the one already written; the writer's upsert then replaces the older one.
class NewestNvdSink final : public FeedSink {
 public:
  explicit NewestNvdSink(FeedSink& next) : next_(next) {}
  Result<void> add_advisory(const AdvisoryRecord& rec) override { return next_.add_advisory(rec); }
  Result<void> add_vulnerability(const VulnerabilityRecord& rec) override {
    auto [it, inserted] = seen_.try_emplace(rec.vuln_id, rec.last_modified);
    if (!inserted) {
      ++superseded_;  // one of the two records is dropped
      if (compare_nvd_timestamps(rec.last_modified, it->second) <= 0) return Ok();
      it->second = rec.last_modified;
    }
    return next_.add_vulnerability(rec);
  }
  // Records counted by the importers that are not (or no longer) in the DB.
  std::size_t superseded() const { return superseded_; }

 private:
  FeedSink& next_;
  std::unordered_map<std::string, std::string> seen_;
  std::size_t superseded_ = 0;
};

std::string feed_set_label(const std::vector<std::string>& feeds) {
  if (feeds.size() == 1) return feeds.front();
  return feeds.front() + " .. " + feeds.back() + " (" + std::to_string(feeds.size()) + " NVD feed files)";
}

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

  // NVD JSON 2.0 data feeds (.json.gz), downloaded whole, each checked against its .meta.
  Result<void> nvd_feed_set(const std::vector<std::string>& feeds) {
    const std::string label = feed_set_label(feeds);
    ValidatingSink sink = checked(label);
    NewestNvdSink newest(sink);
    ImportStats stats;
    for (std::size_t i = 0; i < feeds.size(); ++i) {
      std::string prefix = "NVD feed " + std::to_string(i + 1) + "/" + std::to_string(feeds.size()) + ": ";
      auto r = nvd_feed_file(feeds[i], newest, prefix);
      if (!r) return r.error();
      stats += r.value();
    }
    stats.vulnerabilities -= std::min(stats.vulnerabilities, newest.superseded());
    stats.skipped += newest.superseded();
    sink.finish(stats);
    w_.add_source({"nvd", label, stats});
    return Ok();
  }

  Result<ImportStats> nvd_feed_file(const std::string& src, FeedSink& sink, const std::string& prefix) {
    if (!is_url(src)) {
      auto stats = import_nvd_path(src, sink, {}, opts_.max_uncompressed);
      if (!stats) return stats.error();
      say(prefix + src + ": " + std::to_string(stats.value().vulnerabilities) + " records");
      return stats;
    }
    auto file = dl_.next_file(opts_.output);
    if (!file) return file.error();
    struct Remove {
      std::string path;
      ~Remove() { std::remove(path.c_str()); }
    } remove{file.value()};
    say(prefix + "downloading " + src);
    SG_TRY(fetch_to_file(src, file.value(), opts_.fetch));
    std::optional<NvdFeedMeta> meta;
    if (std::string meta_url = nvd_meta_name_for(src); !meta_url.empty()) {
      FetchOptions mo = opts_.fetch;
      mo.max_bytes = 64u << 10;
      auto text = fetch_to_string(meta_url, mo);
      if (text) {
        auto m = parse_nvd_feed_meta(text.value(), meta_url);
        if (!m) return m.error();
        meta = std::move(m.value());
      } else if (text.error().kind == ErrorKind::kNotFound) {
        say(prefix + meta_url + ": none (HTTP 404); the download is not checked against a .meta");
      } else {
        return text.error();
      }
    }
    auto gz = gunzip_file(file.value(), src, opts_.max_uncompressed);
    if (!gz) return gz.error();
    if (meta) SG_TRY(check_nvd_feed_meta(*meta, gz.value().text.size(), gz.value().sha256_hex, src));
    auto stats = import_nvd_document(gz.value().text, src, sink);
    if (!stats) return stats.error();
    say(prefix + src + ": " + std::to_string(stats.value().vulnerabilities) + " records" +
        (meta ? " (size and sha256 match its .meta)" : ""));
    return stats;
  }

  Result<void> nvd_source(const std::string& src) {
    if (is_url(src) && is_gzip_name(src)) return nvd_feed_set({src});
    ValidatingSink sink = checked(src);
    if (!is_url(src)) {
      auto stats = import_nvd_path(src, sink, opts_.progress, opts_.max_uncompressed);
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
  if (opts.alpine_secdb.empty() && opts.debian_tracker.empty() && opts.osv.empty() && opts.nvd.empty() &&
      opts.nvd_feeds.empty())
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
    if (!opts.nvd_feeds.empty()) SG_TRY(b.nvd_feed_set(opts.nvd_feeds));
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

std::vector<std::string> nvd_feed_urls(const NvdFeedOptions& o, int current_year) {
  std::string base = o.base_url;
  if (!base.empty() && base.back() != '/') base += '/';
  std::vector<std::string> urls;
  const int last = o.last_year > 0 ? o.last_year : current_year;
  for (int y = o.first_year; y <= last; ++y) urls.push_back(base + "nvdcve-2.0-" + std::to_string(y) + ".json.gz");
  if (o.modified) urls.push_back(base + "nvdcve-2.0-modified.json.gz");
  if (o.recent) urls.push_back(base + "nvdcve-2.0-recent.json.gz");
  return urls;
}

Result<DbInfo> update_db(const UpdateOptions& opts) {
  if (opts.output.empty()) return Error(ErrorKind::kInvalidArgument, "db update: no DB path given");
  BuildOptions b;
  b.output = opts.output;
  b.alpine_secdb = opts.sources.alpine_secdb;
  b.debian_tracker = opts.sources.debian_tracker;
  b.osv = opts.sources.osv;
  auto now = opts.clock ? opts.clock() : std::chrono::system_clock::now();
  if (opts.use_nvd_sources || opts.sources.nvd != default_update_sources().nvd) {
    b.nvd = opts.sources.nvd;
  } else {
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    if (!::gmtime_r(&t, &utc)) return Error(ErrorKind::kInternal, "db update: cannot tell the current year");
    b.nvd_feeds = nvd_feed_urls(opts.sources.nvd_feeds, utc.tm_year + 1900);
    if (b.nvd_feeds.empty())
      return Error(ErrorKind::kInvalidArgument, "db update: the NVD feed years are empty (first year after last)");
  }
  b.max_uncompressed = opts.max_uncompressed;
  b.fetch = opts.fetch;
  b.nvd_api = opts.nvd_api;
  b.progress = opts.progress;
  b.warn = opts.warn;
  b.clock = [now] { return now; };
  auto r = build_db(b);
  if (!r) return r.error().wrap("db update failed, the previous DB (if any) is unchanged");
  return r;
}

}  // namespace scangate::vulndb
