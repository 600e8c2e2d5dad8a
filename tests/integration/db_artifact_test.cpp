// Issue 14 (the DB as an OCI artifact), against the Debian docker-registry of the fixture:
// `scangate db push` then `db pull` give back the same bytes; the manifest has the documented
// artifact type, media types and annotations; a blob pushed in many chunks arrives whole; a token
// registry grants the push only with credentials; a corrupt or foreign artifact is refused and the
// DB in place stays; and a running webhook picks up a pushed DB by --db-repository while it serves,
// with no request failing during the swap.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "it_support.h"
#include "scanner/core/sha256.h"
#include "scanner/dbrepo/db_artifact.h"
#include "scanner/image/open_source.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_push.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::eventually;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::revision_of;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::test::fixture_env;
using scangate::test::read_file;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

// GET of a manifest straight from the registry's API, as any OCI client reads it.
Json fetch_manifest(const std::string& registry, const std::string& repo, const std::string& ref) {
  auto r = run_process({"/usr/bin/curl", "-sS", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                        "http://" + registry + "/v2/" + repo + "/manifests/" + ref});
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

// A second DB: only the Alpine 3.10 secdb, so nothing in python:3.6 (Alpine 3.14) matches it.
std::string build_small_db(const std::string& path) {
  auto built = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", path, "--alpine-secdb",
                            testdata("scenario/secdb/v3.10-main.json")});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  return path;
}

// Pushes a hand-made artifact whose layer is `db_bytes` zstd-compressed, with honest size and
// sha256 annotations (and `revision`): what a broken build job could push.
void push_crafted(const std::string& reference, const std::string& db_bytes, const std::string& revision) {
  auto ref = scangate::parse_reference(reference);
  REQUIRE(ref.ok());
  std::string packed(ZSTD_compressBound(db_bytes.size()), '\0');
  size_t n = ZSTD_compress(packed.data(), packed.size(), db_bytes.data(), db_bytes.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  packed.resize(n);
  scangate::SourceOptions so;
  auto ro = scangate::registry_client_options(so);
  REQUIRE(ro.ok());
  scangate::RegistryPusher pusher(std::move(ro).value());
  REQUIRE(pusher.push_blob(*ref, "{}", scangate::Deadline::never()).ok());
  REQUIRE(pusher.push_blob(*ref, packed, scangate::Deadline::never()).ok());
  Json layer = {{"mediaType", scangate::dbrepo::kLayerMediaType},
                {"digest", scangate::Sha256::digest(packed)},
                {"size", packed.size()},
                {"annotations",
                 {{"io.scangate.db.revision", revision},
                  {"io.scangate.db.size", std::to_string(db_bytes.size())},
                  {"io.scangate.db.sha256", scangate::Sha256::digest(db_bytes)}}}};
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", scangate::dbrepo::kOciManifestMediaType},
                   {"artifactType", scangate::dbrepo::kArtifactType},
                   {"config",
                    {{"mediaType", scangate::dbrepo::kEmptyConfigMediaType},
                     {"digest", scangate::Sha256::digest("{}")},
                     {"size", 2}}},
                   {"layers", Json::array({layer})}};
  auto put = pusher.put_manifest(*ref, ref->tag, scangate::dbrepo::kOciManifestMediaType, manifest.dump(),
                                 scangate::Deadline::never());
  INFO((put.ok() ? std::string() : put.error().message));
  REQUIRE(put.ok());
}

}  // namespace

