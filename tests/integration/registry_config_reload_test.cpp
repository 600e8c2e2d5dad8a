// Issue 15 (rotation), on the real webhook and the fixture's basic-auth registry: --registry-config
// is re-read when the file changes, as a Secret volume update or a rotated ECR token changes it. A
// private image denied for bad credentials is admitted once the file holds good ones, without a
// restart; a file that does not parse is refused and the credentials in use stay.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::start_webhook;
using scangate::test::fixture_env;
using Json = nlohmann::json;

namespace {

std::string b64(const std::string& s) {
  auto r = scangate::test::run_process({"/usr/bin/base64", "-w0"}, s);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Written beside and renamed over, as the kubelet and `docker login` replace it.
void write_config(const std::string& path, const std::string& body) {
  {
    std::ofstream f(path + ".next", std::ios::binary);
    f << body;
  }
  std::filesystem::rename(path + ".next", path);
}

std::string auth_config(const std::string& registry, const std::string& user, const std::string& password) {
  return Json{{"auths", {{registry, {{"auth", b64(user + ":" + password)}}}}}}.dump();
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Waits until `text` is in the webhook's log `times` times.
bool log_eventually(scangate::it::Webhook& w, const std::string& text, size_t times = 1) {
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       std::chrono::steady_clock::now() < until;) {
    if (count_of(w.log(), text) >= times) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace

TEST_CASE("registry config: rotated credentials are used without a restart, a broken file is refused",
          "[registry][webhook][credentials]") {
  auto env = fixture_env();
  const std::string dir = scangate::test::make_temp_dir("sg-regcfg");
  const std::string cfg = dir + "/config.json";
  const std::string registry = env.at("AUTH_REGISTRY");
  write_config(cfg, auth_config(registry, env.at("AUTH_USER"), "not-the-password"));

  // No tag caching: every review resolves the tag at the registry with the credentials in use.
  auto w = start_webhook(env, {"--registry-config", cfg, "--tag-cache-ttl", "0s"});
  const std::string image = registry + "/" + env.at("PRIVATE_REPO");
  Json before = post(*w, pod_review("cred-1", image));
  INFO(w->log());
  CHECK(before["response"]["allowed"] == false);  // not scannable: scan.onError denies
  CHECK(before["response"]["status"]["message"].get<std::string>().find("authentication") != std::string::npos);

  write_config(cfg, auth_config(registry, env.at("AUTH_USER"), env.at("AUTH_PASSWORD")));
  REQUIRE(log_eventually(*w, "registry credentials reloaded"));
  Json after = post(*w, pod_review("cred-2", image));
  CHECK(after["response"]["allowed"] == true);  // alpine 3.20.3: no CRITICAL in the scenario DB

  // Not JSON: refused, logged, and the good credentials stay: the tag is still resolved at the
  // registry (a failed look-up would be denied by scan.onError).
  write_config(cfg, "{ this is not json");
  REQUIRE(log_eventually(*w, "registry credentials reload failed; keeping the credentials in use"));
  Json kept = post(*w, pod_review("cred-3", image));
  CHECK(kept["response"]["allowed"] == true);

  // And back to a wrong password: the next look-up fails, so the rotation really is in use.
  write_config(cfg, auth_config(registry, env.at("AUTH_USER"), "wrong-again"));
  REQUIRE(log_eventually(*w, "msg=\"registry credentials reloaded\"", 2));
  Json wrong = post(*w, pod_review("cred-4", image));
  CHECK(wrong["response"]["allowed"] == false);
  std::filesystem::remove_all(dir);
}
