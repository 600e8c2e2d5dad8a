// A scan that could not read a package database whole is incomplete and fails (issue 12: an apk DB
// over the per-file cap used to hide every package and pass the gate); one language package's
// manifest that does not parse is skipped with a warning naming it, and the rest of the scan
// proceeds (a package.json nested 100,000 deep used to fail the whole scan).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "scanner/layers/memory_blob.h"
#include "scanner/pipeline/pipeline.h"
#include "scanner/scan/scan.h"
#include "support/test_support.h"
#include "unit/layers/tar_builder.h"

using namespace scangate;
namespace stdfs = std::filesystem;

namespace {

const std::string kApkDb = "P:musl\nV:1.2.2-r3\nA:x86_64\no:musl\n\nP:busybox\nV:1.33.1-r6\nA:x86_64\no:busybox\n\n";
const std::string kDpkgStatus =
    "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\n";

void write(const std::string& path, const std::string& content) {
  stdfs::create_directories(stdfs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

bool any_has(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v)
    if (has(s, part)) return true;
  return false;
}

// The scan alone (pkg scanner: no DB), over a root filesystem.
struct Rootfs {
  std::string dir = test::make_temp_dir("sg-incomplete");
  std::vector<std::string> warnings;
  pipeline::Stage stage = pipeline::Stage::kSource;
  ~Rootfs() { stdfs::remove_all(dir); }
  Result<pipeline::ScanResult> scan(uint64_t max_file_bytes = 32ull << 20) {
    pipeline::Options o;
    o.rootfs = dir;
    o.scanners.vuln = false;
    o.scanners.secret = false;
    o.limits.max_file_bytes = max_file_bytes;
    o.hooks.warning = [this](const std::string& w) { warnings.push_back(w); };
    return pipeline::run(o, &stage);
  }
};

size_t count_type(const Inventory& inv, const std::string& type) {
  size_t n = 0;
  for (const auto& p : inv.packages) n += p.type == type;
  return n;
}

// An image of the given layers (tar bytes), base first.
struct LayersSource : ImageSource {
  std::vector<std::string> tars;
  Result<ResolvedImage> resolve() override {
    ResolvedImage r;
    r.meta.reference = "registry.example/app:1";
    r.meta.normalized = r.meta.reference;
    r.layers.resize(tars.size());
    for (size_t i = 0; i < tars.size(); ++i) r.layers[i].digest = "sha256:" + std::string(64, char('a' + i));
    return r;
  }
  Result<std::unique_ptr<BlobStream>> open_layer(const LayerDescriptor& d) override {
    size_t i = static_cast<size_t>(d.digest[7] - 'a');
    return std::unique_ptr<BlobStream>(std::make_unique<MemoryBlob>(tars.at(i)));
  }
};

Result<ScanOutput> scan_layers(std::vector<std::string> tars, uint64_t max_file_bytes) {
  LayersSource src;
  src.tars = std::move(tars);
  ScanOptions o;
  o.limits.max_file_bytes = max_file_bytes;
  return scan_image(src, AnalyzerRegistry::builtin(), o);
}

}  // namespace

TEST_CASE("incomplete scan: the python:3.6 apk DB plus a 33 MiB line fails the scan, naming file and cap",
          "[pipeline][incomplete]") {
  Rootfs fs;
  write(fs.dir + "/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.14.3\n");
  const std::string db = test::read_file(test::testdata("scenario/installed/python-3.6.15-alpine3.14.installed"));
  write(fs.dir + "/lib/apk/db/installed", db);
  auto whole = fs.scan();
  REQUIRE(whole.ok());
  const size_t packages = count_type(whole->inventory, "apk");
  CHECK(packages > 30);  // the control: the same DB under the cap is read

  write(fs.dir + "/lib/apk/db/installed", db + "X:" + std::string(33u << 20, 'a') + "\n");
  auto r = fs.scan();
  REQUIRE_FALSE(r.ok());
  CHECK(fs.stage == pipeline::Stage::kScan);
  CHECK(r.error().kind == ErrorKind::kLimit);
  CHECK(has(r.error().message, "lib/apk/db/installed"));
  CHECK(has(r.error().message, "33554432"));
  CHECK(has(r.error().message, "incomplete"));
}

TEST_CASE("incomplete scan: every OS package DB and release file over the cap fails a root filesystem scan",
          "[pipeline][incomplete]") {
  const std::string big(5000, 'z');
  struct Case {
    std::string path, content;
  };
  for (const auto& c : std::vector<Case>{
           {"lib/apk/db/installed", kApkDb + "X:" + big + "\n"},
           {"var/lib/dpkg/status", kDpkgStatus + "Description: " + big + "\n"},
           {"var/lib/dpkg/status.d/libc6", kDpkgStatus + "Description: " + big + "\n"},
           {"etc/os-release", "ID=alpine\nVERSION_ID=3.14.3\nX=" + big + "\n"},
           {"usr/lib/os-release", "ID=alpine\nVERSION_ID=3.14.3\nX=" + big + "\n"},
           {"etc/alpine-release", "3.14.3\n" + big + "\n"},
       }) {
    CAPTURE(c.path);
    Rootfs fs;
    write(fs.dir + "/" + c.path, c.content);
    auto under = fs.scan(/*max_file_bytes=*/1u << 20);
    CHECK(under.ok());
    auto over = fs.scan(/*max_file_bytes=*/4096);
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().kind == ErrorKind::kLimit);
    CHECK(has(over.error().message, c.path));
    CHECK(has(over.error().message, "4096"));
  }
}