TEST_CASE("db push then db pull through the registry: same bytes, documented artifact", "[registry][db-artifact]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-artifact");
  const std::string& d = tmp.path;
  const std::string db = scenario_db();
  const std::string revision = revision_of(db);
  const std::string registry = env.at("REGISTRY");
  const std::string ref = registry + "/scangate/db:push-pull";

  auto pushed = run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", db, ref});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(pushed.out.find("pushed " + ref + "@sha256:") != std::string::npos);
  CHECK(pushed.out.find(revision) != std::string::npos);

  // The manifest as the registry stores it: an OCI 1.1 artifact with one zstd DB layer.
  Json m = fetch_manifest(registry, "scangate/db", "push-pull");
  CHECK(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(m["artifactType"] == "application/vnd.scangate.db.v1");
  CHECK(m["config"]["mediaType"] == "application/vnd.oci.empty.v1+json");
  CHECK(m["config"]["digest"] == scangate::Sha256::digest("{}"));
  REQUIRE(m["layers"].size() == 1);
  const Json& layer = m["layers"][0];
  CHECK(layer["mediaType"] == "application/vnd.scangate.db.layer.v1.sqlite+zstd");
  const std::string bytes = read_file(db);
  CHECK(layer["annotations"]["io.scangate.db.revision"] == revision);
  CHECK(layer["annotations"]["io.scangate.db.size"] == std::to_string(bytes.size()));
  CHECK(layer["annotations"]["io.scangate.db.sha256"] == scangate::Sha256::digest(bytes));
  CHECK(m["annotations"]["io.scangate.db.revision"] == revision);

  // Pull into a new file, and over an existing (other) DB: the same bytes both times.
  const std::string fresh = d + "/sub/dir/pulled.db";
  auto pulled = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", fresh, ref});
  INFO(pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(read_file(fresh) == bytes);
  CHECK(pulled.out.find(revision) != std::string::npos);
  const std::string other = build_small_db(d + "/other.db");
  std::filesystem::permissions(other, std::filesystem::perms(0640));
  auto over = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", other, ref});
  REQUIRE(over.exit_code == 0);
  CHECK(read_file(other) == bytes);
  CHECK((std::filesystem::status(other).permissions() & std::filesystem::perms::all) == std::filesystem::perms(0640));

  // By digest too.
  const std::string digest = pushed.out.substr(pushed.out.find("@sha256:") + 1, 71);
  auto by_digest = run_process(
      {SCANGATE_CLI, "db", "pull", "--quiet", "--output", d + "/by-digest.db", registry + "/scangate/db@" + digest});
  INFO(by_digest.err);
  REQUIRE(by_digest.exit_code == 0);
  CHECK(read_file(d + "/by-digest.db") == bytes);
}

TEST_CASE("db push: a blob in many chunks arrives whole", "[registry][db-artifact]") {
  auto env = fixture_env();
  auto ref = scangate::parse_reference(env.at("REGISTRY") + "/scangate/chunks:1");
  REQUIRE(ref.ok());
  TempDir tmp("sg-db-chunks");
  // 100,003 bytes in 4096-byte chunks: 25 PATCHes, the last one short.
  std::string blob;
  for (int i = 0; blob.size() < 100003; ++i) blob += std::to_string(i * 7919) + ",";
  blob.resize(100003);
  const std::string file = tmp.path + "/blob";
  {
    std::ofstream f(file, std::ios::binary);
    f << blob;
  }
  scangate::SourceOptions so;
  auto ro = scangate::registry_client_options(so);
  REQUIRE(ro.ok());
  scangate::RegistryPusher pusher(std::move(ro).value());
  pusher.chunk_size = 4096;
  const std::string digest = scangate::Sha256::digest(blob);
  int calls = 0;
  auto sent = pusher.push_blob_file(*ref, file, digest, blob.size(), scangate::Deadline::never(),
                                    [&](uint64_t, uint64_t) { ++calls; });
  INFO((sent.ok() ? std::string() : sent.error().message));
  REQUIRE(sent.ok());
  CHECK(*sent == true);
  CHECK(calls == 25);
  auto got =
      run_process({"/usr/bin/curl", "-sS", "http://" + env.at("REGISTRY") + "/v2/scangate/chunks/blobs/" + digest});
  REQUIRE(got.exit_code == 0);
  CHECK(got.out == blob);
  // A second push finds the blob and sends nothing.
  auto again = pusher.push_blob_file(*ref, file, digest, blob.size(), scangate::Deadline::never());
  REQUIRE(again.ok());
  CHECK(*again == false);
  // A file whose content is not the digest named: the registry refuses to close the upload.
  auto wrong = pusher.push_blob_file(*ref, file, scangate::Sha256::digest("something else"), blob.size(),
                                     scangate::Deadline::never());
  REQUIRE(!wrong.ok());
}

TEST_CASE("db push: a token registry grants push with credentials only", "[registry][db-artifact]") {
  auto env = fixture_env();
  if (env["TOKEN_REGISTRY"].empty()) {
    WARN("the fixture has no token registry");
    return;
  }
  TempDir tmp("sg-db-token");
  const std::string ref = env.at("TOKEN_REGISTRY") + "/scangate/db:1";
  auto anonymous = run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", scenario_db(), ref});
  CHECK(anonymous.exit_code == 2);
  CHECK(anonymous.err.find("authentication") != std::string::npos);

  auto with_password = run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", scenario_db(), "--username",
                                    env.at("TOKEN_USER"), "--password-stdin", ref},
                                   env.at("TOKEN_PASSWORD") + "\n");
  INFO(with_password.err);
  REQUIRE(with_password.exit_code == 0);
  auto pulled = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", tmp.path + "/db", "--username",
                             env.at("TOKEN_USER"), "--password-stdin", ref},
                            env.at("TOKEN_PASSWORD") + "\n");
  INFO(pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(read_file(tmp.path + "/db") == read_file(scenario_db()));
}

