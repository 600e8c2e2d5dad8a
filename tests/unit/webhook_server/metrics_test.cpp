// WebhookMetrics renders the text exposition with every declared metric.
#include <catch2/catch.hpp>

#include <optional>
#include <sstream>

#include "webhook/admission/workload.h"
#include "webhook/server/metrics.h"

using namespace scangate::webhook;

TEST_CASE("metric names and the db_info revision", "[metrics]") {
  WebhookMetrics m("1.2.3");
  m.set_db_revision("2024-05-01T00:00:00Z");
  m.set_db_revision("2024-05-02T00:00:00Z");
  m.verdict_cache_hits.Increment();
  m.admission_requests.Add({{"operation", "CREATE"}, {"kind", "Pod"}, {"decision", "allowed"}}).Increment();
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE scangate_admission_requests_total counter"));
  CHECK_THAT(text, Catch::Contains("# TYPE scangate_admission_duration_seconds histogram"));
  CHECK_THAT(text, Catch::Contains("scangate_webhook_info{version=\"1.2.3\"} 1"));
  CHECK_THAT(text, Catch::Contains("scangate_db_info{revision=\"2024-05-02T00:00:00Z\"} 1"));
  CHECK(text.find("2024-05-01") == std::string::npos);  // the old revision is gone
  CHECK_THAT(text, Catch::Contains("scangate_verdict_cache_hits_total 1"));
  CHECK_THAT(text, Catch::Contains("scangate_cspm_uploads_total{result=\"spooled\"} 0"));
}

TEST_CASE("admission_request keeps one child per label set", "[metrics]") {
  WebhookMetrics m("t");
  auto* a = &m.admission_request("CREATE", "Pod", true);
  CHECK(&m.admission_request("CREATE", "Pod", true) == a);
  CHECK(&m.admission_request("CREATE", "Pod", false) != a);
  const std::string long_kind(300, 'K');  // longer than the key buffer
  m.admission_request("UPDATE", long_kind, false).Increment();
  m.admission_request("UPDATE", long_kind, false).Increment();
  a->Increment();
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains(
                       R"(scangate_admission_requests_total{decision="allowed",kind="Pod",operation="CREATE"} 1)"));
  CHECK_THAT(
      text, Catch::Contains(R"(scangate_admission_requests_total{decision="denied",kind="Pod",operation="CREATE"} 0)"));
  // A kind the webhook does not know is counted under "other", never as its own series.
  CHECK(text.find(long_kind) == std::string::npos);
  CHECK_THAT(text, Catch::Contains(
                       R"(scangate_admission_requests_total{decision="denied",kind="other",operation="UPDATE"} 2)"));
}

TEST_CASE("the metrics handler serves GET /metrics only", "[metrics]") {
  WebhookMetrics m("t");
  auto h = make_metrics_handler(m);
  auto call = [&](const char* method, const char* target) {
    Request r;
    r.method = method;
    r.target = target;
    std::optional<Response> out;
    h(r, [&](Response resp) { out = std::move(resp); });
    REQUIRE(out.has_value());
    return *out;
  };
  auto ok = call("GET", "/metrics");
  CHECK(ok.status == 200);
  CHECK(ok.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(call("GET", "/").status == 404);
  CHECK(call("POST", "/metrics").status == 405);
}

namespace {

// Samples (lines) of `name` in the exposition.
size_t series(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0) ++n;
  return n;
}

}  // namespace

