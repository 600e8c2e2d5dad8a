// DefectDojo's import-scan request against a tiny server on loopback.
#include <catch2/catch.hpp>

#include "cspm_test_util.h"
#include "scanner/cspm/sink.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;

namespace {

const char* kKey = "dd-key-0123456789abcdef";

SpoolEntry entry(const std::string& payload) {
  SpoolEntry e;
  e.id = "00000001700000000000-0002-00c0ffee";
  e.payload = payload;
  e.metadata = {{kMetaFileName, "alpine-310.json"}};
  return e;
}

DefectDojoConfig config_for(const std::string& url) {
  DefectDojoConfig c;
  c.base_url = url;
  c.token = kKey;
  return c;
}

}  // namespace

TEST_CASE("defectdojo sink: import-scan into an engagement by id", "[defectdojo]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 201;  // DefectDojo answers 201 Created with the import summary
    res.set_content(R"({"test": 12, "engagement_id": 7, "scan_type": "Trivy Scan"})", "application/json");
  });
  auto c = config_for(server.url());
  c.engagement_id = "7";
  std::string report = ct::sample_report();
  auto r = make_defectdojo_sink(c)->send(entry(report));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kDelivered);
  REQUIRE(server.count() == 1);
  auto req = server.requests()[0];
  CHECK(req.method == "POST");
  CHECK(req.target == "/api/v2/import-scan/");
  CHECK(req.header("Authorization") == std::string("Token ") + kKey);
  CHECK(req.form["scan_type"].content == "Trivy Scan");
  CHECK(req.form["engagement"].content == "7");
  CHECK(req.form["file"].content == report);
  CHECK(req.form["file"].filename == "alpine-310.json");
  CHECK(req.form.count("product_name") == 0);
  CHECK(req.form.count("auto_create_context") == 0);
}

TEST_CASE("defectdojo sink: product and engagement names with auto_create_context", "[defectdojo]") {
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 201;
    res.set_content("{}", "application/json");
  });
  auto c = config_for(server.url());
  c.product_name = "shop-frontend";
  c.engagement_name = "CI/CD";
  c.product_type_name = "Web";
  c.auto_create_context = true;
  REQUIRE(make_defectdojo_sink(c)->send(entry("{}")).ok());
  auto req = server.requests()[0];
  CHECK(req.form["product_name"].content == "shop-frontend");
  CHECK(req.form["engagement_name"].content == "CI/CD");
  CHECK(req.form["product_type_name"].content == "Web");
  CHECK(req.form["auto_create_context"].content == "true");
  CHECK(req.form.count("engagement") == 0);
}

TEST_CASE("defectdojo sink: a wrong key is an authentication failure, without the key in it", "[defectdojo]") {
  ct::ScriptedServer server([](int, const httplib::Request& req, httplib::Response& res) {
    res.status = 401;
    res.set_content("{\"detail\":\"Invalid token " + req.get_header_value("Authorization") + "\"}", "application/json");
  });
  auto c = config_for(server.url());
  c.engagement_id = "7";
  auto r = make_defectdojo_sink(c)->send(entry("{}"));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kPermanentAuth);
  CHECK(r->detail.find(kKey) == std::string::npos);
  CHECK(make_defectdojo_sink(c)->describe() == "DefectDojo " + server.url());
}
