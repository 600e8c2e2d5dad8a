// A durable spool of reports waiting to be uploaded.
//
// Layout under the spool directory:
//   lock                      flock'd (briefly) around every change to the directory
//   tmp/                      enqueues in progress; leftovers of a crashed process are removed on open
//   pending/<id>.json         the report bytes, exactly as they will be sent
//   pending/<id>.meta.json    its metadata (data type, label, file name, creation time); never a token
//   dead/<id>.json            reports the server rejected for good, with
//   dead/<id>.reason.json     why (status, message, time) and the original metadata
//
// An enqueue writes both files into tmp/, fsyncs them, renames the metadata and then the report into
// pending/ and fsyncs the directory: the report's rename is the commit point, so an entry exists if and
// only if pending/<id>.json exists. Ids start with the creation time (nanoseconds, zero-padded), so the
// lexical order is the age order; list() returns the oldest first.
//
// Two processes never send the same entry: a sender claims an entry with a non-blocking flock on its
// report file (claim()), and the claim is released when the process exits, even by SIGKILL.
//
// Bound: at most `max_entries` pending entries and `max_bytes` of pending reports. When a new report
// does not fit, the policy decides:
//   kDropOldest (the default): the oldest unclaimed pending entries are deleted until it fits. The
//     newest report describes the image being gated now, so it is the one worth keeping. Each drop
//     is counted (dropped_total()) and logged as a warning naming the entry.
//   kRejectNew: the enqueue fails with ErrorKind::kLimit and nothing is removed.
// A single report larger than max_bytes is always refused.
//
// A Spool object belongs to one thread at a time; threads and processes share the directory safely
// by opening their own Spool on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/cspm/log.h"

namespace scangate::cspm {

using Metadata = std::map<std::string, std::string>;

// Metadata keys the uploader understands.
inline constexpr const char* kMetaDataType = "data_type";    // TR or SBOM
inline constexpr const char* kMetaLabel = "label";           // AccuKnox label id
inline constexpr const char* kMetaFileName = "filename";     // the multipart file name
inline constexpr const char* kMetaCreatedAt = "created_at";  // RFC 3339, UTC

enum class OverflowPolicy { kDropOldest, kRejectNew };

struct SpoolOptions {
  size_t max_entries = 1000;
  uint64_t max_bytes = 1ull << 30;  // 1 GiB of pending reports
  OverflowPolicy overflow = OverflowPolicy::kDropOldest;
  std::optional<Logger> log;  // none: the uploader's logger, else component "cspm"
};

struct SpoolEntry {
  std::string id;
  Metadata metadata;
  uint64_t size = 0;
  std::string payload;  // filled by load(); empty in list()
};

// While alive, no other claim (in this or another process) on the same entry succeeds.
class EntryClaim {
 public:
  explicit EntryClaim(int fd) : fd_(fd) {}
  ~EntryClaim();
  EntryClaim(const EntryClaim&) = delete;
  EntryClaim& operator=(const EntryClaim&) = delete;

 private:
  int fd_;
};

struct EnqueueResult {
  std::string id;
  std::vector<std::string> dropped;  // ids removed to make room (kDropOldest)
};

class Spool {
 public:
  // Creates the directories when missing and recovers from a crash: leftover tmp files and
  // metadata without a report are removed (logged).
  static Result<Spool> open(const std::string& dir, SpoolOptions options = {});

  const std::string& dir() const { return dir_; }

  // Stores a report durably. The metadata gets created_at when it has none.
  Result<EnqueueResult> enqueue(const std::string& bytes, Metadata metadata);

  // Pending entries, oldest first (without payloads).
  Result<std::vector<SpoolEntry>> list() const;
  // One pending entry with its payload; kNotFound when it was delivered or dropped meanwhile.
  Result<SpoolEntry> load(const std::string& id) const;

  // Claims an entry for sending. Returns nullptr (not an error) when another sender holds it or it
  // is gone already.
  Result<std::unique_ptr<EntryClaim>> claim(const std::string& id) const;

  // Delivered: the entry is removed. Removing an entry that is already gone is not an error.
  Result<void> ack(const std::string& id);
  // Rejected for good: moved to dead/ with a reason file.
  Result<void> dead_letter(const std::string& id, const std::string& reason, int http_status = 0);

  // Dead-lettered entries' ids, oldest first, and a way back to pending (after fixing a token).
  Result<std::vector<std::string>> list_dead() const;
  Result<void> requeue_dead(const std::string& id);

  // Entries dropped by this Spool object because of the cap.
  uint64_t dropped_total() const { return dropped_; }

  static bool valid_id(const std::string& id);

 private:
  Spool(std::string dir, SpoolOptions options)
      : dir_(std::move(dir)), options_(std::move(options)), log_(options_.log.value_or(Logger("cspm"))) {}
  Result<void> recover();
  std::string pending_path(const std::string& id, const char* suffix) const;

  std::string dir_;
  SpoolOptions options_;
  Logger log_;
  uint64_t dropped_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace scangate::cspm
