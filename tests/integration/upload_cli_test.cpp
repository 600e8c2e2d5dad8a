// `scangate image --upload`, `scangate upload` and `scangate cspm-receiver` as a pipeline runs
// them: real processes, the loopback registry, HTTPS with a CA generated here. The receiver's
// stored files are the independent record of what arrived.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Child;
using scangate::it::scenario_db;
using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;
namespace sfs = std::filesystem;

namespace {

// Hard to mistake for anything else in a log.
const std::string kToken = "tok-5c0a1f9e-d3b7-4e21-8a6c-upload-cli";

struct Receiver {
  std::string dir;
  Child proc;
  std::string url;
  bool tls = false;

  // Starts (or restarts, on the same port) `scangate cspm-receiver`.
  void start(int port = 0) {
    std::vector<std::string> argv = {SCANGATE_CLI,   "cspm-receiver",
                                     "--listen",     "127.0.0.1:" + std::to_string(port),
                                     "--dir",        dir + "/received",
                                     "--token-file", dir + "/token",
                                     "--tenant-id",  "7"};
    if (tls) {
      for (const char* a : {"--tls-cert-file", "tls.crt", "--tls-private-key-file", "tls.key"})
        argv.push_back(a[0] == '-' ? std::string(a) : dir + "/" + a);
    }
    size_t from = sfs::exists(dir + "/receiver.log") ? sfs::file_size(dir + "/receiver.log") : 0;
    proc.spawn(argv, dir + "/receiver.log");
    auto m =
        proc.wait_for(std::regex("listening on (https?://127\\.0\\.0\\.1:[0-9]+)"), scangate::it::kStartTimeout, from);
    INFO(scangate::test::read_file(dir + "/receiver.log"));
    REQUIRE(!m.empty());
    url = m.at(1);
  }
  int port() const { return std::stoi(url.substr(url.rfind(':') + 1)); }

  // The reports stored so far, oldest first: (report JSON, metadata JSON).
  std::vector<std::pair<Json, Json>> received() const {
    std::vector<std::string> names;
    if (sfs::exists(dir + "/received"))
      for (const auto& e : sfs::directory_iterator(dir + "/received")) {
        std::string n = e.path().filename().string();
        if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n.find(".meta.json") == std::string::npos)
          names.push_back(n);
      }
    std::sort(names.begin(), names.end());
    std::vector<std::pair<Json, Json>> out;
    for (const auto& n : names) {
      std::string base = n.substr(0, n.size() - 5);
      out.emplace_back(Json::parse(scangate::test::read_file(dir + "/received/" + n)),
                       Json::parse(scangate::test::read_file(dir + "/received/" + base + ".meta.json")));
    }
    return out;
  }
};

std::unique_ptr<Receiver> make_receiver(bool tls) {
  auto r = std::make_unique<Receiver>();
  r->dir = scangate::test::make_temp_dir("sg-upload-cli");
  r->tls = tls;
  std::ofstream(r->dir + "/token") << kToken << "\n";  // a mounted secret often ends in a newline
  if (tls) scangate::it::make_certificates(r->dir);
  r->start();
  return r;
}

size_t count_files(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  if (!sfs::exists(dir)) return 0;
  for (const auto& e : sfs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        name.find(".meta.json") == std::string::npos && name.find(".reason.json") == std::string::npos)
      ++n;
  }
  return n;
}

std::set<std::string> vulnerability_ids(const Json& report) {
  std::set<std::string> ids;
  for (const auto& res : report.value("Results", Json::array()))
    for (const auto& v : res.value("Vulnerabilities", Json::array()))
      ids.insert(v["VulnerabilityID"].get<std::string>());
  return ids;
}

void check_no_token(const scangate::test::ProcessResult& r) {
  CHECK(r.out.find(kToken) == std::string::npos);
  CHECK(r.err.find(kToken) == std::string::npos);
}

}  // namespace

