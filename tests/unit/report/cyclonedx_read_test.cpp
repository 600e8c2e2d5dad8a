// read_cyclonedx: scangate's own CycloneDX read back (a real Alpine minirootfs and language packages
// in a second layer, a real Ubuntu dpkg database), matched again with the real matcher against a DB
// built from real feeds; a BOM hand-written in Trivy's published format; and hostile input.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "scanner/core/sha256.h"
#include "scanner/match/matcher.h"
#include "scanner/match/targets.h"
#include "scanner/report/cyclonedx_read.h"
#include "scanner/report/report.h"
#include "scanner/vulndb/build.h"
#include "scanner/vulndb/gzip.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"

using nlohmann::json;
using namespace scangate;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

// ---- real data, read independently of scangate's analyzers ------------------------------------

// One regular file of a ustar archive ("./" prefixes as the minirootfs writes them); "" when absent.
std::string tar_member(const std::string& tar, const std::string& want) {
  size_t off = 0;
  while (off + 512 <= tar.size()) {
    const char* h = tar.data() + off;
    if (h[0] == '\0') break;
    std::string name(h, strnlen(h, 100));
    std::string prefix(h + 345, strnlen(h + 345, 155));
    if (!prefix.empty()) name.insert(0, prefix + "/");
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    size_t size = std::stoull(std::string(h + 124, strnlen(h + 124, 12)), nullptr, 8);
    char type = h[156];
    if ((type == '0' || type == '\0') && name == want) return tar.substr(off + 512, size);
    off += 512 + (size + 511) / 512 * 512;
  }
  return "";
}

// KEY=value lines, quotes removed.
std::map<std::string, std::string> os_release(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    out[line.substr(0, eq)] = v;
  }
  return out;
}

// An apk `installed` database: the fields the apk analyzer documents (P, V, A, L, o; the source
// package is the origin, at the package's version).
std::vector<Package> apk_packages(const std::string& db, const LayerRef& layer) {
  std::vector<Package> out;
  Package p;
  auto flush = [&] {
    if (!p.name.empty()) {
      p.type = "apk";
      if (p.src_name.empty()) p.src_name = p.name;
      p.src_version = p.version;
      p.file_path = "lib/apk/db/installed";
      p.layer = layer;
      out.push_back(p);
    }
    p = Package{};
  };
  std::istringstream in(db);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line.size() < 2 || line[1] != ':') continue;
    std::string v = line.substr(2);
    switch (line[0]) {
      case 'P': p.name = v; break;
      case 'V': p.version = v; break;
      case 'A': p.arch = v; break;
      case 'L': p.licenses = {v}; break;
      case 'o': p.src_name = v; break;
      default: break;
    }
  }
  flush();
  return out;
}

// A python METADATA file: Name, Version, License.
Package python_package(const std::string& dist_info, const LayerRef& layer) {
  Package p;
  p.type = "pypi";
  std::istringstream in(read_file(testdata("images/python-dist-info/" + dist_info + "/METADATA")));
  std::string line;
  while (std::getline(in, line) && !line.empty()) {
    if (line.rfind("Name: ", 0) == 0) p.name = line.substr(6);
    if (line.rfind("Version: ", 0) == 0) p.version = line.substr(9);
    if (line.rfind("License: ", 0) == 0) p.licenses = {line.substr(9)};
  }
  p.src_name = p.name;
  p.src_version = p.version;
  p.file_path = "usr/local/lib/python3.12/site-packages/" + dist_info + "/METADATA";
  p.layer = layer;
  return p;
}

std::vector<std::vector<std::string>> read_tsv(const std::string& rel) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(testdata(rel)));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    rows.push_back(cols);
  }
  return rows;
}

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

// The second layer's digests are made up (no such blob exists); the first layer's are the real
// minirootfs tarball's (blob) and its uncompressed tar's (diffID).
const std::string kAppDigest = digest_of('a');
const std::string kAppDiffId = digest_of('b');
const std::string kManifest = digest_of('c');
const std::string kConfig = digest_of('d');

// An image: Alpine 3.20.3's minirootfs as its base layer, pip, setuptools and npm packages above.
ReportInput alpine_image() {
  const std::string tarball = testdata("rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz");
  auto tar = vulndb::gunzip_file(tarball, "alpine-minirootfs-3.20.3-x86_64.tar.gz");
  REQUIRE(tar.ok());
  LayerRef base{Sha256::digest(read_file(tarball)), "sha256:" + tar->sha256_hex, 0};
  LayerRef app{kAppDigest, kAppDiffId, 1};

  ReportInput in;
  auto rel = os_release(tar_member(tar->text, "etc/os-release"));
  in.inventory.os.family = rel["ID"];
  in.inventory.os.name = rel["VERSION_ID"];
  REQUIRE(in.inventory.os.family == "alpine");
  REQUIRE(in.inventory.os.name == "3.20.3");
  in.inventory.packages = apk_packages(tar_member(tar->text, "lib/apk/db/installed"), base);
  REQUIRE(in.inventory.packages.size() == 14);  // P: records of the minirootfs's database
  in.inventory.packages.push_back(python_package("pip-21.2.4.dist-info", app));
  in.inventory.packages.push_back(python_package("setuptools-51.3.3.dist-info", app));
  // npm: no package.json in tests/data; real package names and versions, written by hand. The
  // same minimist in two places gets two components (the writer's "#2" bom-ref).
  in.inventory.packages.push_back(
      {"npm", "minimist", "1.2.5", "minimist", "1.2.5", "", {"MIT"}, "app/node_modules/minimist/package.json", app});
  in.inventory.packages.push_back({"npm",
                                   "minimist",
                                   "1.2.5",
                                   "minimist",
                                   "1.2.5",
                                   "",
                                   {"MIT"},
                                   "usr/local/lib/node_modules/minimist/package.json",
                                   app});
  in.inventory.packages.push_back({"npm",
                                   "@babel/core",
                                   "7.12.3",
                                   "@babel/core",
                                   "7.12.3",
                                   "",
                                   {"MIT"},
                                   "app/node_modules/@babel/core/package.json",
                                   app});

  ImageMetadata& m = in.meta;
  m.reference = "registry.local/team/app:1.0";
  m.normalized = "registry.local/team/app:1.0";
  m.repo_digest = "registry.local/team/app@" + kManifest;
  m.manifest_digest = kManifest;
  m.config_digest = kConfig;
  m.repo_tags = {"registry.local/team/app:1.0", "registry.local/team/app:latest"};
  m.diff_ids = {base.diff_id, app.diff_id};
  m.layer_digests = {base.digest, app.digest};
  m.os = "linux";
  m.architecture = "amd64";
  m.created = "2024-09-06T11:34:00Z";
  in.created_at = "2024-09-10T08:00:00Z";
  in.tool_version = "0.1.0";
  return in;
}

