// The local receiver over real HTTP(S) on loopback.
#include "scanner/cspm/receiver.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cspm_test_util.h"
#include "scanner/cspm/sink.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;
using nlohmann::json;

namespace {

const char* kToken = "rcv-token-5a4b3c2d1e";

std::unique_ptr<Receiver> start_receiver(ReceiverOptions o) {
  auto r = Receiver::create(std::move(o));
  REQUIRE(r.ok());
  auto port = (*r)->bind("127.0.0.1", 0);
  REQUIRE(port.ok());
  REQUIRE(*port > 0);
  REQUIRE((*r)->start().ok());
  return std::move(r.value());
}

ReceiverOptions options(const std::string& dir) {
  ReceiverOptions o;
  o.dir = dir;
  o.token = kToken;
  return o;
}

httplib::Headers auth_headers(const std::string& token = kToken) {
  return {{"Authorization", "Bearer " + token}, {"Tenant-Id", "167"}};
}

httplib::MultipartFormDataItems file_item(const std::string& content) {
  return {{"file", content, "report.json", "application/json"}};
}

const char* kTarget = "/api/v1/artifact/?tenant_id=167&data_type=TR&label_id=prod&save_to_s3=false";

std::string sha256sum(const std::string& data) {
  auto r = scangate::test::run_process({"/usr/bin/sha256sum"}, data);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, 64);
}

SpoolEntry entry(const std::string& id, const std::string& payload) {
  SpoolEntry e;
  e.id = id;
  e.payload = payload;
  e.metadata = {{kMetaDataType, "TR"}};
  return e;
}

CspmConfig sink_config(const Receiver& r) {
  CspmConfig c;
  c.base_url = r.url();
  c.token = kToken;
  c.tenant_id = "167";
  c.label = "prod";
  return c;
}

}  // namespace

TEST_CASE("receiver: stores the file and its metadata, answers like the AccuKnox endpoint", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto rcv = start_receiver(options(dir));
  httplib::Client cli(rcv->url());
  std::string report = ct::sample_report();
  auto headers = auth_headers();
  headers.emplace("X-Scangate-Report-Id", "r-0001");
  auto res = cli.Post(kTarget, headers, file_item(report));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(json::parse(res->body) == json{{"detail", "File received successfully"}});

  CHECK(ct::files_in(dir) == std::vector<std::string>{".tmp", "000001-r-0001.json", "000001-r-0001.meta.json"});
  CHECK(scangate::test::read_file(dir + "/000001-r-0001.json") == report);
  auto meta = json::parse(scangate::test::read_file(dir + "/000001-r-0001.meta.json"));
  CHECK(meta["report_id"] == "r-0001");
  CHECK(meta["size"] == report.size());
  CHECK(meta["sha256"] == sha256sum(report));
  CHECK(meta["query"] ==
        json{{"tenant_id", "167"}, {"data_type", "TR"}, {"label_id", "prod"}, {"save_to_s3", "false"}});
  CHECK(meta["headers"]["Tenant-Id"] == "167");
  CHECK_FALSE(meta["headers"].contains("Authorization"));
  CHECK(meta["filename"] == "report.json");
  CHECK(meta.contains("received_at"));
  CHECK(scangate::test::read_file(dir + "/000001-r-0001.meta.json").find(kToken) == std::string::npos);
  CHECK(rcv->stored_count() == 1);
}

TEST_CASE("receiver: refuses missing or wrong credentials with 401 and stores nothing", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto rcv = start_receiver(options(dir));
  httplib::Client cli(rcv->url());
  auto none = cli.Post(kTarget, httplib::Headers{{"Tenant-Id", "167"}}, file_item("{}"));
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(json::parse(none->body)["detail"] == "Authentication credentials were not provided.");
  auto wrong = cli.Post(kTarget, auth_headers("rcv-token-5a4b3c2d1f"), file_item("{}"));
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(json::parse(wrong->body)["detail"] == "Invalid token.");
  auto scheme = cli.Post(kTarget, httplib::Headers{{"Authorization", std::string("Token ") + kToken}}, file_item("{}"));
  REQUIRE(scheme);
  CHECK(scheme->status == 401);
  auto prefix = cli.Post(kTarget, auth_headers(std::string(kToken) + "x"), file_item("{}"));
  REQUIRE(prefix);
  CHECK(prefix->status == 401);
  CHECK(rcv->stored_count() == 0);
  CHECK(ct::files_in(dir) == std::vector<std::string>{".tmp"});
}