TEST_CASE("db pull: a corrupt or foreign artifact is refused and the DB in place stays", "[registry][db-artifact]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-corrupt");
  const std::string registry = env.at("REGISTRY");
  const std::string live = tmp.path + "/live.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string before = read_file(live);
  const std::string db = read_file(scenario_db());

  // Cut short: honest digests and annotations of 8 KiB of a real DB.
  push_crafted(registry + "/scangate/db:truncated", db.substr(0, 8192), revision_of(scenario_db()));
  auto truncated =
      run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", live, registry + "/scangate/db:truncated"});
  CHECK(truncated.exit_code == 2);
  CHECK(truncated.err.find("refusing the DB") != std::string::npos);
  CHECK(read_file(live) == before);

  // Not SQLite at all.
  push_crafted(registry + "/scangate/db:garbage", std::string(50000, 'x'), "sha256:0");
  auto garbage =
      run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", live, registry + "/scangate/db:garbage"});
  CHECK(garbage.exit_code == 2);
  CHECK(read_file(live) == before);

  // A whole, valid DB under a manifest that names another revision: refused as inconsistent.
  push_crafted(registry + "/scangate/db:mislabelled", db, "sha256:" + std::string(64, 'a'));
  auto mislabelled =
      run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", live, registry + "/scangate/db:mislabelled"});
  CHECK(mislabelled.exit_code == 2);
  CHECK(mislabelled.err.find("revision") != std::string::npos);
  CHECK(read_file(live) == before);

  // A container image is not a DB.
  auto image = run_process(
      {SCANGATE_CLI, "db", "pull", "--quiet", "--output", live, registry + "/" + env.at("IMAGE_ALPINE_3_20_3")});
  CHECK(image.exit_code == 2);
  CHECK(image.err.find("not a scangate DB artifact") != std::string::npos);
  CHECK(read_file(live) == before);
  // No temporary files left beside it.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);
}

TEST_CASE("scangate image --db-repository pulls a missing or old DB first", "[registry][db-artifact]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-first-run");
  const std::string registry = env.at("REGISTRY");
  const std::string repo = registry + "/scangate/db:first-run";
  REQUIRE(run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", scenario_db(), repo}).exit_code == 0);
  const std::string db = tmp.path + "/cache/db.sqlite";
  const std::string image = registry + "/" + env.at("IMAGE_PYTHON_3_6");

  // No DB and no repository: the error names both ways to get one.
  auto none = run_process({SCANGATE_CLI, "image", "--quiet", "--db", db, image});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("scangate db pull") != std::string::npos);
  CHECK(none.err.find("scangate db update") != std::string::npos);

  // With the repository (from the environment, as CI sets it): pulled, then the scan runs on it.
  auto first = run_process({SCANGATE_CLI, "image", "--format", "json", "--exit-code", "1", "--db", db, image}, "",
                           {{"SCANGATE_DB_REPOSITORY", repo}});
  INFO(first.err);
  CHECK(first.exit_code == 1);  // the scenario DB has python:3.6's CRITICALs
  CHECK(first.err.find("pulling " + repo) != std::string::npos);
  CHECK(read_file(db) == read_file(scenario_db()));

  // Fresh enough: no pull the second time, even with the repository unreachable.
  auto second = run_process(
      {SCANGATE_CLI, "image", "--format", "json", "--db", db, "--db-repository", "127.0.0.1:1/nothing:here", image});
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.err.find("pulling 127.0.0.1:1/nothing:here") == std::string::npos);

  // Older than --db-max-age (build times have whole seconds: wait past the next one) and the pull
  // fails: the scan does not run on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto stale = run_process({SCANGATE_CLI, "image", "--format", "json", "--db", db, "--db-repository",
                            "127.0.0.1:1/nothing:here", "--db-max-age", "1ms", image});
  CHECK(stale.exit_code == 2);
  CHECK(stale.err.find("--db-repository failed") != std::string::npos);
}

