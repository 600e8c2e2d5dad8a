#include "scanner/policy/image_name.h"

#include <catch2/catch.hpp>

using namespace scangate::policy;

// Expected values: Docker's reference normalisation (distribution/reference ParseNormalizedNamed).
TEST_CASE("image_name: repositories are normalised the way Docker does", "[image_name]") {
  CHECK(normalize_repository("python:3.6-alpine") == "docker.io/library/python");
  CHECK(normalize_repository("alpine") == "docker.io/library/alpine");
  CHECK(normalize_repository("team/app") == "docker.io/team/app");
  CHECK(normalize_repository("docker.io/library/python:3.6") == "docker.io/library/python");
  CHECK(normalize_repository("index.docker.io/library/alpine") == "docker.io/library/alpine");
  CHECK(normalize_repository("registry:5000/team/app:1.2") == "registry:5000/team/app");
  CHECK(normalize_repository("localhost/app") == "localhost/app");
  CHECK(normalize_repository("localhost:5000/app:tag") == "localhost:5000/app");
  CHECK(normalize_repository("ghcr.io/aquasecurity/trivy-test-images:alpine-310") ==
        "ghcr.io/aquasecurity/trivy-test-images");
  CHECK(normalize_repository("registry.k8s.io/pause:3.9@sha256:"
                             "7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097") ==
        "registry.k8s.io/pause");
  CHECK(normalize_repository("") == "");
}

TEST_CASE("image_name: short digests and digest syntax", "[image_name]") {
  std::string d = "sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200";
  CHECK(short_digest(d) == "sha256:409b6e4e…");
  CHECK(short_digest("sha256:abc") == "sha256:abc");
  CHECK(is_sha256_digest(d));
  CHECK_FALSE(is_sha256_digest("sha256:409b6e4e"));
  CHECK_FALSE(is_sha256_digest("sha256:409B6E4EA0F8E21D7CAD593D6C06A428BB670859F0549F859D2F7C9A12D8A200"));
}

TEST_CASE("image_name: a digest pattern matches that digest only, anything else globs the repository", "[image_name]") {
  ImageIdentity img{"docker.io/library/python", "python:3.6-alpine",
                    "sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200"};
  CHECK(image_matches("sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200", img));
  CHECK_FALSE(image_matches("sha256:0000000000000000000000000000000000000000000000000000000000000000", img));
  CHECK(image_matches("docker.io/library/python", img));
  CHECK(image_matches("docker.io/library/*", img));
  CHECK(image_matches("**/python", img));
  CHECK_FALSE(image_matches("*/python", img));  // issue 12: `*` no longer crosses '/'
  CHECK(image_matches("*/*/python", img));
  CHECK_FALSE(image_matches("python", img));  // patterns name the normalised repository
  CHECK_FALSE(image_matches("*/legacy/*", img));
  ImageIdentity no_digest{"docker.io/library/python", "python:3.6-alpine", ""};
  CHECK_FALSE(image_matches("sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200", no_digest));
}

TEST_CASE("image_name: exemptImages globs stay within one path level unless they say **", "[image_name]") {
  auto id = [](const std::string& ref) { return ImageIdentity{scangate::policy::normalize_repository(ref), ref, ""}; };
  CHECK(image_matches("registry.example.com/team/*", id("registry.example.com/team/app:1")));
  CHECK_FALSE(image_matches("registry.example.com/team/*", id("registry.example.com/team/sub/app:1")));
  CHECK(image_matches("registry.example.com/**", id("registry.example.com/team/app:1")));
  CHECK(image_matches("registry.example.com/**", id("registry.example.com/team/sub/app:1")));
}
