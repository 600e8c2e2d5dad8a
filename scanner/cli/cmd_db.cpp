// `scangate db build|update|info`.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/db_artifact_flags.h"
#include "scanner/cli/scan_flags.h"
#include "scanner/core/log.h"
#include "scanner/vulndb/build.h"
#include "scanner/vulndb/db_info.h"
#include "scanner/vulndb/vuln_db.h"

namespace scangate::cli {

namespace {

const char* kDbUsage =
    "Usage: scangate db build --output FILE [--alpine-secdb SRC]... [--debian-tracker SRC] [--osv SRC]... [--nvd "
    "SRC]...\n"
    "       scangate db update [--db FILE] [--alpine-secdb URL]... [--debian-tracker URL] [--osv URL]... [--nvd "
    "SRC]... [--nvd-api]\n"
    "       scangate db info [--db FILE]\n"
    "       scangate db push [--db FILE] REGISTRY/REPOSITORY[:TAG]     (see `scangate db push --help`)\n"
    "       scangate db pull [--output FILE] REGISTRY/REPOSITORY[:TAG]  (see `scangate db pull --help`)\n"
    "\n"
    "SRC is a file, a folder (OSV, NVD), a zip (OSV all.zip) or an http(s) URL.\n"
    "`update` downloads the upstream feeds (each source flag replaces that feed's default URLs, e.g. for an\n"
    "internal mirror), builds aside and swaps atomically: a failed update leaves the previous DB in place.\n"
    "NVD comes from its yearly JSON 2.0 data feeds (nvdcve-2.0-2002..<this year>.json.gz plus -modified, each\n"
    "checked against its .meta; a few minutes); --nvd-api pages the CVE API 2.0 instead (15+ minutes without a key).\n";

std::vector<FlagSpec> db_flags(bool build) {
  std::vector<FlagSpec> s = {
      {"alpine-secdb", true, true, "SRC", "Alpine secdb main.json / community.json"},
      {"debian-tracker", true, true, "SRC", "Debian security tracker JSON"},
      {"osv", true, true, "SRC", "OSV records: file, folder or all.zip"},
      {"nvd", true, true, "SRC", "NVD records: file, folder, .json.gz feed (file or URL) or CVE API 2.0 URL"},
      {"nvd-api-key-file", true, false, "FILE", "NVD API key (raises the rate limit)"},
      {"cacert", true, false, "FILE", "extra CA certificates for downloads"},
      {"quiet", false, false, "", "no progress on standard error"},
  };
  if (build) {
    s.push_back({"output", true, false, "FILE", "where to write the DB"});
  } else {
    s.push_back({"db", true, false, "FILE", "the DB to replace", "$XDG_CACHE_HOME/scangate/db.sqlite"});
    s.push_back({"nvd-api", false, false, "",
                 "page the NVD CVE API 2.0 instead of downloading NVD's yearly JSON 2.0 data feeds (slow: 6 s a "
                 "page without --nvd-api-key-file)"});
  }
  return s;
}

void mkdirs_for(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i) {
    if (file[i] == '/') ::mkdir(file.substr(0, i).c_str(), 0755);
  }
}

}  // namespace

