// docker-save tarballs and OCI layouts built in the test (libarchive's write API), with a
// real layer: the Alpine 3.20.3 minirootfs. Expected digests of that layer come from
// coreutils (see registry_client_test.cpp); others are computed here with OpenSSL.
#include <catch2/catch.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>

#include "fake_registry.h"  // sha256_of
#include "scanner/image/archive_source.h"
#include "scanner/image/open_source.h"
#include "support/test_support.h"

using namespace scangate;
using scangate::test::sha256_of;
namespace fs = std::filesystem;

namespace {

const std::string kGzDigest = "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c";
const std::string kDiffId = "sha256:1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419";

struct Entry {
  std::string name;
  std::string content;
  std::string symlink;  // non-empty: a symlink to this target
};

void write_tar(const std::string& path, const std::vector<Entry>& entries, bool gzip) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, 0644);
    if (!e.symlink.empty()) {
      archive_entry_set_filetype(en, AE_IFLNK);
      archive_entry_set_symlink(en, e.symlink.c_str());
      archive_entry_set_size(en, 0);
      archive_write_header(a, en);
    } else {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_size(en, static_cast<la_int64_t>(e.content.size()));
      archive_write_header(a, en);
      archive_write_data(a, e.content.data(), e.content.size());
    }
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string tar_bytes(const std::vector<Entry>& entries) {
  std::string dir = test::make_temp_dir("sg-tarbytes");
  write_tar(dir + "/t.tar", entries, false);
  std::string out = test::read_file(dir + "/t.tar");
  fs::remove_all(dir);
  return out;
}

std::string gunzip(const std::string& gz) {
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  REQUIRE(archive_read_open_memory(a, gz.data(), gz.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
  std::string out;
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  archive_read_free(a);
  return out;
}

Result<std::string> read_all(BlobStream& s) {
  std::string out;
  std::vector<char> buf(65536);
  while (true) {
    auto r = s.read(buf.data(), buf.size());
    if (!r.ok()) return r.error();
    if (*r == 0) return out;
    out.append(buf.data(), *r);
  }
}

std::string hex(const std::string& digest) { return digest.substr(7); }

struct DockerSave {
  std::string alpine_tar;  // uncompressed real layer
  std::string small_tar;   // synthetic layer
  std::string config;
  std::vector<Entry> entries;
};

DockerSave docker_save(const std::string& manifest_override = "") {
  DockerSave d;
  d.alpine_tar = gunzip(test::read_file(test::testdata("rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz")));
  d.small_tar = tar_bytes({{"etc/motd", "hello from a second layer\n", ""}});
  d.config =
      R"({"architecture":"amd64","os":"linux","created":"2024-09-06T12:05:36Z","rootfs":{"type":"layers","diff_ids":[")" +
      kDiffId + "\",\"" + sha256_of(d.small_tar) + "\",\"" + kDiffId + "\"]}}";
  std::string config_name = hex(sha256_of(d.config)) + ".json";
  std::string manifest =
      manifest_override.empty()
          ? R"([{"Config":")" + config_name +
                R"(","RepoTags":["alpine:3.20.3"],"Layers":["aaa/layer.tar","bbb/layer.tar","ccc/layer.tar"]}])"
          : manifest_override;
  d.entries = {{"aaa/VERSION", "1.0", ""},
               {"aaa/layer.tar", d.alpine_tar, ""},
               {"bbb/layer.tar", d.small_tar, ""},
               {"ccc/layer.tar", "", "../aaa/layer.tar"},  // docker save links repeated layers
               {config_name, d.config, ""},
               {"manifest.json", manifest, ""},
               {"repositories", R"({"alpine":{"3.20.3":"aaa"}})", ""}};
  return d;
}

