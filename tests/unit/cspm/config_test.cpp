#include "scanner/cspm/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "cspm_test_util.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

std::string write_temp(const std::string& name, const std::string& content) {
  auto dir = scangate::test::make_temp_dir("sg-cspm-config");
  std::ofstream(dir + "/" + name) << content;
  return dir + "/" + name;
}

}  // namespace

TEST_CASE("config: the AccuKnox CI variables alone are enough", "[config]") {
  // The variable names of the AccuKnox CI integrations (issue text).
  auto c = resolve_cspm_config(
      {}, env_of({{"CSPM_URL", "cspm.demo.accuknox.com"}, {"TENANT_ID", "167"}, {"ACCUKNOX_API_TOKEN", "tok-legacy"}}));
  REQUIRE(c.ok());
  CHECK(c->base_url == "https://cspm.demo.accuknox.com");
  CHECK(c->tenant_id == "167");
  CHECK(c->token == "tok-legacy");
  CHECK(c->label.empty());
  CHECK(c->data_type.empty());
}

TEST_CASE("config: precedence is flag > newer variable > older variable", "[config]") {
  auto env = env_of({{"CSPM_URL", "old.example.com"},
                     {"ACCUKNOX_ENDPOINT", "new.example.com"},
                     {"ACCUKNOX_API_TOKEN", "tok-older-1"},
                     {"ACCUKNOX_TOKEN", "tok-newer-1"},
                     {"ACCUKNOX_LABEL", "env-label"},
                     {"TENANT_ID", "1"}});
  auto c = resolve_cspm_config({}, env);
  REQUIRE(c.ok());
  CHECK(c->base_url == "https://new.example.com");
  CHECK(c->token == "tok-newer-1");
  CHECK(c->label == "env-label");

  CspmFlags f;
  f.url = "flag.example.com:8443";
  f.label = "flag-label";
  f.tenant_id = "2";
  f.token_file = write_temp("token", "tok-from-file\n");
  c = resolve_cspm_config(f, env);
  REQUIRE(c.ok());
  CHECK(c->base_url == "https://flag.example.com:8443");
  CHECK(c->token == "tok-from-file");  // the trailing newline of a mounted secret is trimmed
  CHECK(c->label == "flag-label");
  CHECK(c->tenant_id == "2");
}

TEST_CASE("config: URL normalization", "[config]") {
  CHECK(*normalize_base_url("cspm.example.com", "x") == "https://cspm.example.com");
  CHECK(*normalize_base_url("http://127.0.0.1:8080/", "x") == "http://127.0.0.1:8080");  // explicit http honoured
  CHECK(*normalize_base_url("HTTPS://h/prefix/", "x") == "https://h/prefix");
  CHECK(*normalize_base_url("  h.example.com \n", "x") == "https://h.example.com");
  CHECK(normalize_base_url("ftp://h", "--cspm-url").error().message.find("--cspm-url") != std::string::npos);
  CHECK_FALSE(normalize_base_url("https://user:pw@h", "x").ok());
  CHECK_FALSE(normalize_base_url("https://h/?a=b", "x").ok());
  CHECK_FALSE(normalize_base_url("https://", "x").ok());
  CHECK_FALSE(normalize_base_url("h ost", "x").ok());
  CHECK_FALSE(normalize_base_url("", "x").ok());
}

