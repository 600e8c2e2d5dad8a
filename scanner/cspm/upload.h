// The upload as the CLI and the webhook use it: spool the report first (durably), then deliver it
// and whatever older reports are still waiting.
#pragma once

#include <optional>
#include <string>

#include "scanner/core/result.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/log.h"
#include "scanner/cspm/sink.h"
#include "scanner/cspm/spool.h"
#include "scanner/cspm/uploader.h"

namespace scangate::cspm {

enum class UploadStatus {
  kDelivered,  // the server accepted this report
  kPending,    // not delivered now (server down, slow, 429/5xx, untrusted TLS); kept in the spool
  kRejected,   // the server refused it for good (4xx); moved to the dead-letter folder
};
const char* to_string(UploadStatus s);

struct UploadReport {
  std::string id;  // the spool id, also sent as X-Scangate-Report-Id
  UploadStatus status = UploadStatus::kPending;
  ErrorKind kind = ErrorKind::kNetwork;  // when not delivered: kAuth for 401/403
  int http_status = 0;
  int attempts = 0;
  std::string message;           // redacted
  size_t backlog_delivered = 0;  // older spooled reports delivered in this run
  size_t backlog_pending = 0;    // older reports still waiting
  size_t dropped = 0;            // older reports dropped to make room (spool cap)
  bool delivered() const { return status == UploadStatus::kDelivered; }
};

struct UploadOptions {
  std::string spool_dir;  // empty: default_spool_dir()
  SpoolOptions spool;     // caps and overflow policy; its logger defaults to `deps.log`
  RetryPolicy retry;
  UploaderDeps deps;                     // empty members: real clock, sleep, PRNG
  std::string filename = "report.json";  // multipart file name
  std::string data_type;                 // TR / SBOM; empty: detect (CycloneDX -> SBOM)
  std::string label;                     // empty: the sink's configured label
};

// $XDG_STATE_HOME/scangate/spool, else $HOME/.local/state/scangate/spool.
std::string default_spool_dir(const EnvLookup& env);

// Spools `report_bytes`, then drains the spool through `sink`, this report first.
// An Error only for local failures before anything could be sent (spool not writable, spool full
// under kRejectNew); delivery failures are a value with status != kDelivered.
Result<UploadReport> upload_with_sink(Sink& sink, const std::string& report_bytes, const UploadOptions& options);

// Sends what is already spooled (nothing new).
Result<DrainResult> drain_spool(Sink& sink, const UploadOptions& options);

// The entry point for `scangate image --upload` and `scangate upload`: AccuKnox sink from `config`,
// every log line and message redacted of the token.
Result<UploadReport> upload_report(const CspmConfig& config, std::string report_bytes, std::string data_type,
                                   std::string spool_dir, Logger log);
// The same with every option; the token is registered with the logger (log::add_secret), so no
// line carries it, and returned messages are redacted (empty options.data_type falls back to
// config.data_type).
Result<UploadReport> upload_report(const CspmConfig& config, const std::string& report_bytes, UploadOptions options);

}  // namespace scangate::cspm
