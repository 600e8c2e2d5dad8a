// Issue 14 (hot DB reload), on the real webhook: `--db FILE` is watched; a DB written over it
// atomically (as `scangate db build --output` does) serves the next reviews without a restart, and
// the verdicts cached under the old DB's revision are decided again; a file that is not a DB is
// refused, logged and counted, and the DB in use keeps serving.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix) : path(scangate::test::make_temp_dir(prefix)) {}
  ~TempDir() { std::filesystem::remove_all(path); }
};

// The revision `scangate db info` prints for a DB file.
std::string revision_of(const std::string& db) {
  auto r = run_process({SCANGATE_CLI, "db", "info", "--db", db});
  REQUIRE(r.exit_code == 0);
  auto at = r.out.find("Revision:");
  REQUIRE(at != std::string::npos);
  auto start = r.out.find_first_not_of(' ', at + 9);
  return r.out.substr(start, r.out.find('\n', start) - start);
}

bool eventually(const std::function<bool()>& pred) {
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until;) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

}  // namespace

TEST_CASE("db reload: a DB written over --db serves the next review, a broken one is refused",
          "[registry][webhook][db-reload]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-reload");
  const std::string& d = tmp.path;
  const std::string live = d + "/scangate.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string first = revision_of(live);

  // The second DB knows only Alpine 3.10: nothing in the python:3.6 (Alpine 3.14) image matches it.
  const std::string next = d + "/next.db";
  auto built = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", next, "--alpine-secdb",
                            testdata("scenario/secdb/v3.10-main.json")});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  const std::string second = revision_of(next);
  REQUIRE(second != first);

  auto w = start_webhook(env, {"--db", live});
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  Json before = post(*w, pod_review("db-1", image));
  INFO(w->log());
  CHECK(before["response"]["allowed"] == false);  // 8 CRITICAL under the scenario DB
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + first + "\"}") == 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_age_seconds") >= 0);

  // `db build --output` over the live file: a temporary file beside it, renamed over it.
  auto rebuilt = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", live, "--alpine-secdb",
                              testdata("scenario/secdb/v3.10-main.json")});
  REQUIRE(rebuilt.exit_code == 0);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"ok\"}") == 1; }));
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + second + "\"}") == 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + first + "\"}") == 0);
  CHECK(w->log().find("vulnerability DB reloaded") != std::string::npos);
  // The verdict cached under the first revision is not reused: the image is decided again.
  Json after = post(*w, pod_review("db-2", image));
  CHECK(after["response"]["allowed"] == true);

  // Not a DB, renamed over the live file: refused, counted, and the second DB keeps serving.
  {
    std::ofstream f(d + "/broken.db", std::ios::binary);
    f << "this is not an SQLite database\n";
  }
  std::filesystem::rename(d + "/broken.db", live);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"error\"}") == 1; }));
  CHECK(w->log().find("vulnerability DB reload failed; keeping the DB in use") != std::string::npos);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + second + "\"}") == 1);
  Json kept = post(*w, pod_review("db-3", image));
  CHECK(kept["response"]["allowed"] == true);
}
