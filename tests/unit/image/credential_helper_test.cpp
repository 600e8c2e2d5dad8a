// Credential helpers run for real: small /bin/sh scripts named docker-credential-* in a temporary
// directory that is the whole search path.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "fake_registry.h"
#include "scanner/core/log.h"
#include "scanner/image/credential_helper.h"
#include "scanner/image/credentials.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_client.h"
#include "support/test_support.h"

using namespace scangate;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool exists(const std::string& path) { return std::filesystem::exists(path); }

// Lines in a file (0 when it does not exist): how often a helper ran.
int lines_in(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// A pid that is neither running nor waiting to be reaped by anyone but init.
bool gone_or_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  return close != std::string::npos && close + 2 < all.size() && (all[close + 2] == 'Z' || all[close + 2] == 'X');
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

// A directory of helper scripts; D in a script's text is replaced by the directory.
struct Helpers {
  std::string dir = test::make_temp_dir("sg-credhelper");

  Helpers() {
    add("ok",  // the server it was asked about, one line per run, then an answer
        "read server\n"
        "printf '%s\\n' \"$server\" > D/ok.server\n"
        "echo run >> D/ok.runs\n"
        "printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret-from-helper\"}\\n' \"$server\"\n");
    add("token",
        "read server\necho '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh-from-helper\"}'\n");
    add("hang", "echo $$ > D/hang.pid\nsleep 60 &\necho $! > D/hang.child\nwait\n");
    add("garbage", "echo 'this is no json: garbage-secret-42'\n");
    add("huge", "head -c 200000 /dev/zero | tr '\\000' a\n");
    add("notfound", "echo 'credentials not found in native keychain'\nexit 1\n");
    add("fails", "echo 'boom: the keychain is locked' >&2\nexit 3\n");
    add("leaky", "echo '{\"Username\":\"u\",\"Secret\":\"leaky-secret-99\"}'\nexit 2\n");
    add("env", "printf '{\"Username\":\"e\",\"Secret\":\"%s\"}' \"$SG_HELPER_TEST_SECRET\"\n");
    add("fds", "ls /proc/$$/fd > D/fds.txt\necho '{\"Username\":\"f\",\"Secret\":\"fd-secret-1\"}'\n");
    add("slow", "sleep 0.3\necho run >> D/slow.runs\necho '{\"Username\":\"s\",\"Secret\":\"slow-secret-1\"}'\n");
    add("marker", "echo run >> D/marker.runs\necho '{\"Username\":\"m\",\"Secret\":\"marker-secret-1\"}'\n");
  }

  void add(const std::string& name, std::string body) {
    for (size_t at = 0; (at = body.find("D/", at)) != std::string::npos; at += dir.size()) body.replace(at, 1, dir);
    std::string path = dir + "/docker-credential-" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }

  CredentialHelperOptions options() const {
    CredentialHelperOptions o;
    o.search_path = "relative/dir::" + dir;  // the empty and relative entries are skipped
    return o;
  }
  std::string file(const std::string& name) const { return dir + "/" + name; }
};

Result<std::optional<Credential>> run(const Helpers& h, const std::string& helper,
                                      const std::string& server = "registry.example.com",
                                      const Deadline& deadline = Deadline::never()) {
  return run_credential_helper(helper, server, deadline, h.options());
}

}  // namespace

TEST_CASE("credential helper: a username and secret, asked about the server on stdin", "[credential_helper]") {
  Helpers h;
  auto r = run(h, "ok", "123456789012.dkr.ecr.us-east-1.amazonaws.com");
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->username == "alice");
  CHECK((*r)->password == "s3cret-from-helper");
  CHECK((*r)->identity_token.empty());
  CHECK(test::read_file(h.file("ok.server")) == "123456789012.dkr.ecr.us-east-1.amazonaws.com\n");
  // The secret is registered with the logger.
  CHECK_FALSE(has(log::redact("got s3cret-from-helper"), "s3cret-from-helper"));
}

TEST_CASE("credential helper: Username <token> makes the secret an identity token", "[credential_helper]") {
  Helpers h;
  auto r = run(h, "token");
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->identity_token == "refresh-from-helper");
  CHECK((*r)->username.empty());
  CHECK((*r)->password.empty());
}

TEST_CASE("credential helper: \"credentials not found\" is no credential, not an error", "[credential_helper]") {
  Helpers h;
  auto r = run(h, "notfound");
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
}