TEST_CASE("receiver: malformed requests are 400 with a detail", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.tenant_id = "167";
  auto rcv = start_receiver(ro);
  httplib::Client cli(rcv->url());

  auto mismatch = cli.Post("/api/v1/artifact/?tenant_id=168&data_type=TR", auth_headers(), file_item("{}"));
  REQUIRE(mismatch);
  CHECK(mismatch->status == 400);
  CHECK(json::parse(mismatch->body)["detail"].get<std::string>().find("Tenant-Id") != std::string::npos);

  auto other_tenant = cli.Post("/api/v1/artifact/?tenant_id=5&data_type=TR",
                               httplib::Headers{{"Authorization", std::string("Bearer ") + kToken}}, file_item("{}"));
  REQUIRE(other_tenant);
  CHECK(other_tenant->status == 403);

  auto no_type = cli.Post("/api/v1/artifact/?tenant_id=167", auth_headers(), file_item("{}"));
  REQUIRE(no_type);
  CHECK(no_type->status == 400);

  httplib::MultipartFormDataItems wrong_field = {{"report", "{}", "report.json", "application/json"}};
  auto no_file = cli.Post(kTarget, auth_headers(), wrong_field);
  REQUIRE(no_file);
  CHECK(no_file->status == 400);
  CHECK(json::parse(no_file->body)["detail"] == "the multipart form field 'file' is required");

  auto not_json = cli.Post(kTarget, auth_headers(), file_item("CRITICAL but not JSON"));
  REQUIRE(not_json);
  CHECK(not_json->status == 400);

  auto bad_id_headers = auth_headers();
  bad_id_headers.emplace("X-Scangate-Report-Id", "../../etc/passwd");
  auto bad_id = cli.Post(kTarget, bad_id_headers, file_item("{}"));
  REQUIRE(bad_id);
  CHECK(bad_id->status == 400);

  auto plain = cli.Post(kTarget, auth_headers(), "{}", "application/json");
  REQUIRE(plain);
  CHECK(plain->status == 400);

  auto wrong_path = cli.Post("/api/v1/other/", auth_headers(), file_item("{}"));
  REQUIRE(wrong_path);
  CHECK(wrong_path->status == 404);

  CHECK(rcv->stored_count() == 0);
}

TEST_CASE("receiver: a body over the limit is refused with 413", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.max_body_bytes = 4096;
  auto rcv = start_receiver(ro);
  httplib::Client cli(rcv->url());
  auto big = cli.Post(kTarget, auth_headers(), file_item(ct::sample_report()));  // ~20 KB
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK(rcv->stored_count() == 0);
  auto small = cli.Post(kTarget, auth_headers(), file_item("{\"ok\":true}"));
  REQUIRE(small);
  CHECK(small->status == 200);
}

TEST_CASE("receiver: a report id is stored once, also across restarts", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  std::string id = "00000001700000000000-0001-0badcafe";
  {
    auto rcv = start_receiver(options(dir));
    auto sink = make_accuknox_sink(sink_config(*rcv));
    auto first = sink->send(entry(id, ct::sample_report()));
    auto again = sink->send(entry(id, ct::sample_report()));
    REQUIRE((first.ok() && again.ok()));
    CHECK(first->status == SendStatus::kDelivered);
    CHECK(again->status == SendStatus::kDelivered);  // answered as a success: the sender may forget it
    CHECK(rcv->stored_count() == 1);
  }
  auto rcv = start_receiver(options(dir));
  CHECK(rcv->stored_count() == 1);
  auto sink = make_accuknox_sink(sink_config(*rcv));
  REQUIRE(sink->send(entry(id, ct::sample_report())).ok());
  REQUIRE(sink->send(entry("00000001700000000001-0001-0badcafe", ct::sample_report_2())).ok());
  CHECK(ct::files_in(dir) == std::vector<std::string>{".tmp", "000001-" + id + ".json", "000001-" + id + ".meta.json",
                                                      "000002-00000001700000000001-0001-0badcafe.json",
                                                      "000002-00000001700000000001-0001-0badcafe.meta.json"});
}

TEST_CASE("receiver: reports without an id are all kept", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto rcv = start_receiver(options(dir));
  httplib::Client cli(rcv->url());
  for (int i = 0; i < 2; ++i) {
    auto res = cli.Post(kTarget, auth_headers(), file_item("{}"));
    REQUIRE(res);
    CHECK(res->status == 200);
  }
  CHECK(rcv->stored_count() == 2);
}

TEST_CASE("receiver: health check and graceful stop", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto rcv = start_receiver(options(dir));
  httplib::Client cli(rcv->url());
  auto h = cli.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  rcv->stop();
  rcv->stop();  // twice is fine
  httplib::Client after(rcv->url());
  after.set_connection_timeout(std::chrono::milliseconds(500));
  CHECK_FALSE(after.Get("/healthz"));
}