void check_docker_save(const std::string& path, const DockerSave& d) {
  ArchiveSourceOptions o;
  o.path = path;
  auto src = open_archive_source(o);
  REQUIRE(src.ok());
  auto r = (*src)->resolve();
  REQUIRE(r.ok());
  CHECK(r->meta.config_digest == sha256_of(d.config));
  CHECK(r->meta.repo_tags == std::vector<std::string>{"alpine:3.20.3"});
  CHECK(r->meta.normalized == "docker.io/library/alpine:3.20.3");
  CHECK(r->meta.diff_ids == std::vector<std::string>{kDiffId, sha256_of(d.small_tar), kDiffId});
  CHECK(r->meta.architecture == "amd64");
  CHECK(r->meta.config_json == d.config);
  REQUIRE(r->layers.size() == 3);
  CHECK(r->layers[0].digest == kDiffId);  // legacy layer.tar: blob digest = diff_id
  CHECK(r->layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar");
  CHECK(r->layers[1].digest == sha256_of(d.small_tar));
  const std::string* want[] = {&d.alpine_tar, &d.small_tar, &d.alpine_tar};
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    auto s = (*src)->open_layer(r->layers[i]);
    REQUIRE(s.ok());
    auto bytes = read_all(**s);
    REQUIRE(bytes.ok());
    CHECK(*bytes == *want[i]);
  }
}

}  // namespace

TEST_CASE("docker save tarball (uncompressed, indexed with pread)", "[archive]") {
  std::string dir = test::make_temp_dir("sg-dsave");
  DockerSave d = docker_save();
  write_tar(dir + "/img.tar", d.entries, false);
  check_docker_save(dir + "/img.tar", d);
  fs::remove_all(dir);
}

TEST_CASE("docker save tarball compressed with gzip (read through libarchive)", "[archive]") {
  std::string dir = test::make_temp_dir("sg-dsavegz");
  DockerSave d = docker_save();
  write_tar(dir + "/img.tar.gz", d.entries, true);
  check_docker_save(dir + "/img.tar.gz", d);
  fs::remove_all(dir);
}

TEST_CASE("docker save unpacked into a directory", "[archive]") {
  std::string dir = test::make_temp_dir("sg-dsavedir");
  DockerSave d = docker_save();
  for (const auto& e : d.entries) {
    fs::create_directories(fs::path(dir + "/" + e.name).parent_path());
    if (!e.symlink.empty())
      fs::create_symlink(e.symlink, dir + "/" + e.name);
    else
      std::ofstream(dir + "/" + e.name, std::ios::binary) << e.content;
  }
  check_docker_save(dir, d);
  fs::remove_all(dir);
}

