// The issue's end-to-end cases, over real HTTP on loopback:
//  - the receiver is down for a while, then back: every spooled report arrives exactly once;
//  - 500, then 429 with Retry-After, then 401, then too slow (timeout);
//  - the process is killed mid-upload and restarted: nothing lost or duplicated;
//  - the token appears in no output.
#include "scanner/cspm/upload.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include "cspm_test_util.h"
#include "scanner/cspm/receiver.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;
using std::chrono::milliseconds;

namespace {

const char* kToken = "e2e-token-Zq7Xw3Vt9Ps1";

CspmConfig config_for(const std::string& url) {
  CspmConfig c;
  c.base_url = url;
  c.token = kToken;
  c.tenant_id = "167";
  c.label = "pipeline";
  c.http.connect_timeout = milliseconds(1000);
  c.http.read_timeout = milliseconds(3000);
  return c;
}

UploadOptions fast_options(const std::string& spool_dir, ct::FakeTime& t, Logger log) {
  UploadOptions o;
  o.spool_dir = spool_dir;
  o.retry.max_attempts = 5;
  o.retry.initial_delay = milliseconds(100);
  o.retry.max_delay = milliseconds(1000);
  o.retry.max_elapsed = milliseconds(60000);
  o.deps = ct::fake_deps(t, std::move(log));
  return o;
}

// The stored reports (not the metadata) in a receiver directory.
std::vector<std::string> stored_reports(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& n : ct::files_in(dir)) {
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 && n.find(".meta.json") == std::string::npos)
      out.push_back(scangate::test::read_file(dir + "/" + n));
  }
  return out;
}

std::unique_ptr<Receiver> receiver_on(const std::string& dir, int port) {
  ReceiverOptions o;
  o.dir = dir;
  o.token = kToken;
  auto r = Receiver::create(o);
  REQUIRE(r.ok());
  REQUIRE((*r)->bind("127.0.0.1", port).ok());
  REQUIRE((*r)->start().ok());
  return std::move(r.value());
}

std::string third_report() {
  return scangate::test::read_file(scangate::test::testdata("reports/trivy_ubuntu-1804.json.golden"));
}

}  // namespace

TEST_CASE("upload: the receiver is down for a while, then back, every report arrives exactly once", "[upload]") {
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  auto recv_dir = scangate::test::make_temp_dir("sg-up-recv");
  int port = ct::unused_port();
  auto sink = make_accuknox_sink(config_for("http://127.0.0.1:" + std::to_string(port)));
  ct::CapturedLog log;
  ct::FakeTime t;

  // Two pipeline runs while nothing listens: both reports stay spooled, each run reports failure.
  for (const std::string& report : {ct::sample_report(), ct::sample_report_2()}) {
    auto o = fast_options(spool_dir, t, log.logger());
    o.retry.max_attempts = 2;
    auto r = upload_with_sink(*sink, report, o);
    REQUIRE(r.ok());
    CHECK(r->status == UploadStatus::kPending);
    CHECK(r->attempts == 2);
  }
  CHECK(Spool::open(spool_dir)->list()->size() == 2);

  // Third run: the receiver comes back after two more failed attempts.
  std::unique_ptr<Receiver> rcv;
  t.sleeps.clear();
  t.on_sleep = [&](int n) {
    if (n == 2) rcv = receiver_on(recv_dir, port);
  };
  auto r = upload_with_sink(*sink, third_report(), fast_options(spool_dir, t, log.logger()));
  REQUIRE(r.ok());
  CHECK(r->status == UploadStatus::kDelivered);
  CHECK(r->attempts == 3);
  CHECK(r->backlog_delivered == 2);
  CHECK(r->backlog_pending == 0);
  REQUIRE(rcv);

  auto stored = stored_reports(recv_dir);
  REQUIRE(stored.size() == 3);
  // This run's report first, then the backlog oldest first; each exactly once.
  CHECK(stored[0] == third_report());
  CHECK(stored[1] == ct::sample_report());
  CHECK(stored[2] == ct::sample_report_2());
  CHECK(Spool::open(spool_dir)->list()->empty());

  // A further run with nothing new to send sends nothing again.
  auto again = drain_spool(*sink, fast_options(spool_dir, t, log.logger()));
  REQUIRE(again.ok());
  CHECK(again->entries.empty());
  CHECK(rcv->stored_count() == 3);
}

