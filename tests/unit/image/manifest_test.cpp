#include <catch2/catch.hpp>

#include "scanner/core/json_depth.h"
#include "scanner/image/manifest.h"
#include "scanner/image/platform.h"

using namespace scangate;

namespace {
std::string d(char c) { return "sha256:" + std::string(64, c); }
std::string att(char c) { return "sha256:" + std::string(63, '0') + c; }

// Shaped like the index Docker Hub serves for alpine:3.20 (BuildKit output: one image per
// platform, each followed by its unknown/unknown attestation manifest).
std::string alpine_like_index() {
  struct P {
    char digest;
    const char* arch;
    const char* variant;
  };
  const P ps[] = {{'1', "amd64", nullptr},   {'2', "arm", "v6"},     {'3', "arm", "v7"},
                  {'4', "arm64", "v8"},      {'5', "386", nullptr},  {'6', "ppc64le", nullptr},
                  {'7', "riscv64", nullptr}, {'8', "s390x", nullptr}};
  std::string out = R"({"manifests":[)";
  bool first = true;
  for (const auto& p : ps) {
    if (!first) out += ",";
    first = false;
    out +=
        R"({"annotations":{"com.docker.official-images.bashbrew.arch":"x","org.opencontainers.image.base.name":"scratch"},)";
    out += R"("digest":")" + d(p.digest) + R"(","mediaType":"application/vnd.oci.image.manifest.v1+json",)";
    out += R"("platform":{"architecture":")" + std::string(p.arch) + R"(","os":"linux")";
    if (p.variant) out += R"(,"variant":")" + std::string(p.variant) + "\"";
    out += R"(},"size":1022},)";
    out +=
        R"({"annotations":{"vnd.docker.reference.digest":")" + d(p.digest) +
        R"(","vnd.docker.reference.type":"attestation-manifest"},"digest":")" + att(p.digest) +
        R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","platform":{"architecture":"unknown","os":"unknown"},"size":839})";
  }
  out += R"(],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})";
  return out;
}
}  // namespace

TEST_CASE("platform parsing and normalisation", "[platform]") {
  CHECK(parse_platform("linux/amd64")->to_string() == "linux/amd64");
  CHECK(parse_platform("linux/x86_64")->to_string() == "linux/amd64");
  CHECK(parse_platform("linux/aarch64")->to_string() == "linux/arm64");
  CHECK(parse_platform("linux/arm64/v8")->to_string() == "linux/arm64");
  CHECK(parse_platform("linux/arm/v6")->to_string() == "linux/arm/v6");
  CHECK(parse_platform("linux/arm")->to_string() == "linux/arm");
  for (const char* bad : {"", "linux", "linux/", "/amd64", "linux/amd64/v1/x", "linux/am d64"}) {
    CAPTURE(bad);
    auto r = parse_platform(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("os/arch[/variant]") != std::string::npos);
  }
}

TEST_CASE("platform selection from a multi-arch index", "[manifest][platform]") {
  auto parsed = parse_manifest(alpine_like_index(), "", "index");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->is_index);
  CHECK(parsed->index.manifests.size() == 16);
  auto pick = [&](const std::string& p) { return select_platform(parsed->index, *parse_platform(p), "index"); };
  CHECK(select_platform(parsed->index, Platform{}, "index")->digest == d('1'));  // default linux/amd64
  CHECK(pick("linux/amd64")->digest == d('1'));
  CHECK(pick("linux/arm64")->digest == d('4'));
  CHECK(pick("linux/arm64/v8")->digest == d('4'));  // v8 and "no variant" are the same arm64
  CHECK(pick("linux/aarch64")->digest == d('4'));
  CHECK(pick("linux/arm/v6")->digest == d('2'));
  CHECK(pick("linux/arm/v7")->digest == d('3'));
  CHECK(pick("linux/arm")->digest == d('3'));  // arm without variant prefers v7
  CHECK(pick("linux/s390x")->digest == d('8'));
  auto none = pick("windows/amd64");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind == ErrorKind::kNotFound);
  CHECK(none.error().message.find("linux/arm64") != std::string::npos);      // lists what exists
  CHECK(none.error().message.find("unknown/unknown") == std::string::npos);  // but not attestations
  auto none_variant = pick("linux/arm/v5");
  REQUIRE_FALSE(none_variant.ok());
}

TEST_CASE("Docker manifest list with arm64 variant v8 and no-variant request", "[manifest][platform]") {
  std::string list = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[
     {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":")" +
                     d('a') + R"(",
      "platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
     {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":")" +
                     d('b') + R"(",
      "platform":{"architecture":"amd64","os":"linux"}}]})";
  auto parsed = parse_manifest(list, "application/vnd.docker.distribution.manifest.list.v2+json", "list");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->is_index);
  CHECK(select_platform(parsed->index, *parse_platform("linux/arm64"), "list")->digest == d('a'));
  CHECK(select_platform(parsed->index, Platform{}, "list")->digest == d('b'));
}