TEST_CASE("docker save: choosing an image, corrupt layers, hostile names", "[archive]") {
  std::string dir = test::make_temp_dir("sg-dsave2");
  DockerSave base = docker_save();
  std::string config_name = hex(sha256_of(base.config)) + ".json";

  SECTION("select by reference among several images") {
    std::string m =
        R"([{"Config":")" + config_name +
        R"(","RepoTags":["alpine:3.20.3"],"Layers":["aaa/layer.tar","bbb/layer.tar","ccc/layer.tar"]},)"
        R"({"Config":")" +
        config_name +
        R"(","RepoTags":["registry.example.com/team/app:2"],"Layers":["aaa/layer.tar","bbb/layer.tar","ccc/layer.tar"]}])";
    DockerSave d = docker_save(m);
    write_tar(dir + "/multi.tar", d.entries, false);
    ArchiveSourceOptions o;
    o.path = dir + "/multi.tar";
    o.reference = "registry.example.com/team/app:2";
    auto r = (*open_archive_source(o))->resolve();
    REQUIRE(r.ok());
    CHECK(r->meta.normalized == "registry.example.com/team/app:2");
    o.reference = "nginx";
    auto missing = (*open_archive_source(o))->resolve();
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::kNotFound);
    CHECK(missing.error().message.find("alpine:3.20.3") != std::string::npos);
  }
  SECTION("a layer that does not match its diff_id") {
    DockerSave d = docker_save();
    d.entries[2].content = tar_bytes({{"etc/motd", "tampered\n", ""}});  // bbb/layer.tar
    write_tar(dir + "/bad.tar", d.entries, false);
    ArchiveSourceOptions o;
    o.path = dir + "/bad.tar";
    auto src = open_archive_source(o);
    auto r = (*src)->resolve();
    REQUIRE(r.ok());
    auto s = (*src)->open_layer(r->layers[1]);
    REQUIRE(s.ok());
    auto bytes = read_all(**s);
    REQUIRE_FALSE(bytes.ok());
    CHECK(bytes.error().kind == ErrorKind::kIntegrity);
    CHECK(bytes.error().message.find("blob " + sha256_of(d.small_tar) + " digest mismatch") != std::string::npos);
  }
  SECTION("layer names that leave the archive are rejected") {
    std::string m = R"([{"Config":")" + config_name +
                    R"(","RepoTags":[],"Layers":["../../etc/passwd","bbb/layer.tar","ccc/layer.tar"]}])";
    DockerSave d = docker_save(m);
    write_tar(dir + "/evil.tar", d.entries, false);
    ArchiveSourceOptions o;
    o.path = dir + "/evil.tar";
    auto r = (*open_archive_source(o))->resolve();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kFormat);
    CHECK(r.error().message.find("leaves the archive") != std::string::npos);
  }
  SECTION("layer count differs from diff_ids") {
    std::string m = R"([{"Config":")" + config_name + R"(","RepoTags":[],"Layers":["aaa/layer.tar"]}])";
    DockerSave d = docker_save(m);
    write_tar(dir + "/short.tar", d.entries, false);
    ArchiveSourceOptions o;
    o.path = dir + "/short.tar";
    auto r = (*open_archive_source(o))->resolve();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("rootfs.diff_ids has 3") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("inputs that are not image archives", "[archive]") {
  std::string dir = test::make_temp_dir("sg-notimg");
  write_tar(dir + "/plain.tar", {{"hello.txt", "hi", ""}}, false);
  ArchiveSourceOptions o;
  o.path = dir + "/plain.tar";
  auto r = open_archive_source(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("neither a docker save archive") != std::string::npos);

  std::ofstream(dir + "/garbage.tar") << std::string(2048, 'x');
  o.path = dir + "/garbage.tar";
  auto g = open_archive_source(o);
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().kind == ErrorKind::kFormat);

  // A tar cut short in the middle of a member.
  std::string full = tar_bytes({{"manifest.json", std::string(5000, ' '), ""}});
  std::ofstream(dir + "/cut.tar", std::ios::binary) << full.substr(0, 2048);
  o.path = dir + "/cut.tar";
  auto c = open_archive_source(o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("past the end") != std::string::npos);

  o.path = dir + "/does-not-exist.tar";
  auto n = open_archive_source(o);
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().kind == ErrorKind::kNotFound);
  fs::remove_all(dir);
}

