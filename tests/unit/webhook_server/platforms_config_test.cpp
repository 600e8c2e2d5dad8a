// The --platforms flag and `platforms` config key: comma-separated, repeatable, a YAML list or a
// string; empty items are errors naming the key. (Each platform's syntax is checked when the
// verdict service starts: webhook/verdict/runtime.cpp, tests/integration/multiarch_test.cpp.)
#include <catch2/catch.hpp>

#include "webhook/server/config.h"

using namespace scangate;
using namespace scangate::webhook;

TEST_CASE("platforms: flag, repeated flag, YAML list and string", "[config][platforms]") {
  auto none = parse_webhook_args({});
  REQUIRE(none.ok());
  CHECK(none->config.platforms.empty());  // default: every linux platform of an index

  auto flags = parse_webhook_args({"--platforms", "linux/amd64, linux/arm64/v8", "--platforms=linux/s390x"});
  REQUIRE(flags.ok());
  CHECK(flags->config.platforms == std::vector<std::string>{"linux/amd64", "linux/arm64/v8", "linux/s390x"});

  WebhookConfig list;
  REQUIRE(apply_config_yaml("platforms: [linux/amd64, linux/arm64]\n", "cfg.yaml", {}, list).ok());
  CHECK(list.platforms == std::vector<std::string>{"linux/amd64", "linux/arm64"});
  WebhookConfig text;
  REQUIRE(apply_config_yaml("platforms: linux/amd64,linux/arm/v7\n", "cfg.yaml", {}, text).ok());
  CHECK(text.platforms == std::vector<std::string>{"linux/amd64", "linux/arm/v7"});

  // The flag wins over the file.
  WebhookConfig both;
  REQUIRE(apply_config_yaml("platforms: [linux/arm64]\n", "cfg.yaml", {"platforms"}, both).ok());
  CHECK(both.platforms.empty());
}

TEST_CASE("platforms: an empty item is an error naming the key", "[config][platforms]") {
  auto trailing = parse_webhook_args({"--platforms", "linux/amd64,"});
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.error().message.find("platforms must list platforms such as linux/amd64,linux/arm64, got "
                                      "\"linux/amd64,\"") != std::string::npos);
  WebhookConfig c;
  auto blank = apply_config_yaml("platforms: \" \"\n", "cfg.yaml", {}, c);
  REQUIRE_FALSE(blank.ok());
  CHECK(blank.error().message.find("cfg.yaml line 1: platforms must list platforms") != std::string::npos);
}