TEST_CASE("credential helper: one that hangs is killed with its process group and reaped", "[credential_helper]") {
  Helpers h;
  SECTION("at its timeout") {
    auto o = h.options();
    o.timeout = 500ms;
    auto start = std::chrono::steady_clock::now();
    auto r = run_credential_helper("hang", "registry.example.com", Deadline::never(), o);
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    CHECK(has(r.error().message, "docker-credential-hang"));
    CHECK(has(r.error().message, "registry.example.com"));
    CHECK(has(r.error().message, "no answer within 500 ms; it was killed"));
    CHECK(took < 10s);
  }
  SECTION("at the caller's deadline, when that comes first") {
    auto start = std::chrono::steady_clock::now();
    auto r = run(h, "hang", "registry.example.com", Deadline::after(500ms));
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    CHECK(has(r.error().message, "docker-credential-hang"));
    CHECK(has(r.error().message, "no answer before the deadline; it was killed"));
    CHECK(took < 10s);
  }
  REQUIRE(exists(h.file("hang.pid")));
  pid_t shell = read_pid(h.file("hang.pid"));
  REQUIRE(shell > 0);
  errno = 0;
  CHECK(::kill(shell, 0) == -1);  // reaped: no zombie of ours is left
  CHECK(errno == ESRCH);
  // The helper's own child was in its process group, so it was killed too (init reaps it).
  if (exists(h.file("hang.child"))) {
    pid_t child = read_pid(h.file("hang.child"));
    bool dead = false;
    for (int i = 0; i < 200 && !dead; ++i) {
      dead = gone_or_zombie(child);
      if (!dead) std::this_thread::sleep_for(10ms);
    }
    CHECK(dead);
  }
}

TEST_CASE("credential helper: an expired deadline runs nothing", "[credential_helper]") {
  Helpers h;
  auto r = run(h, "ok", "registry.example.com", Deadline::after(-1s));
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "deadline"));
  CHECK_FALSE(exists(h.file("ok.runs")));
}

TEST_CASE("credential helper: bad answers are clear errors that never quote the answer", "[credential_helper]") {
  Helpers h;
  auto garbage = run(h, "garbage");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().kind == ErrorKind::kFormat);
  CHECK(has(garbage.error().message, "docker-credential-garbage"));
  CHECK(has(garbage.error().message, "registry.example.com"));
  CHECK(has(garbage.error().message, "not the JSON object"));
  CHECK_FALSE(has(garbage.error().message, "garbage-secret-42"));

  auto huge = run(h, "huge");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().kind == ErrorKind::kLimit);
  CHECK(has(huge.error().message, "docker-credential-huge"));
  CHECK(has(huge.error().message, "65536 bytes"));
  CHECK(huge.error().message.size() < 1000);

  auto fails = run(h, "fails");
  REQUIRE_FALSE(fails.ok());
  CHECK(fails.error().kind == ErrorKind::kAuth);
  CHECK(has(fails.error().message, "docker-credential-fails"));
  CHECK(has(fails.error().message, "exit status 3"));
  CHECK(has(fails.error().message, "boom: the keychain is locked"));

  // An answer printed with a failing exit status is not echoed: it may hold the secret.
  auto leaky = run(h, "leaky");
  REQUIRE_FALSE(leaky.ok());
  CHECK(has(leaky.error().message, "exit status 2"));
  CHECK_FALSE(has(leaky.error().message, "leaky-secret-99"));
}

TEST_CASE("credential helper: missing and invalid helpers", "[credential_helper]") {
  Helpers h;
  auto missing = run(h, "absent");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
  CHECK(has(missing.error().message, "docker-credential-absent"));
  CHECK(has(missing.error().message, "registry.example.com"));
  CHECK(has(missing.error().message, "was not found"));

  for (const std::string& bad : std::vector<std::string>{"../x", "a/b", "", "x y", "x;rm -rf", std::string(129, 'a')}) {
    auto r = run(h, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(has(r.error().message, "not valid"));
  }
  CHECK(valid_credential_helper_name("ecr-login"));
  CHECK(valid_credential_helper_name("gcloud"));
  CHECK(valid_credential_helper_name("osxkeychain_2.0"));
  CHECK_FALSE(valid_credential_helper_name("../x"));

  // A relative search path entry is never used, even when the helper is there.
  auto o = h.options();
  std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(h.dir);
  o.search_path = ".";
  auto relative = run_credential_helper("ok", "registry.example.com", Deadline::never(), o);
  std::filesystem::current_path(cwd);
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().kind == ErrorKind::kNotFound);

  // A config naming an invalid helper is refused when it is read.
  auto cfg = parse_docker_config(R"({"credHelpers": {"r.example.com": "../x"}})", "cfg.json");
  REQUIRE_FALSE(cfg.ok());
  CHECK(has(cfg.error().message, "credHelpers[\"r.example.com\"]"));
  CHECK(has(cfg.error().message, "not a valid helper name"));
}