namespace {

struct OciLayout {
  std::string layer_gz, config, manifest, index;
  std::vector<Entry> entries;
};

OciLayout oci_layout(bool nested) {
  OciLayout l;
  l.layer_gz = test::read_file(test::testdata("rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz"));
  l.config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + kDiffId + "\"]}}";
  l.manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      sha256_of(l.config) + R"(","size":)" + std::to_string(l.config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kGzDigest +
      R"(","size":)" + std::to_string(l.layer_gz.size()) + "}]}";
  std::string manifest_desc = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                              sha256_of(l.manifest) + R"(","size":)" + std::to_string(l.manifest.size()) +
                              R"(,"platform":{"architecture":"amd64","os":"linux"})";
  l.entries = {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""},
               {"blobs/sha256/" + hex(kGzDigest), l.layer_gz, ""},
               {"blobs/sha256/" + hex(sha256_of(l.config)), l.config, ""},
               {"blobs/sha256/" + hex(sha256_of(l.manifest)), l.manifest, ""}};
  const std::string annotations =
      R"("annotations":{"io.containerd.image.name":"docker.io/library/alpine:3.20.3","org.opencontainers.image.ref.name":"3.20.3"})";
  if (nested) {
    std::string inner = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                        manifest_desc +
                        R"(},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                        std::string(64, '1') + R"(","size":10,"platform":{"architecture":"arm64","os":"linux"}}]})";
    l.entries.push_back({"blobs/sha256/" + hex(sha256_of(inner)), inner, ""});
    l.index =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":")" +
        sha256_of(inner) + R"(","size":)" + std::to_string(inner.size()) + "," + annotations + "}]}";
  } else {
    l.index = R"({"schemaVersion":2,"manifests":[)" + manifest_desc + "," + annotations + "}]}";
  }
  l.entries.push_back({"index.json", l.index, ""});
  return l;
}

void check_oci(const std::string& path, const OciLayout& l) {
  ArchiveSourceOptions o;
  o.path = path;
  auto src = open_archive_source(o);
  REQUIRE(src.ok());
  auto r = (*src)->resolve();
  REQUIRE(r.ok());
  CHECK(r->meta.normalized == "docker.io/library/alpine:3.20.3");
  CHECK(r->meta.manifest_digest == sha256_of(l.manifest));
  CHECK(r->meta.config_digest == sha256_of(l.config));
  CHECK(r->meta.layer_digests == std::vector<std::string>{kGzDigest});
  CHECK(r->meta.diff_ids == std::vector<std::string>{kDiffId});
  REQUIRE(r->layers.size() == 1);
  CHECK(r->layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");
  auto s = (*src)->open_layer(r->layers[0]);
  REQUIRE(s.ok());
  auto bytes = read_all(**s);
  REQUIRE(bytes.ok());
  CHECK(*bytes == l.layer_gz);
}

}  // namespace

TEST_CASE("OCI image layout: directory, tar, nested index", "[archive]") {
  std::string dir = test::make_temp_dir("sg-oci");
  for (bool nested : {false, true}) {
    CAPTURE(nested);
    OciLayout l = oci_layout(nested);
    std::string root = dir + (nested ? "/nested" : "/flat");
    for (const auto& e : l.entries) {
      fs::create_directories(fs::path(root + "/" + e.name).parent_path());
      std::ofstream(root + "/" + e.name, std::ios::binary) << e.content;
    }
    check_oci(root, l);
    write_tar(root + ".tar", l.entries, false);
    check_oci(root + ".tar", l);
  }
  fs::remove_all(dir);
}

TEST_CASE("OCI image layout: a corrupted blob is an integrity error naming the blob", "[archive]") {
  std::string dir = test::make_temp_dir("sg-ocibad");
  OciLayout l = oci_layout(false);
  l.entries[1].content[1000] ^= 0x01;  // the layer blob
  write_tar(dir + "/img.tar", l.entries, false);
  SourceOptions o;
  o.input = dir + "/img.tar";
  auto src = open_image_source(o);
  REQUIRE(src.ok());
  auto r = (*src)->resolve();
  REQUIRE(r.ok());
  auto s = (*src)->open_layer(r->layers[0]);
  REQUIRE(s.ok());
  auto bytes = read_all(**s);
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.error().kind == ErrorKind::kIntegrity);
  CHECK(bytes.error().message.find("blob " + kGzDigest + " digest mismatch (got sha256:") != std::string::npos);

  // A corrupted manifest fails resolve.
  OciLayout m = oci_layout(false);
  m.entries[3].content += " ";
  write_tar(dir + "/img2.tar", m.entries, false);
  o.input = dir + "/img2.tar";
  auto r2 = (*open_image_source(o))->resolve();
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kIntegrity);
  fs::remove_all(dir);
}
