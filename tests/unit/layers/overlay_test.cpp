#include "scanner/layers/overlay.h"

#include <catch2/catch.hpp>

#include "scanner/layers/memory_blob.h"
#include "tar_builder.h"

using namespace scangate;

namespace {

FileEntry reg(std::string path, std::string content) {
  FileEntry f;
  f.path = std::move(path);
  f.type = EntryType::kRegular;
  f.content = std::move(content);
  f.has_content = true;
  return f;
}
FileEntry sym(std::string path, std::string target) {
  FileEntry f;
  f.path = std::move(path);
  f.type = EntryType::kSymlink;
  f.link_target = std::move(target);
  return f;
}
FileEntry whiteout(std::string path) {
  FileEntry f;
  f.path = std::move(path);
  f.type = EntryType::kWhiteout;
  return f;
}
FileEntry opaque(std::string path) {
  FileEntry f;
  f.path = std::move(path);
  f.type = EntryType::kOpaqueWhiteout;
  return f;
}
LayerContents layer(int index, std::vector<FileEntry> files) {
  LayerContents lc;
  lc.layer.index = index;
  lc.layer.digest = "sha256:layer" + std::to_string(index);
  lc.files = std::move(files);
  return lc;
}

std::string content_of(const Overlay& o, const std::string& path) {
  auto f = o.find(path);
  return f ? f->entry->content : std::string("<none>");
}

std::vector<std::string> paths(const Overlay& o) {
  std::vector<std::string> out;
  for (const auto& f : o.files()) out.push_back(f.path);
  return out;
}

}  // namespace

TEST_CASE("a later layer's file replaces an earlier one", "[overlay]") {
  std::vector<LayerContents> layers = {layer(0, {reg("etc/os-release", "v1")}),
                                       layer(1, {reg("etc/os-release", "v2")})};
  Overlay o(layers);
  auto f = o.find("etc/os-release");
  REQUIRE(f);
  CHECK(f->entry->content == "v2");
  CHECK(f->layer_index == 1);
  CHECK(paths(o) == std::vector<std::string>{"etc/os-release"});
}

TEST_CASE("a whiteout removes the path and everything under it from earlier layers", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {reg("usr/lib/python3/site-packages/pip-21.2.4.dist-info/METADATA", "pip"),
                reg("usr/lib/python3/site-packages/six.py", "six"), reg("usr/lib/python3x", "sibling")}),
      layer(1, {whiteout("usr/lib/python3")}),
  };
  Overlay o(layers);
  CHECK_FALSE(o.find("usr/lib/python3/site-packages/pip-21.2.4.dist-info/METADATA"));
  CHECK_FALSE(o.find("usr/lib/python3/site-packages/six.py"));
  CHECK(content_of(o, "usr/lib/python3x") == "sibling");  // a name sharing the prefix survives
  CHECK(paths(o) == std::vector<std::string>{"usr/lib/python3x"});
}

TEST_CASE("a whiteout hides lower layers only, not its own layer (OCI layer spec)", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {reg("app/a", "old")}),
      layer(1, {reg("app/a", "new"), whiteout("app/a")}),
  };
  Overlay o(layers);
  CHECK(content_of(o, "app/a") == "new");
}

TEST_CASE("an opaque whiteout empties the directory of earlier contents", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {reg("var/lib/dpkg/status", "old"), reg("var/lib/dpkg/status.d/x", "x"), reg("var/lib/other", "o")}),
      layer(1, {opaque("var/lib/dpkg"), reg("var/lib/dpkg/status", "new")}),
  };
  Overlay o(layers);
  CHECK(content_of(o, "var/lib/dpkg/status") == "new");
  CHECK_FALSE(o.find("var/lib/dpkg/status.d/x"));
  CHECK(content_of(o, "var/lib/other") == "o");

  std::vector<LayerContents> root = {layer(0, {reg("a", "a"), reg("b/c", "c")}), layer(1, {opaque(""), reg("d", "d")})};
  Overlay o2(root);
  CHECK(paths(o2) == std::vector<std::string>{"d"});
}

TEST_CASE("symlinks resolve inside the image", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {reg("usr/lib/os-release", "ID=alpine\n"), sym("etc/os-release", "../usr/lib/os-release")}),
  };
  Overlay o(layers);
  auto f = o.find("etc/os-release");
  REQUIRE(f);
  CHECK(f->path == "etc/os-release");
  CHECK(f->entry->path == "usr/lib/os-release");
  CHECK(f->entry->content == "ID=alpine\n");
  // Listed under both names.
  CHECK(paths(o) == std::vector<std::string>{"etc/os-release", "usr/lib/os-release"});
}