TEST_CASE("upload: 500, then 429 with Retry-After, then success", "[upload]") {
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  ct::ScriptedServer server([](int i, const httplib::Request&, httplib::Response& res) {
    if (i == 0) {
      res.status = 500;
      res.set_content(R"({"detail":"internal error"})", "application/json");
    } else if (i == 1) {
      res.status = 429;
      res.set_header("Retry-After", "4");
      res.set_content(R"({"detail":"Request was throttled."})", "application/json");
    } else {
      res.set_content(R"({"detail":"File received successfully"})", "application/json");
    }
  });
  ct::CapturedLog log;
  ct::FakeTime t;
  auto r = upload_report(config_for(server.url()), ct::sample_report(), fast_options(spool_dir, t, log.logger()));
  REQUIRE(r.ok());
  CHECK(r->status == UploadStatus::kDelivered);
  CHECK(r->attempts == 3);
  REQUIRE(t.sleeps.size() == 2);
  CHECK(t.sleeps[0] <= milliseconds(100));
  CHECK(t.sleeps[1] >= milliseconds(4000));  // honours Retry-After
  REQUIRE(server.count() == 3);
  auto reqs = server.requests();
  CHECK(reqs[0].header("X-Scangate-Report-Id") == r->id);  // the same id on every attempt
  CHECK(reqs[2].header("X-Scangate-Report-Id") == r->id);
  CHECK(reqs[2].form["file"].content == ct::sample_report());
  CHECK(Spool::open(spool_dir)->list()->empty());
}

TEST_CASE("upload: 401 is permanent, named as authentication, and dead-lettered", "[upload]") {
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  ct::ScriptedServer server([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_content(R"({"detail":"Invalid token."})", "application/json");
  });
  ct::CapturedLog log;
  ct::FakeTime t;
  auto r = upload_report(config_for(server.url()), ct::sample_report(), fast_options(spool_dir, t, log.logger()));
  REQUIRE(r.ok());
  CHECK(r->status == UploadStatus::kRejected);
  CHECK(r->kind == ErrorKind::kAuth);
  CHECK(r->http_status == 401);
  CHECK(r->message.find("authentication failed") != std::string::npos);
  CHECK(r->message.find("Invalid token.") != std::string::npos);
  CHECK(server.count() == 1);  // never retried
  CHECK(t.sleeps.empty());
  auto spool = Spool::open(spool_dir);
  CHECK(spool->list()->empty());
  CHECK(*spool->list_dead() == std::vector<std::string>{r->id});
  CHECK(scangate::test::read_file(spool_dir + "/dead/" + r->id + ".json") == ct::sample_report());
  auto reason = nlohmann::json::parse(scangate::test::read_file(spool_dir + "/dead/" + r->id + ".reason.json"));
  CHECK(reason["http_status"] == 401);
}

TEST_CASE("upload: a receiver too slow to answer times out and is retried", "[upload]") {
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  ct::ScriptedServer server([](int i, const httplib::Request&, httplib::Response& res) {
    if (i == 0) std::this_thread::sleep_for(milliseconds(500));
    res.set_content(R"({"detail":"File received successfully"})", "application/json");
  });
  auto c = config_for(server.url());
  c.http.read_timeout = milliseconds(100);
  ct::CapturedLog log;
  ct::FakeTime t;
  auto r = upload_report(c, ct::sample_report(), fast_options(spool_dir, t, log.logger()));
  REQUIRE(r.ok());
  CHECK(r->status == UploadStatus::kDelivered);
  CHECK(r->attempts == 2);
  CHECK(t.sleeps.size() == 1);
  CHECK(log.all().find("attempt 1/5 failed") != std::string::npos);
}

namespace {

// A fault injector in front of the real receiver: forwards each upload to it (or not), then stalls
// until released, so the uploader is stuck mid-request when the test kills it.
class StallingProxy {
 public:
  StallingProxy(std::string upstream, bool forward_first)
      : upstream_(std::move(upstream)),
        forward_(forward_first),
        server_([this](int, const httplib::Request& req, httplib::Response& res) { handle(req, res); }) {}
  ~StallingProxy() { release(); }

