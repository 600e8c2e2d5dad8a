// The DB artifact against a hostile or broken registry, and a hostile or careless publisher
// (tests/fixtures/hostile_registry.py: a scripted registry on 127.0.0.1): zstd bombs, manifests
// that lie about sizes or digests or nest deep, trailing garbage, a valid SQLite file that is not
// a usable scangate DB (a view for a table, no advisories, WAL mode), an older DB over the tag (a
// rollback) for `db pull`, `image --db-repository` and the webhook, a download that trickles while
// the webhook shuts down, and push Locations that point elsewhere or carry control characters.
// Every refusal leaves the file in place as it was, and nothing beside it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/statvfs.h>
#include <zstd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "it_support.h"
#include "scanner/core/sha256.h"
#include "scanner/core/time_util.h"
#include "scanner/dbrepo/db_artifact.h"
#include "scanner/image/open_source.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_push.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Child;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::test::fixture_env;
using scangate::test::read_file;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;
namespace dbrepo = scangate::dbrepo;

namespace {

void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path + ".part", std::ios::binary);
  f << bytes;
  f.close();
  std::filesystem::rename(path + ".part", path);
}

// The scripted registry, and what it was asked.
struct Hostile {
  TempDir dir{"sg-hostile"};
  Child proc;
  std::string host;
  Json routes = Json::object();

