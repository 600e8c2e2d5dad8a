#include "scanner/cli/db_artifact_flags.h"

#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "scanner/cli/registry_flags.h"
#include "scanner/core/duration.h"
#include "scanner/core/log.h"
#include "scanner/dbrepo/db_artifact.h"
#include "scanner/vulndb/db_info.h"

namespace scangate::cli {
namespace {

constexpr const char* kDefaultMaxAge = "24h";

const char* kPushUsage = "scangate db push [flags] REGISTRY/REPOSITORY[:TAG]";
const char* kPullUsage = "scangate db pull [flags] REGISTRY/REPOSITORY[:TAG|@DIGEST]";
const char* kArtifactNote =
    "The artifact is an OCI 1.1 manifest of artifactType application/vnd.scangate.db.v1 with one layer,\n"
    "application/vnd.scangate.db.layer.v1.sqlite+zstd (docs/db-artifact.md). A pull verifies the digests, the\n"
    "declared size and sha256, and the DB itself before it replaces the file atomically.\n";

std::vector<FlagSpec> push_flags() {
  std::vector<FlagSpec> s = {
      {"db", true, false, "FILE", "the DB to push", "$XDG_CACHE_HOME/scangate/db.sqlite"},
      {"quiet", false, false, "", "no progress on standard error"},
  };
  for (const auto& f : registry_flags()) s.push_back(f);
  return s;
}

std::vector<FlagSpec> pull_flags() {
  std::vector<FlagSpec> s = {
      {"output", true, false, "FILE", "where the DB goes", "$XDG_CACHE_HOME/scangate/db.sqlite"},
      {"quiet", false, false, "", "no progress on standard error"},
  };
  for (const auto& f : registry_flags()) s.push_back(f);
  return s;
}

void mkdirs_for(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i)
    if (file[i] == '/') ::mkdir(file.substr(0, i).c_str(), 0755);
}

dbrepo::Progress progress_for(bool quiet) {
  if (quiet) return {};
  return [lg = log::Logger("db")](const std::string& msg) { lg.info(msg); };
}

bool wants_help(const std::vector<std::string>& argv) {
  for (const auto& a : argv)
    if (a == "--help" || a == "-h") return true;
  return false;
}

std::string mib(uint64_t n) {
  char buf[32];
  if (n < (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  return buf;
}

}  // namespace

const std::vector<FlagSpec>& db_repository_flags() {
  static const std::vector<FlagSpec> specs = {
      {"db-repository", true, false, "REF",
       "pull the DB from this OCI artifact when it is missing or older than --db-max-age (also "
       "$SCANGATE_DB_REPOSITORY)"},
      {"db-max-age", true, false, "DURATION", "with --db-repository: pull a DB built longer ago than this",
       kDefaultMaxAge},
  };
  return specs;
}

std::chrono::seconds db_age(const std::string& built_at, std::chrono::system_clock::time_point now) {
  std::tm tm{};
  const char* end = ::strptime(built_at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::chrono::seconds(-1);
  const time_t t = ::timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::chrono::seconds(-1);
  return std::chrono::duration_cast<std::chrono::seconds>(now - std::chrono::system_clock::from_time_t(t));
}

int ensure_db(const Args& args, const ScanSettings& settings, const SourceOptions& registry, const std::string& command,
              Io io) {
  std::string repo = args.get_or("db-repository", "");
  if (repo.empty()) {
    const char* env = std::getenv("SCANGATE_DB_REPOSITORY");
    if (env) repo = env;
  }
  if (args.has("db-max-age") && repo.empty()) {
    io.err << "scangate " << command << ": --db-max-age needs --db-repository (or $SCANGATE_DB_REPOSITORY)\n";
    return kExitError;
  }
  if (repo.empty() || !settings.scan_vuln) return kExitOk;
  auto max_age = duration_from_text(args.get_or("db-max-age", kDefaultMaxAge));
  if (!max_age.ok()) {
    io.err << "scangate " << command << ": --db-max-age: " << max_age.error().message << "\n";
    return kExitError;
  }
  const log::Logger lg("db");
  std::string why;
  auto info = vulndb::read_db_info(settings.db_path);
  if (!info.ok()) {
    why = "no usable DB at " + settings.db_path;
  } else {
    auto age = db_age(info->built_at, std::chrono::system_clock::now());
    if (age.count() < 0)
      why = "the DB's build time is unknown";
    else if (age > *max_age)
      why = "the DB was built " + std::to_string(age.count() / 3600) + "h ago, more than --db-max-age";
  }
  if (why.empty()) return kExitOk;
  if (!settings.quiet) lg.info(why + "; pulling " + repo);
  dbrepo::PullOptions po;
  po.reference = repo;
  po.output = settings.db_path;
  po.registry = registry;
  po.progress = progress_for(settings.quiet);
  if (settings.timeout.count() > 0) po.deadline = Deadline::after(settings.timeout);
  // The pulled DB must be fresh enough itself: a registry that still serves an old DB (a build job
  // that stopped, or an older DB pushed over the tag) must not make the scan run on it.
  po.not_built_before =
      std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(*max_age);
  mkdirs_for(po.output);
  auto pulled = dbrepo::pull_db(po);
  if (!pulled.ok()) {
    io.err << "scangate " << command << ": " << why
           << ", and the pull from --db-repository failed: " << pulled.error().message << "\n";
    return kExitError;
  }
  if (!settings.quiet)
    lg.info("pulled the DB", {{"revision", pulled->info.revision}, {"built", pulled->info.built_at}});
  return kExitOk;
}

int cmd_db_push(const std::vector<std::string>& argv, Io io) {
  if (wants_help(argv)) {
    io.out << render_help(kPushUsage,
                          "Push a built vulnerability DB to an OCI registry, for `db pull`, `image --db-repository` "
                          "and `scangate-webhook --db-repository`.",
                          push_flags())
           << "\n"
           << kArtifactNote;
    return kExitOk;
  }
  auto args = parse_args(argv, push_flags());
  if (!args.ok()) {
    io.err << "scangate db push: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().size() != 1) {
    io.err << "scangate db push: name one artifact reference, e.g. `scangate db push registry.example/scangate/db:1`\n";
    return kExitError;
  }
  auto access = registry_source_options(*args, "db push", io);
  if (!access) return kExitError;
  dbrepo::PushOptions o;
  o.db = args->get_or("db", default_db_path());
  o.reference = args->positional()[0];
  o.registry = std::move(*access);
  o.progress = progress_for(args->has("quiet"));
  auto r = dbrepo::push_db(o);
  if (!r.ok()) {
    io.err << "scangate db push: " << r.error().message << "\n";
    return kExitError;
  }
  io.out << "pushed " << r->reference << "@" << r->manifest_digest << "\n"
         << "  revision:   " << r->info.revision << "\n"
         << "  built at:   " << r->info.built_at << "\n"
         << "  size:       " << mib(r->size) << " (" << mib(r->compressed_size) << " compressed)\n";
  return kExitOk;
}

int cmd_db_pull(const std::vector<std::string>& argv, Io io) {
  if (wants_help(argv)) {
    io.out << render_help(kPullUsage, "Pull the vulnerability DB artifact and put it in place atomically.",
                          pull_flags())
           << "\n"
           << kArtifactNote;
    return kExitOk;
  }
  auto args = parse_args(argv, pull_flags());
  if (!args.ok()) {
    io.err << "scangate db pull: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().size() != 1) {
    io.err << "scangate db pull: name one artifact reference, e.g. `scangate db pull registry.example/scangate/db:1`\n";
    return kExitError;
  }
  auto access = registry_source_options(*args, "db pull", io);
  if (!access) return kExitError;
  dbrepo::PullOptions o;
  o.reference = args->positional()[0];
  o.output = args->get_or("output", default_db_path());
  o.registry = std::move(*access);
  o.progress = progress_for(args->has("quiet"));
  mkdirs_for(o.output);
  auto r = dbrepo::pull_db(o);
  if (!r.ok()) {
    io.err << "scangate db pull: " << r.error().message << "\n";
    return kExitError;
  }
  io.out << "pulled " << o.reference << " (" << r->manifest_digest << ")\n" << vulndb::render_db_info(r->info);
  return kExitOk;
}

}  // namespace scangate::cli
