#include "webhook/server/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <initializer_list>

namespace scangate::webhook {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Admission latency: sub-millisecond cache hits up to scans that use the whole deadline.
Histogram::BucketBoundaries admission_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}
Histogram::BucketBoundaries scan_buckets() { return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}; }

// The closed label sets; the last entry of each is "other".
constexpr std::string_view kOperationLabels[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
constexpr std::string_view kKindLabels[] = {"Pod",         "ReplicationController",
                                            "PodTemplate", "Deployment",
                                            "ReplicaSet",  "StatefulSet",
                                            "DaemonSet",   "Job",
                                            "CronJob",     "other"};

template <std::size_t N>
std::size_t index_in(const std::string_view (&set)[N], std::string_view value) {
  for (std::size_t i = 0; i + 1 < N; ++i)
    if (set[i] == value) return i;
  return N - 1;
}

// EngineHooks::rejected reasons -> {pool, reason}.
struct Rejection {
  std::string_view engine, pool, reason;
};
constexpr Rejection kRejections[] = {
    {"lookup_queue_full", "lookup", "queue_full"}, {"lookup_registry_busy", "lookup", "registry_busy"},
    {"lookup_expired", "lookup", "expired"},       {"scan_queue_full", "scan", "queue_full"},
    {"scan_expired", "scan", "expired"},           {"too_many_images", "review", "too_many_images"},
};

// The child of `family` whose `label` is `value` when `value` is one of `known`, else "other"
// (the children were all created in the constructor, so this only looks them up).
prometheus::Counter& closed_child(prometheus::Family<prometheus::Counter>& family, const char* label,
                                  std::initializer_list<std::string_view> known, std::string_view value) {
  const bool ok = std::find(known.begin(), known.end(), value) != known.end();
  return family.Add({{label, ok ? std::string(value) : std::string("other")}});
}

}  // namespace

