// The local receiver over real HTTP(S) on loopback.
#include "scanner/cspm/receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
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

// ---- slow and idle clients (issue 12: eight slowloris connections froze the receiver) ----

namespace {

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// True when the server has closed the connection (EOF or reset); false while it is still open.
bool closed_by_peer(int fd) {
  char buf[512];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n > 0) continue;  // e.g. a 408/400 answer before the close
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

// Stalled clients: `idle` connections that send nothing, and `slow` ones that send a request's
// headers one byte every 100 ms and never finish them. Records when the server closed each.
class Stallers {
 public:
  Stallers(int port, int slow, int idle) {
    for (int i = 0; i < slow; ++i) add(connect_loopback(port), true);
    for (int i = 0; i < idle; ++i) add(connect_loopback(port), false);
    thread_ = std::thread([this] { run(); });
  }
  ~Stallers() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) ::close(c.fd);
  }
  // Seconds from opening to the server's close, for each connection; -1 while open.
  std::vector<double> closed_after() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<double> out;
    for (auto& c : conns_) out.push_back(c.closed_after);
    return out;
  }
  bool all_closed() {
    for (double d : closed_after())
      if (d < 0) return false;
    return true;
  }

 private:
  struct Conn {
    int fd;
    bool slow;
    size_t sent = 0;
    double closed_after = -1;
  };
  void add(int fd, bool slow) { conns_.push_back(Conn{fd, slow}); }
  void run() {
    const std::string header =
        std::string("POST /api/v1/artifact/?tenant_id=167&data_type=TR HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
        "X-Padding: " + std::string(4000, 'a');  // never ends with an empty line
    while (!stop_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        for (auto& c : conns_) {
          if (c.closed_after >= 0) continue;
          if (c.slow && c.sent < header.size()) {
            ssize_t n = ::send(c.fd, header.data() + c.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n == 1) ++c.sent;
            if (n < 0 && errno != EAGAIN) c.closed_after = t;
          }
          if (c.closed_after < 0 && closed_by_peer(c.fd)) c.closed_after = t;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<Conn> conns_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("receiver: 32 slow or idle connections do not block an upload, and are closed at the header deadline",
          "[receiver][slowloris]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.header_timeout = std::chrono::milliseconds(2000);
  auto rcv = start_receiver(ro);

  Stallers stalled(rcv->port(), 16, 16);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted and trickling

  auto t0 = std::chrono::steady_clock::now();
  httplib::Client cli(rcv->url());
  cli.set_connection_timeout(std::chrono::seconds(3));
  cli.set_read_timeout(std::chrono::seconds(3));
  auto res = cli.Post(kTarget, auth_headers(), file_item(ct::sample_report()));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(seconds_since(t0) < 2.0);  // not after the stalled clients' deadline: beside them
  CHECK(rcv->stored_count() == 1);

  // The stalled connections are closed once their 2 s header deadline passes, not before.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (!stalled.all_closed() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto closed = stalled.closed_after();
  REQUIRE(closed.size() == 32);
  std::string all;
  for (double d : closed) all += std::to_string(d) + " ";
  INFO("closed after (s), 16 slow then 16 idle: " << all);
  for (double d : closed) {
    CHECK(d >= 1.5);
    CHECK(d <= 4.0);
  }
}

TEST_CASE("receiver: past max_connections a connection is refused at once with 503 and Retry-After",
          "[receiver][slowloris]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.max_connections = 4;
  ro.header_timeout = std::chrono::milliseconds(1500);
  auto rcv = start_receiver(ro);
  auto opened = std::chrono::steady_clock::now();
  {
    Stallers stalled(rcv->port(), 2, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    auto t0 = std::chrono::steady_clock::now();
    int fd = connect_loopback(rcv->port());
    std::string got;
    pollfd p{fd, POLLIN, 0};
    while (seconds_since(t0) < 3 && ::poll(&p, 1, 3000) > 0) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    CHECK(seconds_since(t0) < 1.0);
    CHECK(got.rfind("HTTP/1.1 503 ", 0) == 0);
    CHECK(got.find("Retry-After: 1\r\n") != std::string::npos);

    // Once the stalled clients' deadline has passed, the slots are free again.
    auto until = opened + std::chrono::seconds(5);
    while (!stalled.all_closed() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(stalled.all_closed());
  }
  httplib::Client cli(rcv->url());
  cli.set_read_timeout(std::chrono::seconds(3));
  auto res = cli.Post(kTarget, auth_headers(), file_item(ct::sample_report()));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("receiver: a body that trickles in is cut at the body deadline", "[receiver][slowloris]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.header_timeout = std::chrono::milliseconds(1000);
  ro.body_timeout = std::chrono::milliseconds(2000);
  auto rcv = start_receiver(ro);
  int fd = connect_loopback(rcv->port());
  std::string head = std::string("POST ") + kTarget + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     kToken + "\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  auto t0 = std::chrono::steady_clock::now();
  double closed_at = -1;
  while (seconds_since(t0) < 6) {  // a byte every 100 ms: never idle for long, but never done
    if (::send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
      closed_at = seconds_since(t0);
      break;
    }
    if (closed_by_peer(fd)) {
      closed_at = seconds_since(t0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::close(fd);
  CHECK(closed_at >= 1.5);  // the 1 s header deadline no longer applies once the headers are in
  CHECK(closed_at <= 3.5);
  CHECK(rcv->stored_count() == 0);
}

TEST_CASE("receiver: stalled TLS handshakes are closed and do not block an HTTPS upload",
          "[receiver][slowloris][tls]") {
  auto dir = scangate::test::make_temp_dir("sg-receiver");
  auto ro = options(dir);
  ro.tls_cert_file = ct::test_pki().server_cert;
  ro.tls_key_file = ct::test_pki().server_key;
  ro.header_timeout = std::chrono::milliseconds(1500);
  auto rcv = start_receiver(ro);
  Stallers stalled(rcv->port(), 8, 8);  // the slow ones trickle bytes that are not a ClientHello
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto c = sink_config(*rcv);
  c.http.ca_file = ct::test_pki().ca_cert;
  auto t0 = std::chrono::steady_clock::now();
  auto r = make_accuknox_sink(c)->send(entry("00000001700000000000-0003-00000009", ct::sample_report()));
  REQUIRE(r.ok());
  CHECK(r->status == SendStatus::kDelivered);
  CHECK(seconds_since(t0) < 1.5);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!stalled.all_closed() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(stalled.all_closed());
}