  Hostile() {
    proc.spawn({"/usr/bin/python3", std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/hostile_registry.py", dir.path},
               dir.path + "/server.log");
    for (int i = 0; i < 200 && !std::filesystem::exists(dir.path + "/port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(std::filesystem::exists(dir.path + "/port"));
    host = "127.0.0.1:" + read_file(dir.path + "/port");
  }
  ~Hostile() { proc.stop(); }

  void publish() { write(dir.path + "/routes.json", routes.dump()); }
  // The route of a file the registry serves.
  Json file_route(const std::string& name, const std::string& bytes) {
    write(dir.path + "/" + name, bytes);
    return {{"body_file", name}};
  }
  std::vector<Json> requests() const {
    std::vector<Json> out;
    std::ifstream in(dir.path + "/requests.jsonl");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(Json::parse(line));
    return out;
  }
  bool asked_for_blob() const {
    for (const auto& r : requests())
      if (r["method"] == "GET" && r["target"].get<std::string>().find("/blobs/") != std::string::npos) return true;
    return false;
  }
};

std::string zstd(const std::string& bytes, int level = 3) {
  std::string packed(ZSTD_compressBound(bytes.size()), '\0');
  size_t n = ZSTD_compress(packed.data(), packed.size(), bytes.data(), bytes.size(), level);
  REQUIRE(!ZSTD_isError(n));
  packed.resize(n);
  return packed;
}

// An artifact of `layer_bytes` (the zstd layer) with honest annotations for `db` unless
// `edit` changes the manifest; served as REPO:tag.
struct Artifact {
  std::string db;
  std::string layer;
  Json manifest;
};

Artifact artifact(const std::string& db, const std::string& layer, const std::string& revision,
                  const std::string& built = "") {
  Json ann = {{"org.opencontainers.image.title", "scangate.db"},
              {"io.scangate.db.revision", revision},
              {"io.scangate.db.size", std::to_string(db.size())},
              {"io.scangate.db.sha256", scangate::Sha256::digest(db)}};
  if (!built.empty()) ann["io.scangate.db.built"] = built;
  Json m = {{"schemaVersion", 2},
            {"mediaType", dbrepo::kOciManifestMediaType},
            {"artifactType", dbrepo::kArtifactType},
            {"config",
             {{"mediaType", dbrepo::kEmptyConfigMediaType}, {"digest", scangate::Sha256::digest("{}")}, {"size", 2}}},
            {"layers", Json::array({{{"mediaType", dbrepo::kLayerMediaType},
                                     {"digest", scangate::Sha256::digest(layer)},
                                     {"size", layer.size()},
                                     {"annotations", ann}}})}};
  return {db, layer, m};
}

// Serves `a` as scangate/db:TAG (manifest with its true digest, the layer by its digest).
void serve(Hostile& h, const std::string& tag, const Artifact& a, const std::string& manifest_body = "") {
  const std::string body = manifest_body.empty() ? a.manifest.dump() : manifest_body;
  Json mr = h.file_route("manifest-" + tag, body);
  mr["digest"] = true;
  mr["headers"] = {{"Content-Type", dbrepo::kOciManifestMediaType}};
  h.routes["GET /v2/scangate/db/manifests/" + tag] = mr;
  const std::string digest = a.manifest["layers"][0]["digest"];
  h.routes["GET /v2/scangate/db/blobs/" + digest] = h.file_route("blob-" + digest.substr(7), a.layer);
  h.publish();
}

scangate::Result<dbrepo::PullResult> pull(const Hostile& h, const std::string& tag, const std::string& output,
                                          const std::function<void(dbrepo::PullOptions&)>& tweak = {}) {
  dbrepo::PullOptions o;
  o.reference = h.host + "/scangate/db:" + tag;
  o.output = output;
  o.deadline = scangate::Deadline::after(std::chrono::seconds(60));
  if (tweak) tweak(o);
  return dbrepo::pull_db(o);
}

std::string revision_of(const std::string& db) {
  auto info = dbrepo::verify_db_file(db);
  REQUIRE(info.ok());
  return info->revision;
}

// The bytes of a copy of the scenario DB changed by SQL (python3's sqlite3, in a directory of its own).
std::string altered_db(const std::string& sql) {
  TempDir work("sg-hostile-craft");
  const std::string path = work.path + "/db";
  std::filesystem::copy_file(scenario_db(), path);
  auto r = run_process({"/usr/bin/python3", "-c",
                        "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                        "c.executescript(sys.argv[2])\nc.close()\n",
                        path, sql});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return read_file(path);
}

// The names in `dir`, to see that nothing was left beside the DB.
std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("hostile registry: zstd bombs and lying sizes are refused before they fill the disk",
          "[db-artifact][hostile]") {
  Hostile h;
  TempDir tmp("sg-hostile-bomb");
  const std::string live = tmp.path + "/live.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string before = read_file(live);
  const std::string db = read_file(scenario_db());
  const std::string rev = revision_of(scenario_db());

  SECTION("a layer that inflates past the size its manifest declares") {
    // 64 MiB of zeros in a few KiB, under the honest annotations of the real DB.
    const std::string bomb = zstd(std::string(64u << 20, '\0'));
    Artifact a = artifact(db, bomb, rev);
    serve(h, "bomb", a);
    auto r = pull(h, "bomb", live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("inflates beyond the size its manifest declares") != std::string::npos);
  }
  SECTION("a manifest that declares a DB a thousand times the layer: refused before the download") {
    const std::string bomb = zstd(std::string(8u << 20, '\0'));
    Artifact a = artifact(std::string(8u << 20, '\0'), bomb, rev);
    serve(h, "ratio", a);
    auto r = pull(h, "ratio", live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("decompression bomb") != std::string::npos);
    CHECK(!h.asked_for_blob());
  }
  SECTION("no size annotation (before: bounded only by the 16 GiB limit)") {
    Artifact a = artifact(db, zstd(db), rev);
    a.manifest["layers"][0]["annotations"].erase("io.scangate.db.size");
    serve(h, "nosize", a);
    auto r = pull(h, "nosize", live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("no io.scangate.db.size annotation") != std::string::npos);
    CHECK(!h.asked_for_blob());
  }
  SECTION("no sha256 annotation") {
    Artifact a = artifact(db, zstd(db), rev);
    a.manifest["layers"][0]["annotations"].erase("io.scangate.db.sha256");
    serve(h, "nosha", a);
    auto r = pull(h, "nosha", live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("no io.scangate.db.sha256 annotation") != std::string::npos);
  }
  SECTION("a DB larger than the free space beside the target: refused before the download") {
    struct statvfs vfs {};
    REQUIRE(::statvfs(tmp.path.c_str(), &vfs) == 0);
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    const uint64_t declared = free_bytes + (1ull << 30);
    Artifact a = artifact(db, zstd(db), rev);
    a.manifest["layers"][0]["annotations"]["io.scangate.db.size"] = std::to_string(declared);
    a.manifest["layers"][0]["size"] = declared / 100;
    serve(h, "full", a);
    auto r = pull(h, "full", live, [](dbrepo::PullOptions& o) { o.max_db_bytes = ~0ull; });
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("are free beside") != std::string::npos);
    CHECK(!h.asked_for_blob());
  }
  SECTION("a layer longer than its descriptor says") {
    Artifact a = artifact(db, zstd(db), rev);
    a.manifest["layers"][0]["size"] = a.layer.size() - 100;
    serve(h, "short", a);
    auto r = pull(h, "short", live);
    REQUIRE(!r.ok());
  }
  SECTION("a manifest nested four million levels deep") {
    Artifact a = artifact(db, zstd(db), rev);
    serve(h, "deep", a, std::string(3u << 19, '[') + std::string(3u << 19, ']'));
    auto r = pull(h, "deep", live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("nested deeper") != std::string::npos);
  }
  CHECK(read_file(live) == before);
  CHECK(names_in(tmp.path) == std::set<std::string>{"live.db"});
}

TEST_CASE("hostile registry: frames, trailing garbage and digests", "[db-artifact][hostile]") {
  Hostile h;
  TempDir tmp("sg-hostile-frames");
  const std::string live = tmp.path + "/live.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string before = read_file(live);
  const std::string db = read_file(scenario_db());
  const std::string rev = revision_of(scenario_db());

  // Trailing garbage after a whole frame: not zstd.
  serve(h, "trailing", artifact(db, zstd(db) + "GARBAGE!", rev));
  auto trailing = pull(h, "trailing", live);
  REQUIRE(!trailing.ok());
  CHECK(trailing.error().message.find("not valid zstd") != std::string::npos);
  CHECK(read_file(live) == before);

  // A blob whose bytes are not its digest (same length).
  Artifact a = artifact(db, zstd(db), rev);
  serve(h, "digest", a);
  std::string tampered = a.layer;
  tampered[tampered.size() / 2] ^= 0x55;
  const std::string digest = a.manifest["layers"][0]["digest"];
  write(h.dir.path + "/blob-" + digest.substr(7), tampered);
  auto bad_digest = pull(h, "digest", live);
  REQUIRE(!bad_digest.ok());
  CHECK(read_file(live) == before);

  // A manifest whose Docker-Content-Digest is not its content.
  serve(h, "lying", a);
  h.routes["GET /v2/scangate/db/manifests/lying"]["digest"] = false;
  h.routes["GET /v2/scangate/db/manifests/lying"]["headers"]["Docker-Content-Digest"] = scangate::Sha256::digest("x");
  h.publish();
  auto lying = pull(h, "lying", live);
  REQUIRE(!lying.ok());
  CHECK(read_file(live) == before);
  CHECK(names_in(tmp.path) == std::set<std::string>{"live.db"});

  // Two frames in a row are one zstd stream: the DB they make is taken whole.
  const std::string small = tmp.path + "/small.db";
  REQUIRE(run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", small, "--alpine-secdb",
                       testdata("scenario/secdb/v3.10-main.json")})
              .exit_code == 0);
  const std::string sdb = read_file(small);
  serve(h, "frames", artifact(sdb, zstd(sdb.substr(0, 10000)) + zstd(sdb.substr(10000)), revision_of(small)));
  auto frames = pull(h, "frames", live);
  INFO((frames.ok() ? std::string() : frames.error().message));
  REQUIRE(frames.ok());
  CHECK(read_file(live) == sdb);
}