// Ubuntu 18.04's dpkg status as Trivy's dpkg test expects it (tests/data/pkgdb/dpkg): the binary
// version as dpkg prints it, the source version as [epoch:]version[-release]. A rootfs scan: no
// image digests, no layer.
ReportInput ubuntu_rootfs() {
  ReportInput in;
  in.artifact_type = "filesystem";
  in.meta.reference = "/srv/rootfs";
  in.inventory.os = {"ubuntu", "18.04", "", ""};
  for (const auto& r : read_tsv("pkgdb/dpkg/trivy_dpkg_valid.expected.tsv")) {
    // name full_version epoch upstream revision src_name src_epoch src_version src_release arch
    REQUIRE(r.size() == 10);
    std::string src = r[7] + (r[8].empty() ? "" : "-" + r[8]);
    if (r[6] != "0") src.insert(0, r[6] + ":");
    in.inventory.packages.push_back({"deb", r[0], r[1], r[5], src, r[9], {}, "var/lib/dpkg/status", LayerRef{}});
  }
  REQUIRE(in.inventory.packages.size() == 90);  // the rows of Trivy's expectation
  return in;
}

void check_same_packages(const std::vector<Package>& want, const std::vector<Package>& got) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Package& w = want[i];
    const Package& g = got[i];
    INFO(i << ": " << w.name << " " << w.version << " " << w.file_path);
    CHECK(g.type == w.type);
    CHECK(g.name == w.name);
    CHECK(g.version == w.version);
    CHECK(g.src_name == w.src_name);
    CHECK(g.src_version == w.src_version);
    CHECK(g.arch == w.arch);
    CHECK(g.licenses == w.licenses);
    CHECK(g.file_path == w.file_path);
    CHECK(g.layer.digest == w.layer.digest);
    CHECK(g.layer.diff_id == w.layer.diff_id);
    CHECK(g.layer.index == (w.layer.diff_id.empty() ? -1 : w.layer.index));  // no diffID, no index
  }
}

// ---- the DB: real feeds -------------------------------------------------------------------------