// Second attacker review: `scangate image --platform linux/arm64` skipped an entry annotated as an
// attestation although it names linux/arm64, and scanned the clean entry after it; containerd
// picks the first matching entry, annotations aside.
TEST_CASE("select_platform: an annotation does not hide an entry that names a platform", "[manifest][platform]") {
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":528,"digest":")" +
                      d('a') + R"(","platform":{"architecture":"arm64","os":"linux"},
      "annotations":{"vnd.docker.reference.type":"attestation-manifest"}},
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":528,"digest":")" +
                      d('b') + R"(","platform":{"architecture":"arm64","os":"linux"}},
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":528,"digest":")" +
                      d('c') + R"(","platform":{"architecture":"unknown","os":"unknown"}}]})";
  auto parsed = parse_manifest(index, "", "index");
  REQUIRE(parsed.ok());
  CHECK(select_platform(parsed->index, *parse_platform("linux/arm64"), "index")->digest == d('a'));
  CHECK_FALSE(select_platform(parsed->index, *parse_platform("linux/amd64"), "index").ok());
}

TEST_CASE("image manifest, config and layer pairing", "[manifest]") {
  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1472,"digest":")" +
                  d('c') + R"("},
    "layers":[
      {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3623807,"digest":")" +
                  d('e') + R"("},
      {"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":10,"digest":")" +
                  d('f') + R"("},
      {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":99,"digest":")" +
                  d('9') + R"("}]})";
  auto parsed = parse_manifest(m, "", "manifest");
  REQUIRE(parsed.ok());
  REQUIRE_FALSE(parsed->is_index);
  CHECK(parsed->image.layers.size() == 3);
  CHECK(parsed->image.config.size == 1472);

  std::string cfg = R"({"architecture":"amd64","os":"linux","created":"2024-09-06T22:20:07.972381281Z",
    "rootfs":{"type":"layers","diff_ids":[")" +
                    d('0') + R"(",")" + d('1') + R"(",")" + d('2') + R"("]}})";
  auto config = parse_image_config(cfg, "config");
  REQUIRE(config.ok());
  CHECK(config->created == "2024-09-06T22:20:07.972381281Z");
  std::vector<std::string> warnings;
  auto layers = assemble_layers(parsed->image, *config, [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(layers.ok());
  REQUIRE(layers->size() == 2);  // the foreign layer is skipped
  CHECK((*layers)[0].digest == d('e'));
  CHECK((*layers)[0].diff_id == d('0'));
  CHECK((*layers)[0].size == 3623807);
  CHECK((*layers)[1].digest == d('9'));
  CHECK((*layers)[1].diff_id == d('2'));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("foreign") != std::string::npos);

  config->diff_ids.pop_back();
  auto mismatch = assemble_layers(parsed->image, *config, nullptr);
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().message.find("3 layers") != std::string::npos);
}

TEST_CASE("rejected manifests: schema 1, artifacts, garbage", "[manifest]") {
  auto s1 = parse_manifest(R"({"schemaVersion":1,"name":"library/alpine","tag":"3","fsLayers":[]})",
                           "application/vnd.docker.distribution.manifest.v1+prettyjws", "manifest of x");
  REQUIRE_FALSE(s1.ok());
  CHECK(s1.error().message.find("schema 1") != std::string::npos);

  std::string helm =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":")" + d('1') +
      R"(","size":1},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":")" +
      d('2') + R"(","size":1}]})";
  auto parsed = parse_manifest(helm, "application/vnd.oci.image.manifest.v1+json", "m");
  REQUIRE(parsed.ok());
  ImageConfig c;
  c.diff_ids = {d('3')};
  auto art = assemble_layers(parsed->image, c, nullptr);
  REQUIRE_FALSE(art.ok());
  CHECK(art.error().message.find("not a container image") != std::string::npos);

  for (const char* bad :
       {"", "[]", "{", R"({"schemaVersion":2})", R"({"schemaVersion":2,"config":{"digest":"nope"},"layers":[]})",
        R"({"schemaVersion":2,"manifests":"x","mediaType":"application/vnd.oci.image.index.v1+json"})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_manifest(bad, "", "m").ok());
  }
  CHECK_FALSE(parse_image_config(R"({"os":"linux"})", "c").ok());
  CHECK_FALSE(parse_image_config(R"({"rootfs":{"diff_ids":[1]}})", "c").ok());
}

TEST_CASE("manifest: JSON nested beyond any real manifest is refused before it is parsed", "[image][manifest]") {
  // A 4 MiB body of '[' would take some 300 MiB once parsed (a registry can send one to the webhook).
  const std::string deep(4u << 20, '[');
  CHECK(scangate::json_nesting(deep, scangate::kMaxRegistryJsonNesting) == scangate::kMaxRegistryJsonNesting + 1);
  auto m = parse_manifest(deep, "application/vnd.oci.image.manifest.v1+json", "manifest x");
  REQUIRE(!m.ok());
  CHECK(m.error().message.find("nests deeper than 32 levels") != std::string::npos);
  auto c = parse_image_config("{\"config\":" + std::string(100, '[') + std::string(100, ']') + "}", "config x");
  REQUIRE(!c.ok());
  CHECK(c.error().message.find("nests deeper") != std::string::npos);

  // Brackets inside strings do not count; escaped quotes do not end a string.
  CHECK(scangate::json_nesting(R"({"a":"[[[[[[\"[[[[","b":[{"c":{}}]})", 100) == 4);
  // A real index with platforms and annotations is far below the limit, and still parses.
  const std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7143,
     "digest":"sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
     "platform":{"architecture":"arm64","os":"linux","variant":"v8","os.features":["x"]},
     "annotations":{"org.opencontainers.image.ref.name":"[not nesting]"}}]})";
  CHECK(scangate::json_nesting(index, 100) == 5);  // object, manifests, entry, platform, os.features
  auto ok = parse_manifest(index, "", "index y");
  INFO((ok.ok() ? std::string() : ok.error().message));
  CHECK(ok.ok());
}
