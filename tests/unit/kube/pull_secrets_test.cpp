// Pull secrets as the Kubernetes API returns them: the recorded v1 objects in tests/data/kube
// (shapes from the API reference; tests/data/kube/README.md), read into credential stores.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "scanner/image/keyring.h"
#include "scanner/kube/pull_secrets.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace scangate;
using Json = nlohmann::json;

namespace {

Json object(const std::string& rel) { return Json::parse(test::read_file(std::string(SCANGATE_TESTDATA) + "/" + rel)); }

}  // namespace

TEST_CASE("a kubernetes.io/dockerconfigjson Secret gives its auths entries", "[pullsecrets]") {
  auto store =
      kube::docker_config_of_secret(object("kube/objects/default/secrets/regcred.json"), "secret default/regcred");
  REQUIRE(store.ok());
  REQUIRE(store->entries.size() == 1);
  CHECK(store->entries[0].first == "registry.example.com");
  CHECK(store->entries[0].second.username == "placeholder-user");
  CHECK(store->entries[0].second.password == "placeholder-password");
}

TEST_CASE("a kubernetes.io/dockercfg Secret (the legacy form) gives the same", "[pullsecrets]") {
  auto store = kube::docker_config_of_secret(object("kube/objects/default/secrets/regcred-legacy.json"),
                                             "secret default/regcred-legacy");
  REQUIRE(store.ok());
  REQUIRE(store->entries.size() == 1);
  CHECK(store->entries[0].first == "registry.example.com");
  CHECK(store->entries[0].second.username == "placeholder-user");
  CHECK(store->entries[0].second.password == "placeholder-password");
  DockerKeyring ring;
  ring.add(*store, "secret default/regcred-legacy");
  auto ref = parse_reference("registry.example.com/team/app:1");
  REQUIRE(ref.ok());
  CHECK(ring.lookup(*ref).size() == 1);
}

TEST_CASE("a Secret of another type, or without its key, is refused by name and type", "[pullsecrets]") {
  auto opaque = kube::docker_config_of_secret(object("kube/objects/default/secrets/app-settings.json"),
                                              "secret default/app-settings");
  REQUIRE_FALSE(opaque.ok());
  CHECK(opaque.error().message.find("secret default/app-settings has type \"Opaque\"") != std::string::npos);

  Json no_key = object("kube/objects/default/secrets/regcred.json");
  no_key["data"].erase(".dockerconfigjson");
  auto missing = kube::docker_config_of_secret(no_key, "secret default/regcred");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no data[\".dockerconfigjson\"]") != std::string::npos);

  Json garbage = object("kube/objects/default/secrets/regcred.json");
  garbage["data"][".dockerconfigjson"] = "not base64!";
  CHECK_FALSE(kube::docker_config_of_secret(garbage, "secret default/regcred").ok());
}

TEST_CASE("a Secret's docker config never names a credential helper that runs", "[pullsecrets]") {
  // A tenant's Secret naming a helper: parsed, the helper ignored (the webhook must not execute
  // a program a Secret names).
  Json cfg = {{"credHelpers", {{"registry.example.com", "evil"}}}, {"credsStore", "evil"}};
  Json secret = object("kube/objects/default/secrets/regcred.json");
  auto b64 = test::run_process({"/usr/bin/base64", "-w0"}, cfg.dump());
  REQUIRE(b64.exit_code == 0);
  secret["data"][".dockerconfigjson"] = b64.out;
  auto store = kube::docker_config_of_secret(secret, "secret default/regcred");
  REQUIRE(store.ok());
  auto found = store->lookup("registry.example.com", Deadline::after(std::chrono::seconds(5)));
  REQUIRE(found.ok());
  CHECK_FALSE(found->has_value());
}

TEST_CASE("the pull context's scope names the namespace, ServiceAccount and Secrets", "[pullsecrets]") {
  kube::PullContext a{"team-a", {"x"}, ""};
  kube::PullContext b{"team-a", {"x"}, "default"};
  kube::PullContext c{"team-b", {"x"}, ""};
  CHECK(a.scope() == b.scope());
  CHECK(a.scope() != c.scope());
  CHECK(kube::PullContext{}.scope().empty());
}
