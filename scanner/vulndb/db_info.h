// What `scangate db info` prints: sources, counts, build time and revision.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

struct SourceInfo {
  std::string kind;      // "alpine-secdb", "debian-tracker", "osv", "nvd"
  std::string location;  // the file, folder or URL as given
  ImportStats stats;
};

struct DbInfo {
  std::string path;
  int schema_version = 0;
  std::string built_at;  // RFC 3339, UTC
  std::string revision;  // "sha256:<hex>" over the content; independent of build time and paths
  std::vector<SourceInfo> sources;
  std::map<std::string, std::size_t> advisories_by_ecosystem;
  std::size_t advisories = 0;
  std::size_t vulnerabilities = 0;
};

// Opens the DB read-only (VulnDb::open) and returns its metadata.
Result<DbInfo> read_db_info(const std::string& path);
// Human-readable, one fact per line.
std::string render_db_info(const DbInfo& info);

namespace detail {
// meta.sources / meta.counts (de)serialisation shared by the writer and the reader.
std::string sources_to_json(const std::vector<SourceInfo>& sources);
Result<std::vector<SourceInfo>> sources_from_json(const std::string& json);
std::string counts_to_json(const DbInfo& info);
Result<void> counts_from_json(const std::string& json, DbInfo& info);
}  // namespace detail

}  // namespace scangate::vulndb
