// The real binaries with --log-format json: every line they log is one JSON object, a client's
// %0A cannot add a line to `scangate cspm-receiver`'s log, and a token never shows.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Child;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Every line parses as a JSON object with the logger's fields; returns them.
std::vector<Json> json_lines(const std::string& text, const std::string& skip_prefix = "\x01") {
  std::vector<Json> out;
  for (const auto& line : lines_of(text)) {
    if (line.rfind(skip_prefix, 0) == 0) continue;
    CAPTURE(line);
    Json j;
    REQUIRE_NOTHROW(j = Json::parse(line));
    REQUIRE(j.is_object());
    CHECK(j["time"].is_string());
    CHECK(j["level"].is_string());
    CHECK(j["component"].is_string());
    CHECK(j["msg"].is_string());
    out.push_back(std::move(j));
  }
  return out;
}

bool has_msg(const std::vector<Json>& lines, const std::string& component, const std::string& part) {
  for (const auto& j : lines)
    if (j["component"] == component && j["msg"].get<std::string>().find(part) != std::string::npos) return true;
  return false;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

}  // namespace

TEST_CASE("log: scangate-webhook --log-format json writes one JSON object per line", "[log][webhook]") {
  std::string dir = scangate::test::make_temp_dir("sg-log-webhook");
  scangate::it::make_certificates(dir);
  Child proc;
  proc.spawn({SCANGATE_WEBHOOK, "--log-format", "json", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
              "--tls-cert-file", dir + "/tls.crt", "--tls-private-key-file", dir + "/tls.key", "--db",
              scangate::it::scenario_db()},
             dir + "/webhook.log");
  auto m = proc.wait_for(std::regex("\"https_port\":([0-9]+),\"metrics_port\":([0-9]+)"), scangate::it::kStartTimeout);
  INFO(scangate::test::read_file(dir + "/webhook.log"));
  REQUIRE(!m.empty());
  // A certificate reload (SIGHUP) and a graceful stop (SIGTERM) log too.
  kill(proc.pid, SIGHUP);
  REQUIRE(!proc.wait_for(std::regex("TLS certificate reloaded"), scangate::it::kStartTimeout).empty());
  proc.stop();

  std::string text = scangate::test::read_file(dir + "/webhook.log");
  CAPTURE(text);
  auto lines = json_lines(text);
  REQUIRE(lines.size() >= 4);
  CHECK(lines.front()["msg"] == "listening");
  CHECK(lines.front()["https_port"].is_number_integer());
  CHECK(lines.front()["https_port"] == std::stoi(m.at(1)));
  CHECK(has_msg(lines, "tls", "TLS certificate reloaded"));
  CHECK(has_msg(lines, "webhook", "received SIGTERM"));
  CHECK(lines.back()["msg"] == "stopped");

  // A configuration error is a JSON line as well.
  auto bad = run_process({SCANGATE_WEBHOOK, "--log-format=json", "--listen", "127.0.0.1:0"});
  CHECK(bad.exit_code == 2);
  auto err = json_lines(bad.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0]["level"] == "error");
  CHECK(err[0]["msg"].get<std::string>().find("--tls-cert-file") != std::string::npos);
  // And a bad value is refused by name.
  auto unknown = run_process({SCANGATE_WEBHOOK, "--log-format", "xml"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("--log-format must be text or json") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("log: scangate cspm-receiver keeps a %0A in tenant_id inside one line, as text and as JSON",
          "[log][receiver]") {
  const std::string token = "rcv-log-token-7d1e2f3a4b5c";
  const std::string tenant = "7\nlevel=error component=receiver msg=\"forged\"";
  for (const std::string fmt : {"text", "json"}) {
    std::string dir = scangate::test::make_temp_dir("sg-log-receiver");
    write(dir + "/token", token + "\n");
    write(dir + "/report.json", "{\"SchemaVersion\":2}");
    Child proc;
    proc.spawn({SCANGATE_CLI, "--log-format", fmt, "cspm-receiver", "--listen", "127.0.0.1:0", "--dir",
                dir + "/received", "--token-file", dir + "/token"},
               dir + "/receiver.log");
    auto m = proc.wait_for(std::regex("listening on (http://127\\.0\\.0\\.1:[0-9]+)"), scangate::it::kStartTimeout);
    REQUIRE(!m.empty());
    const std::string url = m.at(1);
    auto post = [&](const std::string& bearer) {
      return run_process(
          {"/usr/bin/curl", "-s", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}", "-H",
           "Authorization: Bearer " + bearer, "-F", "file=@" + dir + "/report.json",
           url + "/api/v1/artifact/?tenant_id=7%0Alevel%3Derror%20component%3Dreceiver%20msg%3D%22forged%22"
                 "&data_type=TR"});
    };
    CHECK(post(token).out == "200");
    CHECK(post(token + "-wrong").out == "401");
    proc.stop();

    std::string text = scangate::test::read_file(dir + "/receiver.log");
    CAPTURE(fmt, text);
    CHECK(text.find(token) == std::string::npos);
    // No line starts with the forged text: the line break stayed inside its field.
    for (const auto& line : lines_of(text)) CHECK(line.find("level=error component=receiver msg=\"forged\"") != 0);
    if (fmt == "json") {
      auto lines = json_lines(text, "listening on ");  // the address line is on standard output
      bool stored = false;
      for (const auto& j : lines) {
        if (j["msg"].get<std::string>().rfind("stored ", 0) != 0) continue;
        stored = true;
        CHECK(j["tenant"] == tenant);
        CHECK(j["level"] == "info");
      }
      CHECK(stored);
      CHECK(has_msg(lines, "receiver", "refused an upload: invalid token"));
      CHECK(has_msg(lines, "receiver", "stopped; 1 file(s)"));
    } else {
      CHECK(text.find(" tenant=\"7\\nlevel=error component=receiver msg=\\\"forged\\\"\"\n") != std::string::npos);
      for (const auto& line : lines_of(text))
        CHECK((line.rfind("time=", 0) == 0 || line.rfind("listening on ", 0) == 0));
    }
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("log: scangate upload --log-format json reports a refused token in JSON lines, without the token",
          "[log][upload]") {
  const std::string accepted = "rcv-accepts-this-token-91ab";
  const std::string refused = "upload-sends-this-token-4c2d";
  std::string dir = scangate::test::make_temp_dir("sg-log-upload");
  write(dir + "/token", accepted);
  write(dir + "/upload-token", refused + "\n");
  write(dir + "/report.json", "{\"SchemaVersion\":2,\"ArtifactName\":\"x\"}");
  Child rcv;
  rcv.spawn({SCANGATE_CLI, "cspm-receiver", "--listen", "127.0.0.1:0", "--dir", dir + "/received", "--token-file",
             dir + "/token"},
            dir + "/receiver.log");
  auto m = rcv.wait_for(std::regex("listening on (http://127\\.0\\.0\\.1:[0-9]+)"), scangate::it::kStartTimeout);
  REQUIRE(!m.empty());

  // The global flags may come after the command word too.
  auto r = run_process({SCANGATE_CLI, "upload", "--log-format", "json", "--log-level", "debug", "--cspm-url", m.at(1),
                        "--token-file", dir + "/upload-token", "--spool-dir", dir + "/spool", "--upload-retries", "1",
                        dir + "/report.json"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find(refused) == std::string::npos);
  CHECK(r.out.find(refused) == std::string::npos);
  auto lines = json_lines(r.err);
  REQUIRE(!lines.empty());
  CHECK(has_msg(lines, "upload", "authentication failed"));
  for (const auto& j : lines) CHECK(j["component"] == "upload");
  rcv.stop();
  CHECK(scangate::test::read_file(dir + "/receiver.log").find(refused) == std::string::npos);
  std::filesystem::remove_all(dir);
}
