// The vulnerability DB as an OCI artifact: one job builds the DB (CI, or the chart's CronJob) and
// pushes it to a registry; every scanner and webhook pulls it from there. This is how a cluster
// without egress gets a DB, and how running webhooks get a new one without a restart.
//
// The artifact (an OCI 1.1 image manifest, docs/db-artifact.md):
//   artifactType  application/vnd.scangate.db.v1
//   config        application/vnd.oci.empty.v1+json ("{}")
//   layers[0]     application/vnd.scangate.db.layer.v1.sqlite+zstd: the SQLite DB, zstd-compressed,
//                 annotated with org.opencontainers.image.title and the DB's revision, schema,
//                 build time, uncompressed size and sha256
//   annotations   org.opencontainers.image.created (the DB's build time), io.scangate.db.revision
//
// A pull verifies the manifest digest, the blob digest (as it streams), the uncompressed sha256 and
// size the manifest declares (required, bounded, and no more than 1000 times the layer), then opens
// the DB (verify_db_file) and, when asked, checks its build time before it renames the file into
// place: a corrupt, foreign, empty or older artifact is refused and the DB in place stays.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/open_source.h"
#include "scanner/image/registry_client.h"
#include "scanner/vulndb/db_info.h"

namespace scangate::dbrepo {

inline constexpr const char* kArtifactType = "application/vnd.scangate.db.v1";
inline constexpr const char* kLayerMediaType = "application/vnd.scangate.db.layer.v1.sqlite+zstd";
inline constexpr const char* kEmptyConfigMediaType = "application/vnd.oci.empty.v1+json";
inline constexpr const char* kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

using Progress = std::function<void(const std::string& message)>;

struct PushOptions {
  std::string db;          // the built DB file
  std::string reference;   // registry/repository[:tag]; the tag defaults to "latest"
  SourceOptions registry;  // credentials, --cacert, --insecure-registry
  Deadline deadline = Deadline::never();
  Progress progress;
};

struct PushResult {
  std::string reference;        // as pushed, with its tag
  std::string manifest_digest;  // what a pull by digest names
  std::string layer_digest;
  uint64_t size = 0;             // the DB's bytes
  uint64_t compressed_size = 0;  // the layer's
  vulndb::DbInfo info;
};

Result<PushResult> push_db(const PushOptions& options);

struct PullOptions {
  std::string reference;  // a tag or a digest
  std::string output;     // where the DB goes (atomically replaced)
  // The registry client to use (the webhook's); when null one is built from `registry`.
  std::shared_ptr<RegistryClient> client;
  SourceOptions registry;
  Deadline deadline = Deadline::never();
  Progress progress;
  // When the artifact's manifest digest equals this, nothing is downloaded (a poll that finds the
  // DB unchanged).
  std::string skip_if_digest;
  // Nor when the artifact's DB has this revision (the DB in use; read from the manifest).
  std::string skip_if_revision;
  uint64_t max_db_bytes = 16ull << 30;  // refuses artifacts that declare or inflate beyond this
  // Refuses a DB built before this (a rollback: an older DB pushed over the tag, by mistake or by
  // someone who may push): checked against the manifest's annotation before the download, and
  // against the DB itself before the rename. Unset: any build time.
  std::optional<std::chrono::system_clock::time_point> not_built_before;
  // Polled between reads and during the checks: true stops the pull (the webhook's shutdown).
  std::function<bool()> cancelled;
};

struct PullResult {
  bool changed = false;  // false: skip_if_digest matched, the file was not touched
  std::string manifest_digest;
  vulndb::DbInfo info;  // of the DB now in place (empty when unchanged)
};

Result<PullResult> pull_db(const PullOptions& options);

// Removes the temporary files a pull (or a build) into `output` left behind when its process was
// killed (`<output>.tmp-XXXXXX`, regular files not modified for `min_age`: one still being written
// is never touched). Returns how many went. A webhook that is OOM-killed mid-pull in a crash loop
// would otherwise fill its volume with them.
size_t remove_stale_temps(const std::string& output, std::chrono::seconds min_age);

// Opens a DB file and checks it before it is pushed, or put in place by a pull: a scangate DB of the
// supported schema whose meta, advisory and vulnerability are plain tables (no views, triggers or
// virtual tables), with at least one advisory (an empty DB would let every image through), that
// passes SQLite's quick_check. The file is opened immutable: no -wal or -shm appears beside it.
Result<vulndb::DbInfo> verify_db_file(const std::string& path, const Deadline& deadline = Deadline::never(),
                                      const std::function<bool()>& cancelled = {});

// "2026-12-07T14:26:29Z" (what io.scangate.db.built and `db info` show); nullopt for another form.
std::optional<std::chrono::system_clock::time_point> parse_built_at(const std::string& rfc3339);

}  // namespace scangate::dbrepo