TEST_CASE("credential helper: the environment passes through, other descriptors do not", "[credential_helper]") {
  Helpers h;
  ::setenv("SG_HELPER_TEST_SECRET", "env-secret-from-test", 1);
  auto env = run(h, "env");
  ::unsetenv("SG_HELPER_TEST_SECRET");
  REQUIRE(env.ok());
  REQUIRE(env->has_value());
  CHECK((*env)->password == "env-secret-from-test");

  // A descriptor opened without O_CLOEXEC (as a careless library might) stays in this process.
  int leak = ::open("/dev/null", O_RDONLY);
  REQUIRE(leak >= 0);
  REQUIRE(::dup2(leak, 77) == 77);
  auto fds = run(h, "fds");
  ::close(77);
  ::close(leak);
  REQUIRE(fds.ok());
  std::ifstream in(h.file("fds.txt"));
  std::vector<std::string> open;
  for (std::string fd; in >> fd;) open.push_back(fd);
  CHECK(std::find(open.begin(), open.end(), "0") != open.end());
  CHECK(std::find(open.begin(), open.end(), "77") == open.end());
  CHECK(std::find(open.begin(), open.end(), std::to_string(leak)) == open.end());
}

TEST_CASE("credential helper: answers are cached per helper and server, and shared", "[credential_helper]") {
  Helpers h;
  auto cache = std::make_shared<CredentialHelpers>(h.options());
  auto a = cache->get("ok", "one.example.com", Deadline::never());
  auto b = cache->get("ok", "one.example.com", Deadline::never());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->password == "s3cret-from-helper");
  CHECK(lines_in(h.file("ok.runs")) == 1);
  REQUIRE(cache->get("ok", "two.example.com", Deadline::never()).ok());
  CHECK(lines_in(h.file("ok.runs")) == 2);

  // Errors are not remembered.
  REQUIRE_FALSE(cache->get("absent", "one.example.com", Deadline::never()).ok());
  h.add("absent", "echo '{\"Username\":\"late\",\"Secret\":\"late-secret-1\"}'\n");
  CHECK(cache->get("absent", "one.example.com", Deadline::never()).ok());

  // A burst of callers at once costs one run.
  std::vector<std::thread> burst;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i)
    burst.emplace_back([&, i] {
      auto r = cache->get("slow", "burst.example.com", Deadline::after(20s));
      ok[static_cast<size_t>(i)] = r.ok() && r->has_value() && (*r)->username == "s";
    });
  for (auto& t : burst) t.join();
  CHECK(ok == std::vector<int>{1, 1, 1, 1});
  CHECK(lines_in(h.file("slow.runs")) == 1);

  // Without a TTL every call runs the helper.
  auto o = h.options();
  o.cache_ttl = 0ms;
  CredentialHelpers uncached(o);
  REQUIRE(uncached.get("ok", "one.example.com", Deadline::never()).ok());
  REQUIRE(uncached.get("ok", "one.example.com", Deadline::never()).ok());
  CHECK(lines_in(h.file("ok.runs")) == 4);
}

