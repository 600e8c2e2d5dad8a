// The real Alpine minirootfs tarballs, walked as one layer each, then the os and apk
// analyzers. Expectations come from GNU tar / gzip / sha256sum and a plain line grep.
#include <catch2/catch.hpp>

#include <cstdio>
#include <algorithm>
#include <sstream>

#include "scanner/analyze/analyzer.h"
#include "scanner/layers/memory_blob.h"
#include "scanner/layers/overlay.h"
#include "scanner/layers/walker.h"
#include "support/test_support.h"

using namespace scangate;

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("command failed: " + cmd);
  return out;
}

}  // namespace

TEST_CASE("Alpine minirootfs tarballs walked then analyzed by the os and apk analyzers", "[rootfs]") {
  const auto registry = AnalyzerRegistry::builtin();
  const WantFn want = [&](std::string_view p, uint64_t) { return registry.any_required(p); };
  for (const std::string ver : {"3.10.9", "3.15.11", "3.18.9", "3.20.3"}) {
    CAPTURE(ver);
    const std::string path = test::testdata("rootfs/alpine-minirootfs-" + ver + "-x86_64.tar.gz");
    const std::string blob_bytes = test::read_file(path);

    // Independent expectations: GNU tar, gzip and coreutils.
    const std::string installed = run("tar -xzOf '" + path + "' ./lib/apk/db/installed");
    const std::string diff_id = "sha256:" + run("gzip -dc '" + path + "' | sha256sum").substr(0, 64);
    const auto uncompressed_size = std::stoull(run("gzip -dc '" + path + "' | wc -c"));
    std::vector<std::pair<std::string, std::string>> expected;  // (name, version) in file order
    {
      std::istringstream in(installed);
      std::string line, name;
      while (std::getline(in, line)) {
        if (line.rfind("P:", 0) == 0) name = line.substr(2);
        if (line.rfind("V:", 0) == 0) expected.emplace_back(name, line.substr(2));
      }
    }
    size_t grep_p = 0;  // grep -c '^P:'
    for (size_t pos = 0; (pos = installed.find("\nP:", pos)) != std::string::npos; ++pos) ++grep_p;
    if (installed.rfind("P:", 0) == 0) ++grep_p;
    REQUIRE(grep_p > 10);
    const std::string blob_digest = "sha256:" + run("sha256sum '" + path + "'").substr(0, 64);

    MemoryBlob blob(blob_bytes, blob_digest, 65536);
    auto walked = walk_layer(blob, LayerRef{"sha256:blob", "", 0}, want, {});
    REQUIRE(walked.ok());
    CHECK(blob.reached_end());
    CHECK(walked->computed_diff_id == diff_id);
    CHECK(walked->expanded_bytes == uncompressed_size);

    std::vector<LayerContents> layers;
    layers.push_back(std::move(walked.value()));
    Overlay overlay(layers);
    auto db = overlay.find("lib/apk/db/installed");
    REQUIRE(db);
    CHECK(db->entry->content == installed);

    auto apk = registry.find("apk")->analyze({"lib/apk/db/installed", db->entry->content});
    REQUIRE(apk.ok());
    CHECK(apk->packages.size() == grep_p);
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& p : apk->packages) {
      got.emplace_back(p.name, p.version);
      CHECK(p.type == "apk");
      CHECK(p.arch == "x86_64");
      CHECK(p.file_path == "lib/apk/db/installed");
    }
    CHECK(got == expected);

    std::vector<OSFinding> found;
    for (const auto& f : overlay.files()) {
      if (!registry.find("os-release")->required(f.path)) continue;
      auto os = registry.find("os-release")->analyze({f.path, f.entry->content});
      REQUIRE(os.ok());
      if (os->os) found.push_back({f.path, *os->os});
    }
    OSInfo os = merge_os(found);
    CHECK(os.family == "alpine");
    CHECK(os.name == ver);  // VERSION_ID equals the version in the tarball's name
  }
}