TEST_CASE("hostile publisher: SQLite files that are not a usable scangate DB are refused", "[db-artifact][hostile]") {
  Hostile h;
  TempDir tmp("sg-hostile-sqlite");
  const std::string live = tmp.path + "/live.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string before = read_file(live);
  const std::string rev = revision_of(scenario_db());
  struct Case {
    const char* tag;
    const char* sql;
    const char* expect;
  };
  // meta (and so the revision) untouched: only the tables the matcher reads change.
  const Case cases[] = {
      {"empty", "DELETE FROM advisory; VACUUM;", "has no advisories"},
      {"view",
       "ALTER TABLE advisory RENAME TO real_advisory; CREATE VIEW advisory AS SELECT * FROM real_advisory WHERE 0;",
       "has a view"},
      {"trigger", "CREATE TABLE t(x); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;", "has a trigger"},
  };
  for (const Case& c : cases) {
    INFO(c.tag);
    const std::string bytes = altered_db(c.sql);
    serve(h, c.tag, artifact(bytes, zstd(bytes), rev));
    auto r = pull(h, c.tag, live);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find(c.expect) != std::string::npos);
    CHECK(read_file(live) == before);
    CHECK(names_in(tmp.path) == std::set<std::string>{"live.db"});
  }
  // And `db push` refuses to publish an empty DB in the first place.
  const std::string empty = tmp.path + "/empty.db";
  write(empty, altered_db("DELETE FROM advisory;"));
  auto push = run_process({SCANGATE_CLI, "db", "push", "--quiet", "--db", empty, h.host + "/scangate/db:empty"});
  CHECK(push.exit_code == 2);
  CHECK(push.err.find("has no advisories") != std::string::npos);
  std::filesystem::remove(empty);

  // A DB in WAL mode is a whole DB too: taken, with no -wal or -shm left beside the temporary name.
  const std::string wal = altered_db("PRAGMA journal_mode=WAL;");
  REQUIRE(static_cast<unsigned char>(wal.at(18)) == 2);
  serve(h, "wal", artifact(wal, zstd(wal), rev));
  auto r = pull(h, "wal", live);
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  CHECK(names_in(tmp.path) == std::set<std::string>{"live.db"});
}