TEST_CASE("credential store: credHelpers, then credsStore, then inline auths", "[credential_helper][credentials]") {
  Helpers h;
  // alice:inline-pw
  auto parsed = parse_docker_config(R"({
    "auths": {
      "helped.example.com": {"auth": "YWxpY2U6aW5saW5lLXB3"},
      "stored.example.com": {"auth": "YWxpY2U6aW5saW5lLXB3"},
      "inline.example.com": {"auth": "YWxpY2U6aW5saW5lLXB3"}
    },
    "credHelpers": {"helped.example.com": "ok", "https://index.docker.io/v1/": "ok", "inline.example.com": ""},
    "credsStore": "token"
  })",
                                    "cfg.json");
  REQUIRE(parsed.ok());
  CHECK(parsed->warnings.empty());
  CHECK(parsed->helpers);
  CredentialStore store = *parsed;
  store.helpers = std::make_shared<CredentialHelpers>(h.options());
  CHECK(store.helper_for("helped.example.com") == "ok");
  CHECK(store.helper_for("stored.example.com") == "token");

  auto helped = store.lookup("helped.example.com", Deadline::after(20s));
  REQUIRE(helped.ok());
  REQUIRE(helped->has_value());
  CHECK((*helped)->password == "s3cret-from-helper");
  CHECK(test::read_file(h.file("ok.server")) == "helped.example.com\n");

  // Docker Hub's helpers are asked about its v1 index URL.
  auto hub = store.lookup("docker.io", Deadline::after(20s));
  REQUIRE(hub.ok());
  REQUIRE(hub->has_value());
  CHECK(test::read_file(h.file("ok.server")) == "https://index.docker.io/v1/\n");

  auto stored = store.lookup("stored.example.com", Deadline::after(20s));
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->identity_token == "refresh-from-helper");

  // An empty credHelpers entry sends the registry past credsStore to its inline entry.
  auto inline_only = store.lookup("inline.example.com", Deadline::after(20s));
  REQUIRE(inline_only.ok());
  REQUIRE(inline_only->has_value());
  CHECK((*inline_only)->password == "inline-pw");

  // find() never runs a helper.
  REQUIRE(store.find("helped.example.com"));
  CHECK(store.find("helped.example.com")->password == "inline-pw");

  // A helper with nothing for the registry falls back to the inline entry.
  store.creds_store = "notfound";
  auto fallback = store.lookup("stored.example.com", Deadline::after(20s));
  REQUIRE(fallback.ok());
  REQUIRE(fallback->has_value());
  CHECK((*fallback)->password == "inline-pw");
  auto nothing = store.lookup("elsewhere.example.com", Deadline::after(20s));
  REQUIRE(nothing.ok());
  CHECK_FALSE(nothing->has_value());

  // A helper that fails is an error, not a silent fallback.
  store.creds_store = "fails";
  auto failed = store.lookup("stored.example.com", Deadline::after(20s));
  REQUIRE_FALSE(failed.ok());
  CHECK(has(failed.error().message, "docker-credential-fails"));
  CHECK(has(failed.error().message, "stored.example.com"));
}

TEST_CASE("credential store: a config from a Secret never runs a helper", "[credential_helper][credentials]") {
  Helpers h;
  const std::string secret_config = R"({
    "auths": {"r.example.com": {"auth": "YWxpY2U6aW5saW5lLXB3"}},
    "credHelpers": {"r.example.com": "marker", "q.example.com": "../../bin/evil"},
    "credsStore": "marker"
  })";
  auto store = parse_docker_config(secret_config, "Secret team-a/regcred", /*allow_helpers=*/false);
  REQUIRE(store.ok());
  CHECK(store->cred_helpers.empty());
  CHECK(store->creds_store.empty());
  CHECK_FALSE(store->helpers);
  REQUIRE(store->warnings.size() == 1);
  CHECK(has(store->warnings[0], "Secret team-a/regcred"));
  CHECK(has(store->warnings[0], "never run"));
  CHECK(has(store->warnings[0], "r.example.com"));
  // Even with a runner whose search path holds the helper, nothing is run.
  CredentialStore s = *store;
  s.helpers = std::make_shared<CredentialHelpers>(h.options());
  for (const char* registry : {"r.example.com", "q.example.com", "other.example.com"}) {
    auto r = s.lookup(registry, Deadline::after(20s));
    REQUIRE(r.ok());
  }
  auto r = s.lookup("r.example.com", Deadline::after(20s));
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->password == "inline-pw");
  CHECK_FALSE(exists(h.file("marker.runs")));

  // The same text as the user's own config does run it.
  auto own = parse_docker_config(secret_config, "cfg.json");
  REQUIRE_FALSE(own.ok());  // "../../bin/evil" is refused
  CHECK(has(own.error().message, "../../bin/evil"));
}

TEST_CASE("credential store: auths entries keep their keys as written, in file order", "[credentials]") {
  auto store = parse_docker_config(R"({"auths": {
    "https://zeta.example.com:5000/v2/": {"auth": "YWxpY2U6czNjcmV0"},
    "*.example.com/team": {"username": "u", "password": "p"},
    "empty.example.com": {},
    "alpha.example.com": {"identitytoken": "tok-alpha"}
  }})",
                                   "cfg.json");
  REQUIRE(store.ok());
  REQUIRE(store->entries.size() == 3);
  CHECK(store->entries[0].first == "https://zeta.example.com:5000/v2/");
  CHECK(store->entries[0].second.username == "alice");
  CHECK(store->entries[1].first == "*.example.com/team");
  CHECK(store->entries[1].second.password == "p");
  CHECK(store->entries[2].first == "alpha.example.com");
  CHECK(store->entries[2].second.identity_token == "tok-alpha");
  CHECK(store->find("zeta.example.com:5000"));
}

