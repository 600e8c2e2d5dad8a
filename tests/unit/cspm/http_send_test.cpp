#include "scanner/cspm/http_send.h"

#include <httplib.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace scangate::cspm;
using std::chrono::milliseconds;

// Retry-After parsing moved with the one implementation: tests/unit/net/retry_test.cpp.

TEST_CASE("http_send: classification of responses", "[http_send]") {
  auto now = std::chrono::system_clock::now();
  CHECK(classify_response(200, std::nullopt, R"({"detail":"File received successfully"})", now).status ==
        SendStatus::kDelivered);
  CHECK(classify_response(201, std::nullopt, "", now).status == SendStatus::kDelivered);
  for (int s : {408, 429, 500, 502, 503, 504})
    CHECK(classify_response(s, std::nullopt, "", now).status == SendStatus::kRetryable);
  for (int s : {401, 403}) {
    auto o = classify_response(s, std::nullopt, R"({"detail":"Invalid token."})", now);
    CHECK(o.status == SendStatus::kPermanentAuth);
    CHECK(o.detail.find("authentication failed") != std::string::npos);
    CHECK(o.detail.find("Invalid token.") != std::string::npos);
  }
  for (int s : {301, 400, 404, 413, 422})
    CHECK(classify_response(s, std::nullopt, "", now).status == SendStatus::kPermanent);
  auto limited = classify_response(429, std::string_view("7"), "", now);
  CHECK(limited.retry_after == milliseconds(7000));
  CHECK(limited.http_status == 429);
}

TEST_CASE("http_send: body excerpts are short and printable", "[http_send]") {
  CHECK(body_excerpt(R"({"detail":"File received successfully"})") == "File received successfully");
  CHECK(body_excerpt("line1\nline2\x1b[31m") == "line1 line2 [31m");
  CHECK(body_excerpt(std::string(1000, 'x')).size() == 303);
}

TEST_CASE("http_send: multipart encoding (RFC 7578)", "[http_send]") {
  std::string body = encode_multipart(
      {{"scan_type", "Trivy Scan", "", ""}, {"file", "{\"a\":1}", "my report\".json", "application/json"}}, "BOUNDARY");
  CHECK(body ==
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"scan_type\"\r\n\r\nTrivy Scan\r\n"
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my_report_.json\"\r\n"
        "Content-Type: application/json\r\n\r\n{\"a\":1}\r\n--BOUNDARY--\r\n");
}

namespace {

// An httplib server on `address` (port 0) that records the Authorization header of each POST.
struct Recorder {
  explicit Recorder(const std::string& address) : address(address) {}
  ~Recorder() {
    svr.stop();
    if (th.joinable()) th.join();
  }
  void start() {
    port = svr.bind_to_any_port(address);
    th = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  std::string url() const { return "http://" + address + ":" + std::to_string(port); }
  std::string address;
  httplib::Server svr;
  std::thread th;
  int port = 0;
  std::mutex mu;
  std::vector<std::string> authorizations;  // "<none>" when absent
  std::vector<std::string> bodies;
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> l(mu);
    authorizations.push_back(req.has_header("Authorization") ? req.get_header_value("Authorization") : "<none>");
    bodies.push_back(req.has_file("file") ? req.get_file_value("file").content : req.body);
  }
};

MultipartPost post_to(const std::string& base, const std::string& token) {
  MultipartPost p;
  p.base_url = base;
  p.path_and_query = "/api/v1/artifact/?data_type=TR";
  p.headers.emplace_back("Authorization", "Bearer " + token);
  p.parts.push_back({"file", "{\"a\":1}", "report.json", "application/json"});
  p.secrets = {token};
  p.http.connect_timeout = milliseconds(5000);
  p.http.read_timeout = milliseconds(10000);
  return p;
}

}  // namespace

TEST_CASE("http_send: the token does not follow a redirect to another origin", "[http_send]") {
  const std::string token = "cspm-token-0123456789abcdef";
  Recorder a("127.0.0.1"), b("127.0.0.2");
  b.svr.Post("/elsewhere", [&](const httplib::Request& req, httplib::Response& res) {
    b.record(req);
    res.status = 401;
    res.set_content(R"({"detail":"no token"})", "application/json");
  });
  a.svr.Post("/api/v1/artifact/", [&](const httplib::Request& req, httplib::Response& res) {
    a.record(req);
    res.status = 307;
    res.set_header("Location", b.url() + "/elsewhere");
  });
  a.start();
  b.start();
  auto r = post_multipart(post_to(a.url(), token));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kPermanentAuth);  // the other origin saw no token
  CHECK(r->detail.find(token) == std::string::npos);
  REQUIRE(a.authorizations.size() == 1);
  CHECK(a.authorizations[0] == "Bearer " + token);
  REQUIRE(b.authorizations.size() == 1);
  CHECK(b.authorizations[0] == "<none>");
  CHECK(b.bodies[0] == "{\"a\":1}");  // 307 keeps the POST and its body
}

TEST_CASE("http_send: a same-origin redirect keeps the token, 302 to a POST is not followed", "[http_send]") {
  const std::string token = "cspm-token-0123456789abcdef";
  Recorder a("127.0.0.1");
  a.svr.Post("/api/v1/artifact/", [&](const httplib::Request& req, httplib::Response& res) {
    a.record(req);
    res.status = 308;
    res.set_header("Location", "/v2/artifact");
  });
  a.svr.Post("/v2/artifact", [&](const httplib::Request& req, httplib::Response& res) {
    a.record(req);
    res.set_content(R"({"detail":"File received successfully"})", "application/json");
  });
  a.svr.Post("/old/api/v1/artifact/", [&](const httplib::Request& req, httplib::Response& res) {
    a.record(req);
    res.status = 302;
    res.set_header("Location", "/v2/artifact");
  });
  a.start();
  auto r = post_multipart(post_to(a.url(), token));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kDelivered);
  REQUIRE(a.authorizations.size() == 2);
  CHECK(a.authorizations[1] == "Bearer " + token);

  auto moved = post_multipart(post_to(a.url() + "/old", token));
  REQUIRE(moved.ok());
  CHECK(moved->status == SendStatus::kPermanent);  // a 302 would turn the POST into a GET
  CHECK(moved->http_status == 302);
  CHECK(a.authorizations.size() == 3);
}