  std::string url() const { return server_.url(); }
  // Waits until a request arrived (and was forwarded when forwarding).
  bool wait_for_request() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return arrived_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    if (forward_) {
      httplib::Client up(upstream_);
      httplib::Headers h;
      for (const char* k : {"Authorization", "Tenant-Id", "X-Scangate-Report-Id", "Idempotency-Key"})
        if (req.has_header(k)) h.emplace(k, req.get_header_value(k));
      httplib::MultipartFormDataItems items;
      for (const auto& [name, f] : req.files) items.push_back({name, f.content, f.filename, f.content_type});
      auto r = up.Post(req.target, h, items);
      forwarded_ok_ = r && r->status == 200;
    }
    std::unique_lock<std::mutex> lock(mu_);
    arrived_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return released_; });
    res.status = 503;
  }

  std::string upstream_;
  bool forward_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool arrived_ = false, released_ = false;

 public:
  std::atomic<bool> forwarded_ok_{false};

 private:
  ct::ScriptedServer server_;  // last: destroyed first, while the members it uses still exist
};

// Forks a child that waits for a URL on a pipe and then runs upload_report against it. Forked
// before the test starts any thread.
struct UploaderChild {
  pid_t pid = -1;
  int url_pipe[2] = {-1, -1};

  UploaderChild(const std::string& spool_dir, const std::string& report) {
    REQUIRE(pipe(url_pipe) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(url_pipe[1]);
      std::string url;
      char c;
      while (read(url_pipe[0], &c, 1) == 1 && c != '\n') url += c;
      UploadOptions o;
      o.spool_dir = spool_dir;
      o.deps = real_uploader_deps();
      auto cfg = config_for(url);
      cfg.http.read_timeout = milliseconds(60000);
      (void)upload_report(cfg, report, o);
      _exit(0);
    }
    close(url_pipe[0]);
  }
  void go(const std::string& url) {
    std::string line = url + "\n";
    REQUIRE(write(url_pipe[1], line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    close(url_pipe[1]);
    url_pipe[1] = -1;
  }
  int kill_and_wait() {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
  }
  ~UploaderChild() {  // a failed check must not leave the child behind
    if (url_pipe[1] >= 0) close(url_pipe[1]);
    if (pid > 0) kill_and_wait();
  }
};

void kill_mid_upload(bool receiver_stored_it) {
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  auto recv_dir = scangate::test::make_temp_dir("sg-up-recv");
  const std::string report = ct::sample_report();
  UploaderChild child(spool_dir, report);  // before any thread exists in this process

  auto rcv = receiver_on(recv_dir, 0);
  StallingProxy proxy(rcv->url(), receiver_stored_it);
  child.go(proxy.url());
  REQUIRE(proxy.wait_for_request());
  CHECK(proxy.forwarded_ok_ == receiver_stored_it);
  CHECK(child.kill_and_wait() == SIGKILL);
  proxy.release();
  CHECK(rcv->stored_count() == (receiver_stored_it ? 1u : 0u));

  // The killed run left its report spooled (and its claim died with it).
  auto spool = Spool::open(spool_dir);
  REQUIRE(spool.ok());
  REQUIRE(spool->list()->size() == 1);

  // Restart: the next run delivers it; the receiver keeps exactly one copy.
  ct::CapturedLog log;
  ct::FakeTime t;
  UploadOptions o = fast_options(spool_dir, t, log.logger());
  auto sink = make_accuknox_sink(config_for(rcv->url()));
  auto d = drain_spool(*sink, o);
  REQUIRE(d.ok());
  CHECK(d->delivered == 1);
  CHECK(stored_reports(recv_dir) == std::vector<std::string>{report});
  CHECK(spool->list()->empty());
  CHECK(spool->list_dead()->empty());
}

}  // namespace

TEST_CASE("upload: killed mid-upload before the receiver stored it, then restarted", "[upload][kill]") {
  kill_mid_upload(false);
}

TEST_CASE("upload: killed after the receiver stored it but before the answer, then restarted", "[upload][kill]") {
  kill_mid_upload(true);
}

TEST_CASE("upload: the token appears in no output", "[upload][token]") {
  // Servers that echo the credentials back in every failure, the worst case for leaks.
  auto echo = [](int status) {
    return [status](int, const httplib::Request& req, httplib::Response& res) {
      res.status = status;
      res.set_content("{\"detail\":\"got " + req.get_header_value("Authorization") + "\"}", "application/json");
    };
  };
  ct::ScriptedServer s500(echo(500)), s401(echo(401)), s400(echo(400));
  ct::ScriptedServer tls(echo(200), /*tls=*/true);
  auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
  ct::CapturedLog log;
  std::string everything;

  for (const std::string& url :
       {s500.url(), s401.url(), s400.url(), tls.url(), "http://127.0.0.1:" + std::to_string(ct::unused_port())}) {
    ct::FakeTime t;
    auto o = fast_options(spool_dir, t, log.logger());
    o.retry.max_attempts = 2;
    auto r = upload_report(config_for(url), ct::sample_report(), o);
    if (r.ok()) {
      CHECK(r->status != UploadStatus::kDelivered);
      everything += r->message + "\n";
    } else {
      everything += r.error().message + "\n";
    }
  }
  // The echoing servers really did receive the token (so the scrubbing had something to do).
  REQUIRE(s401.count() == 1);
  CHECK(s401.requests()[0].header("Authorization") == std::string("Bearer ") + kToken);
  CHECK(log.all().find("[REDACTED]") != std::string::npos);

  everything += log.all();
  for (const auto& sub : {"/pending", "/dead"})
    for (const auto& f : ct::files_in(spool_dir + sub))
      everything += scangate::test::read_file(spool_dir + sub + "/" + f);
  CHECK(everything.find(kToken) == std::string::npos);
  CHECK(everything.find("Zq7Xw3Vt9Ps1") == std::string::npos);
}

TEST_CASE("upload: a real token in a failing upload never reaches the log, as text or as JSON",
          "[upload][token][log]") {
  // The server echoes the token twice: behind "Bearer " and bare, where only the registered
  // secret (upload_report registers config.token) can catch it.
  auto echo = [](int status) {
    return [status](int, const httplib::Request& req, httplib::Response& res) {
      res.status = status;
      res.set_content("{\"detail\":\"got " + req.get_header_value("Authorization") + "\",\"raw\":\"" +
                          req.get_header_value("Authorization").substr(7) + "\"}",
                      "application/json");
    };
  };
  ct::ScriptedServer s401(echo(401)), s500(echo(500));
  for (auto fmt : {log::Format::kText, log::Format::kJson}) {
    auto spool_dir = scangate::test::make_temp_dir("sg-up-spool");
    log::Capture cap(fmt);
    for (const std::string& url : {s401.url(), s500.url()}) {
      ct::FakeTime t;
      auto o = fast_options(spool_dir, t, Logger("upload"));
      o.retry.max_attempts = 2;
      auto r = upload_report(config_for(url), ct::sample_report(), o);
      REQUIRE(r.ok());
      CHECK(r->status != UploadStatus::kDelivered);
      CHECK(r->message.find(kToken) == std::string::npos);
    }
    std::string text = cap.text();
    CAPTURE(text);
    CHECK(text.find(kToken) == std::string::npos);
    CHECK(text.find("Zq7Xw3Vt9Ps1") == std::string::npos);
    CHECK(text.find("[REDACTED]") != std::string::npos);
    auto lines = cap.lines();
    CHECK(lines.size() >= 4);  // spooled, failed (401); spooled, attempt failed, failed (500)
    bool saw_auth = false, saw_retry = false;
    for (const auto& l : lines) {
      std::string msg;
      if (fmt == log::Format::kJson) {
        auto j = nlohmann::json::parse(l);
        CHECK(j["component"] == "upload");
        msg = j["msg"];
      } else {
        CHECK(l.rfind("time=", 0) == 0);
        CHECK(l.find(" component=upload msg=\"") != std::string::npos);
        msg = l;
      }
      saw_auth = saw_auth || msg.find("authentication failed") != std::string::npos;
      saw_retry = saw_retry || msg.find("attempt 1/2 failed") != std::string::npos;
    }
    CHECK(saw_auth);
    CHECK(saw_retry);
  }
}
