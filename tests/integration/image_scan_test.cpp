// `scangate image` against the real CNCF registry started by tests/fixtures/registry.sh.
// Expected inventories come from the images' own package databases, read with tar here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/process.h"
#include "support/test_support.h"

using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

using PkgSet = std::set<std::pair<std::string, std::string>>;

// Name/version pairs from an apk `installed` file, parsed the simplest possible way.
PkgSet apk_db_pairs(const std::string& db) {
  PkgSet out;
  std::istringstream in(db);
  std::string line, name;
  while (std::getline(in, line)) {
    if (line.rfind("P:", 0) == 0) name = line.substr(2);
    if (line.rfind("V:", 0) == 0) out.emplace(name, line.substr(2));
  }
  return out;
}

std::string installed_db_of(const std::string& version) {
  auto r = run_process({"/bin/tar", "-xzOf",
                        scangate::test::testdata("rootfs/alpine-minirootfs-" + version + "-x86_64.tar.gz"),
                        "--wildcards", "*lib/apk/db/installed"});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

Json scan_sbom(const std::vector<std::string>& extra, int* exit_code = nullptr, std::string* err = nullptr) {
  std::vector<std::string> argv = {SCANGATE_CLI, "image", "--scanners", "pkg", "--format", "cyclonedx", "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run_process(argv);
  if (exit_code) *exit_code = r.exit_code;
  if (err) *err = r.err;
  if (r.exit_code != 0) return Json();
  return Json::parse(r.out);
}

PkgSet libraries(const Json& bom, const std::string& purl_prefix = "pkg:apk/") {
  PkgSet out;
  for (const auto& c : bom["components"])
    if (c["type"] == "library" && c["purl"].get<std::string>().rfind(purl_prefix, 0) == 0)
      out.emplace(c["name"].get<std::string>(), c["version"].get<std::string>());
  return out;
}

std::string property(const Json& component, const std::string& name) {
  for (const auto& p : component.value("properties", Json::array()))
    if (p["name"] == name) return p["value"];
  return "";
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  return out;
}

}  // namespace

TEST_CASE("each Alpine image's inventory equals its own apk database", "[registry]") {
  auto env = fixture_env();
  for (std::string v : {"3.10.9", "3.15.11", "3.18.9", "3.20.3"}) {
    CAPTURE(v);
    std::string key = "ALPINE_" + v;
    for (auto& c : key)
      if (c == '.') c = '_';
    int code = -1;
    std::string err;
    Json bom = scan_sbom({env.at("REGISTRY") + "/alpine:" + v}, &code, &err);
    CAPTURE(err);
    REQUIRE(code == 0);
    PkgSet expected = apk_db_pairs(installed_db_of(v));
    REQUIRE(expected.size() > 10);
    CHECK(libraries(bom) == expected);

    // Image metadata: the manifest digest the registry stores, the OS and its version.
    const Json& root = bom["metadata"]["component"];
    CHECK(property(root, "scangate:RepoDigest").find("@" + env.at("DIGEST_" + key)) != std::string::npos);
    CHECK(property(root, "scangate:ImageID") == env.at("CONFIG_DIGEST_" + key));
    bool os_found = false;
    for (const auto& c : bom["components"]) {
      if (c["type"] == "operating-system") {
        os_found = true;
        CHECK(c["name"] == "alpine");
        CHECK(c["version"] == v);
      }
    }
    CHECK(os_found);
    // Every package carries the single layer's digest.
    for (const auto& c : bom["components"])
      if (c["type"] == "library") CHECK(property(c, "scangate:LayerDigest") == env.at("LAYERS_" + key));
    // purl shape from the issue: pkg:apk/alpine/NAME@VER?arch=...&distro=VERSION
    bool musl = false;
    for (const auto& c : bom["components"]) {
      if (c["name"] == "musl") {
        musl = true;
        CHECK(c["purl"].get<std::string>().find("?arch=x86_64&distro=" + v) != std::string::npos);
      }
    }
    CHECK(musl);
  }
}

TEST_CASE("layered image: whiteouts apply, language packages carry the layer that added them", "[registry]") {
  auto env = fixture_env();
  Json bom = scan_sbom({env.at("REGISTRY") + "/" + env.at("IMAGE_LAYERED_1")});
  REQUIRE(bom.is_object());
  auto layers = split_commas(env.at("LAYERS_LAYERED_1"));
  REQUIRE(layers.size() == 3);
  PkgSet py = libraries(bom, "pkg:pypi/");
  CHECK(py == PkgSet{{"pip", "21.2.4"}, {"setuptools", "51.3.3"}});
  PkgSet npm = libraries(bom, "pkg:npm/");
  CHECK(npm == PkgSet{{"left-pad", "1.3.0"}, {"@scope/thing", "2.0.1"}});  // "gone" was whited out
  for (const auto& c : bom["components"]) {
    std::string purl = c.value("purl", "");
    if (purl.rfind("pkg:pypi/", 0) == 0 || purl.rfind("pkg:npm/", 0) == 0) {
      CAPTURE(purl);
      CHECK(property(c, "scangate:LayerDigest") == layers[1]);
    }
    if (purl.rfind("pkg:apk/", 0) == 0) CHECK(property(c, "scangate:LayerDigest") == layers[0]);
    if (c.value("name", "") == "@scope/thing") CHECK(purl == "pkg:npm/%40scope/thing@2.0.1");
  }
  CHECK(apk_db_pairs(installed_db_of("3.20.3")) == libraries(bom));
}

TEST_CASE("the reconstructed python:3.6 image lists the apk database it was built from", "[registry]") {
  auto env = fixture_env();
  Json bom = scan_sbom({env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")});
  REQUIRE(bom.is_object());
  PkgSet expected = apk_db_pairs(
      scangate::test::read_file(scangate::test::testdata("scenario/installed/python-3.6.15-alpine3.14.installed")));
  CHECK(libraries(bom) == expected);
  // A package is attributed to the layer since which it has been present: the base layer when
  // the base image's own database already had the same name and version, else the layer that
  // replaced the database.
  auto layers = split_commas(env.at("LAYERS_PYTHON_3_6"));
  PkgSet base = apk_db_pairs(installed_db_of("3.15.11"));
  int from_base = 0;
  for (const auto& c : bom["components"]) {
    if (c["type"] == "operating-system") CHECK(c["version"] == "3.14.3");
    if (c["type"] == "library" && c["purl"].get<std::string>().rfind("pkg:apk/", 0) == 0) {
      bool in_base = base.count({c["name"].get<std::string>(), c["version"].get<std::string>()}) > 0;
      from_base += in_base;
      CAPTURE(c["name"]);
      CHECK(property(c, "scangate:LayerDigest") == (in_base ? layers.front() : layers.back()));
    }
  }
  CHECK(from_base < static_cast<int>(expected.size()));
}

TEST_CASE("multi-arch index: the platform picks the image", "[registry]") {
  auto env = fixture_env();
  std::string ref = env.at("REGISTRY") + "/" + env.at("IMAGE_MULTIARCH");
  auto os_version = [](const Json& bom) {
    for (const auto& c : bom["components"])
      if (c["type"] == "operating-system") return c["version"].get<std::string>();
    return std::string();
  };
  Json amd = scan_sbom({ref});
  REQUIRE(amd.is_object());
  CHECK(os_version(amd) == "3.20.3");
  // As Docker does, the repo digest of an image pulled through an index is the index's digest;
  // the config digest tells the platform images apart.
  CHECK(property(amd["metadata"]["component"], "scangate:RepoDigest").find(env.at("DIGEST_MULTIARCH_INDEX")) !=
        std::string::npos);
  CHECK(property(amd["metadata"]["component"], "scangate:ImageID") == env.at("CONFIG_DIGEST_MULTIARCH_AMD64"));
  Json arm = scan_sbom({"--platform", "linux/arm64/v8", ref});
  REQUIRE(arm.is_object());
  CHECK(os_version(arm) == "3.18.9");
  CHECK(property(arm["metadata"]["component"], "scangate:Architecture").rfind("arm64", 0) == 0);
  CHECK(property(arm["metadata"]["component"], "scangate:ImageID") == env.at("CONFIG_DIGEST_MULTIARCH_ARM64"));
  int code = 0;
  std::string err;
  scan_sbom({"--platform", "linux/s390x", ref}, &code, &err);
  CHECK(code == 2);
  CHECK(err.find("s390x") != std::string::npos);
}

TEST_CASE("basic auth: credentials from stdin or config.json, wrong ones are an auth error", "[registry]") {
  auto env = fixture_env();
  std::string ref = env.at("AUTH_REGISTRY") + "/" + env.at("PRIVATE_REPO");
  std::vector<std::string> base = {SCANGATE_CLI, "image", "--scanners", "pkg", "--format", "cyclonedx", "--quiet"};

  auto anon = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", ref});
  CHECK(anon.exit_code == 2);
  CHECK(anon.err.find("authentication") != std::string::npos);

  auto ok = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--format", "cyclonedx", "--quiet", "--username",
                         env.at("AUTH_USER"), "--password-stdin", ref},
                        env.at("AUTH_PASSWORD") + "\n");
  CAPTURE(ok.err);
  CHECK(ok.exit_code == 0);
  if (ok.exit_code == 0) CHECK(libraries(Json::parse(ok.out)) == apk_db_pairs(installed_db_of("3.20.3")));

  auto bad = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", "--username", env.at("AUTH_USER"),
                          "--password-stdin", ref},
                         "wrong-password\n");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("authentication") != std::string::npos);
  CHECK(bad.err.find("wrong-password") == std::string::npos);
  CHECK(bad.err.find(env.at("AUTH_PASSWORD")) == std::string::npos);

  // Docker's config.json with a base64 user:password.
  std::string dir = scangate::test::make_temp_dir("sg-auth");
  std::string userpass = env.at("AUTH_USER") + ":" + env.at("AUTH_PASSWORD");
  auto b64 = run_process({"/usr/bin/base64", "-w0"}, userpass);
  REQUIRE(b64.exit_code == 0);
  {
    std::ofstream cfg(dir + "/config.json");
    cfg << R"({"auths":{")" << env.at("AUTH_REGISTRY") << R"(":{"auth":")" << b64.out << R"("}}})";
  }
  auto cfg = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", "--format", "cyclonedx",
                          "--registry-config", dir + "/config.json", ref});
  CAPTURE(cfg.err);
  CHECK(cfg.exit_code == 0);
  auto viaenv = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", "--format", "cyclonedx", ref}, "",
                            {{"DOCKER_CONFIG", dir}});
  CHECK(viaenv.exit_code == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("token auth: bearer token from the realm, anonymous pull allowed", "[registry]") {
  auto env = fixture_env();
  if (env["TOKEN_REGISTRY"].empty()) {
    WARN("the fixture has no token registry");
    return;
  }
  std::string ref = env.at("TOKEN_REGISTRY") + "/" + env.at("PRIVATE_REPO");
  auto r = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", "--format", "cyclonedx", "--username",
                        env.at("TOKEN_USER"), "--password-stdin", ref},
                       env.at("TOKEN_PASSWORD") + "\n");
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  if (r.exit_code == 0) CHECK(libraries(Json::parse(r.out)) == apk_db_pairs(installed_db_of("3.20.3")));
  auto bad = run_process({SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet", "--username", env.at("TOKEN_USER"),
                          "--password-stdin", ref},
                         "nope\n");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("authentication") != std::string::npos);
}

