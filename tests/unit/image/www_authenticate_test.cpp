// Header values as real registries send them (Docker Hub, GHCR, the CNCF distribution
// registry with htpasswd) and the RFC 7235 examples.
#include <catch2/catch.hpp>

#include "scanner/image/www_authenticate.h"

using scangate::parse_www_authenticate;

TEST_CASE("Docker Hub bearer challenge", "[www_authenticate]") {
  auto r = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto& c = (*r)[0];
  CHECK(c.scheme == "bearer");
  CHECK(c.param("realm") == "https://auth.docker.io/token");
  CHECK(c.param("service") == "registry.docker.io");
  CHECK(c.param("scope") == "repository:library/alpine:pull");
  CHECK(c.param("missing").empty());
}

TEST_CASE("bearer challenge with an error after a token was rejected", "[www_authenticate]") {
  auto r = parse_www_authenticate(
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull",error="insufficient_scope")");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].param("error") == "insufficient_scope");
  CHECK((*r)[0].param("SERVICE") == "ghcr.io");
}

TEST_CASE("basic challenge of the distribution registry (htpasswd)", "[www_authenticate]") {
  auto r = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].scheme == "basic");
  CHECK((*r)[0].param("realm") == "Registry Realm");
}

TEST_CASE("unquoted values, spaces around '=' and mixed-case scheme", "[www_authenticate]") {
  auto r = parse_www_authenticate("BASIC realm = simple , charset=UTF-8");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].scheme == "basic");
  CHECK((*r)[0].param("realm") == "simple");
  CHECK((*r)[0].param("charset") == "UTF-8");
}

TEST_CASE("quoted strings with escapes and commas", "[www_authenticate]") {
  auto r = parse_www_authenticate(R"(Bearer realm="https://a.example/t?x=1,y=2",service="say \"hi\" \\ there")");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].param("realm") == "https://a.example/t?x=1,y=2");
  CHECK((*r)[0].param("service") == R"(say "hi" \ there)");
}

TEST_CASE("several challenges in one header (RFC 7235 section 4.1 example)", "[www_authenticate]") {
  auto r = parse_www_authenticate(R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].scheme == "newauth");
  CHECK((*r)[0].param("realm") == "apps");
  CHECK((*r)[0].param("type") == "1");
  CHECK((*r)[0].param("title") == R"(Login to "apps")");
  CHECK((*r)[1].scheme == "basic");
  CHECK((*r)[1].param("realm") == "simple");
}

TEST_CASE("token68 and parameterless schemes", "[www_authenticate]") {
  auto r = parse_www_authenticate("Negotiate abc123+/x==, Basic realm=\"r\"");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].scheme == "negotiate");
  CHECK((*r)[0].token68 == "abc123+/x==");
  CHECK((*r)[1].param("realm") == "r");

  auto bare = parse_www_authenticate("Negotiate");
  REQUIRE(bare.ok());
  REQUIRE(bare->size() == 1);
  CHECK(bare->front().params.empty());
}

TEST_CASE("malformed headers are errors, not crashes", "[www_authenticate]") {
  for (const char* bad :
       {"", "   ", R"(Bearer realm="unterminated)", "=oops", "Bearer realm=\"x\" junk\"", R"(Bearer realm="a" "b")"}) {
    CAPTURE(bad);
    auto r = parse_www_authenticate(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
  }
}