TEST_CASE("rollback: an older DB over the tag is not swapped in", "[db-artifact][hostile]") {
  Hostile h;
  TempDir tmp("sg-hostile-rollback");
  const std::string live = tmp.path + "/live.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string before = read_file(live);
  const std::string rev = revision_of(scenario_db());
  // The same content built in 2024: a legitimate DB of its day.
  const std::string old_db = altered_db("UPDATE meta SET value='2024-06-12T00:00:00Z' WHERE key='built_at';");
  const auto now = std::chrono::system_clock::now();

  // Annotated honestly: refused from the manifest, nothing downloaded.
  serve(h, "old", artifact(old_db, zstd(old_db), "sha256:" + std::string(64, 'b'), "2024-06-12T00:00:00Z"));
  auto annotated =
      pull(h, "old", live, [&](dbrepo::PullOptions& o) { o.not_built_before = now - std::chrono::hours(1); });
  REQUIRE(!annotated.ok());
  CHECK(annotated.error().message.find("built at 2024-06-12T00:00:00Z") != std::string::npos);
  CHECK(!h.asked_for_blob());

  // The annotation lies (says today): the DB's own build time is what counts.
  serve(h, "liar", artifact(old_db, zstd(old_db), rev, scangate::format_rfc3339(now)));
  auto liar = pull(h, "liar", live, [&](dbrepo::PullOptions& o) { o.not_built_before = now - std::chrono::hours(1); });
  REQUIRE(!liar.ok());
  CHECK(liar.error().message.find("before") != std::string::npos);
  CHECK(read_file(live) == before);
  CHECK(names_in(tmp.path) == std::set<std::string>{"live.db"});

  // `db pull` is the operator's own choice: it takes the older DB.
  auto explicit_pull = run_process(
      {SCANGATE_CLI, "db", "pull", "--quiet", "--output", tmp.path + "/chosen.db", h.host + "/scangate/db:liar"});
  INFO(explicit_pull.err);
  CHECK(explicit_pull.exit_code == 0);

  // `image --db-repository`: a missing DB, and the registry serves a 2024 DB. Before, the scan ran
  // on it and exited 0; now the pulled DB must be within --db-max-age too.
  const std::string cache = tmp.path + "/cache/db.sqlite";
  auto scan = run_process({SCANGATE_CLI, "image", "--quiet", "--db", cache, "--db-repository",
                           h.host + "/scangate/db:liar", h.host + "/no/image:1"});
  CHECK(scan.exit_code == 2);
  CHECK(scan.err.find("--db-repository failed") != std::string::npos);
  CHECK(scan.err.find("built at 2024-06-12T00:00:00Z") != std::string::npos);
  CHECK(!std::filesystem::exists(cache));
}

