// The HTTP client against real loopback servers (httplib, plain and TLS, on 127.0.0.1 and
// 127.0.0.2 — both loopback on Linux, and two different origins).
#include "scanner/net/http_client.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "net_test_util.h"

using namespace scangate;
using namespace scangate::net;
using scangate::test::net::pki;
using scangate::test::net::RawServer;
using scangate::test::net::Seen;
using scangate::test::net::Server;
using scangate::test::net::SilentServer;
using std::chrono::milliseconds;

namespace {

struct Sleeps {
  std::mutex mu;
  std::vector<milliseconds> v;
  Sleeper sleeper() {
    return [this](milliseconds d) {
      std::lock_guard<std::mutex> l(mu);
      v.push_back(d);
    };
  }
};

HttpClientOptions quick_options(Sleeps* sleeps = nullptr) {
  HttpClientOptions o;
  o.connect_timeout = milliseconds(5000);
  o.io_timeout = milliseconds(10000);
  o.retry.max_attempts = 3;
  o.sleeper = sleeps ? sleeps->sleeper() : Sleeper([](milliseconds) {});
  return o;
}

Request get(const std::string& url) {
  Request r;
  r.url = *parse_url(url);
  return r;
}

// The secrets every redirect test sends, and the header that is not secret.
void add_secrets(Request& r, const std::string& authorization) {
  r.headers.emplace_back("Authorization", authorization);
  r.headers.emplace_back("Cookie", "session=s3cret");
  r.headers.emplace_back("apiKey", "nvd-key-123");
  r.headers.emplace_back("X-Plain", "visible");
  r.sensitive_headers.push_back("APIKEY");  // names match case-insensitively
}

void answer_ok(httplib::Server& s, const std::string& path) {
  s.Get(path, [](const httplib::Request&, httplib::Response& res) { res.set_content("landed", "text/plain"); });
}

}  // namespace

TEST_CASE("redirect: credentials stay on their origin, a same-origin redirect keeps them", "[http][redirect]") {
  Server a("127.0.0.1"), b("127.0.0.2");
  answer_ok(b.http(), "/land");
  answer_ok(a.http(), "/land");
  a.http().Get("/cross", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", b.url("/land?sig=1"));
  });
  a.http().Get("/same", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", "/land");
  });
  // Same host, other port: another origin all the same.
  Server a2("127.0.0.1");
  answer_ok(a2.http(), "/land");
  a.http().Get("/port", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 301;
    res.set_header("Location", a2.url("/land"));
  });
  a.start();
  b.start();
  a2.start();
  HttpClient client(quick_options());

  for (std::string authz : {"Basic YWxpY2U6czNjcmV0", "Bearer eyJhbGciOi.token.sig"}) {
    SECTION("cross-origin (127.0.0.1 -> 127.0.0.2) with " + authz.substr(0, 6)) {
      Request r = get(a.url("/cross"));
      add_secrets(r, authz);
      auto res = client.send(r);
      REQUIRE(res.ok());
      CHECK(res->status == 200);
      CHECK(res->body == "landed");
      CHECK(res->redirects == 1);
      CHECK(res->url.host == "127.0.0.2");
      auto first = a.seen();
      REQUIRE(first.size() == 1);
      CHECK(first[0].header("Authorization") == authz);  // the origin itself got them
      CHECK(first[0].header("apiKey") == "nvd-key-123");
      auto seen = b.seen();
      REQUIRE(seen.size() == 1);
      CHECK(seen[0].target == "/land?sig=1");
      CHECK_FALSE(seen[0].has("Authorization"));
      CHECK_FALSE(seen[0].has("Cookie"));
      CHECK_FALSE(seen[0].has("apiKey"));
      CHECK(seen[0].header("X-Plain") == "visible");
    }
    SECTION("cross-origin by port with " + authz.substr(0, 6)) {
      Request r = get(a.url("/port"));
      add_secrets(r, authz);
      auto res = client.send(r);
      REQUIRE(res.ok());
      CHECK(res->status == 200);
      auto seen = a2.seen();
      REQUIRE(seen.size() == 1);
      CHECK_FALSE(seen[0].has("Authorization"));
      CHECK_FALSE(seen[0].has("Cookie"));
      CHECK_FALSE(seen[0].has("apiKey"));
    }
    SECTION("same origin with " + authz.substr(0, 6)) {
      Request r = get(a.url("/same"));
      add_secrets(r, authz);
      auto res = client.send(r);
      REQUIRE(res.ok());
      CHECK(res->status == 200);
      auto seen = a.seen();
      REQUIRE(seen.size() == 2);
      CHECK(seen[1].path == "/land");
      CHECK(seen[1].header("Authorization") == authz);
      CHECK(seen[1].header("Cookie") == "session=s3cret");
      CHECK(seen[1].header("apiKey") == "nvd-key-123");
      CHECK(seen[1].header("X-Plain") == "visible");
    }
  }
}