const std::string& feeds_db() {
  static std::string path = [] {
    std::string dir = scangate::test::make_temp_dir("sg-cdx-read");
    vulndb::BuildOptions o;
    o.output = dir + "/db.sqlite";
    o.alpine_secdb.push_back(testdata("scenario/secdb/v3.20-main.json"));
    o.nvd.push_back(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    o.osv.push_back(testdata("vulndb/osv-pypi"));
    o.osv.push_back(testdata("vulndb/osv-npm"));
    auto info = vulndb::build_db(o);
    if (!info.ok()) FAIL(info.error().message);
    return o.output;
  }();
  return path;
}

std::vector<Finding> match(const Inventory& inv) {
  auto db = vulndb::VulnDb::open(feeds_db());
  REQUIRE(db.ok());
  auto out = match_inventory(inv, **db);
  REQUIRE(out.ok());
  return out->findings;
}

using Row = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
std::set<Row> rows_of(const std::vector<Finding>& findings) {
  std::set<Row> rows;
  for (const auto& f : findings)
    rows.emplace(f.pkg.name, f.pkg.version, f.vuln_id, f.fixed_version, to_string(f.severity), f.pkg.file_path);
  return rows;
}

// ---- a hand-written BOM in Trivy's format -------------------------------------------------------

// Written by hand for this test (no Trivy output is in tests/data), to the shape of Trivy's
// published CycloneDX output: the example of docs/guide/supply-chain/sbom.md and its encoder
// (pkg/sbom/io/encode.go, properties sorted by name as pkg/sbom/core sorts them). Trivy writes a
// flat component list; the OS component and each lockfile's application component reach their
// packages through `dependencies`. Package names and versions are Alpine 3.20.3's (tests/data
// rootfs), digests made up.
const char* const kTrivyAlpine = R"({
  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:4b5d2e2c-3c1e-4f73-9d1a-2f1e6b8c9a01",
  "version": 1,
  "metadata": {
    "timestamp": "2024-09-10T08:00:00+00:00",
    "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.55.0"}]},
    "component": {
      "bom-ref": "pkg:oci/app@sha256%3Acccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc?arch=amd64&repository_url=registry.local%2Fteam%2Fapp",
      "type": "container",
      "name": "registry.local/team/app:1.0",
      "purl": "pkg:oci/app@sha256%3Acccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc?arch=amd64&repository_url=registry.local%2Fteam%2Fapp",
      "properties": [
        {"name": "aquasecurity:trivy:DiffID", "value": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        {"name": "aquasecurity:trivy:DiffID", "value": "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
        {"name": "aquasecurity:trivy:ImageID", "value": "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"},
        {"name": "aquasecurity:trivy:Labels:org.opencontainers.image.source", "value": "https://example.invalid/app"},
        {"name": "aquasecurity:trivy:RepoDigest", "value": "registry.local/team/app@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},
        {"name": "aquasecurity:trivy:RepoTag", "value": "registry.local/team/app:1.0"},
        {"name": "aquasecurity:trivy:SchemaVersion", "value": "2"},
        {"name": "aquasecurity:trivy:Size", "value": "8273920"}
      ]
    }
  },
  "components": [
    {
      "bom-ref": "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=3.20.3",
      "type": "library", "name": "busybox", "version": "1.36.1-r29",
      "licenses": [{"license": {"id": "GPL-2.0-only"}}],
      "purl": "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=3.20.3",
      "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:3333333333333333333333333333333333333333333333333333333333333333"},
        {"name": "aquasecurity:trivy:PkgID", "value": "busybox@1.36.1-r29"},
        {"name": "aquasecurity:trivy:PkgType", "value": "alpine"},
        {"name": "aquasecurity:trivy:SrcName", "value": "busybox"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "1.36.1-r29"}
      ]
    },
    {
      "bom-ref": "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3",
      "type": "library", "name": "libcrypto3", "version": "3.3.2-r0",
      "licenses": [{"expression": "Apache-2.0"}],
      "purl": "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3",
      "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:3333333333333333333333333333333333333333333333333333333333333333"},
        {"name": "aquasecurity:trivy:PkgID", "value": "libcrypto3@3.3.2-r0"},
        {"name": "aquasecurity:trivy:PkgType", "value": "alpine"},
        {"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "3.3.2-r0"}
      ]
    },
    {
      "bom-ref": "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&distro=3.20.3",
      "type": "library", "name": "ssl_client", "version": "1.36.1-r29",
      "licenses": [{"license": {"id": "GPL-2.0-only"}}],
      "purl": "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&distro=3.20.3",
      "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:3333333333333333333333333333333333333333333333333333333333333333"},
        {"name": "aquasecurity:trivy:PkgID", "value": "ssl_client@1.36.1-r29"},
        {"name": "aquasecurity:trivy:PkgType", "value": "alpine"},
        {"name": "aquasecurity:trivy:SrcName", "value": "busybox"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "1.36.1-r29"}
      ]
    },
    {
      "bom-ref": "7d1c6a53-4f7e-4b0e-9a51-6f3b1f0e2a10",
      "type": "operating-system", "name": "alpine", "version": "3.20.3",
      "properties": [
        {"name": "aquasecurity:trivy:Class", "value": "os-pkgs"},
        {"name": "aquasecurity:trivy:Type", "value": "alpine"}
      ]
    },
    {
      "bom-ref": "pkg:pypi/pip@21.2.4",
      "type": "library", "name": "pip", "version": "21.2.4",
      "licenses": [{"license": {"name": "MIT"}}],
      "purl": "pkg:pypi/pip@21.2.4",
      "properties": [
        {"name": "aquasecurity:trivy:FilePath", "value": "usr/local/lib/python3.12/site-packages/pip-21.2.4.dist-info/METADATA"},
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:4444444444444444444444444444444444444444444444444444444444444444"},
        {"name": "aquasecurity:trivy:PkgID", "value": "pip@21.2.4"},
        {"name": "aquasecurity:trivy:PkgType", "value": "python-pkg"}
      ]
    },
    {
      "bom-ref": "0e9a4c1f-8d2b-4a6e-b3c7-5f1d2e3a4b5c",
      "type": "application", "name": "app/package-lock.json",
      "properties": [
        {"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"},
        {"name": "aquasecurity:trivy:Type", "value": "npm"}
      ]
    },
    {
      "bom-ref": "pkg:npm/%40babel/core@7.12.3",
      "type": "library", "group": "@babel", "name": "core", "version": "7.12.3",
      "purl": "pkg:npm/%40babel/core@7.12.3",
      "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:4444444444444444444444444444444444444444444444444444444444444444"},
        {"name": "aquasecurity:trivy:PkgID", "value": "@babel/core@7.12.3"},
        {"name": "aquasecurity:trivy:PkgType", "value": "npm"}
      ]
    },
    {
      "bom-ref": "pkg:npm/minimist@1.2.5",
      "type": "library", "name": "minimist", "version": "1.2.5",
      "purl": "pkg:npm/minimist@1.2.5",
      "properties": [
        {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
        {"name": "aquasecurity:trivy:LayerDigest", "value": "sha256:4444444444444444444444444444444444444444444444444444444444444444"},
        {"name": "aquasecurity:trivy:PkgID", "value": "minimist@1.2.5"},
        {"name": "aquasecurity:trivy:PkgType", "value": "npm"}
      ]
    },
    {
      "bom-ref": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
      "type": "application", "name": "usr/local/bin/tool",
      "properties": [
        {"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"},
        {"name": "aquasecurity:trivy:Type", "value": "gobinary"}
      ]
    },
    {
      "bom-ref": "pkg:golang/github.com/spf13/cobra@v1.8.0",
      "type": "library", "name": "github.com/spf13/cobra", "version": "v1.8.0",
      "purl": "pkg:golang/github.com/spf13/cobra@v1.8.0",
      "properties": [
        {"name": "aquasecurity:trivy:PkgID", "value": "github.com/spf13/cobra@v1.8.0"},
        {"name": "aquasecurity:trivy:PkgType", "value": "gobinary"}
      ]
    }
  ],
  "dependencies": [
    {"ref": "0e9a4c1f-8d2b-4a6e-b3c7-5f1d2e3a4b5c", "dependsOn": ["pkg:npm/%40babel/core@7.12.3", "pkg:npm/minimist@1.2.5"]},
    {"ref": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", "dependsOn": ["pkg:golang/github.com/spf13/cobra@v1.8.0"]},
    {"ref": "7d1c6a53-4f7e-4b0e-9a51-6f3b1f0e2a10", "dependsOn": [
      "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=3.20.3",
      "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3",
      "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&distro=3.20.3"]},
    {"ref": "pkg:oci/app@sha256%3Acccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc?arch=amd64&repository_url=registry.local%2Fteam%2Fapp",
     "dependsOn": ["0e9a4c1f-8d2b-4a6e-b3c7-5f1d2e3a4b5c", "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                   "7d1c6a53-4f7e-4b0e-9a51-6f3b1f0e2a10", "pkg:pypi/pip@21.2.4"]}
  ],
  "vulnerabilities": []
})";

// Hand-written like kTrivyAlpine: Debian 12 binaries whose source versions Trivy splits into
// SrcEpoch / SrcVersion / SrcRelease (bsdutils 1:2.38.1-5+deb12u1 from util-linux 2.38.1-5+deb12u1;
// passwd 1:4.13+dfsg1-1 from shadow 1:4.13+dfsg1-1; libssl3 from openssl), with the deb purl's
// `epoch` qualifier. A filesystem scan: no image purl, no layers.
const char* const kTrivyDebian = R"({
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "version": 1,
  "metadata": {
    "component": {
      "bom-ref": "f0e1d2c3-b4a5-4697-8899-aabbccddeeff", "type": "application", "name": "/srv/rootfs",
      "properties": [{"name": "aquasecurity:trivy:SchemaVersion", "value": "2"}]
    }
  },
  "components": [
    {
      "bom-ref": "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u1?arch=amd64&distro=debian-12.7&epoch=1",
      "type": "library", "name": "bsdutils", "version": "1:2.38.1-5+deb12u1",
      "licenses": [{"license": {"name": "GPL-2.0-only"}}],
      "purl": "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u1?arch=amd64&distro=debian-12.7&epoch=1",
      "properties": [
        {"name": "aquasecurity:trivy:PkgID", "value": "bsdutils@1:2.38.1-5+deb12u1"},
        {"name": "aquasecurity:trivy:PkgType", "value": "debian"},
        {"name": "aquasecurity:trivy:SrcName", "value": "util-linux"},
        {"name": "aquasecurity:trivy:SrcRelease", "value": "5+deb12u1"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "2.38.1"}
      ]
    },
    {
      "bom-ref": "pkg:deb/debian/passwd@4.13%2Bdfsg1-1?arch=amd64&distro=debian-12.7&epoch=1",
      "type": "library", "name": "passwd", "version": "1:4.13+dfsg1-1",
      "purl": "pkg:deb/debian/passwd@4.13%2Bdfsg1-1?arch=amd64&distro=debian-12.7&epoch=1",
      "properties": [
        {"name": "aquasecurity:trivy:PkgID", "value": "passwd@1:4.13+dfsg1-1"},
        {"name": "aquasecurity:trivy:PkgType", "value": "debian"},
        {"name": "aquasecurity:trivy:SrcEpoch", "value": "1"},
        {"name": "aquasecurity:trivy:SrcName", "value": "shadow"},
        {"name": "aquasecurity:trivy:SrcRelease", "value": "1"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "4.13+dfsg1"}
      ]
    },
    {
      "bom-ref": "pkg:deb/debian/libssl3@3.0.14-1~deb12u2?arch=amd64&distro=debian-12.7",
      "type": "library", "name": "libssl3", "version": "3.0.14-1~deb12u2",
      "purl": "pkg:deb/debian/libssl3@3.0.14-1~deb12u2?arch=amd64&distro=debian-12.7",
      "properties": [
        {"name": "aquasecurity:trivy:PkgID", "value": "libssl3@3.0.14-1~deb12u2"},
        {"name": "aquasecurity:trivy:PkgType", "value": "debian"},
        {"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
        {"name": "aquasecurity:trivy:SrcRelease", "value": "1~deb12u2"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "3.0.14"}
      ]
    },
    {
      "bom-ref": "2a3b4c5d-6e7f-4801-9a2b-3c4d5e6f7a8b",
      "type": "operating-system", "name": "debian", "version": "12.7",
      "properties": [
        {"name": "aquasecurity:trivy:Class", "value": "os-pkgs"},
        {"name": "aquasecurity:trivy:Type", "value": "debian"}
      ]
    }
  ],
  "dependencies": []
})";

