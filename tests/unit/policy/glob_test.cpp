#include "scanner/policy/glob.h"

#include <catch2/catch.hpp>
#include <string>

using scangate::policy::glob_match;
using scangate::policy::is_glob;

TEST_CASE("glob: exact text matches only itself", "[glob]") {
  CHECK(glob_match("CVE-2022-37434", "CVE-2022-37434"));
  CHECK_FALSE(glob_match("CVE-2022-37434", "CVE-2022-3743"));
  CHECK_FALSE(glob_match("CVE-2022-37434", "cve-2022-37434"));  // case-sensitive
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "x"));
}

TEST_CASE("glob: * matches any run, across '/' too", "[glob]") {
  CHECK(glob_match("GHSA-*", "GHSA-xvch-5gv4-984h"));
  CHECK_FALSE(glob_match("GHSA-*", "CVE-2022-1"));
  CHECK(glob_match("registry.k8s.io/*", "registry.k8s.io/pause"));
  CHECK(glob_match("registry.k8s.io/*", "registry.k8s.io/sig-storage/csi-provisioner"));
  CHECK_FALSE(glob_match("registry.k8s.io/*", "docker.io/registry.k8s.io"));
  CHECK(glob_match("*/legacy/*", "registry.example.com/legacy/app"));
  CHECK(glob_match("*/legacy/*", "registry.example.com/team/legacy/app"));
  CHECK_FALSE(glob_match("*/legacy/*", "registry.example.com/legacy"));
  CHECK(glob_match("dev-*", "dev-"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("**", "anything/at/all"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
}

TEST_CASE("glob: ? matches exactly one character", "[glob]") {
  CHECK(glob_match("CVE-2022-2282?", "CVE-2022-22822"));
  CHECK_FALSE(glob_match("CVE-2022-2282?", "CVE-2022-2282"));
  CHECK(glob_match("team-?", "team-a"));
  CHECK(glob_match("a?c", "a/c"));
}

TEST_CASE("glob: a pathological pattern stays fast", "[glob]") {
  std::string text(5000, 'a');
  std::string pattern;
  for (int i = 0; i < 50; ++i) pattern += "a*";
  pattern += "b";
  CHECK_FALSE(glob_match(pattern, text));
}

TEST_CASE("glob: is_glob", "[glob]") {
  CHECK(is_glob("GHSA-*"));
  CHECK(is_glob("a?"));
  CHECK_FALSE(is_glob("CVE-2022-37434"));
}