WebhookMetrics::WebhookMetrics(const std::string& version)
    : registry(std::make_shared<prometheus::Registry>()),
      admission_requests(BuildCounter()
                             .Name("scangate_admission_requests_total")
                             .Help("Admission requests answered, by operation, object kind and decision")
                             .Register(*registry)),
      admission_duration_family(BuildHistogram()
                                    .Name("scangate_admission_duration_seconds")
                                    .Help("Time from a complete request to its decision, by verdict-cache outcome")
                                    .Register(*registry)),
      admission_duration_hit(admission_duration_family.Add({{"cache", "hit"}}, admission_buckets())),
      admission_duration_miss(admission_duration_family.Add({{"cache", "miss"}}, admission_buckets())),
      scans(BuildCounter()
                .Name("scangate_scans_total")
                .Help("Image scans run by the webhook, by result")
                .Register(*registry)),
      scan_duration(BuildHistogram()
                        .Name("scangate_scan_duration_seconds")
                        .Help("Duration of image scans run by the webhook")
                        .Register(*registry)
                        .Add({}, scan_buckets())),
      rematches(BuildCounter()
                    .Name("scangate_rematches_total")
                    .Help("Cached images decided again after a DB change from the inventory their scan kept (no "
                          "pull), by result; an error falls back to a scan")
                    .Register(*registry)),
      attestations(BuildCounter()
                       .Name("scangate_attestations_total")
                       .Help("Signed scan attestations read before a scan, by result (only verified ones are "
                             "trusted; none: nothing attached)")
                       .Register(*registry)),
      layer_pulls(BuildCounter()
                      .Name("scangate_layer_pulls_total")
                      .Help("Layer blobs pulled by the webhook's scans (an attested SBOM or record pulls none)")
                      .Register(*registry)
                      .Add({})),
      verdict_cache_entries(BuildGauge()
                                .Name("scangate_verdict_cache_entries")
                                .Help("Entries in the verdict cache")
                                .Register(*registry)
                                .Add({})),
      verdict_cache_hits(BuildCounter()
                             .Name("scangate_verdict_cache_hits_total")
                             .Help("Verdict cache look-ups that found a verdict")
                             .Register(*registry)
                             .Add({})),
      verdict_cache_misses(BuildCounter()
                               .Name("scangate_verdict_cache_misses_total")
                               .Help("Verdict cache look-ups that needed a scan")
                               .Register(*registry)
                               .Add({})),
      cspm_uploads(BuildCounter()
                       .Name("scangate_cspm_uploads_total")
                       .Help("CSPM report uploads, by result")
                       .Register(*registry)),
      cspm_spool_pending(BuildGauge()
                             .Name("scangate_cspm_spool_pending")
                             .Help("Reports waiting in the CSPM spool")
                             .Register(*registry)
                             .Add({})),
      policy_reloads(
          BuildCounter().Name("scangate_policy_reloads_total").Help("Policy reloads, by result").Register(*registry)),
      db_info(BuildGauge()
                  .Name("scangate_db_info")
                  .Help("Vulnerability DB in use (value 1), by revision")
                  .Register(*registry)),
      db_reloads(BuildCounter()
                     .Name("scangate_db_reloads_total")
                     .Help("Vulnerability DB reloads after its file was replaced, by result (error: the new file "
                           "was refused and the DB in use kept)")
                     .Register(*registry)),
      db_age(BuildGauge()
                 .Name("scangate_db_age_seconds")
                 .Help("Seconds since the vulnerability DB in use was built")
                 .Register(*registry)
                 .Add({})),
      db_pulls(BuildCounter()
                   .Name("scangate_db_pulls_total")
                   .Help("Checks of --db-repository, by result (updated: a new DB was pulled and put in place; "
                         "unchanged: the artifact is the DB in use; error: the pull failed or the DB was refused, "
                         "and the DB in use kept)")
                   .Register(*registry)),
      tls_certificate_expiry(BuildGauge()
                                 .Name("scangate_tls_certificate_expiry_timestamp_seconds")
                                 .Help("notAfter of the served TLS certificate, Unix seconds")
                                 .Register(*registry)
                                 .Add({})),
      tls_reloads(BuildCounter()
                      .Name("scangate_tls_reloads_total")
                      .Help("TLS certificate reloads, by result")
                      .Register(*registry)),
      tls_handshake_errors(BuildCounter()
                               .Name("scangate_tls_handshake_errors_total")
                               .Help("TLS handshakes that failed (old protocol versions, bad clients)")
                               .Register(*registry)
                               .Add({})),
      plain_http_on_tls(BuildCounter()
                            .Name("scangate_plain_http_requests_on_tls_port_total")
                            .Help("Plain-HTTP requests refused on the HTTPS port")
                            .Register(*registry)
                            .Add({})),
      http_requests(BuildCounter()
                        .Name("scangate_http_requests_total")
                        .Help("HTTP responses sent, by status code")
                        .Register(*registry)),
      webhook_info(
          BuildGauge().Name("scangate_webhook_info").Help("Webhook build information (value 1)").Register(*registry)),
      http_buffered_body_bytes(BuildGauge()
                                   .Name("scangate_http_buffered_body_bytes")
                                   .Help("Request-body bytes buffered now, across all connections")
                                   .Register(*registry)
                                   .Add({})),
      http_body_budget_refusals(BuildCounter()
                                    .Name("scangate_http_body_budget_refusals_total")
                                    .Help("Requests answered 503 because the buffered request-body budget was spent")
                                    .Register(*registry)
                                    .Add({})),
      work_rejected(BuildCounter()
                        .Name("scangate_work_rejected_total")
                        .Help("Tag look-ups, scans and reviews the verdict engine refused or abandoned because it "
                              "was overloaded, by pool and reason")
                        .Register(*registry)) {
  webhook_info.Add({{"version", version}}).Set(1);
  for (const char* r : {"ok", "error", "timeout"}) scans.Add({{"result", r}});
  db_pulls.Add({{"result", "unchanged"}});
  for (const char* r : {"ok", "error"}) rematches.Add({{"result", r}});
  for (const char* r : {"ok", "error", "spooled"}) cspm_uploads.Add({{"result", r}});
  for (const char* r : {"ok", "error"}) {
    policy_reloads.Add({{"result", r}});
    db_reloads.Add({{"result", r}});
    db_pulls.Add({{"result", r == std::string("ok") ? "updated" : r}});
    tls_reloads.Add({{"result", r}});
  }
  for (const auto& r : kRejections)
    work_rejected.Add({{"pool", std::string(r.pool)}, {"reason", std::string(r.reason)}});
  set_db_revision("none");
}

