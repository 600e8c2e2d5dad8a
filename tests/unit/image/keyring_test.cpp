// The kubelet's keyring rules (pkg/credentialprovider/keyring.go, as its documentation and tests
// state them): scheme-less keys, /v1/ and /v2/ dropped, one glob per host part, equal ports,
// the key's path a prefix of the image's, most specific key first.
#include <catch2/catch.hpp>

#include "scanner/image/keyring.h"

using namespace scangate;

namespace {

CredentialStore store_of(std::vector<std::pair<std::string, std::string>> entries) {
  CredentialStore s;
  for (auto& [key, user] : entries) {
    Credential c;
    c.username = user;
    c.password = "pw-" + user;
    s.entries.emplace_back(key, c);
  }
  return s;
}

std::vector<std::string> users(const DockerKeyring& ring, const std::string& image) {
  auto ref = parse_reference(image);
  REQUIRE(ref.ok());
  std::vector<std::string> out;
  for (auto& kc : ring.lookup(*ref)) out.push_back(kc.credential.username);
  return out;
}

}  // namespace

TEST_CASE("keyring keys drop the scheme and Docker's /v1/ and /v2/ paths", "[keyring]") {
  CHECK(keyring_key("https://registry.example.com:5000/v2/") == "registry.example.com:5000");
  CHECK(keyring_key("http://Registry.Example.com/v1/") == "registry.example.com");
  CHECK(keyring_key("registry.example.com/team/app") == "registry.example.com/team/app");
  CHECK(keyring_key("https://index.docker.io/v1/") == "index.docker.io");
  CHECK(keyring_key("*.example.com") == "*.example.com");
  CHECK(keyring_key("https://") == "");
}

TEST_CASE("keyring matching follows the kubelet: globs per host part, ports, path prefixes", "[keyring]") {
  // The kubelet's documented examples: *.docker.io matches blah.docker.io, not not.right.io.
  CHECK(keyring_match("*.docker.io", "blah.docker.io/x"));
  CHECK_FALSE(keyring_match("*.docker.io", "not.right.io/x"));
  // One glob per part: *.example.com does not match a deeper host, nor the bare domain.
  CHECK_FALSE(keyring_match("*.example.com", "a.b.example.com/x"));
  CHECK_FALSE(keyring_match("*.example.com", "example.com/x"));
  CHECK(keyring_match("*.*.example.com", "a.b.example.com/x"));
  CHECK(keyring_match("reg-?.example.com", "reg-1.example.com/x"));
  // Ports must be equal; no port matches only no port.
  CHECK(keyring_match("reg.example.com:5000", "reg.example.com:5000/x"));
  CHECK_FALSE(keyring_match("reg.example.com", "reg.example.com:5000/x"));
  CHECK_FALSE(keyring_match("reg.example.com:5000", "reg.example.com/x"));
  // Path prefixes (a string prefix, as the kubelet compares them).
  CHECK(keyring_match("reg.example.com/team", "reg.example.com/team/app"));
  CHECK_FALSE(keyring_match("reg.example.com/team", "reg.example.com/other/app"));
  CHECK(keyring_match("reg.example.com/team", "reg.example.com/teamb/app"));
  // Loopback registries as the tests use them.
  CHECK(keyring_match("127.0.0.1:5000", "127.0.0.1:5000/private/alpine"));
  CHECK_FALSE(keyring_match("127.0.0.1:5001", "127.0.0.1:5000/private/alpine"));
}

TEST_CASE("keyring lookup returns every match, the most specific key first", "[keyring]") {
  DockerKeyring ring;
  ring.add(store_of({{"quay.io", "host"}, {"quay.io/coreos", "team"}, {"https://quay.io/coreos/etcd", "repo"}}),
           "secret ns/a");
  ring.add(store_of({{"*.quay.io", "glob"}, {"quay.io", "host2"}}), "secret ns/b");
  CHECK(users(ring, "quay.io/coreos/etcd:3.5") == std::vector<std::string>{"repo", "team", "host", "host2"});
  CHECK(users(ring, "quay.io/other/x") == std::vector<std::string>{"host", "host2"});
  CHECK(users(ring, "eu.quay.io/other/x") == std::vector<std::string>{"glob"});
  CHECK(users(ring, "ghcr.io/o/x").empty());
  auto ref = parse_reference("quay.io/coreos/etcd");
  REQUIRE(ref.ok());
  auto got = ring.lookup(*ref);
  REQUIRE(got.size() == 4);
  CHECK(got[0].origin == "secret ns/a");
  CHECK(got[0].key == "quay.io/coreos/etcd");
  CHECK(got[3].origin == "secret ns/b");
}

TEST_CASE("keyring: Docker Hub images take docker.io keys, else index.docker.io ones", "[keyring]") {
  DockerKeyring legacy;
  legacy.add(store_of({{"https://index.docker.io/v1/", "hub"}}), "secret ns/hub");
  CHECK(users(legacy, "nginx:1.27") == std::vector<std::string>{"hub"});
  CHECK(users(legacy, "docker.io/team/app") == std::vector<std::string>{"hub"});
  CHECK(users(legacy, "ghcr.io/team/app").empty());
  DockerKeyring direct;
  direct.add(store_of({{"docker.io", "direct"}, {"index.docker.io", "legacy"}}), "secret ns/hub");
  CHECK(users(direct, "nginx") == std::vector<std::string>{"direct"});
}
