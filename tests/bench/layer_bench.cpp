// Layer streaming figures (issue 2): walk_layer over a gzip layer held in memory against plain
// zlib inflation of the same bytes (what `gzip -dc` does), and the MB/s of each.
// Usage: layer_bench LAYER.tar.gz [ROUNDS]
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "scanner/analyze/analyzer.h"
#include "scanner/layers/memory_blob.h"
#include "scanner/layers/walker.h"

using namespace scangate;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: layer_bench LAYER.tar.gz [ROUNDS]\n");
    return 2;
  }
  int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  auto analyzers = AnalyzerRegistry::builtin();

  std::vector<double> walk, inflate_ms;
  uint64_t expanded = 0;
  for (int r = 0; r < rounds; ++r) {
    MemoryBlob blob(bytes);
    auto t0 = Clock::now();
    auto res = walk_layer(
        blob, LayerRef{"", "", 0}, [&](std::string_view p, uint64_t) { return analyzers.any_required(p); },
        WalkLimits{});
    walk.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!res.ok()) {
      std::fprintf(stderr, "walk failed: %s\n", res.error().message.c_str());
      return 1;
    }
    expanded = res->expanded_bytes;

    auto t1 = Clock::now();
    z_stream z{};
    inflateInit2(&z, 16 + MAX_WBITS);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    std::vector<unsigned char> out(1 << 16);
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      rc = ::inflate(&z, Z_NO_FLUSH);
    }
    inflateEnd(&z);
    inflate_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
  }
  std::sort(walk.begin(), walk.end());
  std::sort(inflate_ms.begin(), inflate_ms.end());
  double w = walk[walk.size() / 2], z = inflate_ms[inflate_ms.size() / 2];
  double mb = static_cast<double>(expanded) / (1 << 20);
  std::printf("layer: %s (%zu bytes compressed, %.1f MiB expanded)\n", argv[1], bytes.size(), mb);
  std::printf("walk_layer (libarchive, hashing, analyzer filter): %8.2f ms  %7.1f MiB/s\n", w, mb / (w / 1000));
  std::printf("zlib inflate only (gzip -dc equivalent):           %8.2f ms  %7.1f MiB/s\n", z, mb / (z / 1000));
  std::printf("walk speed relative to inflate: %.0f%%\n", 100.0 * z / w);
  return 0;
}