TEST_CASE("incomplete scan: a language manifest over the cap is skipped with a warning, the scan proceeds",
          "[pipeline][incomplete]") {
  Rootfs fs;
  write(fs.dir + "/lib/apk/db/installed", kApkDb);
  write(fs.dir + "/usr/lib/python3.9/site-packages/big-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: big\nVersion: 1.0\n\n" + std::string(5000, 'd'));
  write(fs.dir + "/usr/lib/python3.9/site-packages/pip-23.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: pip\nVersion: 23.0\n\n");
  auto r = fs.scan(/*max_file_bytes=*/4096);
  REQUIRE(r.ok());
  CHECK(count_type(r->inventory, "apk") == 2);
  CHECK(count_type(r->inventory, "pypi") == 1);
  CHECK(any_has(fs.warnings, "big-1.0.dist-info/METADATA"));
}

TEST_CASE("incomplete scan: an image layer whose apk DB is over the cap fails unless a later layer replaces it",
          "[pipeline][incomplete]") {
  using test::build_tar;
  using test::file;
  const std::string os = "ID=alpine\nVERSION_ID=3.14.3\n";
  const std::string good = build_tar({file("etc/os-release", os), file("lib/apk/db/installed", kApkDb)});
  const std::string huge = build_tar({file("lib/apk/db/installed", kApkDb + "X:" + std::string(8000, 'a') + "\n")});
  const std::string dpkg_huge =
      build_tar({file("var/lib/dpkg/status", kDpkgStatus + "Description: " + std::string(8000, 'a') + "\n")});

  // The top layer's DB is over the cap: the error names the file, its layer and the cap.
  auto top = scan_layers({good, huge}, 4096);
  REQUIRE_FALSE(top.ok());
  CHECK(top.error().kind == ErrorKind::kLimit);
  CHECK(has(top.error().message, "lib/apk/db/installed (layer 1)"));
  CHECK(has(top.error().message, "4096"));
  auto deb = scan_layers({dpkg_huge}, 4096);
  REQUIRE_FALSE(deb.ok());
  CHECK(has(deb.error().message, "var/lib/dpkg/status"));

  // An oversized copy that a later layer replaces is not what the image ships: the scan is whole.
  auto replaced = scan_layers({huge, good}, 4096);
  REQUIRE(replaced.ok());
  CHECK(count_type(replaced->inventory, "apk") == 2);
  // Deleted by a whiteout: the image holds no apk DB at all.
  auto deleted = scan_layers({huge, build_tar({file("lib/apk/db/.wh.installed", "")})}, 4096);
  REQUIRE(deleted.ok());
  CHECK(count_type(deleted->inventory, "apk") == 0);
}

TEST_CASE("incomplete scan: a package.json nested 100,000 deep is skipped with a warning, the rest is found",
          "[pipeline][incomplete][npm]") {
  Rootfs fs;
  write(fs.dir + "/lib/apk/db/installed", kApkDb);
  write(fs.dir + "/app/node_modules/good/package.json", R"({"name":"good","version":"1.2.3","license":"MIT"})");
  write(fs.dir + "/app/node_modules/deep-array/package.json", std::string(100000, '[') + std::string(100000, ']'));
  write(fs.dir + "/app/node_modules/deep-object/package.json", [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"a\":";
    return s + "1" + std::string(100000, '}');
  }());
  write(fs.dir + "/app/node_modules/too-deep/package.json",
        "{\"name\":\"t\",\"version\":\"1\",\"x\":" + std::string(300000, '[') + std::string(300000, ']') + "}");
  write(fs.dir + "/app/node_modules/broken/package.json", "{\"name\":\"broken\",");
  auto r = fs.scan();
  REQUIRE(r.ok());
  std::vector<std::string> npm;
  for (const auto& p : r->inventory.packages)
    if (p.type == "npm") npm.push_back(p.name + "@" + p.version);
  CHECK(npm == std::vector<std::string>{"good@1.2.3"});
  CHECK(count_type(r->inventory, "apk") == 2);
  for (const char* skipped :
       {"deep-array/package.json", "deep-object/package.json", "too-deep/package.json", "broken/package.json"}) {
    CAPTURE(skipped);
    CHECK(any_has(fs.warnings, skipped));
  }
}

TEST_CASE("incomplete scan: an OS package DB that does not parse still fails the scan", "[pipeline][incomplete]") {
  Rootfs fs;
  write(fs.dir + "/lib/apk/db/installed", kApkDb + "this is not an apk record\n");
  write(fs.dir + "/app/node_modules/good/package.json", R"({"name":"good","version":"1.2.3"})");
  auto r = fs.scan();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(has(r.error().message, "lib/apk/db/installed"));
}

