#include "scanner/cspm/upload.h"

namespace scangate::cspm {

const char* to_string(UploadStatus s) {
  switch (s) {
    case UploadStatus::kDelivered: return "delivered";
    case UploadStatus::kPending: return "not delivered (kept in the spool)";
    case UploadStatus::kRejected: return "rejected (moved to the dead-letter folder)";
  }
  return "unknown";
}

std::string default_spool_dir(const EnvLookup& env) {
  if (auto s = env("XDG_STATE_HOME"); s && !s->empty()) return *s + "/scangate/spool";
  if (auto h = env("HOME"); h && !h->empty()) return *h + "/.local/state/scangate/spool";
  return ".scangate-spool";
}

namespace {

Result<Spool> open_spool(const UploadOptions& options) {
  SpoolOptions so = options.spool;
  if (!so.log) so.log = options.deps.log;  // the uploader's component and fields
  std::string dir = options.spool_dir.empty() ? default_spool_dir(process_environment()) : options.spool_dir;
  return Spool::open(dir, std::move(so));
}

}  // namespace

Result<DrainResult> drain_spool(Sink& sink, const UploadOptions& options) {
  auto spool = open_spool(options);
  if (!spool.ok()) return spool.error();
  Uploader up(*spool, sink, options.retry, options.deps);
  return up.drain();
}

Result<UploadReport> upload_with_sink(Sink& sink, const std::string& report_bytes, const UploadOptions& options) {
  auto spool = open_spool(options);
  if (!spool.ok()) return spool.error();

  Metadata meta;
  meta[kMetaDataType] = options.data_type.empty() ? detect_data_type(report_bytes) : options.data_type;
  if (!options.label.empty()) meta[kMetaLabel] = options.label;
  meta[kMetaFileName] = options.filename.empty() ? "report.json" : options.filename;
  auto queued = spool->enqueue(report_bytes, meta);
  if (!queued.ok()) return queued.error().wrap("spooling the report for upload");

  UploadReport report;
  report.id = queued->id;
  report.dropped = queued->dropped.size();
  options.deps.log.info("spooled report " + report.id + " in " + spool->dir(), {{"report", report.id}});

  Uploader up(*spool, sink, options.retry, options.deps);
  auto drained = up.drain(report.id);
  if (!drained.ok()) return drained.error().wrap("uploading the spooled reports");
  for (const auto& e : drained->entries) {
    if (e.id == report.id) {
      report.attempts = e.attempts;
      report.http_status = e.http_status;
      report.kind = e.kind;
      report.message = e.message;
      report.status = e.state == EntryState::kDelivered      ? UploadStatus::kDelivered
                      : e.state == EntryState::kDeadLettered ? UploadStatus::kRejected
                                                             : UploadStatus::kPending;
    } else if (e.state == EntryState::kDelivered) {
      ++report.backlog_delivered;
    }
  }
  if (auto left = spool->list(); left.ok()) {
    for (const auto& e : *left)
      if (e.id != report.id) ++report.backlog_pending;
  }
  return report;
}

Result<UploadReport> upload_report(const CspmConfig& config, const std::string& report_bytes, UploadOptions options) {
  if (options.data_type.empty()) options.data_type = config.data_type;
  log::add_secret(config.token);  // no log line, from here or elsewhere, carries it
  auto sink = make_accuknox_sink(config);
  auto r = upload_with_sink(*sink, report_bytes, options);
  if (!r.ok()) return Error(r.error().kind, redact(r.error().message, {config.token}));
  r->message = redact(r->message, {config.token});
  return r;
}

Result<UploadReport> upload_report(const CspmConfig& config, std::string report_bytes, std::string data_type,
                                   std::string spool_dir, Logger log) {
  UploadOptions o;
  o.spool_dir = std::move(spool_dir);
  o.data_type = std::move(data_type);
  o.deps = real_uploader_deps(std::move(log));
  return upload_report(config, report_bytes, std::move(o));
}

}  // namespace scangate::cspm