TEST_CASE("admission labels come from closed sets: 20,000 unique operations and kinds add no series",
          "[metrics][limits]") {
  WebhookMetrics m("t");
  const std::string huge(1 << 20, 'A');  // a 1 MiB label value, as in the report
  for (int i = 0; i < 20000; ++i) {
    m.admission_request("OP" + std::to_string(i), "Kind" + std::to_string(i), i % 2 == 0).Increment();
  }
  for (int i = 0; i < 5; ++i) m.admission_request(huge, huge, false).Increment();
  for (const char* op : {"CREATE", "UPDATE", "DELETE", "CONNECT"}) m.admission_request(op, "Pod", true).Increment();
  const std::string text = m.render();
  // 10,000 + 5 denied and 10,000 allowed under {other, other}; the four known operations on Pod.
  CHECK_THAT(text, Catch::Contains(
                       R"(scangate_admission_requests_total{decision="denied",kind="other",operation="other"} 10005)"));
  CHECK_THAT(
      text,
      Catch::Contains(R"(scangate_admission_requests_total{decision="allowed",kind="other",operation="other"} 10000)"));
  for (const char* op : {"CREATE", "UPDATE", "DELETE", "CONNECT"})
    CHECK_THAT(text, Catch::Contains(
                         std::string(R"(scangate_admission_requests_total{decision="allowed",kind="Pod",operation=")") +
                         op + "\"} 1"));
  CHECK(series(text, "scangate_admission_requests_total") == 6);
  CHECK(text.find("AAAA") == std::string::npos);
  CHECK(text.size() < 20000);  // the whole exposition stays small

  // Every combination together stays under the documented bound of 100 series.
  const char* ops[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "PATCH"};
  const char* kinds[] = {"Pod",         "ReplicationController",
                         "PodTemplate", "Deployment",
                         "ReplicaSet",  "StatefulSet",
                         "DaemonSet",   "Job",
                         "CronJob",     "Secret"};
  for (const char* op : ops)
    for (const char* k : kinds)
      for (bool allowed : {true, false}) m.admission_request(op, k, allowed).Increment();
  CHECK(series(m.render(), "scangate_admission_requests_total") == 100);
}

TEST_CASE("the kind label set is the kinds the webhook reads images from", "[metrics][limits]") {
  using scangate::admission::pod_spec_path;
  using scangate::admission::PodSpecPath;
  const std::pair<const char*, const char*> known[] = {{"", "Pod"},
                                                       {"", "ReplicationController"},
                                                       {"", "PodTemplate"},
                                                       {"apps", "Deployment"},
                                                       {"apps", "ReplicaSet"},
                                                       {"apps", "StatefulSet"},
                                                       {"apps", "DaemonSet"},
                                                       {"batch", "Job"},
                                                       {"batch", "CronJob"}};
  for (const auto& [group, kind] : known) {
    INFO(kind);
    CHECK(pod_spec_path(group, kind) != PodSpecPath::kNone);
    CHECK(WebhookMetrics::admission_kind_label(kind) == kind);
  }
  CHECK(WebhookMetrics::admission_kind_label("pod") == "other");  // exact, case-sensitive as Kubernetes kinds
  CHECK(WebhookMetrics::admission_kind_label("") == "other");
  CHECK(WebhookMetrics::admission_operation_label("create") == "other");
  CHECK(WebhookMetrics::admission_operation_label("CONNECT") == "CONNECT");
}

TEST_CASE("result and rejection labels are closed too", "[metrics][limits]") {
  WebhookMetrics m("t");
  m.scan_result("ok").Increment();
  m.scan_result("weird\nvalue").Increment();
  m.cspm_upload_result("spooled").Increment();
  m.cspm_upload_result("x").Increment();
  m.policy_reload_result("error").Increment();
  m.policy_reload_result("y").Increment();
  m.work_rejected_for("scan_queue_full").Increment();
  m.work_rejected_for("scan_queue_full").Increment();
  m.work_rejected_for("lookup_registry_busy").Increment();
  m.work_rejected_for("too_many_images").Increment();
  m.work_rejected_for("something new").Increment();
  m.set_db_revision(std::string(5000, 'r'));
  const std::string text = m.render();
  CHECK_THAT(text, Catch::Contains(R"(scangate_scans_total{result="ok"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_scans_total{result="other"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_cspm_uploads_total{result="spooled"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_cspm_uploads_total{result="other"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_policy_reloads_total{result="error"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_policy_reloads_total{result="other"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="scan",reason="queue_full"} 2)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="lookup",reason="registry_busy"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="review",reason="too_many_images"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="other",reason="other"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="lookup",reason="expired"} 0)"));
  CHECK(series(text, "scangate_work_rejected_total") == 7);
  CHECK(text.find(std::string(129, 'r')) == std::string::npos);
  CHECK_THAT(text, Catch::Contains("scangate_db_info{revision=\"" + std::string(128, 'r') + "\"} 1"));
}