TEST_CASE("webhook --db-repository: starts from the artifact, picks up a pushed DB while serving",
          "[registry][webhook][db-artifact]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-webhook");
  const std::string registry = env.at("REGISTRY");
  const std::string repo = registry + "/scangate/db:webhook";
  const std::string scenario_rev = revision_of(scenario_db());
  REQUIRE(run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", scenario_db(), repo}).exit_code == 0);
  const std::string small = build_small_db(tmp.path + "/small.db");
  const std::string small_rev = revision_of(small);

  // An empty volume: the webhook pulls the DB before it is ready.
  const std::string live = tmp.path + "/volume/scangate.db";
  std::filesystem::create_directories(tmp.path + "/volume");
  auto w = start_webhook(env, {"--db", live, "--db-repository", repo, "--db-poll", "1s"});
  INFO(w->log());
  CHECK(read_file(live) == read_file(scenario_db()));
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + scenario_rev + "\"}") == 1);
  const std::string image = registry + "/" + env.at("IMAGE_PYTHON_3_6");
  Json before = post(*w, pod_review("art-1", image));
  CHECK(before["response"]["allowed"] == false);

  // Reviews keep coming while a new DB is pushed and swapped in: every one is answered.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread load([&] {
    for (int i = 0; !stop; ++i) {
      auto h = scangate::it::post_text(*w, pod_review("load-" + std::to_string(i), image).dump());
      if (h.curl_exit == 0 && h.code == "200" && h.body.find("\"allowed\"") != std::string::npos)
        ++answered;
      else
        ++failed;
    }
  });
  REQUIRE(run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", small, repo}).exit_code == 0);
  const bool swapped =
      eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + small_rev + "\"}") == 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  load.join();
  REQUIRE(swapped);
  CHECK(failed == 0);
  CHECK(answered > 0);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_pulls_total{result=\"updated\"}") >= 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_pulls_total{result=\"unchanged\"}") >= 1);
  // The same image, admitted... no: denied before, allowed now under the new DB's findings.
  Json after = post(*w, pod_review("art-2", image));
  CHECK(after["response"]["allowed"] == true);
  // Decided again from the kept inventory: one re-decision, and still the one scan of the start.
  CHECK(metric_sum(metrics_text(*w), "scangate_rematches_total{result=\"ok\"}") == 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total{result=\"ok\"}") == 1);

  // A corrupt DB pushed over the tag: refused and counted, the DB in use keeps serving.
  const double errors_before = metric_sum(metrics_text(*w), "scangate_db_pulls_total{result=\"error\"}");
  push_crafted(repo, read_file(scenario_db()).substr(0, 8192), scenario_rev);
  REQUIRE(eventually(
      [&] { return metric_sum(metrics_text(*w), "scangate_db_pulls_total{result=\"error\"}") > errors_before; }));
  CHECK(w->log().find("vulnerability DB pull failed; keeping the DB in use") != std::string::npos);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + small_rev + "\"}") == 1);
  CHECK(read_file(live) == read_file(small));
  Json kept = post(*w, pod_review("art-3", image));
  CHECK(kept["response"]["allowed"] == true);
}

TEST_CASE("db pull: temporary files of killed pulls are removed, a pull in progress is not", "[db-artifact]") {
  TempDir tmp("sg-db-temps");
  const std::string db = tmp.path + "/scangate.db";
  auto touch = [](const std::string& path, std::chrono::seconds age) {
    std::ofstream(path) << "partial";
    std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - age);
  };
  touch(db + ".tmp-AbC123", std::chrono::hours(2));                 // a pull killed two hours ago
  touch(db + ".tmp-zzzzzz", std::chrono::hours(30));                // and another
  touch(db + ".tmp-Fresh1", std::chrono::seconds(5));               // still being written
  touch(db + ".tmp-toolong1", std::chrono::hours(2));               // not a name a pull makes
  touch(tmp.path + "/other.db.tmp-AbC123", std::chrono::hours(2));  // another file's
  std::filesystem::create_directory(db + ".tmp-dir123");
  CHECK(scangate::dbrepo::remove_stale_temps(db, std::chrono::hours(1)) == 2);
  CHECK(!std::filesystem::exists(db + ".tmp-AbC123"));
  CHECK(!std::filesystem::exists(db + ".tmp-zzzzzz"));
  CHECK(std::filesystem::exists(db + ".tmp-Fresh1"));
  CHECK(std::filesystem::exists(db + ".tmp-toolong1"));
  CHECK(std::filesystem::exists(tmp.path + "/other.db.tmp-AbC123"));
  CHECK(std::filesystem::is_directory(db + ".tmp-dir123"));
}