TEST_CASE("credential store: legacy .dockercfg", "[credentials]") {
  // What `kubectl create secret docker-registry` wrote before dockerconfigjson.
  auto store = parse_dockercfg(R"({
    "https://registry.example.com:5000": {"auth": "YWxpY2U6czNjcmV0", "email": "alice@example.com"},
    "legacy.example.com": {"username": "bob", "password": "p:w", "email": "bob@example.com"}
  })",
                               "Secret team-a/old (.dockercfg)");
  REQUIRE(store.ok());
  CHECK(store->source == "Secret team-a/old (.dockercfg)");
  auto a = store->find("registry.example.com:5000");
  REQUIRE(a);
  CHECK(a->username == "alice");
  CHECK(a->password == "s3cret");
  auto b = store->find("legacy.example.com");
  REQUIRE(b);
  CHECK(b->password == "p:w");
  REQUIRE(store->entries.size() == 2);
  CHECK(store->entries[0].first == "https://registry.example.com:5000");
  CHECK(store->entries[1].first == "legacy.example.com");
  CHECK(store->cred_helpers.empty());

  auto bad = parse_dockercfg(R"({"r.io": {"auth": "!!!"}})", "Secret x/y (.dockercfg)");
  REQUIRE_FALSE(bad.ok());
  CHECK(has(bad.error().message, "Secret x/y (.dockercfg)"));
  CHECK(has(bad.error().message, "[\"r.io\"].auth"));
  auto deep = parse_dockercfg(std::string(100000, '[') + std::string(100000, ']'), "Secret x/deep");
  REQUIRE_FALSE(deep.ok());
  CHECK(has(deep.error().message, "nests deeper"));
  CHECK_FALSE(parse_dockercfg("[]", "Secret x/array").ok());
}

TEST_CASE("registry auth: a 401 is answered with the helper's credentials", "[credential_helper][registry]") {
  Helpers h;
  test::FakeRegistry reg;
  reg.auth = test::FakeRegistry::Auth::kBasic;
  const std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                               R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
                               std::string(64, 'a') + R"(","size":2},"layers":[]})";
  reg.add_manifest("team/app", "1.0", "application/vnd.oci.image.manifest.v1+json", manifest);
  h.add("reg",
        "read server\necho \"$server\" > D/reg.server\necho run >> D/reg.runs\n"
        "echo '{\"Username\":\"alice\",\"Secret\":\"s3cret\"}'\n");
  h.add("wrong", "echo '{\"Username\":\"alice\",\"Secret\":\"wrong-pw-1\"}'\n");
  auto ref = parse_reference(reg.host() + "/team/app:1.0");
  REQUIRE(ref.ok());
  auto client_with = [&](const std::string& helper, std::optional<Credential> explicit_credential = std::nullopt) {
    RegistryClientOptions o;
    o.retry.max_attempts = 1;
    o.sleeper = [](std::chrono::milliseconds) {};
    o.credential = std::move(explicit_credential);
    o.credentials.cred_helpers[credential_host_key(reg.host())] = helper;
    o.credentials.helpers = std::make_shared<CredentialHelpers>(h.options());
    return make_http_registry_client(std::move(o));
  };

  auto ok = client_with("reg")->get_manifest(*ref, "1.0", Deadline::after(20s));
  REQUIRE(ok.ok());
  CHECK(test::read_file(h.file("reg.server")) == reg.host() + "\n");

  // A helper that fails is a kAuth error for that registry, naming the helper.
  auto failed = client_with("fails")->get_manifest(*ref, "1.0", Deadline::after(20s));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().kind == ErrorKind::kAuth);
  CHECK(has(failed.error().message, "authentication to " + reg.host() + " failed"));
  CHECK(has(failed.error().message, "docker-credential-fails"));

  // Credentials the registry refuses: the message names the helper, never the secret.
  auto refused = client_with("wrong")->get_manifest(*ref, "1.0", Deadline::after(20s));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::kAuth);
  CHECK(has(refused.error().message, "docker-credential-wrong"));
  CHECK_FALSE(has(refused.error().message, "wrong-pw-1"));

  // --username/--password-stdin wins: the helper does not run.
  const int runs = lines_in(h.file("reg.runs"));
  auto explicit_ok =
      client_with("reg", Credential{"alice", "s3cret", ""})->get_manifest(*ref, "1.0", Deadline::after(20s));
  REQUIRE(explicit_ok.ok());
  CHECK(lines_in(h.file("reg.runs")) == runs);
}
