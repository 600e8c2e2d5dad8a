#include "scanner/net/url.h"

#include <catch2/catch.hpp>

using namespace scangate;
using namespace scangate::net;

TEST_CASE("url: parts, default ports and origins", "[url]") {
  auto u = parse_url("HTTPS://Registry.Example.com/v2/x/manifests/1?token=secret#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "registry.example.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/v2/x/manifests/1?token=secret");
  CHECK(u->path() == "/v2/x/manifests/1");
  CHECK(u->origin() == "https://registry.example.com:443");
  CHECK(u->display() == "https://registry.example.com/v2/x/manifests/1");  // no query: it may carry tokens
  CHECK(u->str() == "https://registry.example.com/v2/x/manifests/1?token=secret");

  auto p = parse_url("http://127.0.0.1:5000");
  REQUIRE(p.ok());
  CHECK(p->port == 5000);
  CHECK(p->target == "/");
  CHECK(p->host_port() == "127.0.0.1:5000");
  CHECK(p->display() == "http://127.0.0.1:5000/");

  auto q = parse_url("http://h?x=1");
  REQUIRE(q.ok());
  CHECK(q->target == "/?x=1");
  CHECK(q->port == 80);

  auto v6 = parse_url("https://[::1]:8443/a");
  REQUIRE(v6.ok());
  CHECK(v6->host == "[::1]");
  CHECK(v6->port == 8443);
  CHECK(v6->origin() == "https://[::1]:8443");
  auto v6d = parse_url("http://[fe80::1]/");
  REQUIRE(v6d.ok());
  CHECK(v6d->port == 80);

  CHECK(parse_url("https://a:443/x")->same_origin(*parse_url("https://A/y")));
  CHECK_FALSE(parse_url("https://a/x")->same_origin(*parse_url("http://a:443/x")));
  CHECK_FALSE(parse_url("http://a:1/x")->same_origin(*parse_url("http://a:2/x")));
}

TEST_CASE("url: what is refused", "[url]") {
  for (const char* bad :
       {"ftp://host/x", "host/x", "http:///x", "http://user:pw@host/x", "http://host:99999/", "http://host:12ab/",
        "http://host:/x", "http://ho st/", "http://host/a b", "http://[::1/x", "http://host/\x01"}) {
    auto r = parse_url(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().kind == ErrorKind::kFormat);
  }
  CHECK(parse_url("nope").error().message.find("invalid URL \"nope\"") != std::string::npos);
}

TEST_CASE("url: redirect locations resolve against the base", "[url]") {
  auto base = *parse_url("https://reg.example:5000/v2/team/app/blobs/sha256:abc?x=1");
  CHECK(resolve_location(base, "https://storage.example/b?sig=1")->str() == "https://storage.example/b?sig=1");
  CHECK(resolve_location(base, "//cdn.example/b")->str() == "https://cdn.example/b");
  CHECK(resolve_location(base, "/other/path?q")->str() == "https://reg.example:5000/other/path?q");
  CHECK(resolve_location(base, "next")->str() == "https://reg.example:5000/v2/team/app/blobs/next");
  CHECK(resolve_location(base, "?y=2")->str() == "https://reg.example:5000/v2/team/app/blobs/sha256:abc?y=2");
  CHECK(resolve_location(base, "/p#frag")->str() == "https://reg.example:5000/p");
  CHECK(resolve_location(base, "/a?u=http://evil/")->host == "reg.example");
  CHECK_FALSE(resolve_location(base, "/a b").ok());
  CHECK_FALSE(resolve_location(base, "gopher://x/").ok());
}

TEST_CASE("url: percent-encoding keeps only the unreserved characters", "[url]") {
  CHECK(percent_encode("repository:team/app:pull") == "repository%3Ateam%2Fapp%3Apull");
  CHECK(percent_encode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(percent_encode("a b&c=d+\xc3\xa9") == "a%20b%26c%3Dd%2B%C3%A9");
  CHECK(percent_encode("") == "");
}

TEST_CASE("url: loopback hosts", "[url]") {
  for (const char* h :
       {"localhost", "LOCALHOST:5000", "127.0.0.1", "127.0.0.2:8080", "127.255.1.3", "[::1]", "[::1]:5000", "::1"})
    CHECK(is_loopback_host(h));
  for (const char* h : {"128.0.0.1", "127.0.0.1.nip.io", "localhost.example", "10.0.0.1", "127.0.0", "127.0.0.256",
                        "[::2]", "example.com"})
    CHECK_FALSE(is_loopback_host(h));
}