TEST_CASE("receiver: stop before serving returns at once", "[receiver]") {
  auto r = Receiver::create(options(scangate::test::make_temp_dir("sg-receiver")));
  REQUIRE(r.ok());
  REQUIRE((*r)->bind("127.0.0.1", 0).ok());
  (*r)->stop();
  CHECK((*r)->serve().ok());
}

TEST_CASE("receiver: HTTPS with a certificate from the test CA", "[receiver][tls]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.tls_cert_file = ct::test_pki().server_cert;
  ro.tls_key_file = ct::test_pki().server_key;
  auto rcv = start_receiver(ro);
  CHECK(rcv->url().rfind("https://127.0.0.1:", 0) == 0);
  auto c = sink_config(*rcv);
  c.http.ca_file = ct::test_pki().ca_cert;
  auto r = make_accuknox_sink(c)->send(entry("00000001700000000000-0003-00000001", ct::sample_report()));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kDelivered);
  CHECK(rcv->stored_count() == 1);
}

TEST_CASE("receiver: configuration errors", "[receiver]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto o = options(dir);
  o.token.clear();
  CHECK(Receiver::create(o).error().message.find("token") != std::string::npos);
  o = options(dir);
  o.tls_cert_file = ct::test_pki().server_cert;
  CHECK(Receiver::create(o).error().message.find("--tls-private-key-file") != std::string::npos);
  o.tls_key_file = ct::test_pki().ca_cert;  // not the certificate's key
  CHECK(Receiver::create(o).error().message.find("cannot load the TLS certificate") != std::string::npos);
  o = options("");
  CHECK_FALSE(Receiver::create(o).ok());
}

TEST_CASE("receiver: a %0A in tenant_id or data_type cannot forge a log line", "[receiver][log]") {
  // Before the core logger, "tenant 167\nlevel=error ..." reached stderr as two lines.
  const std::string forged = "level=error component=receiver msg=\"forged\"";
  const std::string tenant = "167\n" + forged;
  const std::string target =
      "/api/v1/artifact/?tenant_id=167%0Alevel%3Derror%20component%3Dreceiver%20msg%3D%22forged%22"
      "&data_type=TR%0D%0Aevil%3D1&label_id=prod";
  for (auto fmt : {log::Format::kText, log::Format::kJson}) {
    auto dir = scangate::test::make_temp_dir("sg-receiver");
    auto rcv = start_receiver(options(dir));
    log::Capture cap(fmt);
    httplib::Client cli(rcv->url());
    auto res =
        cli.Post(target, httplib::Headers{{"Authorization", std::string("Bearer ") + kToken}}, file_item("{\"n\":1}"));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto meta = json::parse(scangate::test::read_file(dir + "/" + ct::files_in(dir)[2]));
    REQUIRE(meta["query"]["tenant_id"] == tenant);  // the server really decoded the line break

    std::string text = cap.text();
    auto lines = cap.lines();
    CAPTURE(text);
    REQUIRE(lines.size() == 1);  // one event, one line
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(text.find('\r') == std::string::npos);
    if (fmt == log::Format::kText) {
      CHECK(lines[0].rfind("time=", 0) == 0);
      CHECK(lines[0].find(" level=info component=receiver msg=\"stored 000001-") != std::string::npos);
      CHECK(lines[0].find(" tenant=\"167\\nlevel=error component=receiver msg=\\\"forged\\\"\"") != std::string::npos);
      CHECK(lines[0].find(" data_type=\"TR\\r\\nevil=1\"") != std::string::npos);
    } else {
      auto j = json::parse(lines[0]);
      CHECK(j["level"] == "info");
      CHECK(j["component"] == "receiver");
      CHECK(j["tenant"] == tenant);
      CHECK(j["data_type"] == "TR\r\nevil=1");
    }
  }
}

TEST_CASE("receiver: a wrong token is logged as refused, without the token", "[receiver][log]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto rcv = start_receiver(options(dir));
  log::Capture cap(log::Format::kJson);
  httplib::Client cli(rcv->url());
  const std::string wrong = std::string(kToken) + "-wrong";
  auto res = cli.Post(kTarget, auth_headers(wrong), file_item("{}"));
  REQUIRE(res);
  CHECK(res->status == 401);
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  auto j = json::parse(lines[0]);
  CHECK(j["level"] == "warn");
  CHECK(j["msg"] == "refused an upload: invalid token");
  CHECK(j["remote_addr"] == "127.0.0.1");
  CHECK(cap.text().find(kToken) == std::string::npos);
}