int cmd_db(const std::vector<std::string>& argv, Io io) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    (argv.empty() ? io.err : io.out) << kDbUsage;
    return argv.empty() ? kExitError : kExitOk;
  }
  const std::string sub = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      io.out << kDbUsage;
      return kExitOk;
    }
  }

  if (sub == "push") return cmd_db_push(rest, io);
  if (sub == "pull") return cmd_db_pull(rest, io);
  if (sub == "info") {
    auto args = parse_args(rest, {{"db", true, false, "FILE", "the DB"}});
    if (!args.ok()) {
      io.err << "scangate db info: " << args.error().message << "\n";
      return kExitError;
    }
    auto info = vulndb::read_db_info(args->get_or("db", default_db_path()));
    if (!info.ok()) {
      io.err << "scangate db info: " << info.error().message << "\n";
      return kExitError;
    }
    io.out << vulndb::render_db_info(*info);
    return kExitOk;
  }
  if (sub != "build" && sub != "update") {
    io.err << "scangate db: unknown subcommand '" << sub << "'\n\n" << kDbUsage;
    return kExitError;
  }
  bool build = sub == "build";
  auto args = parse_args(rest, db_flags(build));
  if (!args.ok()) {
    io.err << "scangate db " << sub << ": " << args.error().message << "\n";
    return kExitError;
  }
  if (!args->positional().empty()) {
    io.err << "scangate db " << sub << ": unexpected argument '" << args->positional()[0] << "'\n";
    return kExitError;
  }
  vulndb::ProgressFn progress;
  if (!args->has("quiet")) progress = [lg = log::Logger("db")](std::string_view msg) { lg.info(msg); };
  // Skipped invalid feed records are warnings: printed even with --quiet.
  vulndb::ProgressFn warn = [lg = log::Logger("db")](std::string_view msg) { lg.warn(msg); };
  vulndb::FetchOptions fetch;
  fetch.ca_file = args->get_or("cacert", "");
  vulndb::NvdApiOptions nvd_api;
  if (auto kf = args->get("nvd-api-key-file")) {
    FILE* f = std::fopen(kf->c_str(), "r");
    if (!f) {
      io.err << "scangate db " << sub << ": cannot read --nvd-api-key-file " << *kf << "\n";
      return kExitError;
    }
    char buf[256] = {0};
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string key(buf, n);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    log::add_secret(key);
    nvd_api.api_key = key;
  }

  Result<vulndb::DbInfo> result = Error(ErrorKind::kInternal, "not run");
  if (build) {
    vulndb::BuildOptions o;
    o.output = args->get_or("output", "");
    if (o.output.empty()) {
      io.err << "scangate db build: --output FILE is required\n";
      return kExitError;
    }
    o.alpine_secdb = args->all("alpine-secdb");
    o.debian_tracker = args->all("debian-tracker");
    o.osv = args->all("osv");
    o.nvd = args->all("nvd");
    if (o.alpine_secdb.empty() && o.debian_tracker.empty() && o.osv.empty() && o.nvd.empty()) {
      io.err << "scangate db build: give at least one source (--alpine-secdb, --debian-tracker, --osv, --nvd)\n";
      return kExitError;
    }
    o.fetch = fetch;
    o.nvd_api = nvd_api;
    o.progress = progress;
    o.warn = warn;
    mkdirs_for(o.output);
    result = vulndb::build_db(o);
  } else {
    vulndb::UpdateOptions o;
    o.output = args->get_or("db", default_db_path());
    if (args->has("alpine-secdb")) o.sources.alpine_secdb = args->all("alpine-secdb");
    if (args->has("debian-tracker")) o.sources.debian_tracker = args->all("debian-tracker");
    if (args->has("osv")) o.sources.osv = args->all("osv");
    if (args->has("nvd")) o.sources.nvd = args->all("nvd");
    o.use_nvd_sources = args->has("nvd") || args->has("nvd-api");
    // Undocumented seams for tests and mirrors of the feeds: the folder holding the
    // nvdcve-2.0-*.json.gz files and the years to fetch ("2025-2026").
    if (const char* base = std::getenv("SCANGATE_NVD_FEEDS_URL"); base && *base) o.sources.nvd_feeds.base_url = base;
    if (const char* years = std::getenv("SCANGATE_NVD_FEEDS_YEARS"); years && *years) {
      int first = 0, last = 0;
      if (std::sscanf(years, "%d-%d", &first, &last) != 2 || first < 1999 || last < first) {
        io.err << "scangate db update: SCANGATE_NVD_FEEDS_YEARS must be FIRST-LAST (e.g. 2002-2026)\n";
        return kExitError;
      }
      o.sources.nvd_feeds.first_year = first;
      o.sources.nvd_feeds.last_year = last;
    }
    o.fetch = fetch;
    o.nvd_api = nvd_api;
    o.progress = progress;
    o.warn = warn;
    mkdirs_for(o.output);
    result = vulndb::update_db(o);
  }
  if (!result.ok()) {
    io.err << "scangate db " << sub << ": " << result.error().message << "\n";
    return kExitError;
  }
  io.out << vulndb::render_db_info(*result);
  return kExitOk;
}

}  // namespace scangate::cli
