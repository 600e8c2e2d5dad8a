// Flags and the YAML config file: good file, unknown key, wrong type, flags win.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/test_support.h"
#include "webhook/server/config.h"

using namespace std::chrono_literals;
using namespace scangate;
using namespace scangate::webhook;

TEST_CASE("defaults and flags", "[config]") {
  auto r = parse_webhook_args({"--tls-cert-file", "/tls/tls.crt", "--tls-private-key-file=/tls/tls.key",
                               "--insecure-registry", "reg1:5000", "--insecure-registry", "reg2", "--cspm-label",
                               "team=platform", "--cache-ttl", "90m", "--threads", "4"});
  REQUIRE(r.ok());
  const auto& c = r->config;
  CHECK_FALSE(r->help);
  CHECK(c.listen == ":8443");
  CHECK(c.metrics_listen == ":9090");
  CHECK(c.tls_cert_file == "/tls/tls.crt");
  CHECK(c.tls_private_key_file == "/tls/tls.key");
  CHECK(c.insecure_registries == std::vector<std::string>{"reg1:5000", "reg2"});
  CHECK(c.cspm_labels.at("team") == "platform");
  CHECK(c.cache_ttl == 90min);
  CHECK(c.threads == 4);
}

TEST_CASE("flag errors name the flag", "[config]") {
  CHECK(parse_webhook_args({"--nope", "1"}).error().message == "unknown flag --nope (see --help)");
  CHECK(parse_webhook_args({"--threads"}).error().message == "flag --threads needs a value");
  CHECK(parse_webhook_args({"--threads", "many"}).error().message ==
        "flag --threads: threads must be a non-negative integer, got \"many\"");
  CHECK_THAT(parse_webhook_args({"--listen", "8443"}).error().message, Catch::Contains("must be ADDR:PORT or :PORT"));
  CHECK(parse_webhook_args({"--help"})->help);
}

TEST_CASE("listen addresses", "[config]") {
  auto a = parse_listen_address(":8443");
  REQUIRE(a.ok());
  CHECK(a->address == "0.0.0.0");
  CHECK(a->port == 8443);
  auto b = parse_listen_address("127.0.0.1:0");
  CHECK(b->address == "127.0.0.1");
  auto c = parse_listen_address("[::1]:9090");
  CHECK(c->address == "::1");
  CHECK(c->port == 9090);
  CHECK_FALSE(parse_listen_address("host:99999").ok());
}

TEST_CASE("YAML config file: good file, flags win", "[config]") {
  auto dir = scangate::test::make_temp_dir("sg-webhook-config");
  const std::string path = dir + "/config.yaml";
  std::ofstream(path) << "listen: \":9443\"\n"
                         "tls-cert-file: /etc/tls/tls.crt\n"
                         "tls-private-key-file: /etc/tls/tls.key\n"
                         "scan-workers: 3\n"
                         "cache-size: 500\n"
                         "insecure-registry: [a:5000, b:5000]\n"
                         "cspm-label: {env: prod, team: sec}\n"
                         "threads: 8\n";
  auto r = parse_webhook_args({"--config", path, "--threads", "2"});
  REQUIRE(r.ok());
  const auto& c = r->config;
  CHECK(c.listen == ":9443");
  CHECK(c.tls_cert_file == "/etc/tls/tls.crt");
  CHECK(c.scan_workers == 3);
  CHECK(c.cache_size == 500);
  CHECK(c.insecure_registries == std::vector<std::string>{"a:5000", "b:5000"});
  CHECK(c.cspm_labels.size() == 2);
  CHECK(c.threads == 2);  // the flag wins
  std::remove(path.c_str());
  std::remove(dir.c_str());
}

