// The AccuKnox request against a real HTTP(S) server on loopback.
#include <catch2/catch.hpp>
#include <thread>

#include "cspm_test_util.h"
#include "scanner/cspm/sink.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;
using std::chrono::milliseconds;

namespace {

const char* kToken = "tok-AccuKnox-9f8e7d6c5b4a";

CspmConfig config_for(const std::string& url) {
  CspmConfig c;
  c.base_url = url;
  c.token = kToken;
  c.tenant_id = "167";
  c.label = "prod-images";
  c.http.connect_timeout = milliseconds(2000);
  c.http.read_timeout = milliseconds(3000);
  return c;
}

SpoolEntry entry(const std::string& payload, Metadata meta = {{kMetaDataType, "TR"}}) {
  SpoolEntry e;
  e.id = "00000001700000000000-0001-0badcafe";
  e.payload = payload;
  e.size = payload.size();
  e.metadata = std::move(meta);
  return e;
}

void answer(httplib::Response& res, int status, const std::string& detail) {
  res.status = status;
  res.set_content("{\"detail\":\"" + detail + "\"}", "application/json");
}

}  // namespace

TEST_CASE("accuknox sink: the exact request of the AccuKnox CI integrations", "[accuknox]") {
  ct::ScriptedServer server(
      [](int, const httplib::Request&, httplib::Response& res) { answer(res, 200, "File received successfully"); });
  auto sink = make_accuknox_sink(config_for(server.url()));
  std::string report = ct::sample_report();
  auto r = sink->send(entry(report));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kDelivered);
  CHECK(r->http_status == 200);

  REQUIRE(server.count() == 1);
  auto req = server.requests()[0];
  CHECK(req.method == "POST");
  CHECK(req.target == "/api/v1/artifact/?tenant_id=167&data_type=TR&label_id=prod-images&save_to_s3=false");
  CHECK(req.header("Tenant-Id") == "167");
  CHECK(req.header("Authorization") == std::string("Bearer ") + kToken);
  CHECK(req.header("X-Scangate-Report-Id") == "00000001700000000000-0001-0badcafe");
  CHECK(req.header("Idempotency-Key") == "00000001700000000000-0001-0badcafe");
  CHECK(req.header("Content-Type").rfind("multipart/form-data; boundary=", 0) == 0);
  REQUIRE(req.form.count("file") == 1);
  CHECK(req.form["file"].content == report);
  CHECK(req.form["file"].filename == "report.json");
  CHECK(req.form["file"].content_type == "application/json");
  CHECK(req.form.size() == 1);
}

TEST_CASE("accuknox sink: tenant and label are optional, the entry's label and type win", "[accuknox]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) { answer(res, 200, "ok"); });
  CspmConfig c = config_for(server.url());
  c.tenant_id.clear();
  c.label.clear();
  auto sink = make_accuknox_sink(c);
  REQUIRE(sink->send(entry("{}", {})).ok());
  REQUIRE(
      sink->send(entry(R"({"bomFormat":"CycloneDX"})", {{kMetaLabel, "team a"}, {kMetaFileName, "bom.json"}})).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].target == "/api/v1/artifact/?data_type=TR&save_to_s3=false");
  CHECK(reqs[0].header("Tenant-Id").empty());
  CHECK(reqs[1].target == "/api/v1/artifact/?data_type=SBOM&label_id=team%20a&save_to_s3=false");
  CHECK(reqs[1].form["file"].filename == "bom.json");
}

TEST_CASE("accuknox sink: a base URL with a path prefix keeps it", "[accuknox]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) { answer(res, 200, "ok"); });
  auto sink = make_accuknox_sink(config_for(server.url() + "/cspm"));
  REQUIRE(sink->send(entry("{}")).ok());
  CHECK(server.requests()[0].path == "/cspm/api/v1/artifact/");
}

TEST_CASE("accuknox sink: outcomes of 500, 429 + Retry-After, 401, 403, 400", "[accuknox]") {
  ct::ScriptedServer server([](int i, const httplib::Request& req, httplib::Response& res) {
    switch (i) {
      case 0: return answer(res, 500, "boom");
      case 1: res.set_header("Retry-After", "2"); return answer(res, 429, "slow down");
      case 2:  // a careless server echoing the credentials back
        return answer(res, 401, "Invalid token: " + req.get_header_value("Authorization"));
      case 3: return answer(res, 403, "tenant not allowed");
      default: return answer(res, 400, "label does not exist");
    }
  });
  auto sink = make_accuknox_sink(config_for(server.url()));
  auto e = entry("{}");
  auto r500 = sink->send(e);
  auto r429 = sink->send(e);
  auto r401 = sink->send(e);
  auto r403 = sink->send(e);
  auto r400 = sink->send(e);
  REQUIRE((r500.ok() && r429.ok() && r401.ok() && r403.ok() && r400.ok()));
  CHECK(r500->status == SendStatus::kRetryable);
  CHECK(r500->detail.find("HTTP 500: boom") != std::string::npos);
  CHECK(r429->status == SendStatus::kRetryable);
  CHECK(r429->retry_after == milliseconds(2000));
  CHECK(r401->status == SendStatus::kPermanentAuth);
  CHECK(r401->detail.find("authentication failed") != std::string::npos);
  CHECK(r401->detail.find(kToken) == std::string::npos);
  CHECK(r401->detail.find("Bearer [REDACTED]") != std::string::npos);
  CHECK(r403->status == SendStatus::kPermanentAuth);
  CHECK(r400->status == SendStatus::kPermanent);
  CHECK(r400->detail.find("label does not exist") != std::string::npos);
}

TEST_CASE("accuknox sink: a server too slow to answer is a retryable timeout", "[accuknox]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(milliseconds(700));
    answer(res, 200, "too late");
  });
  CspmConfig c = config_for(server.url());
  c.http.read_timeout = milliseconds(150);
  auto r = make_accuknox_sink(c)->send(entry("{}"));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kRetryable);
  CHECK(r->http_status == 0);
  CHECK(r->detail.find("failed") != std::string::npos);
}

TEST_CASE("accuknox sink: nobody listening is retryable", "[accuknox]") {
  auto r = make_accuknox_sink(config_for("http://127.0.0.1:" + std::to_string(ct::unused_port())))->send(entry("{}"));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kRetryable);
  CHECK(r->detail.find("POST http://127.0.0.1:") != std::string::npos);
}

TEST_CASE("accuknox sink: HTTPS is verified, --cacert makes a private CA trusted", "[accuknox][tls]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) { answer(res, 200, "ok"); },
                            /*tls=*/true);
  CspmConfig c = config_for(server.url());
  REQUIRE(c.base_url.rfind("https://", 0) == 0);

  SECTION("without the CA the certificate is refused and nothing is sent") {
    auto r = make_accuknox_sink(c)->send(entry("{}"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not trusted") != std::string::npos);
    CHECK(r.error().message.find("--cacert") != std::string::npos);
    CHECK(server.count() == 0);
  }
  SECTION("with the CA the report is delivered") {
    c.http.ca_file = ct::test_pki().ca_cert;
    auto r = make_accuknox_sink(c)->send(entry(ct::sample_report()));
    REQUIRE(r.ok());
    CHECK(r->status == SendStatus::kDelivered);
    REQUIRE(server.count() == 1);
    CHECK(server.requests()[0].form["file"].content == ct::sample_report());
  }
  SECTION("a CA file that is not PEM is a clear error") {
    c.http.ca_file = ct::test_pki().server_key + ".missing";
    auto r = make_accuknox_sink(c)->send(entry("{}"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("cannot load CA certificates") != std::string::npos);
  }
}
