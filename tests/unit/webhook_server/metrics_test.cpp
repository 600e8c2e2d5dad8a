// WebhookMetrics renders the text exposition with every declared metric.
#include <catch2/catch.hpp>

#include <optional>

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
  CHECK_THAT(text, Catch::Contains("scangate_admission_requests_total{decision=\"denied\",kind=\"" + long_kind +
                                   "\",operation=\"UPDATE\"} 2"));
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
