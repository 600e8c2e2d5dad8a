// Gunzipping feed files (NVD's nvdcve-2.0-*.json.gz) in-process, bounded: a gzip that expands past
// the cap is an Error, never an exhausted disk or memory. The decoder is libarchive's (zlib), the
// one the layer walker uses, never an external program.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::vulndb {

// A feed larger than this uncompressed is refused (the largest NVD yearly feed is well under 1 GiB).
inline constexpr std::uint64_t kMaxGunzipBytes = 2ull << 30;

struct Gunzipped {
  std::string text;
  std::string sha256_hex;  // lowercase hex of `text`
};

// True when the file starts with the gzip magic (1f 8b).
bool has_gzip_magic(const std::string& path);

// Reads the whole gzip file at `path`; `name` is what errors call it (the URL it came from).
// Not gzip, damaged or truncated data, or more than `max_bytes` uncompressed is a kFormat /
// kLimit Error naming `name`.
Result<Gunzipped> gunzip_file(const std::string& path, std::string_view name,
                              std::uint64_t max_bytes = kMaxGunzipBytes);

}  // namespace scangate::vulndb
