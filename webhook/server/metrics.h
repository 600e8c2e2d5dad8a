// Every webhook metric, declared in one place (names scangate_<subsystem>_<name>). The struct
// owns its registry; main creates one and passes it to the server and the verdict engine.
// Every label value comes from a closed set written here: a value taken from a request (an
// AdmissionReview's operation and kind) or from another component (a result string) is mapped
// onto its set, and anything unknown becomes "other", so no input can add series (the bound of
// each family is in the comment beside it).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "webhook/server/http_types.h"

namespace scangate::webhook {

struct WebhookMetrics {
  explicit WebhookMetrics(const std::string& version);
  WebhookMetrics(const WebhookMetrics&) = delete;
  WebhookMetrics& operator=(const WebhookMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry;

  // Admission: one count per decided request; latency split by verdict-cache outcome.
  // {operation, kind, decision}: 5 x 10 x 2 = at most 100 series (admission_operation_label,
  // admission_kind_label).
  prometheus::Family<prometheus::Counter>& admission_requests;
  prometheus::Family<prometheus::Histogram>& admission_duration_family;  // {cache}
  prometheus::Histogram& admission_duration_hit;
  prometheus::Histogram& admission_duration_miss;

  // Scans triggered by the webhook (verdict engine).
  prometheus::Family<prometheus::Counter>& scans;  // {result}: ok | error | timeout | other
  prometheus::Histogram& scan_duration;
  // Re-decisions after a DB change: a cached image's kept inventory matched against the new DB.
  prometheus::Family<prometheus::Counter>& rematches;  // {result}: ok | error | other
  // Signed scan attestations read before a scan: {result} verified | bad_signature | unsigned |
  // wrong_subject | stale | unsupported_type | malformed | sbom_unreadable | sbom_missing | none |
  // error | other.
  prometheus::Family<prometheus::Counter>& attestations;
  prometheus::Counter& layer_pulls;  // layer blobs pulled by the webhook's scans

  // Verdict cache (verdict engine).
  prometheus::Gauge& verdict_cache_entries;
  prometheus::Counter& verdict_cache_hits;
  prometheus::Counter& verdict_cache_misses;

  // CSPM uploads and the durable spool.
  prometheus::Family<prometheus::Counter>& cspm_uploads;  // {result}: ok | error | spooled | other
  prometheus::Gauge& cspm_spool_pending;

  // Policy and vulnerability DB.
  prometheus::Family<prometheus::Counter>& policy_reloads;  // {result}: ok | error | other
  prometheus::Family<prometheus::Gauge>& db_info;           // {revision} = 1: one series, value cut at 128 bytes
  prometheus::Family<prometheus::Counter>& db_reloads;      // {result}: ok | error | other
  prometheus::Gauge& db_age;                                // seconds since the DB in use was built
  prometheus::Family<prometheus::Counter>& db_pulls;        // {result}: updated | unchanged | error | other

  // TLS.
  prometheus::Gauge& tls_certificate_expiry;             // notAfter of the served cert, epoch s
  prometheus::Family<prometheus::Counter>& tls_reloads;  // {result}: ok | error
  prometheus::Counter& tls_handshake_errors;
  prometheus::Counter& plain_http_on_tls;

  // HTTP.
  prometheus::Family<prometheus::Counter>& http_requests;  // {code}: 100..599, else "other"
  prometheus::Family<prometheus::Gauge>& webhook_info;     // {version} = 1 (the build's)
  // The server-wide budget of buffered request-body bytes (ServerOptions::body_budget).
  prometheus::Gauge& http_buffered_body_bytes;
  prometheus::Counter& http_body_budget_refusals;  // requests answered 503 because the budget was spent

  // Work the verdict engine refused or abandoned because it was overloaded, by pool and reason:
  // lookup {queue_full, registry_busy, expired}, scan {queue_full, expired}, review
  // {too_many_images}, other {other}: 7 series.
  prometheus::Family<prometheus::Counter>& work_rejected;

  // Closed label sets. "CREATE" | "UPDATE" | "DELETE" | "CONNECT" | "other".
  static std::string_view admission_operation_label(std::string_view operation);
  // The workload kinds the webhook reads images from (webhook/admission/workload.cpp), or "other".
  static std::string_view admission_kind_label(std::string_view kind);

  // The children for results reported by the verdict service; unknown results count as "other".
  prometheus::Counter& scan_result(std::string_view result);
  prometheus::Counter& cspm_upload_result(std::string_view result);
  prometheus::Counter& policy_reload_result(std::string_view result);
  prometheus::Counter& db_reload_result(std::string_view result);
  prometheus::Counter& db_pull_result(std::string_view result);
  prometheus::Counter& rematch_result(std::string_view result);
  prometheus::Counter& attestation_result(std::string_view result);
  // The scangate_work_rejected_total child for an EngineHooks::rejected reason
  // ("lookup_queue_full", "scan_expired", "too_many_images", ...); unknown: {other, other}.
  prometheus::Counter& work_rejected_for(std::string_view engine_reason);

  // The scangate_admission_requests_total child for these labels, mapped onto the closed sets
  // above. The children are created once per label set and kept (per request, Family::Add would
  // build a label map and hash it).
  prometheus::Counter& admission_request(std::string_view operation, std::string_view kind, bool allowed);

  // Replaces the scangate_db_info child with one for `revision`.
  void set_db_revision(const std::string& revision);

  // Text exposition format 0.0.4.
  std::string render() const;

 private:
  static constexpr std::size_t kOperations = 5, kKinds = 10;
  std::mutex db_mu_;
  std::mutex admission_mu_;
  std::array<std::atomic<prometheus::Counter*>, kOperations * kKinds * 2> admission_children_{};
  prometheus::Gauge* db_info_child_ = nullptr;
};

// GET /metrics -> the exposition; anything else 404 (405 for other methods on /metrics).
Handler make_metrics_handler(const WebhookMetrics& metrics);

}  // namespace scangate::webhook
