#include "scanner/layers/walker.h"

#include <catch2/catch.hpp>

#include "scanner/layers/memory_blob.h"
#include "scanner/core/sha256.h"
#include "tar_builder.h"

using namespace scangate;
using namespace scangate::test;

namespace {

const LayerRef kLayer{"sha256:1111111111111111111111111111111111111111111111111111111111111111",
                      "sha256:2222222222222222222222222222222222222222222222222222222222222222", 3};

WantFn want_paths(std::vector<std::string> paths) {
  return [paths](std::string_view p, uint64_t) {
    for (const auto& w : paths)
      if (p == w) return true;
    return false;
  };
}

const FileEntry* entry(const LayerContents& lc, const std::string& path) {
  for (const auto& f : lc.files)
    if (f.path == path) return &f;
  return nullptr;
}

Result<LayerContents> walk_bytes(std::string bytes, const WantFn& want, WalkLimits limits = {}) {
  MemoryBlob blob(std::move(bytes));
  return walk_layer(blob, kLayer, want, limits);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-2 test vectors", "[walker]") {
  CHECK(Sha256::digest("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("normalize_entry_path keeps every name inside the image root", "[walker]") {
  struct Case {
    const char* in;
    const char* out;
    bool escaped;
  };
  const Case cases[] = {
      {"./etc/os-release", "etc/os-release", false},
      {"etc/os-release", "etc/os-release", false},
      {"usr/lib/", "usr/lib", false},
      {"a/./b//c/", "a/b/c", false},
      {"a/b/..", "a", false},
      {"a/../b", "b", false},
      {".", "", false},
      {"./", "", false},
      {"/abs/path", "abs/path", true},
      {"/", "", true},
      {"../../etc/passwd", "etc/passwd", true},
      {"a/../../b", "b", true},
      {"..", "", true},
      {"./../etc/shadow", "etc/shadow", true},
  };
  for (const auto& c : cases) {
    bool escaped = !c.escaped;
    CHECK(normalize_entry_path(c.in, &escaped) == c.out);
    CHECK(escaped == c.escaped);
    CHECK(normalize_entry_path(c.in) == c.out);
  }
}

TEST_CASE("resolve_link_target resolves links inside the image", "[walker]") {
  CHECK(resolve_link_target("etc/os-release", "../usr/lib/os-release") == "usr/lib/os-release");
  CHECK(resolve_link_target("etc/shadow-link", "/etc/shadow") == "etc/shadow");
  CHECK(resolve_link_target("a/b/c", "../../../../../etc/passwd") == "etc/passwd");
  CHECK(resolve_link_target("lib64", "lib") == "lib");
  CHECK(resolve_link_target("x", "/") == "");
  CHECK(resolve_link_target("usr/bin/python3", "python3.12") == "usr/bin/python3.12");
}

TEST_CASE("walk_layer reads plain gzip and zstd tar streams alike", "[walker]") {
  const std::vector<TarEntry> entries = {
      dir("./"),
      dir("./etc/"),
      file("./etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
      file("./etc/hostname", "not wanted\n"),
      dir("./lib/apk/db/"),
      file("./lib/apk/db/installed", "P:musl\nV:1.2.5-r0\n\n"),
      slink("./etc/mtab", "../proc/mounts"),
  };
  const std::string plain = build_tar(entries);
  auto want = want_paths({"etc/os-release", "lib/apk/db/installed"});
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    CAPTURE(static_cast<int>(c));
    std::string bytes = c == Compression::kNone ? plain : build_tar(entries, c);
    if (c != Compression::kNone) REQUIRE(bytes != plain);
    MemoryBlob blob(bytes, Sha256::digest(bytes), 1000);  // short reads, verified digest
    auto r = walk_layer(blob, kLayer, want, {});
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(blob.reached_end());
    CHECK(r->layer.digest == kLayer.digest);
    CHECK(r->entries == entries.size());
    CHECK(r->expanded_bytes == plain.size());
    CHECK(r->computed_diff_id == Sha256::digest(plain));
    const FileEntry* os = entry(*r, "etc/os-release");
    REQUIRE(os != nullptr);
    CHECK(os->type == EntryType::kRegular);
    CHECK(os->has_content);
    CHECK(os->content == "ID=alpine\nVERSION_ID=3.20.3\n");
    CHECK(entry(*r, "lib/apk/db/installed")->content == "P:musl\nV:1.2.5-r0\n\n");
    CHECK(entry(*r, "etc/hostname") == nullptr);  // not wanted: not kept
    const FileEntry* mtab = entry(*r, "etc/mtab");
    REQUIRE(mtab != nullptr);
    CHECK(mtab->type == EntryType::kSymlink);
    CHECK(mtab->link_target == "../proc/mounts");  // as written
    CHECK(r->warnings.empty());
  }
}

TEST_CASE("walk_layer records whiteouts symlinks and hardlinks", "[walker]") {
  const std::string tar = build_tar({
      file("etc/.wh.motd", ""),
      file("var/cache/apk/.wh..wh..opq", ""),
      file(".wh..wh..opq", ""),
      file("usr/.wh..wh.plnk", ""),  // aufs bookkeeping: ignored
      file("usr/lib/os-release", "ID=debian\n"),
      hlink("usr/lib/os-release.bak", "usr/lib/os-release"),
      hlink("bin/busybox-copy", "bin/busybox"),  // target content not kept
      slink("etc/os-release", "../usr/lib/os-release"),
  });
  auto r = walk_bytes(tar, want_paths({"usr/lib/os-release"}));
  REQUIRE(r.ok());
  const FileEntry* wh = entry(*r, "etc/motd");
  REQUIRE(wh != nullptr);
  CHECK(wh->type == EntryType::kWhiteout);
  const FileEntry* opq = entry(*r, "var/cache/apk");
  REQUIRE(opq != nullptr);
  CHECK(opq->type == EntryType::kOpaqueWhiteout);
  const FileEntry* root_opq = entry(*r, "");
  REQUIRE(root_opq != nullptr);
  CHECK(root_opq->type == EntryType::kOpaqueWhiteout);
  CHECK(entry(*r, "usr/.wh..wh.plnk") == nullptr);
  CHECK(entry(*r, "usr") == nullptr);
  const FileEntry* hl = entry(*r, "usr/lib/os-release.bak");
  REQUIRE(hl != nullptr);
  CHECK(hl->type == EntryType::kHardlink);
  CHECK(hl->link_target == "usr/lib/os-release");
  CHECK(hl->has_content);
  CHECK(hl->content == "ID=debian\n");
  const FileEntry* hl2 = entry(*r, "bin/busybox-copy");
  REQUIRE(hl2 != nullptr);
  CHECK_FALSE(hl2->has_content);
  CHECK(hl2->link_target == "bin/busybox");
  CHECK(entry(*r, "etc/os-release")->link_target == "../usr/lib/os-release");
}

TEST_CASE("hostile entry names are clamped inside the image and reported", "[walker][hostile]") {
  const std::string tar = build_tar({
      file("../../etc/passwd", "root:x:0:0:hostile:/root:/bin/sh\n"),
      file("/abs/path", "absolute\n"),
      slink("etc/shadow-link", "/etc/shadow"),
      hlink("escape-hl", "../../../etc/shadow"),
  });
  auto r = walk_bytes(tar, want_paths({"etc/passwd", "abs/path"}));
  REQUIRE(r.ok());
  const FileEntry* pw = entry(*r, "etc/passwd");
  REQUIRE(pw != nullptr);
  CHECK(pw->content == "root:x:0:0:hostile:/root:/bin/sh\n");  // the layer's bytes, not the host's
  REQUIRE(entry(*r, "abs/path") != nullptr);
  CHECK(entry(*r, "etc/shadow-link")->link_target == "/etc/shadow");  // kept as written, never followed here
  CHECK(entry(*r, "escape-hl")->link_target == "etc/shadow");
  REQUIRE(r->warnings.size() == 3);
  CHECK(contains(r->warnings[0], "'../../etc/passwd'"));
  CHECK(contains(r->warnings[0], "'etc/passwd'"));
  CHECK(contains(r->warnings[1], "'/abs/path'"));
  CHECK(contains(r->warnings[2], "escape-hl"));
}

TEST_CASE("a layer past the size bound stops the walk with an error naming the layer", "[walker][hostile]") {
  SECTION("real bytes") {
    const std::string tar = build_tar({file("big", std::string(200'000, 'x'))}, Compression::kGzip);
    WalkLimits lim;
    lim.max_layer_bytes = 64 * 1024;
    auto r = walk_bytes(tar, want_paths({}), lim);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kLimit);
    CHECK(contains(r.error().message, kLayer.digest));
  }
  SECTION("a declared size far past the bound (no data behind it)") {
    // 7 GiB declared, a few bytes of data: the bound trips on the header, before any read.
    std::string tar = ustar_header("huge.bin", 7ull << 30) + std::string(4096, 'A');
    WalkLimits lim;
    lim.max_layer_bytes = 1 << 20;
    auto r = walk_bytes(tar, want_paths({"huge.bin"}), lim);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kLimit);
    CHECK(contains(r.error().message, kLayer.digest));
    CHECK(contains(r.error().message, "huge.bin"));
  }
  SECTION("a gzip bomb: 24 MiB of zeros in a small blob") {
    const std::string tar = build_tar({file("zeros", std::string(24u << 20, '\0'))}, Compression::kGzip);
    REQUIRE(tar.size() < (1u << 20));
    WalkLimits lim;
    lim.max_layer_bytes = 8u << 20;
    auto r = walk_bytes(tar, want_paths({}), lim);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kLimit);
  }
}

TEST_CASE("entry count and path length limits", "[walker][hostile]") {
  std::vector<TarEntry> many;
  for (int i = 0; i < 20; ++i) many.push_back(file("f" + std::to_string(i), "x"));
  WalkLimits lim;
  lim.max_entries = 10;
  auto r = walk_bytes(build_tar(many), want_paths({}), lim);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kLimit);
  CHECK(contains(r.error().message, kLayer.digest));

  WalkLimits plim;
  plim.max_path_length = 64;
  auto r2 = walk_bytes(build_tar({file(std::string(100, 'p') + "/x", "x")}), want_paths({}), plim);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kLimit);
  CHECK(contains(r2.error().message, "max_path_length"));
}

TEST_CASE("a wanted file over max_file_bytes is noted and not kept", "[walker]") {
  WalkLimits lim;
  lim.max_file_bytes = 100;
  auto r = walk_bytes(build_tar({file("lib/apk/db/installed", std::string(1000, 'x'))}),
                      want_paths({"lib/apk/db/installed"}), lim);
  REQUIRE(r.ok());
  const FileEntry* f = entry(*r, "lib/apk/db/installed");
  REQUIRE(f != nullptr);
  CHECK_FALSE(f->has_content);
  CHECK(f->content.empty());
  REQUIRE(r->warnings.size() == 1);
  CHECK(contains(r->warnings[0], "max_file_bytes"));
}

TEST_CASE("corrupt truncated and garbage layers give a clear error and never crash", "[walker][hostile]") {
  const std::string gz =
      build_tar({file("etc/os-release", std::string(50'000, 'o')), file("b", "b")}, Compression::kGzip);
  SECTION("truncated gzip at several points") {
    for (size_t cut : {gz.size() / 2, gz.size() - 12, gz.size() - 4, size_t{30}, size_t{5}}) {
      CAPTURE(cut);
      auto r = walk_bytes(gz.substr(0, cut), want_paths({"etc/os-release"}));
      if (r.ok()) WARN("walked: " << r->warnings.size() << " warnings " << (r->warnings.empty() ? "" : r->warnings[0]));
      REQUIRE_FALSE(r.ok());
      CHECK((r.error().kind == ErrorKind::kIntegrity || r.error().kind == ErrorKind::kFormat));
      CHECK(contains(r.error().message, kLayer.digest));
    }
  }
  SECTION("truncated plain tar") {
    const std::string tar = build_tar({file("a", std::string(5000, 'a'))});
    auto r = walk_bytes(tar.substr(0, 1500), want_paths({"a"}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kIntegrity);
    CHECK(contains(r.error().message, kLayer.digest));
  }
  SECTION("garbage bytes") {
    std::string junk;
    for (int i = 0; i < 5000; ++i) junk.push_back(static_cast<char>((i * 7919 + 13) & 0xff));
    auto r = walk_bytes(junk, want_paths({}));
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, kLayer.digest));
  }
  SECTION("corrupted gzip body") {
    std::string bad = gz;
    for (size_t i = 40; i < 80 && i < bad.size(); ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto r = walk_bytes(bad, want_paths({}));
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, kLayer.digest));
  }
  SECTION("empty blob") {
    auto r = walk_bytes("", want_paths({}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kFormat);
  }
}

TEST_CASE("the blob's own error (digest mismatch) is the walk's error", "[walker]") {
  const std::string gz = build_tar({file("a", "a")}, Compression::kGzip);
  MemoryBlob blob(gz, Sha256::digest("something else"));
  auto r = walk_layer(blob, kLayer, want_paths({"a"}), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kIntegrity);
  CHECK(contains(r.error().message, "digest mismatch"));
  CHECK(contains(r.error().message, kLayer.digest));
}

TEST_CASE("the blob is drained to its end even with bytes after the tar end marker", "[walker]") {
  // A plain tar followed by 3 extra zero blocks: still part of the uncompressed stream.
  std::string tar = build_tar({file("a", "a")}) + std::string(1536, '\0');
  MemoryBlob blob(tar, Sha256::digest(tar), 512);
  auto r = walk_layer(blob, kLayer, want_paths({}), {});
  REQUIRE(r.ok());
  CHECK(blob.reached_end());
  CHECK(blob.bytes_read() == tar.size());
  CHECK(r->expanded_bytes == tar.size());
  CHECK(r->computed_diff_id == Sha256::digest(tar));
}
