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

// Issue 12 changed `*` to stop at '/' (it used to cross it); `**` crosses. The assertions that
// used to hold for a crossing `*` now hold for `**`, and the `*` forms are asserted not to match.
TEST_CASE("glob: * matches any run within one path level, ** across '/'", "[glob]") {
  CHECK(glob_match("GHSA-*", "GHSA-xvch-5gv4-984h"));
  CHECK_FALSE(glob_match("GHSA-*", "CVE-2022-1"));
  CHECK(glob_match("registry.k8s.io/*", "registry.k8s.io/pause"));
  CHECK_FALSE(glob_match("registry.k8s.io/*", "registry.k8s.io/sig-storage/csi-provisioner"));
  CHECK(glob_match("registry.k8s.io/**", "registry.k8s.io/sig-storage/csi-provisioner"));
  CHECK(glob_match("registry.k8s.io/**", "registry.k8s.io/pause"));
  CHECK_FALSE(glob_match("registry.k8s.io/*", "docker.io/registry.k8s.io"));
  CHECK_FALSE(glob_match("registry.k8s.io/**", "docker.io/registry.k8s.io"));
  CHECK(glob_match("*/legacy/*", "registry.example.com/legacy/app"));
  CHECK_FALSE(glob_match("*/legacy/*", "registry.example.com/team/legacy/app"));
  CHECK(glob_match("**/legacy/*", "registry.example.com/team/legacy/app"));
  CHECK_FALSE(glob_match("*/legacy/*", "registry.example.com/legacy"));
  CHECK_FALSE(glob_match("**/legacy/**", "registry.example.com/legacy"));
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
  CHECK_FALSE(glob_match("a?c", "a/c"));  // like `*`, `?` stays within one path level
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

TEST_CASE("glob: the exemptImages examples of issue 12", "[glob]") {
  // Patterns are matched against the normalised repository (tag and digest stripped).
  CHECK(glob_match("registry.example.com/team/*", "registry.example.com/team/app"));
  CHECK_FALSE(glob_match("registry.example.com/team/*", "registry.example.com/team/sub/app"));
  CHECK(glob_match("registry.example.com/**", "registry.example.com/team/app"));
  CHECK(glob_match("registry.example.com/**", "registry.example.com/team/sub/app"));
  CHECK_FALSE(glob_match("registry.example.com/**", "registry.example.com.evil/team/app"));
  CHECK(glob_match("registry.example.com/team/**/app", "registry.example.com/team/a/b/app"));
  CHECK(glob_match("***", "a/b"));  // a run of stars is `**`
  CHECK(glob_match("*", "abc"));
  CHECK_FALSE(glob_match("*", "a/b"));
  CHECK(glob_match("a*b", "ab"));
  CHECK_FALSE(glob_match("a*b", "a/b"));
  CHECK(glob_match("a**b", "a/b"));
}

TEST_CASE("glob: a pathological ** pattern stays fast", "[glob]") {
  std::string text(5000, '/');
  std::string pattern;
  for (int i = 0; i < 50; ++i) pattern += "/**";
  pattern += "x";
  CHECK_FALSE(glob_match(pattern, text));
}
