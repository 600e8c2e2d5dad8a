// Expected values are Docker's own: the tables of distribution/reference
// (normalize_test.go and reference_test.go), transcribed case by case.
#include <catch2/catch.hpp>

#include <string>

#include "scanner/image/reference.h"

using scangate::ErrorKind;
using scangate::parse_reference;

namespace {
const std::string kF64 = std::string(64, 'f');
std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
}  // namespace

TEST_CASE("Docker's TestParseRepositoryInfo: familiar, full, domain and path", "[reference]") {
  struct Case {
    std::string remote, familiar, full, ambiguous, domain;
  };
  const Case cases[] = {
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"},
      {"other/library", "other/library", "docker.io/other/library", "", "docker.io"},
      {"private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"},
      {"privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"},
      {"private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"},
      {"privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"},
      {"private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase", "",
       "example.com:8000"},
      {"privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"},
      {"library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "index.docker.io/library/ubuntu-12.04-base", "docker.io"},
      {"library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"},
      {"library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"},
      {"store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"},
      {"bar", "Foo/bar", "Foo/bar", "", "Foo"},
      {"bar", "FOO/bar", "FOO/bar", "", "FOO"},
  };
  for (const auto& c : cases) {
    for (const std::string& input : {c.familiar, c.full, c.ambiguous}) {
      if (input.empty()) continue;
      CAPTURE(input);
      auto r = parse_reference(input);
      REQUIRE(r.ok());
      CHECK(r->registry == c.domain);
      CHECK(r->repository == c.remote);
      CHECK(r->name() == c.full);
      CHECK(r->familiar() == c.familiar);
    }
  }
}

TEST_CASE("Docker's TestNormalizedSplitHostname", "[reference]") {
  const std::pair<std::string, std::pair<std::string, std::string>> cases[] = {
      {"test.com/foo", {"test.com", "foo"}},
      {"test_com/foo", {"docker.io", "test_com/foo"}},
      {"docker/migrator", {"docker.io", "docker/migrator"}},
      {"test.com:8080/foo", {"test.com:8080", "foo"}},
      {"test-com:8080/foo", {"test-com:8080", "foo"}},
      {"foo", {"docker.io", "library/foo"}},
      {"xn--n3h.com/foo", {"xn--n3h.com", "foo"}},
      {"xn--n3h.com:18080/foo", {"xn--n3h.com:18080", "foo"}},
      {"docker.io/foo", {"docker.io", "library/foo"}},
      {"docker.io/library/foo", {"docker.io", "library/foo"}},
      {"docker.io/library/foo/bar", {"docker.io", "library/foo/bar"}},
  };
  for (const auto& [input, want] : cases) {
    CAPTURE(input);
    auto r = parse_reference(input);
    REQUIRE(r.ok());
    CHECK(r->registry == want.first);
    CHECK(r->repository == want.second);
  }
}

TEST_CASE("Docker's TestParseAnyReference equivalents (named forms)", "[reference]") {
  const std::string d = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
  const std::pair<std::string, std::string> cases[] = {
      {"redis", "docker.io/library/redis:latest"},
      {"redis:latest", "docker.io/library/redis:latest"},
      {"docker.io/library/redis:latest", "docker.io/library/redis:latest"},
      {"redis@" + d, "docker.io/library/redis@" + d},
      {"docker.io/library/redis@" + d, "docker.io/library/redis@" + d},
      {"dmcgowan/myapp", "docker.io/dmcgowan/myapp:latest"},
      {"dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest"},
      {"docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest"},
      {"dmcgowan/myapp@" + d, "docker.io/dmcgowan/myapp@" + d},
      {"docker.io/dmcgowan/myapp@" + d, "docker.io/dmcgowan/myapp@" + d},
      {"dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
       "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest"},
      {"dbcc1", "docker.io/library/dbcc1:latest"},
  };
  for (const auto& [input, want] : cases) {
    CAPTURE(input);
    auto r = parse_reference(input);
    REQUIRE(r.ok());
    CHECK(r->normalized() == want);
  }
}

TEST_CASE("Docker's TestParseReferenceWithTagAndDigest", "[reference]") {
  const std::string short_ref =
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
  auto r = parse_reference(short_ref);
  REQUIRE(r.ok());
  CHECK(r->normalized() == "docker.io/library/" + short_ref);
  CHECK(r->familiar() == short_ref);
  CHECK(r->tag == "latest");
  CHECK(r->digest == "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa");
  CHECK(r->manifest_reference() == r->digest);
}

TEST_CASE("Docker's TestReferenceParse: domains, tags, digests, IPv6", "[reference]") {
  struct Case {
    std::string input, domain, name, tag, digest;
  };
  const std::string sha512 = "sha512:" + std::string(128, 'f');
  const Case cases[] = {
      {"test.com/repo:tag", "test.com", "test.com/repo", "tag", ""},
      {"test:5000/repo", "test:5000", "test:5000/repo", "", ""},
      {"test:5000/repo:tag", "test:5000", "test:5000/repo", "tag", ""},
      {"test:5000/repo@sha256:" + kF64, "test:5000", "test:5000/repo", "", "sha256:" + kF64},
      {"test:5000/repo:tag@sha256:" + kF64, "test:5000", "test:5000/repo", "tag", "sha256:" + kF64},
      {"lowercase:Uppercase", "docker.io", "docker.io/library/lowercase", "Uppercase", ""},
      {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "sub-dom1.foo.com/bar/baz/quux", "", ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "sub-dom1.foo.com/bar/baz/quux",
       "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "b.gcr.io/test.example.com/my-app",
       "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "xn--n3h.com/myimage", "xn--n3h.com", ""},
      {"xn--7o8h.com/myimage:xn--7o8h.com@" + sha512, "xn--7o8h.com", "xn--7o8h.com/myimage", "xn--7o8h.com", sha512},
      {"foo_bar.com:8080", "docker.io", "docker.io/library/foo_bar.com", "8080", ""},
      {"192.168.1.1", "docker.io", "docker.io/library/192.168.1.1", "", ""},
      {"192.168.1.1:5000", "docker.io", "docker.io/library/192.168.1.1", "5000", ""},
      {"192.168.1.1/repo", "192.168.1.1", "192.168.1.1/repo", "", ""},
      {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "192.168.1.1:5000/repo", "5050", ""},
      {"[2001:db8::1]/repo", "[2001:db8::1]", "[2001:db8::1]/repo", "", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "[2001:db8:1:2:3:4:5:6]/repo", "tag", ""},
      {"[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "", ""},
      {"[2001:db8::1]:5000/repo:tag@sha256:" + kF64, "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "tag",
       "sha256:" + kF64},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "[2001:db8::]:5000/repo", "", ""},
      {"[::1]:5000/repo", "[::1]:5000", "[::1]:5000/repo", "", ""},
      {repeat("a/", 127) + "a:tag-puts-this-over-max", "docker.io", "", "tag-puts-this-over-max", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto r = parse_reference(c.input);
    REQUIRE(r.ok());
    CHECK(r->registry == c.domain);
    if (!c.name.empty()) CHECK(r->name() == c.name);
    CHECK(r->tag == c.tag);
    CHECK(r->digest == c.digest);
  }
}

TEST_CASE("Docker's valid repository names (TestValidateReferenceName/RemoteName)", "[reference]") {
  const char* valid[] = {
      "docker/docker",
      "library/debian",
      "debian",
      "docker.io/docker/docker",
      "docker.io/library/debian",
      "docker.io/debian",
      "index.docker.io/docker/docker",
      "index.docker.io/library/debian",
      "index.docker.io/debian",
      "127.0.0.1:5000/docker/docker",
      "127.0.0.1:5000/library/debian",
      "127.0.0.1:5000/debian",
      "192.168.0.1",
      "192.168.0.1:80",
      "192.168.0.1:8/debian",
      "192.168.0.2:25000/debian",
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "[fc00::1]:5000/docker",
      "[fc00::1]:5000/docker/docker",
      "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
      "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "Docker/docker",
      "DOCKER/docker",
      "docker-rules/docker",
      "docker---rules/docker",
      "doc/docker",
      "d/docker",
      "jess/t",
      "dock__er/docker",
  };
  for (const char* v : valid) {
    CAPTURE(v);
    CHECK(parse_reference(v).ok());
  }
}

TEST_CASE("Docker's invalid references are rejected with a message naming the input", "[reference]") {
  const std::string invalid[] = {
      "",
      ":justtag",
      "@sha256:" + kF64,
      "repo@sha256:ffffffffffffffffffffffffffffffffff",
      "validname@invaliddigest:" + kF64,
      "Uppercase:tag",
      "test:5000/Uppercase/lowercase:tag",
      "aa/asdf$$^/aa",
      "[2001:db8::1]",
      "[2001:db8::1]:5000",
      "[2001:db8::1]:tag",
      "[fe80::1%eth0]:5000/repo",
      "[fe80::1%@invalidzone]:5000/repo",
      "https://github.com/docker/docker",
      "docker/Docker",
      "-docker",
      "-docker/docker",
      "-docker.io/docker/docker",
      "docker///docker",
      "docker.io/docker/Docker",
      "docker.io/docker///docker",
      "[fc00::1]",
      "[fc00::1]:5000",
      "fc00::1:5000/debian",
      "[2001:db8:3:4::192.0.2.33]:5000/debian",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "docker-/docker",
      "-docker-/docker",
      "____/____",
      "_docker/_docker",
      "dock..er/docker",
      "dock_.er/docker",
      "dock-.er/docker",
      "docker/",
      "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
      "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_"
      "not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
      repeat("a/", 128) + "a:tag",
  };
  for (const auto& in : invalid) {
    CAPTURE(in);
    auto r = parse_reference(in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(r.error().message.find("invalid image reference") != std::string::npos);
  }
}

TEST_CASE("error messages say what is wrong", "[reference]") {
  CHECK(parse_reference("docker.io/Library/alpine").error().message.find("must be lowercase") != std::string::npos);
  CHECK(parse_reference("alpine:-bad").error().message.find("tag \"-bad\"") != std::string::npos);
  CHECK(parse_reference("alpine@sha256:abc").error().message.find("64 hex") != std::string::npos);
  CHECK(parse_reference("alpine@sha256:" + std::string(64, 'F')).error().message.find("lowercase") !=
        std::string::npos);
  CHECK(parse_reference("alpine@md5:" + std::string(32, 'a')).error().message.find("not supported") !=
        std::string::npos);
  CHECK(parse_reference("").error().message.find("empty") != std::string::npos);
  CHECK(parse_reference("https://ghcr.io/a/b").error().message.find("URL scheme") != std::string::npos);
  CHECK(parse_reference("alpine 3").error().message.find("whitespace") != std::string::npos);
  CHECK(parse_reference(std::string(300, 'a')).error().message.find("at most 255") != std::string::npos);
}

TEST_CASE("forms from the issue", "[reference]") {
  const std::string dg = "sha256:" + std::string(64, 'a');
  struct Case {
    std::string in, normalized, familiar;
  };
  const Case cases[] = {
      {"alpine", "docker.io/library/alpine:latest", "alpine"},
      {"alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20"},
      {"docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine"},
      {"registry.example.com:5000/team/app:1.2", "registry.example.com:5000/team/app:1.2",
       "registry.example.com:5000/team/app:1.2"},
      {"localhost/app", "localhost/app:latest", "localhost/app"},
      {"localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"},
      {"app@" + dg, "docker.io/library/app@" + dg, "app@" + dg},
      {"app:tag@" + dg, "docker.io/library/app:tag@" + dg, "app:tag@" + dg},
      {"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app"},
      {"index.docker.io/library/alpine:3", "docker.io/library/alpine:3", "alpine:3"},
      {"ghcr.io/org/tool:v2", "ghcr.io/org/tool:v2", "ghcr.io/org/tool:v2"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    auto r = parse_reference(c.in);
    REQUIRE(r.ok());
    CHECK(r->normalized() == c.normalized);
    CHECK(r->familiar() == c.familiar);
  }
  auto only_digest = parse_reference("app@" + dg);
  CHECK(only_digest->effective_tag().empty());
  CHECK(only_digest->manifest_reference() == dg);
  CHECK(parse_reference("alpine")->manifest_reference() == "latest");
}
