// make_router without sockets: requests in, responses out.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>

#include "support/test_support.h"
#include "webhook/server/metrics.h"
#include "webhook/server/router.h"

using nlohmann::json;
using namespace scangate;
using namespace scangate::webhook;

namespace {

std::string sample(const std::string& name) {
  return scangate::test::read_file(scangate::test::testdata("admission/" + name));
}

Request make(std::string method, std::string target, std::string body = "",
             std::string content_type = "application/json") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  r.received = std::chrono::steady_clock::now();
  return r;
}

Response call(const Handler& h, Request req) {
  std::optional<Response> out;
  h(std::move(req), [&](Response r) { out = std::move(r); });
  REQUIRE(out.has_value());
  return *out;
}

}  // namespace

TEST_CASE("content types accepted for /validate", "[router]") {
  CHECK(is_json_content_type("application/json"));
  CHECK(is_json_content_type("Application/JSON"));
  CHECK(is_json_content_type("application/json; charset=utf-8"));
  CHECK(is_json_content_type("application/json;charset=\"UTF-8\""));
  CHECK_FALSE(is_json_content_type(""));
  CHECK_FALSE(is_json_content_type("text/plain"));
  CHECK_FALSE(is_json_content_type("application/jsonx"));
  CHECK_FALSE(is_json_content_type("application/json; charset=latin1"));
  CHECK_FALSE(is_json_content_type("application/yaml"));
}

TEST_CASE("/validate decodes, asks the decider and renders its decision", "[router]") {
  WebhookMetrics metrics("test");
  std::optional<admission::AdmissionRequest> seen;
  std::optional<DecideContext> seen_ctx;
  RouterOptions o;
  o.metrics = &metrics;
  o.decider = [&](admission::AdmissionRequest req, DecideContext ctx, DecisionCallback done) {
    seen = req;
    seen_ctx = ctx;
    admission::AdmissionDecision d;
    d.allowed = false;
    d.message = "denied by test";
    d.warnings = {"w1"};
    d.audit_annotations = {{"scangate.io/mode", "audit"}};
    d.cache_miss = true;
    done(std::move(d));
  };
  auto h = make_router(std::move(o));
  auto r = call(h, make("POST", "/validate?timeout=30s", sample("01-pod-create-privileged.admissionreview.json")));
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  json reply = json::parse(r.body);
  CHECK(reply["response"]["uid"] == "1299d386-525b-4032-98ae-1949f69f9cfc");
  CHECK(reply["response"]["allowed"] == false);
  CHECK(reply["response"]["status"]["code"] == 403);
  CHECK(reply["response"]["status"]["message"] == "denied by test");
  CHECK(reply["response"]["warnings"] == json::array({"w1"}));
  CHECK(reply["response"]["auditAnnotations"]["scangate.io/mode"] == "audit");
  REQUIRE(seen.has_value());
  CHECK(seen->images.size() == 2);
  REQUIRE(seen_ctx->timeout.has_value());
  CHECK(*seen_ctx->timeout == std::chrono::seconds(30));
  auto text = metrics.render();
  CHECK_THAT(
      text, Catch::Contains(R"(scangate_admission_requests_total{decision="denied",kind="Pod",operation="CREATE"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(scangate_admission_duration_seconds_count{cache="miss"} 1)"));
}

TEST_CASE("/validate errors: 415, 400, 405", "[router]") {
  bool called = false;
  RouterOptions o;
  o.decider = [&](admission::AdmissionRequest, DecideContext, DecisionCallback done) {
    called = true;
    done({});
  };
  auto h = make_router(std::move(o));
  auto body = sample("01-pod-create-privileged.admissionreview.json");
  CHECK(call(h, make("POST", "/validate", body, "text/plain")).status == 415);
  CHECK(call(h, make("POST", "/validate", body, "")).status == 415);
  auto bad = call(h, make("POST", "/validate", "{not json"));
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::StartsWith("invalid AdmissionReview: malformed JSON"));
  auto get = call(h, make("GET", "/validate"));
  CHECK(get.status == 405);
  REQUIRE(get.headers.size() == 1);
  CHECK(get.headers[0] == std::pair<std::string, std::string>{"Allow", "POST"});
  CHECK_FALSE(called);
}

TEST_CASE("healthz, readyz and unknown paths", "[router]") {
  std::atomic<bool> ready{false};
  RouterOptions o;
  o.ready = &ready;
  auto h = make_router(std::move(o));
  CHECK(call(h, make("GET", "/healthz")).status == 200);
  CHECK(call(h, make("GET", "/readyz")).status == 503);
  ready = true;
  CHECK(call(h, make("GET", "/readyz")).status == 200);
  CHECK(call(h, make("POST", "/healthz")).status == 405);
  CHECK(call(h, make("GET", "/")).status == 404);
}

TEST_CASE("without a decider, /validate answers a denial rather than crashing", "[router]") {
  auto h = make_router({});
  auto r = call(h, make("POST", "/validate", sample("02-pod-create-unprivileged.admissionreview.json")));
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["response"]["allowed"] == false);
}