TEST_CASE("redirect: HTTPS to plain HTTP is refused, except to loopback", "[http][redirect][tls]") {
  Server tls("127.0.0.1", /*tls=*/true), plain("127.0.0.2");
  answer_ok(plain.http(), "/land");
  tls.http().Get("/remote", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "http://storage.scangate-test.invalid/blob");
  });
  tls.http().Get("/loopback", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", plain.url("/land"));
  });
  tls.start();
  plain.start();
  auto o = quick_options();
  o.ca_file = pki().ca_cert;
  HttpClient client(o);

  Request r = get(tls.url("/remote"));
  r.headers.emplace_back("Authorization", "Bearer t");
  Failure f = Failure::kNone;
  auto res = client.send(r, Deadline::never(), &f);
  REQUIRE_FALSE(res.ok());
  CHECK(f == Failure::kRedirect);
  CHECK(res.error().kind == ErrorKind::kNetwork);
  CHECK(res.error().message.find("refusing the downgrade from HTTPS") != std::string::npos);
  CHECK(client.stats().connections == 1);  // nothing was tried towards the plain-HTTP host

  Request l = get(tls.url("/loopback"));
  l.headers.emplace_back("Authorization", "Bearer t");
  auto ok = client.send(l);
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  REQUIRE(plain.seen().size() == 1);
  CHECK_FALSE(plain.seen()[0].has("Authorization"));
}

TEST_CASE("redirect: limits, missing Location, 303 and POST", "[http][redirect]") {
  Server s;
  s.http().Get("/loop", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/loop");
  });
  s.http().Get("/nowhere", [](const httplib::Request&, httplib::Response& res) { res.status = 302; });
  s.http().Post("/see-other", [](const httplib::Request&, httplib::Response& res) {
    res.status = 303;
    res.set_header("Location", "/result");
  });
  s.http().Get("/result", [](const httplib::Request&, httplib::Response& res) { res.set_content("r", "text/plain"); });
  s.http().Post("/moved", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/result");
  });
  s.http().Post("/temp", [](const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", "/echo");
  });
  s.http().Post("/echo", [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "x/y"); });
  s.start();
  auto o = quick_options();
  o.max_redirects = 3;
  HttpClient client(o);

  Failure f;
  auto loop = client.send(get(s.url("/loop")), Deadline::never(), &f);
  REQUIRE_FALSE(loop.ok());
  CHECK(f == Failure::kRedirect);
  CHECK(loop.error().message.find("too many redirects (more than 3)") != std::string::npos);
  CHECK(s.seen().size() == 4);

  auto nowhere = client.send(get(s.url("/nowhere")), Deadline::never(), &f);
  REQUIRE_FALSE(nowhere.ok());
  CHECK(nowhere.error().message.find("without a Location") != std::string::npos);

  Request post = get(s.url("/see-other"));
  post.method = "POST";
  post.body = "data";
  post.content_type = "text/plain";
  auto see = client.send(post);
  REQUIRE(see.ok());
  CHECK(see->status == 200);
  CHECK(see->body == "r");
  CHECK(s.seen().back().method == "GET");

  post.url = *parse_url(s.url("/moved"));
  auto moved = client.send(post);
  REQUIRE(moved.ok());
  CHECK(moved->status == 302);  // not turned into a GET: returned to the caller

  post.url = *parse_url(s.url("/temp"));
  auto temp = client.send(post);
  REQUIRE(temp.ok());
  CHECK(temp->status == 200);
  CHECK(temp->body == "data");  // 307 keeps the method and the body

  Request nofollow = get(s.url("/loop"));
  nofollow.follow_redirects = false;
  auto nf = client.send(nofollow);
  REQUIRE(nf.ok());
  CHECK(nf->status == 302);
  CHECK(nf->header("location") == "/loop");
}