// Attacker review of issue 12: alpine 3.10.9 with lib/apk/db/installed moved to lib/apk/db/.pkgs
// and a symlink left in its place scanned with 0 packages, and --exit-code 1 exited 0.
TEST_CASE("incomplete scan: a package DB that is a link to a file the scan did not read fails the scan",
          "[pipeline][incomplete]") {
  using test::build_tar;
  using test::file;
  using test::slink;
  const std::string os = "ID=alpine\nVERSION_ID=3.10.9\n";

  // An image: the link in the layer that holds the moved DB, or in a later layer.
  auto same = scan_layers({build_tar({file("etc/os-release", os), file("lib/apk/db/.pkgs", kApkDb),
                                      slink("lib/apk/db/installed", ".pkgs")})},
                          32u << 20);
  REQUIRE_FALSE(same.ok());
  CHECK(has(same.error().message, "lib/apk/db/installed is a link"));
  CHECK(has(same.error().message, "incomplete"));
  auto later = scan_layers({build_tar({file("etc/os-release", os), file("lib/apk/db/installed", kApkDb)}),
                            build_tar({file("var/db", kApkDb), slink("lib/apk/db/installed", "/var/db")})},
                           32u << 20);
  REQUIRE_FALSE(later.ok());
  CHECK(has(later.error().message, "lib/apk/db/installed is a link"));

  // A link to a file the scan reads is followed (Debian's etc/os-release -> ../usr/lib/os-release),
  // and a link a later layer replaces with the file is not what the image ships.
  auto followed =
      scan_layers({build_tar({file("usr/lib/os-release", os), slink("etc/os-release", "../usr/lib/os-release"),
                              file("lib/apk/db/installed", kApkDb)})},
                  32u << 20);
  REQUIRE(followed.ok());
  CHECK(count_type(followed->inventory, "apk") == 2);
  auto replaced = scan_layers({build_tar({slink("lib/apk/db/installed", ".pkgs")}),
                               build_tar({file("etc/os-release", os), file("lib/apk/db/installed", kApkDb)})},
                              32u << 20);
  REQUIRE(replaced.ok());
  CHECK(count_type(replaced->inventory, "apk") == 2);

  // The same on a root filesystem (scangate rootfs).
  Rootfs fs;
  write(fs.dir + "/etc/os-release", os);
  write(fs.dir + "/lib/apk/db/.pkgs", kApkDb);
  stdfs::create_symlink(".pkgs", fs.dir + "/lib/apk/db/installed");
  auto r = fs.scan();
  REQUIRE_FALSE(r.ok());
  CHECK(fs.stage == pipeline::Stage::kScan);
  CHECK(has(r.error().message, "lib/apk/db/installed is a link"));
}

// Second attacker review: a link over the apk DB in an upper layer, to a file the scan keeps for
// another analyzer, was read as the stale lower copy (symlink) or as a deletion (hardlink), so
// the packages of the DB that apk reads were never matched.
TEST_CASE("a package DB reached through a link in an upper layer is read from the link's target",
          "[pipeline][incomplete]") {
  using test::build_tar;
  using test::file;
  using test::hlink;
  using test::slink;
  const std::string os = "ID=alpine\nVERSION_ID=3.10.9\n";
  const std::string musl_only = "P:musl\nV:1.2.2-r3\nA:x86_64\no:musl\n\n";
  const std::string hidden = "opt/z-1.dist-info/METADATA";  // kept for the Python analyzer
  auto apk_names = [](const ScanOutput& out) {
    std::vector<std::string> names;
    for (const auto& p : out.inventory.packages)
      if (p.type == "apk") names.push_back(p.name);
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> both = {"busybox", "musl"};

  SECTION("a symlink over a lower layer's DB") {
    auto r = scan_layers({build_tar({file("etc/os-release", os), file("lib/apk/db/installed", musl_only)}),
                          build_tar({file(hidden, kApkDb), slink("lib/apk/db/installed", "/" + hidden)})},
                         32u << 20);
    REQUIRE(r.ok());
    CHECK(apk_names(*r) == both);
  }
  SECTION("a hardlink to a file of a lower layer") {
    auto r = scan_layers({build_tar({file("etc/os-release", os), file(hidden, kApkDb)}),
                          build_tar({hlink("lib/apk/db/installed", hidden)})},
                         32u << 20);
    REQUIRE(r.ok());
    CHECK(apk_names(*r) == both);
  }
  SECTION("a hardlink over a lower layer's DB") {
    auto r = scan_layers(
        {build_tar({file("etc/os-release", os), file("lib/apk/db/installed", musl_only), file(hidden, kApkDb)}),
         build_tar({hlink("lib/apk/db/installed", hidden)})},
        32u << 20);
    REQUIRE(r.ok());
    CHECK(apk_names(*r) == both);
  }
}