TEST_CASE("image --upload: the report reaches the receiver over HTTPS and the gate still decides",
          "[registry][upload]") {
  auto env = fixture_env();
  auto rcv = make_receiver(/*tls=*/true);
  const std::string spool = rcv->dir + "/spool";
  auto scan = [&](const std::string& image) {
    return run_process({SCANGATE_CLI,
                        "image",
                        "--db",
                        scenario_db(),
                        "--severity",
                        "CRITICAL",
                        "--exit-code",
                        "1",
                        "--upload",
                        "--cspm-url",
                        rcv->url,
                        "--tenant-id",
                        "7",
                        "--label",
                        "ci-pipeline",
                        "--token-file",
                        rcv->dir + "/token",
                        "--cspm-cacert",
                        rcv->dir + "/ca.pem",
                        "--spool-dir",
                        spool,
                        env.at("REGISTRY") + "/" + image});
  };

  auto vulnerable = scan(env.at("IMAGE_PYTHON_3_6"));
  CAPTURE(vulnerable.err);
  CHECK(vulnerable.exit_code == 1);  // the gate, not the upload, decides
  CHECK(vulnerable.err.find("uploaded") != std::string::npos);
  check_no_token(vulnerable);

  auto clean = scan("alpine:3.15.11");
  CAPTURE(clean.err);
  CHECK(clean.exit_code == 0);
  check_no_token(clean);

  auto got = rcv->received();
  REQUIRE(got.size() == 2);
  // The uploaded report is Trivy JSON even though the terminal got a table.
  const auto& [first, first_meta] = got[0];
  CHECK(first["SchemaVersion"] == 2);
  CHECK(first["ArtifactName"].get<std::string>().find("python") != std::string::npos);
  CHECK(vulnerability_ids(first).count("CVE-2022-37434"));  // zlib, CRITICAL in the scenario
  CHECK(first_meta["query"]["data_type"] == "TR");
  CHECK(first_meta["query"]["tenant_id"] == "7");
  CHECK(first_meta["query"]["label_id"] == "ci-pipeline");
  CHECK(first_meta["query"]["save_to_s3"] == "false");
  CHECK(got[1].first["ArtifactName"].get<std::string>().find("alpine:3.15.11") != std::string::npos);
  CHECK(vulnerability_ids(got[1].first).count("CVE-2022-37434") == 0);
  CHECK(count_files(spool + "/pending", ".json") == 0);
  CHECK(scangate::test::read_file(rcv->dir + "/receiver.log").find(kToken) == std::string::npos);
}

TEST_CASE("image --upload --format cyclonedx sends the SBOM as data_type SBOM", "[registry][upload]") {
  auto env = fixture_env();
  auto rcv = make_receiver(/*tls=*/false);
  auto r =
      run_process({SCANGATE_CLI, "image", "--quiet", "--scanners", "pkg", "--format", "cyclonedx", "--output",
                   rcv->dir + "/sbom.json", "--upload", "--cspm-url", rcv->url, "--tenant-id", "7", "--token-file",
                   rcv->dir + "/token", "--spool-dir", rcv->dir + "/spool", env.at("REGISTRY") + "/alpine:3.20.3"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  auto got = rcv->received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].first["bomFormat"] == "CycloneDX");
  CHECK(got[0].second["query"]["data_type"] == "SBOM");
  // What arrived is byte for byte the SBOM written to --output.
  CHECK(got[0].first == Json::parse(scangate::test::read_file(rcv->dir + "/sbom.json")));
}

