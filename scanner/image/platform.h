// Platforms ("linux/amd64", "linux/arm64/v8") and the matching rules used to pick one
// manifest from a multi-arch index.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate {

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;

  std::string to_string() const;  // "linux/arm64/v8"
};

// "os/arch[/variant]"; arch aliases (x86_64, aarch64) are normalised.
Result<Platform> parse_platform(std::string_view text);

// Normalises architecture and variant as containerd does: x86_64->amd64, aarch64->arm64,
// arm64 "v8" -> "", amd64 "v1" -> "", arm with no variant -> "v7".
Platform normalize_platform(Platform p);

// Exact match after normalisation. A wanted platform without variant accepts any variant
// (the caller prefers exact matches first).
bool platform_matches(const Platform& wanted, const Platform& candidate);

// Whether a node of platform `wanted` may run an image of `candidate`, widened to fail closed: a
// missing os or architecture may be anything; amd64 and arm variants run lower levels (amd64/v3
// runs amd64 and amd64/v2); a wanted platform without a variant runs every variant; amd64 runs
// 386 and arm64 runs arm (containerd's fallbacks).
bool platform_may_run(const Platform& wanted, const Platform& candidate);

// The entries of an index (their platforms, in index order) a cluster running `wanted` may pull:
// with `wanted` empty, every entry whose os is linux or missing; otherwise every entry that
// platform_may_run() for a wanted platform. Entries with os or architecture "unknown"
// (attestations) are never chosen. Positions into `offered`, ascending, each once.
std::vector<size_t> platforms_to_check(const std::vector<Platform>& offered, const std::vector<Platform>& wanted);

}  // namespace scangate