std::string_view WebhookMetrics::admission_operation_label(std::string_view operation) {
  return kOperationLabels[index_in(kOperationLabels, operation)];
}

std::string_view WebhookMetrics::admission_kind_label(std::string_view kind) {
  return kKindLabels[index_in(kKindLabels, kind)];
}

prometheus::Counter& WebhookMetrics::scan_result(std::string_view result) {
  return closed_child(scans, "result", {"ok", "error", "timeout"}, result);
}

prometheus::Counter& WebhookMetrics::cspm_upload_result(std::string_view result) {
  return closed_child(cspm_uploads, "result", {"ok", "error", "spooled"}, result);
}

prometheus::Counter& WebhookMetrics::policy_reload_result(std::string_view result) {
  return closed_child(policy_reloads, "result", {"ok", "error"}, result);
}

prometheus::Counter& WebhookMetrics::db_reload_result(std::string_view result) {
  return closed_child(db_reloads, "result", {"ok", "error"}, result);
}

prometheus::Counter& WebhookMetrics::rematch_result(std::string_view result) {
  return closed_child(rematches, "result", {"ok", "error"}, result);
}

prometheus::Counter& WebhookMetrics::attestation_result(std::string_view result) {
  return closed_child(attestations, "result",
                      {"verified", "bad_signature", "unsigned", "wrong_subject", "stale", "unsupported_type",
                       "malformed", "sbom_unreadable", "sbom_missing", "none", "error"},
                      result);
}

prometheus::Counter& WebhookMetrics::db_pull_result(std::string_view result) {
  return closed_child(db_pulls, "result", {"updated", "unchanged", "error"}, result);
}

prometheus::Counter& WebhookMetrics::work_rejected_for(std::string_view engine_reason) {
  for (const auto& r : kRejections)
    if (r.engine == engine_reason)
      return work_rejected.Add({{"pool", std::string(r.pool)}, {"reason", std::string(r.reason)}});
  return work_rejected.Add({{"pool", "other"}, {"reason", "other"}});
}

prometheus::Counter& WebhookMetrics::admission_request(std::string_view operation, std::string_view kind,
                                                       bool allowed) {
  static_assert(std::size(kOperationLabels) == kOperations && std::size(kKindLabels) == kKinds);
  const std::size_t op = index_in(kOperationLabels, operation), k = index_in(kKindLabels, kind);
  auto& slot = admission_children_[(op * kKinds + k) * 2 + (allowed ? 1 : 0)];
  if (prometheus::Counter* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(admission_mu_);
  if (prometheus::Counter* c = slot.load(std::memory_order_acquire)) return *c;
  auto& child = admission_requests.Add({{"operation", std::string(kOperationLabels[op])},
                                        {"kind", std::string(kKindLabels[k])},
                                        {"decision", allowed ? "allowed" : "denied"}});
  slot.store(&child, std::memory_order_release);
  return child;
}

void WebhookMetrics::set_db_revision(const std::string& revision) {
  std::lock_guard lock(db_mu_);
  if (db_info_child_ != nullptr) db_info.Remove(db_info_child_);
  // The DB's own revision (a digest or a date): one series at a time, and never a long value.
  db_info_child_ = &db_info.Add({{"revision", revision.substr(0, 128)}});
  db_info_child_->Set(1);
}

std::string WebhookMetrics::render() const { return prometheus::TextSerializer().Serialize(registry->Collect()); }

Handler make_metrics_handler(const WebhookMetrics& metrics) {
  return [&metrics](Request req, Respond respond) {
    if (req.path() != "/metrics") return respond(text_response(404, "not found: metrics are served at /metrics"));
    if (req.method != "GET" && req.method != "HEAD") {
      Response r = text_response(405, "method not allowed: use GET /metrics");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return respond(std::move(r));
    }
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.render();
    respond(std::move(r));
  };
}

}  // namespace scangate::webhook