TEST_CASE("image --upload: a refused token is exit 4 and dead-lettered, or a warning with --upload-soft-fail",
          "[registry][upload]") {
  auto env = fixture_env();
  auto rcv = make_receiver(/*tls=*/false);
  const std::string wrong = "wrong-" + kToken;
  std::ofstream(rcv->dir + "/wrong-token") << wrong;
  const std::string spool = rcv->dir + "/spool";
  std::vector<std::string> argv = {SCANGATE_CLI,
                                   "image",
                                   "--quiet",
                                   "--db",
                                   scenario_db(),
                                   "--severity",
                                   "CRITICAL",
                                   "--exit-code",
                                   "1",
                                   "--upload",
                                   "--cspm-url",
                                   rcv->url,
                                   "--token-file",
                                   rcv->dir + "/wrong-token",
                                   "--spool-dir",
                                   spool,
                                   env.at("REGISTRY") + "/alpine:3.15.11"};
  auto r = run_process(argv);
  CAPTURE(r.err);
  CHECK(r.exit_code == 4);  // the gate passed; the upload failed
  CHECK(r.err.find("authentication failed") != std::string::npos);
  CHECK(r.err.find(wrong) == std::string::npos);
  CHECK(r.out.find(wrong) == std::string::npos);
  CHECK(count_files(spool + "/dead", ".json") == 1);
  CHECK(count_files(spool + "/pending", ".json") == 0);

  argv.insert(argv.end() - 1, "--upload-soft-fail");
  auto soft = run_process(argv);
  CAPTURE(soft.err);
  CHECK(soft.exit_code == 0);
  CHECK(soft.err.find("--upload-soft-fail") != std::string::npos);
  CHECK(soft.err.find(wrong) == std::string::npos);
  CHECK(rcv->received().empty());
  CHECK(scangate::test::read_file(rcv->dir + "/receiver.log").find(wrong) == std::string::npos);
}

TEST_CASE("upload: the receiver is down, then back: every spooled report arrives exactly once", "[upload]") {
  auto rcv = make_receiver(/*tls=*/false);
  const int port = rcv->port();
  rcv->proc.stop();
  const std::string spool = rcv->dir + "/spool";
  // Two reports of a pipeline that ran while the backend was down.
  for (int i = 0; i < 2; ++i) {
    std::string file = rcv->dir + "/report-" + std::to_string(i) + ".json";
    std::ofstream(file) << Json{{"SchemaVersion", 2}, {"ArtifactName", "run-" + std::to_string(i)}}.dump();
    auto r = run_process({SCANGATE_CLI, "upload", "--cspm-url", rcv->url, "--tenant-id", "7", "--token-file",
                          rcv->dir + "/token", "--spool-dir", spool, "--upload-retries", "2", "--upload-max-time", "5",
                          file});
    CAPTURE(r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("stays in the spool") != std::string::npos);
    check_no_token(r);
  }
  CHECK(count_files(spool + "/pending", ".json") == 2);

  rcv->start(port);
  std::vector<std::string> drain = {SCANGATE_CLI,  "upload", "--drain",      "--cspm-url",        rcv->url,
                                    "--tenant-id", "7",      "--token-file", rcv->dir + "/token", "--spool-dir",
                                    spool};
  auto d = run_process(drain);
  CAPTURE(d.err);
  CHECK(d.exit_code == 0);
  check_no_token(d);
  auto got = rcv->received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].first["ArtifactName"] == "run-0");  // oldest first
  CHECK(got[1].first["ArtifactName"] == "run-1");
  CHECK(count_files(spool + "/pending", ".json") == 0);

  // Nothing is left to send, and nothing arrives twice.
  auto again = run_process(drain);
  CHECK(again.exit_code == 0);
  CHECK(rcv->received().size() == 2);
}

TEST_CASE("image --upload: settings are checked before the pull, and flags need --upload", "[upload]") {
  auto env = fixture_env();
  std::string dir = scangate::test::make_temp_dir("sg-upload-cfg");
  auto no_url = run_process(
      {SCANGATE_CLI, "image", "--upload", "--spool-dir", dir + "/spool", env.at("REGISTRY") + "/alpine:3.20.3"}, "",
      {{"ACCUKNOX_TOKEN", kToken}});
  CHECK(no_url.exit_code == 2);
  CHECK(no_url.err.find("--cspm-url") != std::string::npos);
  CHECK(no_url.err.find("[") == std::string::npos);  // no progress lines: it stopped before pulling
  check_no_token(no_url);

  auto stray =
      run_process({SCANGATE_CLI, "image", "--cspm-url", "https://cspm.example", env.at("REGISTRY") + "/alpine:3.20.3"});
  CHECK(stray.exit_code == 2);
  CHECK(stray.err.find("--cspm-url only applies with --upload") != std::string::npos);
}