TEST_CASE("connections: sequential requests share one kept-alive connection", "[http][pool]") {
  const bool tls = GENERATE(false, true);
  Server s("127.0.0.1", tls);
  s.http().Get("/n", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  s.start();
  auto o = quick_options();
  if (tls) o.ca_file = pki().ca_cert;
  HttpClient client(o);
  const int n = 10;
  for (int i = 0; i < n; ++i) {
    auto r = client.send(get(s.url("/n")));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  REQUIRE(s.seen().size() == n);
  CHECK(s.connections() == 1);  // counted on the server: one client port for all
  CHECK(client.stats().connections == 1);
  CHECK(client.stats().tls_connections == (tls ? 1u : 0u));
  CHECK(client.stats().reused == n - 1);
  CHECK(client.stats().requests == n);
}

TEST_CASE("connections: several threads share the pool, one connection per request in flight", "[http][pool]") {
  Server s;
  s.http().Get("/n", [](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(milliseconds(2));
    res.set_content(req.get_param_value("i"), "text/plain");
  });
  s.start();
  HttpClient client(quick_options());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string id = std::to_string(t * 100 + i);
        auto r = client.send(get(s.url("/n?i=" + id)));
        if (r.ok() && r->status == 200 && r->body == id) ++good;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(good == 40);
  CHECK(s.connections() <= 4);
  CHECK(client.stats().connections <= 4);
}

TEST_CASE("connections: a kept-alive connection the server closed is replaced", "[http][pool]") {
  Server s;
  s.http().set_keep_alive_timeout(1);
  s.http().Get("/n", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  s.start();
  HttpClient client(quick_options());
  REQUIRE(client.send(get(s.url("/n")))->status == 200);
  std::this_thread::sleep_for(milliseconds(2500));  // the server drops the idle connection
  auto r = client.send(get(s.url("/n")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(s.connections() == 2);
}

TEST_CASE("TLS: an unknown CA is refused, the extra CA file and the insecure flag", "[http][tls]") {
  Server s("127.0.0.1", true);
  answer_ok(s.http(), "/x");
  s.start();
  Failure f;
  {
    HttpClient client(quick_options());
    auto r = client.send(get(s.url("/x")), Deadline::never(), &f);
    REQUIRE_FALSE(r.ok());
    CHECK(f == Failure::kTlsUntrusted);
    CHECK(r.error().message.find("not trusted") != std::string::npos);
    CHECK(s.seen().empty());
  }
  {
    auto o = quick_options();
    o.insecure = [&](const Url& u) { return u.host_port() == "127.0.0.1:" + std::to_string(s.port()); };
    HttpClient client(o);
    auto r = client.send(get(s.url("/x")));
    REQUIRE(r.ok());
    CHECK(r->body == "landed");
  }
  {
    auto o = quick_options();
    o.ca_file = pki().dir + "/missing.pem";
    HttpClient client(o);
    auto r = client.send(get(s.url("/x")), Deadline::never(), &f);
    REQUIRE_FALSE(r.ok());
    CHECK(f == Failure::kCaFile);
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(r.error().message.find("cannot load CA certificates") != std::string::npos);
  }
}

TEST_CASE("deadline: a server that accepts and never answers", "[http][deadline]") {
  SilentServer silent;
  const bool tls = GENERATE(false, true);
  auto o = quick_options();
  o.io_timeout = milliseconds(60000);
  o.connect_timeout = milliseconds(60000);
  o.retry.max_attempts = 4;
  HttpClient client(o);
  const std::string url =
      std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(silent.port()) + "/v2/";
  auto start = std::chrono::steady_clock::now();
  Failure f;
  auto r = client.send(get(url), Deadline::after(milliseconds(1000)), &f);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(f == Failure::kDeadline);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(r.error().message.find("deadline passed") != std::string::npos);
  CHECK(took < std::chrono::seconds(10));
  CHECK(silent.accepted() >= 1);
}

TEST_CASE("deadline: an expired deadline sends nothing, retries never sleep past it", "[http][deadline]") {
  Server s;
  s.http().Get("/busy", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "30");
  });
  s.start();
  Sleeps sleeps;
  HttpClient client(quick_options(&sleeps));
  Failure f;
  auto gone = client.send(get(s.url("/busy")), Deadline::after(milliseconds(-1)), &f);
  REQUIRE_FALSE(gone.ok());
  CHECK(f == Failure::kDeadline);
  CHECK(s.seen().empty());

  auto r = client.send(get(s.url("/busy")), Deadline::after(milliseconds(5000)));
  REQUIRE(r.ok());
  CHECK(r->status == 503);  // the server's 30 s would pass the deadline: no retry
  CHECK(r->attempts == 1);
  CHECK(sleeps.v.empty());
}

TEST_CASE("retry: 503 with Retry-After, then success, connection refused with backoff", "[http][retry]") {
  Server s;
  std::atomic<int> calls{0};
  s.http().Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  s.http().Get("/down", [](const httplib::Request&, httplib::Response& res) { res.status = 502; });
  s.start();
  Sleeps sleeps;
  auto o = quick_options(&sleeps);
  o.retry.jitter = 0;
  o.retry.initial_delay = milliseconds(100);
  HttpClient client(o);

  auto r = client.send(get(s.url("/flaky")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->attempts == 3);
  CHECK(sleeps.v == std::vector<milliseconds>{milliseconds(1000), milliseconds(1000)});

  sleeps.v.clear();
  auto down = client.send(get(s.url("/down")));
  REQUIRE(down.ok());
  CHECK(down->status == 502);  // a status is an answer: the caller words it
  CHECK(down->attempts == 3);
  CHECK(sleeps.v == std::vector<milliseconds>{milliseconds(100), milliseconds(200)});

  sleeps.v.clear();
  Failure f;
  auto refused = client.send(get("http://127.0.0.1:" + std::to_string(scangate::test::net::unused_port()) + "/"),
                             Deadline::never(), &f);
  REQUIRE_FALSE(refused.ok());
  CHECK(f == Failure::kConnect);
  CHECK(refused.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(sleeps.v == std::vector<milliseconds>{milliseconds(100), milliseconds(200)});

  sleeps.v.clear();
  Request once = get(s.url("/down"));
  once.retry = RetryPolicy{};
  once.retry->max_attempts = 1;
  auto one = client.send(once);
  REQUIRE(one.ok());
  CHECK(one->attempts == 1);
  CHECK(sleeps.v.empty());
}

TEST_CASE("bodies: in memory with a limit, streamed to a sink, cancelled", "[http][body]") {
  Server s;
  const std::string big(300000, 'b');
  s.http().Get("/big", [&](const httplib::Request&, httplib::Response& res) { res.set_content(big, "x/y"); });
  s.http().Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("{\"errors\":[]}", "application/json");
  });
  s.http().Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("x/y", [](size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(milliseconds(50));
      return sink.write("s", 1);
    });
  });
  s.start();
  HttpClient client(quick_options());

  Request limited = get(s.url("/big"));
  limited.max_body = 1000;
  auto r = client.send(limited);
  REQUIRE(r.ok());
  CHECK(r->truncated);
  CHECK(r->body.size() == 1000);

  Request streamed = get(s.url("/big"));
  streamed.max_body = 1000;
  std::string got;
  int successes = 0;
  streamed.on_success = [&](int status) {
    CHECK(status == 200);
    ++successes;
  };
  streamed.sink = [&](const char* d, size_t n) {
    got.append(d, n);
    return true;
  };
  auto st = client.send(streamed);
  REQUIRE(st.ok());
  CHECK_FALSE(st->truncated);
  CHECK(st->body.empty());
  CHECK(got == big);
  CHECK(successes == 1);

  streamed.url = *parse_url(s.url("/missing"));
  got.clear();
  auto nf = client.send(streamed);
  REQUIRE(nf.ok());
  CHECK(nf->status == 404);
  CHECK(nf->body == "{\"errors\":[]}");  // error bodies are kept for their details
  CHECK(got.empty());

  Cancellation cancel;
  Request slow = get(s.url("/slow"));
  slow.cancel = &cancel;
  slow.sink = [](const char*, size_t) { return true; };
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel.cancel();
  });
  auto start = std::chrono::steady_clock::now();
  Failure f;
  auto c = client.send(slow, Deadline::never(), &f);
  canceller.join();
  REQUIRE_FALSE(c.ok());
  CHECK(f == Failure::kCancelled);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));

  Request stopped = get(s.url("/big"));
  stopped.sink = [](const char*, size_t) { return false; };
  auto sk = client.send(stopped, Deadline::never(), &f);
  REQUIRE_FALSE(sk.ok());
  CHECK(f == Failure::kSink);
}

