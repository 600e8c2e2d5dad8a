// Every webhook metric, declared in one place (names scangate_<subsystem>_<name>). The struct
// owns its registry; main creates one and passes it to the server and the verdict engine.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <map>
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
  prometheus::Family<prometheus::Counter>& admission_requests;           // {operation, kind, decision}
  prometheus::Family<prometheus::Histogram>& admission_duration_family;  // {cache}
  prometheus::Histogram& admission_duration_hit;
  prometheus::Histogram& admission_duration_miss;

  // Scans triggered by the webhook (verdict engine).
  prometheus::Family<prometheus::Counter>& scans;  // {result}: ok | error | timeout
  prometheus::Histogram& scan_duration;

  // Verdict cache (verdict engine).
  prometheus::Gauge& verdict_cache_entries;
  prometheus::Counter& verdict_cache_hits;
  prometheus::Counter& verdict_cache_misses;

  // CSPM uploads and the durable spool.
  prometheus::Family<prometheus::Counter>& cspm_uploads;  // {result}: ok | error | spooled
  prometheus::Gauge& cspm_spool_pending;

  // Policy and vulnerability DB.
  prometheus::Family<prometheus::Counter>& policy_reloads;  // {result}: ok | error
  prometheus::Family<prometheus::Gauge>& db_info;           // {revision} = 1

  // TLS.
  prometheus::Gauge& tls_certificate_expiry;             // notAfter of the served cert, epoch s
  prometheus::Family<prometheus::Counter>& tls_reloads;  // {result}: ok | error
  prometheus::Counter& tls_handshake_errors;
  prometheus::Counter& plain_http_on_tls;

  // HTTP.
  prometheus::Family<prometheus::Counter>& http_requests;  // {code}
  prometheus::Family<prometheus::Gauge>& webhook_info;     // {version} = 1

  // The scangate_admission_requests_total child for these labels. The children are looked up
  // once per label set and kept (per request, Family::Add would build a label map and hash it).
  prometheus::Counter& admission_request(std::string_view operation, std::string_view kind, bool allowed);

  // Replaces the scangate_db_info child with one for `revision`.
  void set_db_revision(const std::string& revision);

  // Text exposition format 0.0.4.
  std::string render() const;

 private:
  std::mutex db_mu_;
  std::mutex admission_mu_;
  std::map<std::string, prometheus::Counter*, std::less<>> admission_children_;
  prometheus::Gauge* db_info_child_ = nullptr;
};

// GET /metrics -> the exposition; anything else 404 (405 for other methods on /metrics).
Handler make_metrics_handler(const WebhookMetrics& metrics);

}  // namespace scangate::webhook