TEST_CASE("a symlinked directory in the middle of a path resolves", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {sym("usr/lib", "/lib"), reg("lib/os-release", "ID=debian\n")}),
      layer(1, {sym("etc/os-release", "../usr/lib/os-release")}),
  };
  Overlay o(layers);
  CHECK(content_of(o, "usr/lib/os-release") == "ID=debian\n");
  CHECK(content_of(o, "etc/os-release") == "ID=debian\n");
  CHECK(content_of(o, "./usr/lib/../lib/os-release") == "ID=debian\n");
}

TEST_CASE("an absolute link to a host path never reads the host", "[overlay][hostile]") {
  // /etc/shadow and /etc/hostname exist on the host; inside this image they do not.
  std::vector<LayerContents> layers = {
      layer(0, {sym("etc/os-release", "/etc/hostname"), sym("shadow", "/etc/shadow"),
                sym("up", "../../../../etc/hostname")}),
  };
  Overlay o(layers);
  CHECK_FALSE(o.find("etc/os-release"));
  CHECK_FALSE(o.find("shadow"));
  CHECK_FALSE(o.find("up"));
  auto r = o.lookup("shadow");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kNotFound);
  CHECK(r.error().message.find("never consulted") != std::string::npos);
  CHECK(o.files().empty());

  // The same link, with the file inside the image: resolves to the image's file.
  layers.push_back(layer(1, {reg("etc/shadow", "image shadow")}));
  Overlay o2(layers);
  CHECK(content_of(o2, "shadow") == "image shadow");
}

TEST_CASE("symlink loops resolve to nothing quickly", "[overlay][hostile]") {
  std::vector<LayerContents> layers = {
      layer(0,
            {sym("a", "b"), sym("b", "a"), sym("self", "self"), sym("dir/x", "../dir/x/y"), sym("chain0", "chain1")}),
  };
  // A chain of 45 links: more than 40 hops.
  for (int i = 1; i < 45; ++i)
    layers[0].files.push_back(sym("chain" + std::to_string(i), "chain" + std::to_string(i + 1)));
  layers[0].files.push_back(reg("chain45", "end"));
  Overlay o(layers);
  for (const char* p : {"a", "b", "self", "dir/x", "dir/x/y/z", "chain0"}) {
    CAPTURE(p);
    CHECK_FALSE(o.find(p));
  }
  auto r = o.lookup("a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("loop") != std::string::npos);
  CHECK(content_of(o, "chain10") == "end");  // 35 hops: fine
}

TEST_CASE("hardlinks without kept content resolve to their target and oversize files hide lower ones", "[overlay]") {
  FileEntry hl;
  hl.path = "usr/lib/os-release";
  hl.type = EntryType::kHardlink;
  hl.link_target = "etc/os-release.orig";
  FileEntry big;
  big.path = "lib/apk/db/installed";
  big.type = EntryType::kRegular;  // over max_file_bytes: no content
  std::vector<LayerContents> layers = {
      layer(0, {reg("etc/os-release.orig", "ID=x\n"), reg("lib/apk/db/installed", "P:old\nV:1\n")}),
      layer(1, {hl, big}),
  };
  Overlay o(layers);
  CHECK(content_of(o, "usr/lib/os-release") == "ID=x\n");
  CHECK_FALSE(o.find("lib/apk/db/installed"));
  auto r = o.lookup("lib/apk/db/installed");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kLimit);
}

TEST_CASE("a later layer turning a symlink into a directory", "[overlay]") {
  std::vector<LayerContents> layers = {
      layer(0, {sym("usr/lib", "/nowhere")}),
      layer(1, {reg("usr/lib/os-release", "ID=y\n")}),
  };
  Overlay o(layers);
  CHECK(content_of(o, "usr/lib/os-release") == "ID=y\n");
}

TEST_CASE("overlay over walked layers with a whiteout across real tar layers", "[overlay]") {
  using namespace scangate::test;
  std::vector<std::string> blobs = {
      build_tar({file("etc/os-release", "ID=alpine\n"), file("lib/apk/db/installed", "P:a\nV:1\n\n"),
                 slink("etc/alias", "os-release")},
                Compression::kGzip),
      build_tar({file("lib/apk/db/.wh.installed", ""), file("etc/os-release", "ID=debian\n")}, Compression::kZstd),
  };
  std::vector<LayerContents> layers;
  for (size_t i = 0; i < blobs.size(); ++i) {
    MemoryBlob b(blobs[i]);
    auto r = walk_layer(
        b, LayerRef{"sha256:x", "", static_cast<int>(i)},
        [](std::string_view p, uint64_t) { return p == "etc/os-release" || p == "lib/apk/db/installed"; }, {});
    REQUIRE(r.ok());
    layers.push_back(std::move(r.value()));
  }
  Overlay o(layers);
  CHECK(content_of(o, "etc/os-release") == "ID=debian\n");
  CHECK(content_of(o, "etc/alias") == "ID=debian\n");
  CHECK_FALSE(o.find("lib/apk/db/installed"));
}
