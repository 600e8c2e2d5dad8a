// RegistryImageScanner::images over a fake registry client: what an image reference stands for
// (itself, or the image manifests of its index), with attestation entries left out and a nested
// index flattened one level deep.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "webhook/verdict/registry_scanner.h"

using namespace scangate;
using namespace scangate::verdict;

namespace {

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";

// Serves manifests by digest; the body's digest is the key (content addressing is the real
// client's business, tested in tests/unit/image).
struct ManifestsOnly : RegistryClient {
  std::map<std::string, ManifestResponse> manifests;
  int gets = 0;
  Result<ManifestResponse> get_manifest(const Reference&, const std::string& ref, const Deadline&) override {
    gets++;
    auto it = manifests.find(ref);
    if (it == manifests.end()) return Error(ErrorKind::kNotFound, "manifest " + ref + " not found");
    return it->second;
  }
  Result<std::string> resolve_digest(const Reference&, const Deadline&) override {
    return Error(ErrorKind::kNotFound, "unused");
  }
  Result<std::string> get_blob(const Reference&, const std::string&, size_t, const Deadline&) override {
    return Error(ErrorKind::kNotFound, "unused");
  }
  Result<std::unique_ptr<BlobStream>> open_blob(const Reference&, const std::string&, int64_t,
                                                const Deadline&) override {
    return Error(ErrorKind::kNotFound, "unused");
  }
  void add(const std::string& digest, const std::string& media_type, const std::string& body) {
    manifests[digest] = ManifestResponse{media_type, digest, body};
  }
};

std::string entry(const std::string& media_type, const std::string& digest, const std::string& platform_json,
                  const std::string& annotations = "") {
  std::string e = R"({"mediaType":")" + media_type + R"(","digest":")" + digest + R"(","size":100)";
  if (!platform_json.empty()) e += R"(,"platform":)" + platform_json;
  if (!annotations.empty()) e += R"(,"annotations":)" + annotations;
  return e + "}";
}

std::string index_of(const std::vector<std::string>& entries) {
  std::string s = R"({"schemaVersion":2,"mediaType":")" + std::string(kOciIndex) + R"(","manifests":[)";
  for (size_t i = 0; i < entries.size(); ++i) s += (i ? "," : "") + entries[i];
  return s + "]}";
}

const std::string kImageBody = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                               R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                               digest_of('c') + R"(","size":10},"layers":[]})";

}  // namespace

namespace Catch {
template <>
struct StringMaker<PlatformImage> {
  static std::string convert(const PlatformImage& p) { return "{" + p.platform + " " + p.digest + "}"; }
};
}  // namespace Catch

TEST_CASE("registry images: an image stands for itself", "[verdict][platforms]") {
  auto client = std::make_shared<ManifestsOnly>();
  client->add(digest_of('a'), kOciManifest, kImageBody);
  RegistryImageScanner s(client, std::shared_ptr<const vulndb::VulnStore>(), nullptr);
  auto r = s.images("registry.example.com/app@" + digest_of('a'), Deadline::never());
  REQUIRE(r.ok());
  CHECK(*r == std::vector<PlatformImage>{{"", digest_of('a')}});
  CHECK(client->gets == 1);
}

TEST_CASE("registry images: an index lists its platforms' images, unknown/unknown left out, nesting flattened",
          "[verdict][platforms]") {
  auto client = std::make_shared<ManifestsOnly>();
  const std::string top = digest_of('1'), nested = digest_of('2');
  client->add(
      top, kOciIndex,
      index_of({entry(kOciManifest, digest_of('a'), R"({"os":"linux","architecture":"amd64"})"),
                entry(kOciManifest, digest_of('b'), R"({"os":"linux","architecture":"arm64","variant":"v8"})"),
                entry(kOciManifest, digest_of('d'), R"({"os":"unknown","architecture":"unknown"})"),
                entry(kOciManifest, digest_of('e'), R"({"os":"linux","architecture":"amd64"})",
                      R"({"vnd.docker.reference.type":"attestation-manifest"})"),
                entry(kOciIndex, nested, R"({"os":"linux","architecture":"s390x"})"),
                entry(kOciManifest, digest_of('f'), ""),
                entry(kOciManifest, digest_of('7'), "", R"({"vnd.docker.reference.type":"attestation-manifest"})")}));
  client->add(nested, kOciIndex,
              index_of({entry(kOciManifest, digest_of('9'), R"({"os":"linux","architecture":"ppc64le"})")}));
  RegistryImageScanner s(client, std::shared_ptr<const vulndb::VulnStore>(), nullptr);
  auto r = s.images("registry.example.com/app@" + top, Deadline::never());
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  // 'e' carries buildx's attestation annotation but names linux/amd64, which a node would pull:
  // it is judged (attacker review of issue 12: the annotation on a vulnerable arm64 entry got a
  // clean amd64 index admitted). So is '7', annotated and without a platform: containerd takes an
  // entry without a platform when its config matches the node (second attacker review).
  CHECK(*r == std::vector<PlatformImage>{{"linux/amd64", digest_of('a')},
                                         {"linux/arm64/v8", digest_of('b')},
                                         {"linux/amd64", digest_of('e')},
                                         {"linux/ppc64le", digest_of('9')},
                                         {"", digest_of('f')},
                                         {"", digest_of('7')}});
  CHECK(client->gets == 2);  // the index and the nested index; no image manifest is read
}

TEST_CASE("registry images: an index nested twice, or a missing nested index, is an error", "[verdict][platforms]") {
  auto client = std::make_shared<ManifestsOnly>();
  const std::string top = digest_of('1'), mid = digest_of('2'), low = digest_of('3');
  client->add(top, kOciIndex, index_of({entry(kOciIndex, mid, "")}));
  client->add(mid, kOciIndex, index_of({entry(kOciIndex, low, "")}));
  client->add(low, kOciIndex, index_of({entry(kOciManifest, digest_of('a'), "")}));
  RegistryImageScanner s(client, std::shared_ptr<const vulndb::VulnStore>(), nullptr);
  auto deep = s.images("registry.example.com/app@" + top, Deadline::never());
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message.find("nested too deeply") != std::string::npos);

  client->manifests.erase(mid);
  auto missing = s.images("registry.example.com/app@" + top, Deadline::never());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("not found") != std::string::npos);
}
