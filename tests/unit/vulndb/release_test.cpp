#include <catch2/catch.hpp>

#include "scanner/vulndb/release.h"

using namespace scangate::vulndb;

TEST_CASE("Debian codenames map to major releases") {
  const std::pair<const char*, const char*> table[] = {{"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
                                                       {"trixie", "13"}, {"forky", "14"},    {"sid", "unstable"},
                                                       {"stretch", "9"}, {"jessie", "8"}};
  for (auto [name, rel] : table) CHECK(debian_release_for_codename(name) == std::optional<std::string>(rel));
  CHECK_FALSE(debian_release_for_codename("experimental"));
  CHECK(debian_release_for_version("12.5") == "12");
  CHECK(debian_release_for_version("11") == "11");
}

TEST_CASE("Alpine releases are major.minor") {
  CHECK(alpine_release("v3.20") == std::optional<std::string>("3.20"));
  CHECK(alpine_release("3.20.3") == std::optional<std::string>("3.20"));
  CHECK(alpine_release("3.10.9") == std::optional<std::string>("3.10"));
  CHECK(alpine_release("edge") == std::optional<std::string>("edge"));
  CHECK_FALSE(alpine_release("v3"));
  CHECK_FALSE(alpine_release("vX.Y"));
  CHECK_FALSE(alpine_release(""));
}

TEST_CASE("PyPI names are normalised as PEP 503 says") {
  // PEP 503's own examples: all of these are "friendly-bard".
  for (const char* n : {"friendly-bard", "Friendly-Bard", "FRIENDLY-BARD", "friendly.bard", "friendly_bard",
                        "friendly--bard", "FrIeNdLy-._.-bArD"})
    CHECK(normalize_package_name("pypi", n) == "friendly-bard");
  CHECK(normalize_package_name("npm", "@Scope/Pkg") == "@Scope/Pkg");
  CHECK(normalize_package_name("alpine", "py3-Foo_bar") == "py3-Foo_bar");
}