// kTrivyAlpine with each package moved into the component that `dependencies` says holds it (the
// OS, an application): CycloneDX's nested components, as other producers write them.
json nested_from_dependencies(json bom) {
  std::map<std::string, std::vector<std::string>> children;
  for (const auto& d : bom["dependencies"]) {
    if (d["ref"] == bom["metadata"]["component"]["bom-ref"]) continue;
    for (const auto& c : d["dependsOn"]) children[d["ref"].get<std::string>()].push_back(c.get<std::string>());
  }
  std::map<std::string, json> by_ref;
  for (const auto& c : bom["components"]) by_ref[c["bom-ref"].get<std::string>()] = c;
  std::set<std::string> moved;
  for (const auto& [parent, kids] : children) {
    json arr = json::array();
    for (const auto& k : kids) {
      arr.push_back(by_ref.at(k));
      moved.insert(k);
    }
    by_ref[parent]["components"] = arr;
  }
  json top = json::array();
  for (const auto& c : bom["components"]) {
    std::string ref = c["bom-ref"].get<std::string>();
    if (!moved.count(ref)) top.push_back(by_ref[ref]);
  }
  bom["components"] = top;
  bom.erase("dependencies");
  return bom;
}

// ---- small BOMs for hostile input ---------------------------------------------------------------

json bom_with(json components) {
  return {{"bomFormat", "CycloneDX"}, {"specVersion", "1.5"}, {"components", std::move(components)}};
}
// A braced list of components is always an array: `json x = {a}` copies `a` under clang but makes
// `[a]` under GCC (nlohmann/json's single-element brace-init).
json bom_with(std::initializer_list<json> components) {
  json list = json::array();
  for (const auto& c : components) list.push_back(c);
  return bom_with(std::move(list));
}

json apk_component(const std::string& name, const std::string& version) {
  std::string purl = "pkg:apk/alpine/" + name + "@" + version + "?arch=x86_64&distro=3.20.3";
  return {{"type", "library"}, {"name", name}, {"version", version}, {"purl", purl}, {"bom-ref", purl}};
}

json os_component(const std::string& family, const std::string& version) {
  return {{"type", "operating-system"}, {"name", family}, {"version", version}};
}

