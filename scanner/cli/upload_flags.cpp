#include "scanner/cli/upload_flags.h"

#include <algorithm>
#include <charconv>
#include <ostream>

#include "scanner/cli/commands.h"

namespace scangate::cli {

const std::vector<FlagSpec>& upload_tuning_flags() {
  static const std::vector<FlagSpec> specs = {
      {"spool-dir", true, false, "DIR", "durable spool for reports on their way to CSPM",
       "$XDG_STATE_HOME/scangate/spool"},
      {"spool-max-reports", true, false, "N", "spool cap in reports; the oldest is dropped when full", "1000"},
      {"spool-max-mb", true, false, "N", "spool cap in MiB", "1024"},
      {"upload-timeout", true, false, "SECONDS", "per-request timeout", "60"},
      {"upload-retries", true, false, "N", "attempts per report", "6"},
      {"upload-max-time", true, false, "SECONDS", "time budget for the whole upload, retries included", "120"},
      {"upload-soft-fail", false, false, "", "exit 0 even when the report was not delivered"},
  };
  return specs;
}

namespace {

Result<int64_t> positive(const Args& args, const std::string& name, int64_t def) {
  auto v = args.get(name);
  if (!v) return def;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n <= 0)
    return Error(ErrorKind::kInvalidArgument, "--" + name + " must be a positive whole number, not '" + *v + "'");
  return n;
}

}  // namespace

Result<UploadTuning> parse_upload_tuning(const Args& args, const cspm::EnvLookup& env) {
  auto max_reports = positive(args, "spool-max-reports", 1000);
  auto max_mb = positive(args, "spool-max-mb", 1024);
  auto timeout = positive(args, "upload-timeout", 60);
  auto retries = positive(args, "upload-retries", 6);
  auto max_time = positive(args, "upload-max-time", 120);
  for (const auto* r : {&max_reports, &max_mb, &timeout, &retries, &max_time})
    if (!r->ok()) return r->error();
  UploadTuning t;
  t.options.spool_dir = args.get_or("spool-dir", cspm::default_spool_dir(env));
  t.options.spool.max_entries = static_cast<size_t>(*max_reports);
  t.options.spool.max_bytes = static_cast<uint64_t>(std::min<int64_t>(*max_mb, int64_t{1} << 40)) << 20;
  t.options.retry.max_attempts = static_cast<int>(std::min<int64_t>(*retries, 100));
  t.options.retry.max_elapsed = std::chrono::seconds(std::min<int64_t>(*max_time, 86400));
  t.read_timeout = std::chrono::seconds(std::min<int64_t>(*timeout, 3600));
  t.soft_fail = args.has("upload-soft-fail");
  return t;
}

cspm::Logger stderr_logger(std::ostream& /*err*/, std::string prefix, cspm::LogLevel min_level) {
  if (prefix.rfind("scangate ", 0) == 0) prefix.erase(0, 9);
  return cspm::Logger(prefix).at_least(min_level);
}

int upload_failure(const cspm::Logger& log, const std::string& message, int code, bool soft_fail) {
  log.error(message);
  if (!soft_fail) return code;
  log.warn("continuing because of --upload-soft-fail");
  return kExitOk;
}

int report_upload_outcome(const cspm::UploadReport& r, const std::string& what, const std::string& destination,
                          const std::string& spool_dir, bool soft_fail, const cspm::Logger& log) {
  if (r.delivered()) {
    log.info("uploaded " + what + " to " + destination + " (report id " + r.id + ")", {{"report", r.id}});
    return kExitOk;
  }
  // The uploader logged the details of each attempt; this is the one-line verdict.
  std::string status = r.http_status ? " (HTTP " + std::to_string(r.http_status) + ")" : "";
  std::string msg;
  if (r.status == cspm::UploadStatus::kRejected) {
    msg = r.kind == ErrorKind::kAuth ? "authentication failed" + status + ": the server refused the token; "
                                     : "the server rejected the report" + status + "; ";
    msg += "the report was moved to " + spool_dir + "/dead";
  } else {
    msg = "the report was not delivered" + status + "; it stays in the spool " + spool_dir +
          " and goes out with the next upload or `scangate upload --drain`";
  }
  return upload_failure(log, msg, kExitUploadFailed, soft_fail);
}

}  // namespace scangate::cli
