// The tag mutation window: how long a tag's digest is reused (README "Limits and overload").
#include <catch2/catch.hpp>

#include <chrono>

#include "webhook/verdict/engine.h"
#include "webhook/verdict/runtime.h"
#include "webhook/verdict/tag_cache.h"

using namespace scangate::verdict;
using namespace std::chrono_literals;

TEST_CASE("tag cache: a TTL of 0 keeps nothing, so every review asks the registry", "[cache][limits]") {
  auto t = std::chrono::steady_clock::time_point() + 1h;
  TagCache tags(100, 0s, [&t] { return t; });
  tags.put("registry.example/app:1", "sha256:aaaa");
  CHECK(tags.size() == 0);
  // Even at the same instant: nothing to serve.
  CHECK_FALSE(tags.get("registry.example/app:1").has_value());
}

TEST_CASE("tag cache: a sub-second TTL is honoured", "[cache][limits]") {
  auto t = std::chrono::steady_clock::time_point() + 1h;
  TagCache tags(100, 500ms, [&t] { return t; });
  tags.put("registry.example/app:1", "sha256:aaaa");
  t += 400ms;
  CHECK(tags.get("registry.example/app:1") == std::optional<std::string>("sha256:aaaa"));
  t += 200ms;
  CHECK_FALSE(tags.get("registry.example/app:1").has_value());
}

TEST_CASE("the tag mutation window is 10 s or less by default", "[cache][limits]") {
  CHECK(EngineOptions{}.tag_ttl <= 10s);
  CHECK(EngineOptions{}.tag_ttl > 0s);
  CHECK(RuntimeConfig{}.tag_ttl == EngineOptions{}.tag_ttl);
}