TEST_CASE("connections: keep_alive = false closes the connection after the answer", "[http][pool]") {
  Server s;
  s.http().Get("/n", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  s.start();
  HttpClient client(quick_options());
  Request r = get(s.url("/n"));
  r.keep_alive = false;
  REQUIRE(client.send(r)->status == 200);
  REQUIRE(client.send(r)->status == 200);
  CHECK(s.connections() == 2);
  CHECK(s.seen()[0].header("Connection") == "close");
  CHECK(client.stats().reused == 0);
}

TEST_CASE("deadline: a server trickling its answer byte by byte cannot hold a request past its deadline",
          "[http][deadline]") {
  // Each byte comes well within the read timeout (10 s in quick_options), so only the request's
  // own deadline can end these exchanges.
  const bool head_trickles = GENERATE(true, false);
  RawServer raw([head_trickles](int fd, const std::string&) {
    if (head_trickles) {  // the status line and headers, one byte every 200 ms, forever
      if (!RawServer::drip(fd, "HTTP/1.1 200 OK\r\nX-Slow: ", milliseconds(200))) return false;
      while (RawServer::drip(fd, "a", milliseconds(200))) {}
      return false;
    }
    // the head at once, then a 100000-byte body one byte every 200 ms
    if (!RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")) return false;
    while (RawServer::drip(fd, "b", milliseconds(200))) {}
    return false;
  });
  Server fine;
  answer_ok(fine.http(), "/fine");
  fine.start();

  HttpClient client(quick_options());
  const auto start = std::chrono::steady_clock::now();
  Failure f = Failure::kNone;
  auto r = client.send(get(raw.url("/v2/")), Deadline::after(milliseconds(1000)), &f);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(f == Failure::kDeadline);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(r.error().message.find("deadline") != std::string::npos);
  if (head_trickles) CHECK(r.error().message.find("did not answer within the deadline") != std::string::npos);
  CHECK(took < std::chrono::seconds(10));

  // The client is still usable afterwards.
  auto ok = client.send(get(fine.url("/fine")), Deadline::after(milliseconds(5000)));
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(ok->body == "landed");
}

TEST_CASE("connections: a body sent after a HEAD answer is never read as the next answer", "[http][pool]") {
  // A misbehaving server: its HEAD answer declares a body and then really sends it, a moment
  // later. Were the connection reused, the next GET would read those bytes first: 5 stray bytes,
  // or a whole forged answer.
  const std::string stray =
      GENERATE(std::string("JUNK!"), std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"));
  RawServer raw([stray](int fd, const std::string& head) {
    if (head.rfind("HEAD ", 0) == 0) {
      if (!RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(stray.size()) + "\r\n\r\n"))
        return false;
      std::this_thread::sleep_for(milliseconds(100));
      return RawServer::send_all(fd, stray);
    }
    return RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\ngood");
  });
  auto o = quick_options();
  o.retry.max_attempts = 1;
  HttpClient client(o);
  Request head = get(raw.url("/thing"));
  head.method = "HEAD";
  auto h = client.send(head, Deadline::after(milliseconds(5000)));
  REQUIRE(h.ok());
  CHECK(h->status == 200);
  CHECK(h->body.empty());
  std::this_thread::sleep_for(milliseconds(300));  // the stray bytes have arrived by now
  auto g = client.send(get(raw.url("/thing")), Deadline::after(milliseconds(5000)));
  REQUIRE(g.ok());
  CHECK(g->status == 200);
  CHECK(g->body == "good");
  CHECK(raw.accepted() == 2);  // the HEAD's connection was not reused
  CHECK(client.stats().reused == 0);

  // A HEAD answer without a declared body keeps its connection.
  RawServer plain([](int fd, const std::string& h2) {
    if (h2.rfind("HEAD ", 0) == 0) return RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    return RawServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood");
  });
  Request head2 = get(plain.url("/x"));
  head2.method = "HEAD";
  REQUIRE(client.send(head2, Deadline::after(milliseconds(5000))).ok());
  auto g2 = client.send(get(plain.url("/x")), Deadline::after(milliseconds(5000)));
  REQUIRE(g2.ok());
  CHECK(g2->body == "good");
  CHECK(plain.accepted() == 1);
}