Error read_error(const json& bom, const SbomLimits& limits = {}) {
  auto r = read_cyclonedx(bom.dump(), limits);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

Error read_error(const std::string& text, const SbomLimits& limits = {}) {
  auto r = read_cyclonedx(std::string_view(text), limits);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

const Package* find_package(const SbomImage& s, const std::string& name) {
  for (const auto& p : s.inventory.packages)
    if (p.name == name) return &p;
  return nullptr;
}

bool any_warning(const SbomImage& s, const std::string& needle) {
  for (const auto& w : s.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

// ---- round trip ---------------------------------------------------------------------------------

TEST_CASE("cyclonedx read: scangate's BOM of a real Alpine image reads back as the same inventory",
          "[cyclonedx][cyclonedx-read]") {
  ReportInput in = alpine_image();
  // With the vulnerabilities section, which the reader must ignore.
  auto findings = match(in.inventory);
  in.targets = build_targets(in.meta, in.inventory, findings);
  std::string text = write_cyclonedx(in);

  auto got = read_cyclonedx(text);
  REQUIRE(got.ok());
  INFO(json(got->warnings).dump());
  CHECK(got->warnings.empty());
  CHECK(got->skipped == 0);
  CHECK(got->inventory.os.family == "alpine");
  CHECK(got->inventory.os.name == "3.20.3");
  CHECK(got->inventory.secrets.empty());
  check_same_packages(in.inventory.packages, got->inventory.packages);

  const ImageMetadata& m = got->meta;
  CHECK(m.reference == in.meta.reference);
  CHECK(m.repo_digest == in.meta.repo_digest);
  CHECK(m.manifest_digest == in.meta.manifest_digest);
  CHECK(m.config_digest == in.meta.config_digest);
  CHECK(m.repo_tags == in.meta.repo_tags);
  CHECK(m.diff_ids == in.meta.diff_ids);
  CHECK(m.layer_digests == in.meta.layer_digests);  // every layer has a package naming its blob
  CHECK(m.os == "linux");
  CHECK(m.architecture == "amd64");
  CHECK(m.variant.empty());
  CHECK(m.created == in.meta.created);
  CHECK(m.normalized.empty());  // not in a BOM
  CHECK(m.config_json.empty());

  // The parsed overload (an in-toto statement's predicate) reads the same.
  json statement = {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject", json::array({{{"name", "registry.local/team/app"}, {"digest", {{"sha256", std::string(64, 'c')}}}}})},
      {"predicateType", "https://cyclonedx.org/bom"},
      {"predicate", json::parse(text)}};
  auto from_predicate = read_cyclonedx(statement["predicate"]);
  REQUIRE(from_predicate.ok());
  check_same_packages(in.inventory.packages, from_predicate->inventory.packages);
  CHECK(from_predicate->meta.diff_ids == in.meta.diff_ids);
}

TEST_CASE("cyclonedx read: the matcher finds the same vulnerabilities in the read-back inventory",
          "[cyclonedx][cyclonedx-read]") {
  ReportInput in = alpine_image();
  auto got = read_cyclonedx(write_cyclonedx(in));
  REQUIRE(got.ok());
  auto before = rows_of(match(in.inventory));
  auto after = rows_of(match(got->inventory));
  CHECK(after == before);

  // The OS packages' findings are those an independent implementation computed for this rootfs.
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> expected, os_rows;
  for (const auto& r : read_tsv("scenario/expected/alpine-3.20.3.tsv")) {
    if (r[0] == "image") continue;  // header
    expected.emplace(r[1], r[2], r[4], r[5], r[6]);
  }
  REQUIRE(expected.size() == 56);
  std::set<std::pair<std::string, std::string>> lang;  // name, fixed version
  for (const auto& [name, version, id, fixed, severity, path] : after) {
    if (path == "lib/apk/db/installed") {
      os_rows.emplace(name, version, id, fixed, severity);
    } else {
      lang.emplace(name, fixed);
    }
  }
  CHECK(os_rows == expected);
  // The language packages' advisories (tests/data/vulndb/osv-*): pip < 23.3, setuptools < 65.5.1
  // and < 70.0.0, minimist < 1.2.6 (both copies).
  std::set<std::pair<std::string, std::string>> want_lang = {
      {"pip", "23.3"}, {"setuptools", "65.5.1"}, {"setuptools", "70.0.0"}, {"minimist", "1.2.6"}};
  CHECK(lang == want_lang);
  size_t minimist = 0;
  for (const auto& row : after) minimist += std::get<0>(row) == "minimist";
  CHECK(minimist == 2);
}

TEST_CASE("cyclonedx read: a real Ubuntu dpkg database keeps epochs and source versions",
          "[cyclonedx][cyclonedx-read]") {
  ReportInput in = ubuntu_rootfs();
  std::string text = write_cyclonedx(in);
  // The writer splits the epoch off into the purl's qualifier.
  CHECK(text.find("pkg:deb/ubuntu/bsdutils@2.31.1-0.4ubuntu3.1?arch=amd64&distro=ubuntu-18.04&epoch=1") !=
        std::string::npos);
  auto got = read_cyclonedx(text);
  REQUIRE(got.ok());
  CHECK(got->warnings.empty());
  CHECK(got->inventory.os.family == "ubuntu");
  CHECK(got->inventory.os.name == "18.04");
  check_same_packages(in.inventory.packages, got->inventory.packages);
  const Package* bsdutils = find_package(*got, "bsdutils");
  REQUIRE(bsdutils);
  CHECK(bsdutils->version == "1:2.31.1-0.4ubuntu3.1");
  CHECK(bsdutils->src_name == "util-linux");
  CHECK(bsdutils->src_version == "2.31.1-0.4ubuntu3.1");
  const Package* diffutils = find_package(*got, "diffutils");
  REQUIRE(diffutils);
  CHECK(diffutils->src_version == "1:3.6-1");
  CHECK(got->meta.reference == "/srv/rootfs");
  CHECK(got->meta.manifest_digest.empty());
  CHECK(got->meta.diff_ids.empty());
}

TEST_CASE("cyclonedx read: an architecture with a variant, and an image with no packages",
          "[cyclonedx][cyclonedx-read]") {
  ReportInput in;
  in.meta.reference = "registry.local/base:1";
  // An image index: the repo digest names the index, the manifest digest the platform's manifest.
  in.meta.repo_digest = "registry.local/base@" + digest_of('e');
  in.meta.manifest_digest = kManifest;
  in.meta.architecture = "arm64";
  in.meta.variant = "v8";
  in.inventory.os = {"alpine", "3.20.3", "", ""};
  auto got = read_cyclonedx(write_cyclonedx(in));
  REQUIRE(got.ok());
  CHECK(got->meta.repo_digest == in.meta.repo_digest);
  CHECK(got->meta.manifest_digest == kManifest);
  CHECK(got->meta.architecture == "arm64");
  CHECK(got->meta.variant == "v8");
  CHECK(got->inventory.packages.empty());
  CHECK(got->warnings.empty());  // an OS and no packages is an image, not a problem

  ReportInput empty;
  empty.meta.reference = "scratch";
  auto none = read_cyclonedx(write_cyclonedx(empty));
  REQUIRE(none.ok());
  CHECK(none->inventory.packages.empty());
  CHECK(none->inventory.os.empty());
  CHECK(any_warning(*none, "no packages and no operating system"));
}

// ---- Trivy ----------------------------------------------------------------------------------------

TEST_CASE("cyclonedx read: a BOM in Trivy's format (hand-written)", "[cyclonedx][cyclonedx-read][trivy]") {
  auto got = read_cyclonedx(kTrivyAlpine);
  REQUIRE(got.ok());
  const ImageMetadata& m = got->meta;
  CHECK(m.reference == "registry.local/team/app:1.0");
  CHECK(m.manifest_digest == kManifest);
  CHECK(m.config_digest == kConfig);
  CHECK(m.repo_digest == "registry.local/team/app@" + kManifest);
  CHECK(m.repo_tags == std::vector<std::string>{"registry.local/team/app:1.0"});
  CHECK(m.diff_ids == std::vector<std::string>{digest_of('1'), digest_of('2')});
  CHECK(m.layer_digests == std::vector<std::string>{digest_of('3'), digest_of('4')});
  CHECK(m.architecture == "amd64");  // from the purl: Trivy writes no Architecture property
  CHECK(got->inventory.os.family == "alpine");
  CHECK(got->inventory.os.name == "3.20.3");

  std::vector<Package> want = {
      {"apk",
       "busybox",
       "1.36.1-r29",
       "busybox",
       "1.36.1-r29",
       "x86_64",
       {"GPL-2.0-only"},
       "",
       LayerRef{digest_of('3'), digest_of('1'), 0}},
      {"apk",
       "libcrypto3",
       "3.3.2-r0",
       "openssl",
       "3.3.2-r0",
       "x86_64",
       {"Apache-2.0"},
       "",
       LayerRef{digest_of('3'), digest_of('1'), 0}},
      {"apk",
       "ssl_client",
       "1.36.1-r29",
       "busybox",
       "1.36.1-r29",
       "x86_64",
       {"GPL-2.0-only"},
       "",
       LayerRef{digest_of('3'), digest_of('1'), 0}},
      {"pypi",
       "pip",
       "21.2.4",
       "pip",
       "21.2.4",
       "",
       {"MIT"},
       "usr/local/lib/python3.12/site-packages/pip-21.2.4.dist-info/METADATA",
       LayerRef{digest_of('4'), digest_of('2'), 1}},
      {"npm",
       "@babel/core",
       "7.12.3",
       "@babel/core",
       "7.12.3",
       "",
       {},
       "",
       LayerRef{digest_of('4'), digest_of('2'), 1}},
      {"npm", "minimist", "1.2.5", "minimist", "1.2.5", "", {}, "", LayerRef{digest_of('4'), digest_of('2'), 1}},
  };
  check_same_packages(want, got->inventory.packages);
  // The Go module is no package scangate matches: skipped, counted, named.
  CHECK(got->skipped == 1);
  CHECK(any_warning(*got, "github.com/spf13/cobra"));
  CHECK(any_warning(*got, "'gobinary'"));

  // The same components nested in the OS and application components that hold them.
  json nested = nested_from_dependencies(json::parse(kTrivyAlpine));
  REQUIRE(nested["components"].size() == 4);  // OS, two applications, pip
  auto from_nested = read_cyclonedx(nested);
  REQUIRE(from_nested.ok());
  auto key = [](const Package& p) {
    return std::make_tuple(p.type, p.name, p.version, p.src_name, p.src_version, p.arch, p.file_path, p.layer.diff_id,
                           p.layer.index);
  };
  std::set<decltype(key(want[0]))> flat_set, nested_set;
  for (const auto& p : got->inventory.packages) flat_set.insert(key(p));
  for (const auto& p : from_nested->inventory.packages) nested_set.insert(key(p));
  CHECK(nested_set == flat_set);
  CHECK(from_nested->skipped == 1);
  CHECK(from_nested->inventory.os.family == "alpine");
}

TEST_CASE("cyclonedx read: Trivy's split source versions of Debian packages", "[cyclonedx][cyclonedx-read][trivy]") {
  auto got = read_cyclonedx(kTrivyDebian);
  REQUIRE(got.ok());
  CHECK(got->warnings.empty());
  CHECK(got->inventory.os.family == "debian");
  CHECK(got->inventory.os.name == "12.7");
  std::vector<Package> want = {
      {"deb", "bsdutils", "1:2.38.1-5+deb12u1", "util-linux", "2.38.1-5+deb12u1", "amd64", {"GPL-2.0-only"}, "", {}},
      {"deb", "passwd", "1:4.13+dfsg1-1", "shadow", "1:4.13+dfsg1-1", "amd64", {}, "", {}},
      {"deb", "libssl3", "3.0.14-1~deb12u2", "openssl", "3.0.14-1~deb12u2", "amd64", {}, "", {}},
  };
  check_same_packages(want, got->inventory.packages);
  CHECK(got->meta.reference == "/srv/rootfs");
  CHECK(got->meta.manifest_digest.empty());
}

TEST_CASE("cyclonedx read: the package type comes from the property, else the purl", "[cyclonedx][cyclonedx-read]") {
  // No property: the purl's type (Trivy's older output has no PkgType on OS packages).
  json plain = apk_component("musl", "1.2.5-r0");
  // scangate's property against a deb purl: the property wins, and a warning says so.
  json conflict = apk_component("zlib", "1.3.1-r1");
  conflict["properties"] = {{{"name", "scangate:PkgType"}, {"value", "deb"}}};
  // Trivy's property maps its OS family.
  json trivy = apk_component("busybox", "1.36.1-r29");
  trivy["properties"] = {{{"name", "aquasecurity:trivy:PkgType"}, {"value", "alpine"}}};
  // A type scangate does not match, by property or by purl.
  json rpm = {
      {"type", "library"}, {"name", "bash"}, {"version", "5.1.8-6.el9"}, {"purl", "pkg:rpm/redhat/bash@5.1.8-6.el9"}};
  json jar = {{"type", "library"},
              {"name", "log4j-core"},
              {"version", "2.17.1"},
              {"properties", {{{"name", "aquasecurity:trivy:PkgType"}, {"value", "jar"}}}}};
  json no_type = {{"type", "library"}, {"name", "mystery"}, {"version", "1"}};
  json app = {{"type", "application"}, {"name", "app"}};  // not a package, no warning
  // No name: the purl's (with the scope for npm; an apk purl's namespace is the distro).
  json unnamed_apk = apk_component("zlib", "1.3.1-r1");
  unnamed_apk.erase("name");
  unnamed_apk["bom-ref"] = "unnamed-apk";
  json unnamed_npm = {{"type", "library"}, {"purl", "pkg:npm/%40babel/core@7.12.3"}};
  auto got = read_cyclonedx(bom_with(
      {os_component("alpine", "3.20.3"), plain, conflict, trivy, rpm, jar, no_type, app, unnamed_apk, unnamed_npm}));
  REQUIRE(got.ok());
  REQUIRE(got->inventory.packages.size() == 5);
  CHECK(got->inventory.packages[3].name == "zlib");
  CHECK(got->inventory.packages[3].version == "1.3.1-r1");
  CHECK(got->inventory.packages[4].name == "@babel/core");
  CHECK(got->inventory.packages[4].version == "7.12.3");
  CHECK(got->inventory.packages[0].type == "apk");
  CHECK(got->inventory.packages[0].arch == "x86_64");
  CHECK(got->inventory.packages[0].src_name == "musl");  // defaults as the analyzers set them
  CHECK(got->inventory.packages[0].src_version == "1.2.5-r0");
  CHECK(got->inventory.packages[1].type == "deb");
  CHECK(got->inventory.packages[1].arch.empty());  // the purl is another type's: none of its qualifiers
  CHECK(got->inventory.packages[2].type == "apk");
  CHECK(any_warning(*got, "components[2]: scangate:PkgType 'deb' says deb but the purl is of type 'apk'"));
  CHECK(got->skipped == 3);
  CHECK(any_warning(*got, "components[4] ('bash'): purl type 'rpm' is not one scangate matches; skipped"));
  CHECK(any_warning(*got, "components[5] ('log4j-core'): package type 'jar'"));
  CHECK(any_warning(*got, "components[6] ('mystery'): a library with neither a purl nor a package type"));
  CHECK(got->warnings.size() == 4);
}

// ---- hostile input ------------------------------------------------------------------------------

TEST_CASE("cyclonedx read: not JSON, not CycloneDX", "[cyclonedx][cyclonedx-read][hostile]") {
  const std::vector<std::string> texts = {"",
                                          "{",
                                          "nope",
                                          "{\"bomFormat\": \"CycloneDX\",}",
                                          "\"CycloneDX\"",
                                          "[1, 2]",
                                          "null",
                                          "{\"bomFormat\": \"Cyclone\xff\"}"};
  for (const std::string& text : texts) {
    CAPTURE(text);
    Error e = read_error(text);
    CHECK(e.kind == ErrorKind::kFormat);
    CHECK_THAT(e.message, Catch::StartsWith("CycloneDX SBOM: "));
  }
  CHECK_THAT(read_error(std::string("{\"specVersion\": \"1.5\"}")).message, Catch::Contains("bomFormat: missing"));
  CHECK_THAT(read_error(std::string(R"({"bomFormat": "SPDX", "specVersion": "1.5"})")).message,
             Catch::Contains("bomFormat: 'SPDX', not \"CycloneDX\""));
  CHECK_THAT(read_error(std::string(R"({"bomFormat": "CycloneDX"})")).message, Catch::Contains("specVersion: missing"));
  CHECK_THAT(read_error(std::string(R"({"bomFormat": "CycloneDX", "specVersion": 1.5})")).message,
             Catch::Contains("specVersion: not a string but number"));
  CHECK_THAT(read_error(std::string(R"({"bomFormat": "CycloneDX", "specVersion": "2.0"})")).message,
             Catch::Contains("specVersion: '2.0' is not a CycloneDX JSON version"));
  // The smallest BOM there is.
  auto empty = read_cyclonedx(R"({"bomFormat": "CycloneDX", "specVersion": "1.4"})");
  REQUIRE(empty.ok());
  CHECK(any_warning(*empty, "no packages and no operating system"));
}

TEST_CASE("cyclonedx read: a wrong type is an error that says where", "[cyclonedx][cyclonedx-read][hostile]") {
  json comps = json::array();
  for (int i = 0; i < 13; ++i) comps.push_back(apk_component("pkg" + std::to_string(i), "1.0-r0"));
  json bad = comps;
  bad[12]["version"] = 12;
  Error e = read_error(bom_with(bad));
  CHECK(e.kind == ErrorKind::kFormat);
  CHECK(e.message == "CycloneDX SBOM: components[12].version: not a string but number");

  struct Case {
    json bom;
    std::string where;
  };
  json bad_prop = comps;
  bad_prop[3]["properties"] = {{{"name", "scangate:SrcName"}, {"value", json::array()}}};
  json bad_props = comps;
  bad_props[3]["properties"] = {{"name", "x"}};
  json bad_license = comps;
  bad_license[1]["licenses"] = {{{"license", "MIT"}}};
  json nested_bad = comps;
  nested_bad[2]["components"] = json::array({apk_component("inner", "1-r0"), 7});
  json no_type = comps;
  no_type[5].erase("type");
  json bad_digest = comps;
  bad_digest[0]["properties"] = {{{"name", "scangate:LayerDiffID"}, {"value", "sha256:xyz"}}};
  json bad_epoch = comps;
  bad_epoch[0]["properties"] = {{{"name", "aquasecurity:trivy:SrcVersion"}, {"value", "1.0"}},
                                {{"name", "aquasecurity:trivy:SrcEpoch"}, {"value", "one"}}};
  json contradicting = comps;
  contradicting[4]["properties"] = {{{"name", "scangate:SrcName"}, {"value", "a"}},
                                    {{"name", "scangate:SrcName"}, {"value", "b"}}};
  json bad_meta = bom_with(comps);
  bad_meta["metadata"] = {{"component", {{"name", "x"}, {"purl", "pkg:oci/x@latest"}}}};
  json bad_image_id = bom_with(comps);
  bad_image_id["metadata"] = {{"component", {{"properties", {{{"name", "scangate:ImageID"}, {"value", "sha256:1"}}}}}}};
  json versions = comps;
  versions[7]["version"] = "9.9-r9";  // the purl says 1.0-r0

  std::vector<Case> cases = {
      {bom_with(bad_prop), "components[3].properties[0].value: not a string but array"},
      {bom_with(bad_props), "components[3].properties: not an array but object"},
      {bom_with(bad_license), "components[1].licenses[0].license: not an object but string"},
      {bom_with(nested_bad), "components[2].components[1]: not an object but number"},
      {bom_with(no_type), "components[5].type: missing"},
      {bom_with(bad_digest), "components[0]: LayerDiffID 'sha256:xyz' is not a digest"},
      {bom_with(bad_epoch), "components[0]: aquasecurity:trivy:SrcEpoch 'one' is not a number"},
      {bom_with(contradicting),
       "components[4].properties[1]: scangate:SrcName 'b' contradicts 'a' of components[4].properties[0]"},
      {bad_meta, "metadata.component.purl: the version 'latest' is not a manifest digest"},
      {bad_image_id, "metadata.component: ImageID 'sha256:1' is not a digest"},
      {bom_with(versions), "components[7]: version '9.9-r9' and the purl's version '1.0-r0' disagree"},
      {bom_with(json::object()), "components: not an array but object"},
      {json{{"bomFormat", "CycloneDX"}, {"specVersion", "1.5"}, {"metadata", "x"}}, "metadata: not an object"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.where);
    Error err = read_error(c.bom);
    CHECK(err.kind == ErrorKind::kFormat);
    CHECK_THAT(err.message, Catch::Contains(c.where));
  }
}

TEST_CASE("cyclonedx read: components nested 33 deep are refused, 32 are read",
          "[cyclonedx][cyclonedx-read][hostile]") {
  auto chain = [](int depth) {
    json inner = apk_component("deepest", "1.0-r0");
    for (int d = depth - 1; d >= 1; --d) {
      inner = {{"type", "application"}, {"name", "level" + std::to_string(d)}, {"components", json::array({inner})}};
    }
    return bom_with(json::array({os_component("alpine", "3.20.3"), inner}));
  };
  auto ok = read_cyclonedx(chain(32));
  REQUIRE(ok.ok());
  REQUIRE(ok->inventory.packages.size() == 1);
  CHECK(ok->inventory.packages[0].name == "deepest");

  Error e = read_error(chain(33));
  CHECK(e.kind == ErrorKind::kLimit);
  CHECK_THAT(e.message, Catch::Contains("components nested deeper than 32 levels"));
  CHECK_THAT(e.message, Catch::StartsWith("CycloneDX SBOM: components[1].components[0].components[0]"));

  // JSON nesting itself is bounded before anything is parsed.
  Error brackets = read_error(std::string(100000, '['));
  CHECK(brackets.kind == ErrorKind::kLimit);
  CHECK_THAT(brackets.message, Catch::Contains("JSON nested deeper than"));
}

TEST_CASE("cyclonedx read: too many components, too many bytes, huge strings", "[cyclonedx][cyclonedx-read][hostile]") {
  // 200,001 components with the default limits: refused before any is read.
  std::string many = R"({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [)";
  for (int i = 0; i <= 200'000; ++i) many += i ? R"(,{"type":"library"})" : R"({"type":"library"})";
  many += "]}";
  Error e = read_error(many);
  CHECK(e.kind == ErrorKind::kLimit);
  CHECK_THAT(e.message, Catch::Contains("components: more than 200000 components"));

  // Nested ones count too.
  SbomLimits small;
  small.max_components = 10;
  json comps = json::array();
  for (int i = 0; i < 5; ++i) comps.push_back(apk_component("p" + std::to_string(i), "1-r0"));
  comps[4]["components"] = json::array();
  for (int i = 0; i < 5; ++i) comps[4]["components"].push_back(apk_component("n" + std::to_string(i), "1-r0"));
  CHECK(read_cyclonedx(bom_with(comps), small).ok());  // exactly 10
  comps[0]["components"] = json::array({apk_component("one-more", "1-r0")});
  Error nested = read_error(bom_with(comps), small);
  CHECK(nested.kind == ErrorKind::kLimit);
  CHECK_THAT(nested.message, Catch::Contains("more than 10 components"));

  SbomLimits tiny;
  tiny.max_bytes = 100;
  Error bytes = read_error(bom_with(comps), tiny);
  CHECK(bytes.kind == ErrorKind::kLimit);
  CHECK_THAT(bytes.message, Catch::Contains("bytes, over the limit of 100"));

  json huge = apk_component("x", "1-r0");
  huge["name"] = std::string(70'000, 'a');
  Error name = read_error(bom_with({huge}));
  CHECK(name.kind == ErrorKind::kLimit);
  CHECK(name.message == "CycloneDX SBOM: components[0].name: 70000 bytes, over the limit of 65536");

  // A field the reader does not use is not looked at; a license text over the limit is dropped.
  json described = apk_component("x", "1-r0");
  described["description"] = std::string(70'000, 'd');
  described["licenses"] = {{{"license", {{"name", std::string(70'000, 'l')}}}}, {{"expression", "MIT"}}};
  auto got = read_cyclonedx(bom_with({os_component("alpine", "3.20.3"), described}));
  REQUIRE(got.ok());
  CHECK(got->inventory.packages.at(0).licenses == std::vector<std::string>{"MIT"});
  CHECK(any_warning(*got, "components[1].licenses[0].license.name: 70000 bytes"));

  json props = apk_component("x", "1-r0");
  props["properties"] = json::array();
  for (int i = 0; i < 5000; ++i) props["properties"].push_back({{"name", "other:p"}, {"value", "v"}});
  Error many_props = read_error(bom_with({props}));
  CHECK(many_props.kind == ErrorKind::kLimit);
  CHECK_THAT(many_props.message, Catch::Contains("components[0].properties: 5000 properties"));
}

TEST_CASE("cyclonedx read: duplicate bom-refs and two operating systems are refused",
          "[cyclonedx][cyclonedx-read][hostile]") {
  json a = apk_component("musl", "1.2.5-r0");
  json b = apk_component("zlib", "1.3.1-r1");
  b["bom-ref"] = a["bom-ref"];
  Error dup = read_error(bom_with({a, b}));
  CHECK(dup.kind == ErrorKind::kFormat);
  CHECK_THAT(dup.message, Catch::Contains("components[1].bom-ref: 'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro="
                                          "3.20.3' is also the bom-ref of components[0]"));
  json with_root = bom_with({a});
  with_root["metadata"] = {{"component", {{"type", "container"}, {"name", "x"}, {"bom-ref", a["bom-ref"]}}}};
  CHECK_THAT(read_error(with_root).message, Catch::Contains("is also the bom-ref of metadata.component"));

  Error two = read_error(bom_with({os_component("alpine", "3.20.3"), a, os_component("debian", "12")}));
  CHECK(two.kind == ErrorKind::kFormat);
  CHECK_THAT(two.message, Catch::Contains("components[2]: a second operating system, 'debian 12'"));
  // The same OS twice says nothing new.
  auto same = read_cyclonedx(bom_with({os_component("alpine", "3.20.3"), a, os_component("alpine", "3.20.3")}));
  REQUIRE(same.ok());
  CHECK(same->warnings.empty());
  // OS packages with no OS: read, with a warning (the matcher cannot match them).
  auto no_os = read_cyclonedx(bom_with({a}));
  REQUIRE(no_os.ok());
  CHECK(any_warning(*no_os, "OS packages but no operating-system component"));
}

TEST_CASE("cyclonedx read: warnings are bounded, skipped components counted", "[cyclonedx][cyclonedx-read][hostile]") {
  json comps = json::array();
  for (int i = 0; i < 10; ++i)
    comps.push_back({{"type", "library"}, {"name", "g" + std::to_string(i)}, {"purl", "pkg:golang/g@v1"}});
  SbomLimits limits;
  limits.max_warnings = 3;
  auto got = read_cyclonedx(bom_with(comps), limits);
  REQUIRE(got.ok());
  CHECK(got->skipped == 10);
  REQUIRE(got->warnings.size() == 4);
  CHECK(got->warnings.back() == "... and 8 more warnings");  // 7 skipped + "no packages and no OS"
}

TEST_CASE("cyclonedx read: any value of any type anywhere never crashes", "[cyclonedx][cyclonedx-read][hostile]") {
  ReportInput small;
  small.meta.reference = "registry.local/base:1";
  small.meta.repo_digest = "registry.local/base@" + kManifest;
  small.meta.manifest_digest = kManifest;
  small.meta.config_digest = kConfig;
  small.meta.diff_ids = {digest_of('1')};
  small.inventory.os = {"alpine", "3.20.3", "", ""};
  small.inventory.packages = {{"apk",
                               "musl",
                               "1.2.5-r0",
                               "musl",
                               "1.2.5-r0",
                               "x86_64",
                               {"MIT"},
                               "lib/apk/db/installed",
                               LayerRef{digest_of('3'), digest_of('1'), 0}}};
  for (const std::string& text : {write_cyclonedx(small), std::string(kTrivyAlpine), std::string(kTrivyDebian)}) {
    json doc = json::parse(text);
    json flat = doc.flatten();
    const json replacements[] = {nullptr, 7, "x", json::array(), json::object(), true, -1.5};
    size_t errors = 0, calls = 0;
    for (const auto& [pointer, value] : flat.items()) {
      // Each leaf, and each of its ancestors, replaced by each kind of value.
      json::json_pointer ptr(pointer);
      while (!ptr.empty()) {
        for (const auto& r : replacements) {
          json mutated = doc;
          mutated[ptr] = r;
          Result<SbomImage> got = Error();
          REQUIRE_NOTHROW(got = read_cyclonedx(mutated));
          ++calls;
          if (!got.ok()) {
            ++errors;
            CHECK((got.error().kind == ErrorKind::kFormat || got.error().kind == ErrorKind::kLimit));
          }
        }
        ptr = ptr.parent_pointer();
      }
    }
    CHECK(calls > 500);
    CHECK(errors > 0);
    // And every prefix of the text.
    for (size_t n = 0; n < text.size(); n += 7)
      REQUIRE_NOTHROW((void)read_cyclonedx(std::string_view(text).substr(0, n)));
  }
}

TEST_CASE("cyclonedx: found by fuzzing, an image with a digest but no repository gets no nameless purl",
          "[cyclonedx][cyclonedx-read][fuzz-regression]") {
  // An OCI layout scanned without a name: scangate wrote "pkg:oci/@sha256:…", which its own reader
  // (rightly) refuses. Now no purl is written without a name, as Trivy does.
  ReportInput in = alpine_image();
  in.meta.repo_digest.clear();
  in.meta.manifest_digest = "sha256:" + std::string(64, 'e');
  in.include_vulnerabilities = false;
  const std::string bom = write_cyclonedx(in);
  CHECK(bom.find("pkg:oci/@") == std::string::npos);
  auto back = read_cyclonedx(bom);
  INFO((back.ok() ? std::string() : back.error().message));
  REQUIRE(back.ok());
  CHECK(back->inventory.packages.size() == in.inventory.packages.size());
}