TEST_CASE("bad inputs: clear errors and exit code 2", "[registry]") {
  auto env = fixture_env();
  const std::string reg = env.at("REGISTRY");
  auto scan = [](const std::string& ref, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {SCANGATE_CLI, "image", "--scanners", "pkg", "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(ref);
    return run_process(argv);
  };
  SECTION("unknown image") {
    auto r = scan(reg + "/does-not-exist:1");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not found") != std::string::npos);
  }
  SECTION("unknown tag") {
    auto r = scan(reg + "/alpine:9.9.9");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not found") != std::string::npos);
  }
  SECTION("invalid reference") {
    auto r = scan("UPPER/Case:tag");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("UPPER/Case") != std::string::npos);
  }
  SECTION("unreachable registry") {
    auto r = scan("127.0.0.1:1/alpine:3.20");
    CHECK(r.exit_code == 2);
    CHECK(!r.err.empty());
  }
  SECTION("corrupted blob: digest mismatch names the blob") {
    auto r = scan(reg + "/" + env.at("IMAGE_BROKEN_DIGEST"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(env.at("BROKEN_DIGEST_LAYER")) != std::string::npos);
    CHECK(r.err.find("mismatch") != std::string::npos);
  }
  SECTION("truncated gzip layer names the layer") {
    auto r = scan(reg + "/" + env.at("IMAGE_BROKEN_TRUNCATED"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(env.at("BROKEN_TRUNCATED_LAYER").substr(0, 19)) != std::string::npos);
  }
  SECTION("a layer that expands past the bound") {
    auto r = scan(reg + "/" + env.at("IMAGE_BOMB_1"), {"--max-layer-size", "64M"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("64") != std::string::npos);
    auto layer = env.at("LAYERS_BOMB_1");
    CHECK(r.err.find(layer.substr(0, 19)) != std::string::npos);
  }
}

TEST_CASE("input files: a docker-save tarball and an OCI layout", "[registry]") {
  auto env = fixture_env();
  PkgSet expected = apk_db_pairs(installed_db_of("3.20.3"));
  Json fromArchive = scan_sbom({"--input", env.at("DOCKER_ARCHIVE")});
  REQUIRE(fromArchive.is_object());
  CHECK(libraries(fromArchive) == expected);
  CHECK(property(fromArchive["metadata"]["component"], "scangate:ImageID") == env.at("CONFIG_DIGEST_ALPINE_3_20_3"));
  Json fromLayout = scan_sbom({"--input", env.at("OCI_LAYOUT_DIR")});
  REQUIRE(fromLayout.is_object());
  CHECK(libraries(fromLayout) == expected);
  int code = 0;
  std::string err;
  scan_sbom({"--input", "/nonexistent/image.tar"}, &code, &err);
  CHECK(code == 2);
  CHECK(err.find("/nonexistent/image.tar") != std::string::npos);
}