TEST_CASE("YAML config errors name the key and the line", "[config]") {
  WebhookConfig c;
  auto unknown = apply_config_yaml("listen: \":8443\"\nscan-wrokers: 4\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message,
             Catch::StartsWith("cfg.yaml line 2: unknown key \"scan-wrokers\" (known keys: listen,"));
  auto wrong_type = apply_config_yaml("\nscan-workers: [1, 2]\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error().message == "cfg.yaml line 2: key \"scan-workers\" must be a single value");
  auto bad_value = apply_config_yaml("cache-ttl: forever\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(bad_value.ok());
  CHECK(bad_value.error().message ==
        "cfg.yaml line 1: cache-ttl must be a duration such as 30s, 10m or 24h, got \"forever\"");
  auto not_yaml = apply_config_yaml("a: [1,\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(not_yaml.ok());
  CHECK_THAT(not_yaml.error().message, Catch::Contains("not valid YAML"));
  CHECK(apply_config_yaml("", "cfg.yaml", {}, c).ok());
}

TEST_CASE("help documents every flag", "[config]") {
  auto help = webhook_help();
  for (const char* flag :
       {"--listen", "--tls-cert-file", "--tls-private-key-file", "--metrics-listen", "--db", "--policy",
        "--registry-config", "--insecure-registry", "--scan-workers", "--cache-size", "--cache-ttl", "--cspm-url",
        "--cspm-tenant-id", "--cspm-label", "--cspm-token-file", "--spool-dir", "--config", "--threads", "--help"}) {
    INFO(flag);
    CHECK_THAT(help, Catch::Contains(flag));
  }
}

TEST_CASE("cache-ttl takes the one duration grammar: d and Go's forms, never negative", "[config]") {
  WebhookConfig c;
  REQUIRE(apply_config_yaml("cache-ttl: 7d\n", "cfg.yaml", {}, c).ok());
  CHECK(c.cache_ttl == std::chrono::hours(7 * 24));
  REQUIRE(apply_config_yaml("cache-ttl: 1.5h\n", "cfg.yaml", {}, c).ok());
  CHECK(c.cache_ttl == 90min);
  REQUIRE(apply_config_yaml("cache-ttl: 48h\n", "cfg.yaml", {}, c).ok());  // above a day: refused before
  CHECK(c.cache_ttl == 48h);
  auto flag = parse_webhook_args({"--cache-ttl", "2d12h"});
  REQUIRE(flag.ok());
  CHECK(flag->config.cache_ttl == 60h);

  auto negative = apply_config_yaml("cache-ttl: -1h\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().message == "cfg.yaml line 1: cache-ttl must not be negative, got \"-1h\"");
  CHECK(parse_webhook_args({"--cache-ttl", "-5m"}).error().message ==
        "flag --cache-ttl: cache-ttl must not be negative, got \"-5m\"");
  auto unit = apply_config_yaml("cache-ttl: 1w\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(unit.ok());
  CHECK(unit.error().message == "cfg.yaml line 1: cache-ttl must be a duration such as 30s, 10m or 24h, got \"1w\"");
}

TEST_CASE("YAML config: keys given twice, no value, and all problems at once", "[config]") {
  WebhookConfig c;
  auto dup = apply_config_yaml("threads: 2\nthreads: 3\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "cfg.yaml line 2: key \"threads\" appears twice; give each key once");
  auto none = apply_config_yaml("db:\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "cfg.yaml line 1: key \"db\" has no value");
  auto labels = apply_config_yaml("cspm-label: {env: [a]}\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(labels.ok());
  CHECK(labels.error().message == "cfg.yaml line 1: key \"cspm-label.env\" must be a single value");
  auto many = apply_config_yaml("threads: 0\nbogus: 1\ninsecure-registry: {a: b}\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(many.ok());
  CHECK_THAT(many.error().message, Catch::StartsWith("cfg.yaml line 1: threads must be between 1 and 256\n"
                                                     "cfg.yaml line 2: unknown key \"bogus\" (known keys: listen,"));
  CHECK_THAT(many.error().message,
             Catch::EndsWith("\ncfg.yaml line 3: key \"insecure-registry\" must be a string or a list of strings"));
  // A key a flag set is skipped, whatever its value.
  WebhookConfig flags;
  CHECK(apply_config_yaml("threads: [not, read]\n", "cfg.yaml", {"threads"}, flags).ok());
  auto top = apply_config_yaml("- a\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(top.ok());
  CHECK(top.error().message == "cfg.yaml line 1: expected a mapping of settings at the top level, got a list");
}

TEST_CASE("tag-cache-ttl: default 10s, 0 disables, the duration grammar, never negative", "[config][limits]") {
  auto d = parse_webhook_args({});
  REQUIRE(d.ok());
  CHECK(d->config.tag_cache_ttl == 10s);
  CHECK(parse_webhook_args({"--tag-cache-ttl", "0"})->config.tag_cache_ttl == 0ms);
  CHECK(parse_webhook_args({"--tag-cache-ttl", "500ms"})->config.tag_cache_ttl == 500ms);
  CHECK(parse_webhook_args({"--tag-cache-ttl=2m"})->config.tag_cache_ttl == 2min);
  CHECK(parse_webhook_args({"--tag-cache-ttl", "1d"})->config.tag_cache_ttl == 24h);
  CHECK(parse_webhook_args({"--tag-cache-ttl", "-5s"}).error().message ==
        "flag --tag-cache-ttl: tag-cache-ttl must not be negative, got \"-5s\"");
  CHECK_THAT(parse_webhook_args({"--tag-cache-ttl", "soon"}).error().message,
             Catch::Contains("tag-cache-ttl must be a duration"));
  auto y = WebhookConfig{};
  REQUIRE(apply_config_yaml("tag-cache-ttl: 3s\n", "c.yaml", {}, y).ok());
  CHECK(y.tag_cache_ttl == 3s);
  auto bad = apply_config_yaml("tag-cache-ttl: -1m\n", "c.yaml", {}, y);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("c.yaml line 1: tag-cache-ttl must not be negative"));
}

TEST_CASE("the engine's pools, budgets and the request-body budget are flags and keys", "[config][limits]") {
  auto d = parse_webhook_args({});
  REQUIRE(d.ok());
  const auto& c = d->config;
  CHECK(c.lookup_threads == 32);
  CHECK(c.max_lookups_per_registry == 2);
  CHECK(c.max_queued_lookups == 256);
  CHECK(c.max_queued_lookups_per_registry == 64);
  CHECK(c.max_queued_scans == 256);
  CHECK(c.max_images_per_review == 256);
  CHECK(c.lookup_timeout == 30s);
  CHECK(c.scan_timeout == 10min);
  CHECK(c.max_buffered_request_bytes == 64u * 1024 * 1024);

  auto r = parse_webhook_args({"--lookup-threads", "8", "--max-lookups-per-registry", "3", "--max-queued-lookups",
                               "100", "--max-queued-lookups-per-registry", "10", "--max-queued-scans", "50",
                               "--max-images-per-review", "20", "--lookup-timeout", "5s", "--scan-timeout", "90s",
                               "--max-buffered-request-bytes", "16777216"});
  REQUIRE(r.ok());
  CHECK(r->config.lookup_threads == 8);
  CHECK(r->config.max_lookups_per_registry == 3);
  CHECK(r->config.max_queued_lookups == 100);
  CHECK(r->config.max_queued_lookups_per_registry == 10);
  CHECK(r->config.max_queued_scans == 50);
  CHECK(r->config.max_images_per_review == 20);
  CHECK(r->config.lookup_timeout == 5s);
  CHECK(r->config.scan_timeout == 90s);
  CHECK(r->config.max_buffered_request_bytes == 16u * 1024 * 1024);

  WebhookConfig y;
  REQUIRE(
      apply_config_yaml("max-queued-scans: 7\nscan-timeout: 2m\nmax-buffered-request-bytes: 8388608\n", "c.yaml", {}, y)
          .ok());
  CHECK(y.max_queued_scans == 7);
  CHECK(y.scan_timeout == 2min);
  CHECK(y.max_buffered_request_bytes == 8u * 1024 * 1024);

  // A deadline of 0 would refuse all work; a budget below one body (4 MiB) would refuse the largest.
  CHECK(parse_webhook_args({"--scan-timeout", "0s"}).error().message ==
        "flag --scan-timeout: scan-timeout must be longer than 0, got \"0s\"");
  CHECK_FALSE(parse_webhook_args({"--lookup-timeout", "0"}).ok());
  CHECK_FALSE(parse_webhook_args({"--max-queued-scans", "0"}).ok());
  CHECK_FALSE(parse_webhook_args({"--max-images-per-review", "0"}).ok());
  CHECK_THAT(parse_webhook_args({"--max-buffered-request-bytes", "1000"}).error().message,
             Catch::Contains("max-buffered-request-bytes must be between 4194304 and"));
  // Documented in --help.
  const std::string help = webhook_help();
  for (const char* flag : {"--tag-cache-ttl", "--lookup-threads", "--max-lookups-per-registry", "--max-queued-lookups",
                           "--max-queued-lookups-per-registry", "--max-queued-scans", "--max-images-per-review",
                           "--lookup-timeout", "--scan-timeout", "--max-buffered-request-bytes"})
    CHECK_THAT(help, Catch::Contains(flag));
}