TEST_CASE("webhook --db-repository: an older DB is refused, and a trickling download does not hold up shutdown",
          "[db-artifact][hostile][webhook]") {
  auto env = fixture_env();
  Hostile h;
  TempDir tmp("sg-hostile-webhook");
  const std::string live = tmp.path + "/scangate.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string rev = revision_of(scenario_db());
  const std::string old_db = altered_db("UPDATE meta SET value='2024-06-12T00:00:00Z' WHERE key='built_at';");
  // Another revision (so the poll does not skip it by revision), built long ago.
  serve(h, "rollback", artifact(old_db, zstd(old_db), "sha256:" + std::string(64, 'c')));

  {
    auto w = start_webhook(env, {"--db", live, "--db-repository", h.host + "/scangate/db:rollback", "--db-poll", "1s"});
    REQUIRE(w->proc.wait_for(std::regex("vulnerability DB pull failed"), std::chrono::seconds(30)).size() == 1);
    INFO(w->log());
    CHECK(w->log().find("built at 2024-06-12T00:00:00Z") != std::string::npos);
    CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + rev + "\"}") == 1);
    CHECK(read_file(live) == read_file(scenario_db()));
  }

  // A registry that sends the DB one byte every 200 ms (two hours for this DB): shutdown stops the
  // pull at the next read instead of waiting out the 30-minute budget.
  const std::string small = tmp.path + "/small.db";
  REQUIRE(run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", small, "--alpine-secdb",
                       testdata("scenario/secdb/v3.10-main.json")})
              .exit_code == 0);
  const std::string sdb = read_file(small);
  const std::string small_rev = revision_of(small);
  std::filesystem::remove(small);
  Artifact slow = artifact(sdb, zstd(sdb), small_rev);
  serve(h, "slow", slow);
  h.routes["GET /v2/scangate/db/blobs/" + slow.manifest["layers"][0]["digest"].get<std::string>()]["trickle_ms"] = 200;
  h.publish();
  auto w = start_webhook(env, {"--db", live, "--db-repository", h.host + "/scangate/db:slow", "--db-poll", "1h",
                               "--shutdown-delay", "0s"});
  for (int i = 0; i < 300 && !h.asked_for_blob(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(h.asked_for_blob());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto t0 = std::chrono::steady_clock::now();
  w->proc.stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(w->log());
  CHECK(took < std::chrono::seconds(15));
  CHECK(names_in(tmp.path) == std::set<std::string>{"scangate.db"});
}

TEST_CASE("hostile registry on push: credentials stay home, a Location with control characters is refused",
          "[db-artifact][hostile]") {
  Hostile h;
  auto ref = scangate::parse_reference(h.host + "/scangate/db:1");
  REQUIRE(ref.ok());
  const std::string port = h.host.substr(h.host.find(':') + 1);
  auto pusher_with_password = [] {
    scangate::SourceOptions so;
    so.credential = scangate::Credential{"alice", "s3cret", ""};
    auto ro = scangate::registry_client_options(so);
    REQUIRE(ro.ok());
    return std::make_unique<scangate::RegistryPusher>(std::move(ro).value());
  };

  // The upload session lives on another origin (localhost is not 127.0.0.1): it gets the chunk and
  // the digest, never the Authorization the registry asked for.
  h.routes["POST /v2/scangate/db/blobs/uploads/"] = {
      {"status", 202}, {"require_auth", true}, {"headers", {{"Location", "http://localhost:" + port + "/upload/1"}}}};
  h.routes["PATCH /upload/1"] = {{"status", 202}};
  h.routes["PUT /upload/1"] = {{"status", 201}};
  h.publish();
  auto sent = pusher_with_password()->push_blob(*ref, "hello", scangate::Deadline::after(std::chrono::seconds(30)));
  INFO((sent.ok() ? std::string() : sent.error().message));
  REQUIRE(sent.ok());
  int elsewhere = 0, home_with_auth = 0;
  for (const auto& r : h.requests()) {
    if (r["host"].get<std::string>().rfind("localhost", 0) == 0) {
      ++elsewhere;
      CHECK(r["authorization"] == "");
    } else if (!r["authorization"].get<std::string>().empty()) {
      ++home_with_auth;
    }
  }
  CHECK(elsewhere == 2);
  CHECK(home_with_auth >= 1);

  // A Location with a bare CR (or a space) in it: refused before anything is sent to it.
  for (const std::string& bad : {std::string("/upload/2\rX-Injected: 1"), std::string("/upload/2 HTTP/1.1")}) {
    h.routes["POST /v2/scangate/db/blobs/uploads/"] = {{"status", 202}, {"headers", {{"Location", bad}}}};
    h.publish();
    auto r =
        pusher_with_password()->push_blob(*ref, "hello again", scangate::Deadline::after(std::chrono::seconds(30)));
    CHECK(!r.ok());
  }
  for (const auto& r : h.requests()) CHECK(r["target"].get<std::string>().find("/upload/2") == std::string::npos);
}

TEST_CASE("db pull --output: a device, a directory, a link", "[db-artifact][hostile]") {
  Hostile h;
  TempDir tmp("sg-hostile-output");
  const std::string db = read_file(scenario_db());
  serve(h, "1", artifact(db, zstd(db), revision_of(scenario_db())));
  const std::string ref = h.host + "/scangate/db:1";

  auto devnull = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", "/dev/null", ref});
  CHECK(devnull.exit_code == 2);
  CHECK(std::filesystem::is_character_file("/dev/null"));
  auto directory = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", tmp.path, ref});
  CHECK(directory.exit_code == 2);

  // Through a link: the file it names is replaced, the link stays a link.
  std::filesystem::create_directories(tmp.path + "/real");
  write(tmp.path + "/real/db", "old");
  std::filesystem::create_symlink("real/db", tmp.path + "/link");
  auto linked = run_process({SCANGATE_CLI, "db", "pull", "--quiet", "--output", tmp.path + "/link", ref});
  INFO(linked.err);
  CHECK(linked.exit_code == 0);
  CHECK(std::filesystem::is_symlink(tmp.path + "/link"));
  CHECK(read_file(tmp.path + "/real/db") == db);
  CHECK(names_in(tmp.path + "/real") == std::set<std::string>{"db"});
}