TEST_CASE("config: missing settings are errors that name the flag and the variables", "[config]") {
  auto no_url = resolve_cspm_config({}, env_of({{"ACCUKNOX_TOKEN", "token-abcdef"}}));
  REQUIRE_FALSE(no_url.ok());
  CHECK(no_url.error().message.find("CSPM_URL") != std::string::npos);
  CHECK(no_url.error().message.find("--cspm-url") != std::string::npos);

  auto no_token = resolve_cspm_config({}, env_of({{"CSPM_URL", "h"}}));
  REQUIRE_FALSE(no_token.ok());
  CHECK(no_token.error().kind == ErrorKind::kAuth);
  CHECK(no_token.error().message.find("ACCUKNOX_TOKEN or ACCUKNOX_API_TOKEN") != std::string::npos);
  CHECK(no_token.error().message.find("--token-file") != std::string::npos);

  CspmFlags f;
  f.token_file = "/nonexistent/token";
  auto missing = resolve_cspm_config(f, env_of({{"CSPM_URL", "h"}}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/token") != std::string::npos);
}

TEST_CASE("config: a token that could inject headers is refused without echoing it", "[config]") {
  CspmFlags f;
  f.token_file = write_temp("token", "secret-part-one\nX-Evil: 1\n");
  auto c = resolve_cspm_config(f, env_of({{"CSPM_URL", "h"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("line break") != std::string::npos);
  CHECK(c.error().message.find("secret-part-one") == std::string::npos);
  f.token_file = write_temp("token", "\n\n");
  CHECK_FALSE(resolve_cspm_config(f, env_of({{"CSPM_URL", "h"}})).ok());
  auto short_token = resolve_cspm_config({}, env_of({{"CSPM_URL", "h"}, {"ACCUKNOX_TOKEN", "x"}}));
  REQUIRE_FALSE(short_token.ok());
  CHECK(short_token.error().message.find("too short") != std::string::npos);
}

TEST_CASE("config: data type", "[config]") {
  CHECK(*normalize_data_type("tr") == "TR");
  CHECK(*normalize_data_type("SBOM") == "SBOM");
  CHECK_FALSE(normalize_data_type("XML").ok());
  CspmFlags f;
  f.data_type = "sbom";
  auto c = resolve_cspm_config(f, env_of({{"CSPM_URL", "h"}, {"ACCUKNOX_TOKEN", "token-abcdef"}}));
  REQUIRE(c.ok());
  CHECK(c->data_type == "SBOM");
  // A Trivy report is TR; a CycloneDX BOM ("bomFormat" is required by the CycloneDX JSON schema) is SBOM.
  CHECK(detect_data_type(ct::sample_report()) == "TR");
  CHECK(detect_data_type(R"({"bomFormat":"CycloneDX","specVersion":"1.5","version":1})") == "SBOM");
  CHECK(detect_data_type("not json") == "TR");
}

TEST_CASE("config: --cacert must exist", "[config]") {
  CspmFlags f;
  f.cacert = "/nonexistent/ca.pem";
  auto c = resolve_cspm_config(f, env_of({{"CSPM_URL", "h"}, {"ACCUKNOX_TOKEN", "token-abcdef"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("/nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("config: DefectDojo settings", "[config]") {
  auto c = resolve_defectdojo_config({}, env_of({{"DEFECTDOJO_URL", "http://dojo:8080/"},
                                                 {"DEFECTDOJO_TOKEN", "key-0123456789"},
                                                 {"DEFECTDOJO_ENGAGEMENT_ID", "7"}}));
  REQUIRE(c.ok());
  CHECK(c->base_url == "http://dojo:8080");
  CHECK(c->engagement_id == "7");
  CHECK(c->scan_type == "Trivy Scan");

  DefectDojoFlags f;
  f.product = "shop";
  f.engagement = "ci";
  f.auto_create = true;
  c = resolve_defectdojo_config(f, env_of({{"DEFECTDOJO_URL", "dojo"}, {"DEFECTDOJO_API_KEY", "key-0123456789"}}));
  REQUIRE(c.ok());
  CHECK(c->product_name == "shop");
  CHECK(c->auto_create_context);

  auto none =
      resolve_defectdojo_config({}, env_of({{"DEFECTDOJO_URL", "dojo"}, {"DEFECTDOJO_TOKEN", "key-0123456789"}}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("--dd-engagement-id") != std::string::npos);
  f = {};
  f.engagement_id = "x7";
  CHECK_FALSE(
      resolve_defectdojo_config(f, env_of({{"DEFECTDOJO_URL", "d"}, {"DEFECTDOJO_TOKEN", "key-0123456789"}})).ok());
}

TEST_CASE("config: redact scrubs every occurrence, and the redacting logger uses it", "[config]") {
  CHECK(redact("Bearer abc123 and abc123abc123", {"abc123"}) == "Bearer [REDACTED] and [REDACTED][REDACTED]");
  CHECK(redact("nothing here", {"", "zzz"}) == "nothing here");
  ct::CapturedLog log;
  Logger l = redacting(log.logger(), {"s3cr3t"});
  l.error("the server said: invalid token s3cr3t");
  CHECK(log.all() == "error: the server said: invalid token [REDACTED]\n");
}

TEST_CASE("config: url_encode", "[config]") {
  // RFC 3986: unreserved characters stay, everything else is %XX.
  CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_encode("my label/1&x=y") == "my%20label%2F1%26x%3Dy");
}
