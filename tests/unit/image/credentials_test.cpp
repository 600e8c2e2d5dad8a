#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "scanner/image/credentials.h"
#include "support/test_support.h"

using namespace scangate;

namespace {
void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}
}  // namespace

// base64("alice:s3cret") = YWxpY2U6czNjcmV0 ; base64("bob:p:w") = Ym9iOnA6dw==  (RFC 4648 alphabet)
TEST_CASE("config.json auths: base64 auth, Docker Hub key, identity token", "[credentials]") {
  auto store = parse_docker_config(R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"},
      "registry.example.com:5000": {"auth": "Ym9iOnA6dw=="},
      "http://localhost:5000/v2/": {"username": "u", "password": "p"},
      "myregistry.azurecr.io": {"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==", "identitytoken": "refresh-abc"},
      "empty.example.com": {}
    }
  })",
                                   "test-config.json");
  REQUIRE(store.ok());
  auto hub = store->find("docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "alice");
  CHECK(hub->password == "s3cret");
  CHECK(store->find("index.docker.io"));
  CHECK(store->find("registry-1.docker.io"));
  auto ex = store->find("registry.example.com:5000");
  REQUIRE(ex);
  CHECK(ex->username == "bob");
  CHECK(ex->password == "p:w");                      // only the first ':' separates
  CHECK_FALSE(store->find("registry.example.com"));  // the port is part of the key
  auto local = store->find("localhost:5000");
  REQUIRE(local);
  CHECK(local->username == "u");
  auto acr = store->find("MyRegistry.azurecr.io");
  REQUIRE(acr);
  CHECK(acr->identity_token == "refresh-abc");
  CHECK(acr->username == "00000000-0000-0000-0000-000000000000");
  CHECK_FALSE(store->find("empty.example.com"));
  CHECK(store->warnings.empty());
}

TEST_CASE("broken config files are errors that name the file and the key", "[credentials]") {
  auto notjson = parse_docker_config("{not json", "/x/config.json");
  REQUIRE_FALSE(notjson.ok());
  CHECK(notjson.error().kind == ErrorKind::kFormat);
  CHECK(notjson.error().message.find("/x/config.json") != std::string::npos);

  auto badb64 = parse_docker_config(R"({"auths": {"r.io": {"auth": "!!!notbase64"}}})", "c.json");
  REQUIRE_FALSE(badb64.ok());
  CHECK(badb64.error().message.find("auths[\"r.io\"].auth") != std::string::npos);

  auto nocolon = parse_docker_config(R"({"auths": {"r.io": {"auth": "YWxpY2U="}}})", "c.json");  // "alice"
  REQUIRE_FALSE(nocolon.ok());
  CHECK(nocolon.error().message.find("username:password") != std::string::npos);

  auto wrongtype = parse_docker_config(R"({"auths": {"r.io": {"auth": 5}}})", "c.json");
  REQUIRE_FALSE(wrongtype.ok());
  CHECK(wrongtype.error().message.find("must be a string") != std::string::npos);
}

TEST_CASE("lookup order: --registry-config, then $DOCKER_CONFIG, then ~/.docker", "[credentials]") {
  std::string dir = test::make_temp_dir("sg-creds");
  write(dir + "/explicit.json", R"({"auths": {"a.io": {"auth": "YWxpY2U6czNjcmV0"}}})");
  write(dir + "/dc/config.json", R"({"auths": {"b.io": {"auth": "YWxpY2U6czNjcmV0"}}})");
  write(dir + "/home/.docker/config.json", R"({"auths": {"c.io": {"auth": "YWxpY2U6czNjcmV0"}}})");

  CredentialSources s{dir + "/explicit.json", dir + "/dc", dir + "/home"};
  auto a = load_credentials(s);
  REQUIRE(a.ok());
  CHECK(a->find("a.io"));
  CHECK_FALSE(a->find("b.io"));
  CHECK(a->source == dir + "/explicit.json");

  s.registry_config_file.clear();
  auto b = load_credentials(s);
  REQUIRE(b.ok());
  CHECK(b->find("b.io"));
  CHECK_FALSE(b->find("c.io"));

  s.docker_config_dir.clear();
  auto c = load_credentials(s);
  REQUIRE(c.ok());
  CHECK(c->find("c.io"));

  // A missing default file is no error; a missing explicit file is.
  auto none = load_credentials(CredentialSources{"", dir + "/nowhere", ""});
  REQUIRE(none.ok());
  CHECK(none->by_host.empty());
  auto missing = load_credentials(CredentialSources{dir + "/nope.json", "", ""});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("nope.json") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("credential host keys", "[credentials]") {
  CHECK(credential_host_key("https://index.docker.io/v1/") == "docker.io");
  CHECK(credential_host_key("registry-1.docker.io") == "docker.io");
  CHECK(credential_host_key("HTTP://Registry.Example.com:5000/v2/") == "registry.example.com:5000");
  CHECK(credential_host_key("[::1]:5000") == "[::1]:5000");
}
