// libFuzzer target: the layer walker (scanner/layers/walker.h) on arbitrary blob bytes: gzip,
// zstd or plain, then tar, through libarchive, under small WalkLimits; and the overlay of what it
// kept (scanner/layers/overlay.h).
//
// The blob is served in short reads (1..4093 bytes, from the input's size), as registries do.
// Properties of a walk that succeeds:
//   - every kept path is normalised (normalize_entry_path() of it is itself, not empty), and so
//     is every hardlink target; kept content is within max_file_bytes; the counts are within the
//     limits;
//   - for a blob with no compression magic, computed_diff_id is the sha256 of the blob and
//     expanded_bytes its size;
//   - the same blob with a wrong expected digest fails with kIntegrity;
//   - over the layer (and over the layer on top of itself), each file the overlay lists is found
//     by lookup() with content, and each link it lists resolves or fails with kNotFound, kFormat
//     or kLimit.
// A walk that fails fails with an error (kLimit, kIntegrity or kFormat), never a crash.
#include "scanner/core/sha256.h"
#include "scanner/layers/memory_blob.h"
#include "scanner/layers/overlay.h"
#include "scanner/layers/walker.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("walker_fuzz", what, in); }

WalkLimits limits() {
  WalkLimits l;
  l.max_layer_bytes = 16u << 20;
  l.max_entries = 4096;
  l.max_file_bytes = 64u << 10;
  l.max_path_length = 1024;
  return l;
}

bool compression_magic(std::string_view in) {
  auto at = [&](std::size_t i) { return i < in.size() ? static_cast<unsigned char>(in[i]) : 0; };
  return (at(0) == 0x1f && at(1) == 0x8b) || (at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd);
}

void check_path(const std::string& p, const char* what, std::string_view in) {
  if (p.empty() || normalize_entry_path(p) != p) fail(std::string(what) + " \"" + p + "\" is not normalised", in);
}

void check_overlay(const std::vector<LayerContents>& layers, std::string_view in) {
  Overlay overlay(layers);
  for (const auto& f : overlay.files()) {
    auto again = overlay.lookup(f.path);
    if (!again.ok()) fail("the overlay lists \"" + f.path + "\" but lookup fails: " + again.error().message, in);
    if (!again->entry || !again->entry->has_content) fail("\"" + f.path + "\" is listed without content", in);
  }
  for (const auto& l : overlay.links()) {
    auto r = overlay.lookup(l);
    if (!r.ok() && r.error().kind != ErrorKind::kNotFound && r.error().kind != ErrorKind::kFormat &&
        r.error().kind != ErrorKind::kLimit)
      fail("link \"" + l + "\": " + r.error().message, in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  const WalkLimits lim = limits();
  const std::size_t chunk = 1 + size % 4093;
  const WantFn want_all = [](std::string_view, uint64_t) { return true; };
  LayerRef ref{"", "", 0};

  MemoryBlob blob{std::string(in), {}, chunk};
  auto walked = walk_layer(blob, ref, want_all, lim);
  if (!walked.ok()) {
    const ErrorKind k = walked.error().kind;
    if (k != ErrorKind::kLimit && k != ErrorKind::kIntegrity && k != ErrorKind::kFormat)
      fail("failed with an unexpected kind: " + walked.error().message, in);
    return 0;
  }
  const LayerContents& c = *walked;
  if (c.entries > lim.max_entries || c.expanded_bytes > lim.max_layer_bytes) fail("a limit was passed", in);
  for (const auto& f : c.files) {
    check_path(f.path, "path", in);
    if (f.type == EntryType::kHardlink) check_path(f.link_target, "hardlink target", in);
    if (f.has_content && f.content.size() > lim.max_file_bytes) fail("content over max_file_bytes kept", in);
    if (!f.has_content && !f.content.empty()) fail("content kept for a file without has_content", in);
    if (f.has_content && f.type != EntryType::kRegular && f.type != EntryType::kHardlink)
      fail("content for \"" + f.path + "\", which is no file", in);
  }
  if (!compression_magic(in)) {
    if (c.computed_diff_id != Sha256::digest(in) || c.expanded_bytes != size)
      fail("an uncompressed blob's diff_id or size is not its own", in);
  }

  MemoryBlob wrong{std::string(in), "sha256:" + std::string(64, '0'), chunk};
  auto refused = walk_layer(wrong, ref, want_all, lim);
  if (refused.ok() || refused.error().kind != ErrorKind::kIntegrity)
    fail("a wrong digest was not refused with kIntegrity", in);

  std::vector<LayerContents> layers{c};
  check_overlay(layers, in);
  layers.push_back(c);
  layers.back().layer.index = 1;
  check_overlay(layers, in);
  return 0;
}
