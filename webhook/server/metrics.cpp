#include "webhook/server/metrics.h"

#include <prometheus/text_serializer.h>

#include <cstring>

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
          BuildGauge().Name("scangate_webhook_info").Help("Webhook build information (value 1)").Register(*registry)) {
  webhook_info.Add({{"version", version}}).Set(1);
  for (const char* r : {"ok", "error", "timeout"}) scans.Add({{"result", r}});
  for (const char* r : {"ok", "error", "spooled"}) cspm_uploads.Add({{"result", r}});
  for (const char* r : {"ok", "error"}) {
    policy_reloads.Add({{"result", r}});
    tls_reloads.Add({{"result", r}});
  }
  set_db_revision("none");
}

prometheus::Counter& WebhookMetrics::admission_request(std::string_view operation, std::string_view kind,
                                                       bool allowed) {
  // Key: the three label values; '\n' cannot occur in any of them unescaped.
  char buf[160];
  std::string_view decision = allowed ? "allowed" : "denied";
  std::string_view key;
  std::string long_key;
  if (operation.size() + kind.size() + decision.size() + 2 <= sizeof buf) {
    char* p = buf;
    for (std::string_view part : {operation, std::string_view("\n"), kind, std::string_view("\n"), decision}) {
      std::memcpy(p, part.data(), part.size());
      p += part.size();
    }
    key = std::string_view(buf, static_cast<std::size_t>(p - buf));
  } else {
    long_key = std::string(operation) + "\n" + std::string(kind) + "\n" + std::string(decision);
    key = long_key;
  }
  std::lock_guard lock(admission_mu_);
  if (auto it = admission_children_.find(key); it != admission_children_.end()) return *it->second;
  auto& child = admission_requests.Add(
      {{"operation", std::string(operation)}, {"kind", std::string(kind)}, {"decision", std::string(decision)}});
  admission_children_.emplace(std::string(key), &child);
  return child;
}

void WebhookMetrics::set_db_revision(const std::string& revision) {
  std::lock_guard lock(db_mu_);
  if (db_info_child_ != nullptr) db_info.Remove(db_info_child_);
  db_info_child_ = &db_info.Add({{"revision", revision}});
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
