// Builds a scangate vulnerability DB: everything goes into a temporary file next to the output,
// in one transaction, with indexes created after the bulk insert; commit() resolves severities,
// computes the content revision, fsyncs and renames over the output atomically. On any error
// (or destruction without commit) the temporary file is removed and an existing DB is untouched.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/db_info.h"
#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

class VulnDbWriter final : public FeedSink {
 public:
  static Result<std::unique_ptr<VulnDbWriter>> create(const std::string& output_path);
  ~VulnDbWriter() override;
  VulnDbWriter(const VulnDbWriter&) = delete;
  VulnDbWriter& operator=(const VulnDbWriter&) = delete;

  Result<void> add_advisory(const AdvisoryRecord& rec) override;
  Result<void> add_vulnerability(const VulnerabilityRecord& rec) override;
  // Fast path for bulk loads (one cached statement, no per-row allocation beyond binding).
  Result<void> add_advisories(std::span<const AdvisoryRecord> recs);

  void add_source(SourceInfo source);

  // Finalises and atomically replaces the output. The writer is finished afterwards.
  Result<DbInfo> commit(std::chrono::system_clock::time_point built_at);
  // Drops the temporary file; the output is untouched.
  void abort();

  const std::string& temp_path() const { return temp_path_; }

 private:
  struct Impl;
  explicit VulnDbWriter(std::unique_ptr<Impl> impl, std::string output, std::string temp);
  std::unique_ptr<Impl> impl_;
  std::string output_path_;
  std::string temp_path_;
  std::vector<SourceInfo> sources_;
  bool finished_ = false;
};

}  // namespace scangate::vulndb
