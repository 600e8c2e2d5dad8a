// Feed values are untrusted input: one check every importer's output passes through before it
// reaches the DB (build_db wraps the writer in a ValidatingSink), so a record with a 100 MB name,
// a CVSS score of 1e308 or -5, or a control character in an id is skipped, counted and named in
// a warning instead of being stored. Limits (bytes):
//
//   ids (vuln_id, cve_id, aliases)               1..128, printable ASCII without spaces
//   ecosystem, release                            ..64 (ecosystem non-empty), no control chars
//   package name                                  1..256, no control chars
//   versions (fixed, range events, versions[])    ..256 each, no control chars; <= 100000 entries
//   ranges                                        <= 1000 ranges, <= 10000 events in all
//   title                                         ..4096, no NUL
//   description                                   ..65536, no NUL
//   references                                    <= 10000; url 1..2048 printable ASCII, no spaces
//   dates (published, last_modified)              ..64, no control chars
//   CVSS metric                                   score finite and within 0..10; vector ..256 of
//                                                 A-Z a-z 0-9 : / . ( ) _ -; version ..16
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

struct FeedLimits {
  static constexpr std::size_t kId = 128;
  static constexpr std::size_t kEcosystem = 64;
  static constexpr std::size_t kPackage = 256;
  static constexpr std::size_t kVersion = 256;
  static constexpr std::size_t kVersions = 100000;
  static constexpr std::size_t kRanges = 1000;
  static constexpr std::size_t kEvents = 10000;
  static constexpr std::size_t kTitle = 4096;
  static constexpr std::size_t kDescription = 65536;
  static constexpr std::size_t kReferences = 10000;
  static constexpr std::size_t kUrl = 2048;
  static constexpr std::size_t kShortText = 64;  // dates, severity labels, metric types
  static constexpr std::size_t kSource = 256;    // CVSS metric source, reference source
  static constexpr std::size_t kCvssVector = 256;
};

// Why the record must not be stored ("cvssMetricV31[0].baseScore -5 is outside 0..10"), or
// nullopt when it is fine.
std::optional<std::string> invalid_reason(const AdvisoryRecord& rec);
std::optional<std::string> invalid_reason(const VulnerabilityRecord& rec);

// A feed value made safe to print in one line: control and non-ASCII bytes escaped (\xHH),
// cut after `max` bytes with the original length noted.
std::string printable_excerpt(std::string_view s, std::size_t max = 64);

// Forwards valid records to `inner`; skips invalid ones, counts them and reports each (up to
// `max_warnings`, then one summary line from finish()) through `warn` as
//   "<feed>: skipped invalid record <id>: <reason>".
class ValidatingSink final : public FeedSink {
 public:
  ValidatingSink(FeedSink& inner, std::string feed, ProgressFn warn, std::size_t max_warnings = 20)
      : inner_(inner), feed_(std::move(feed)), warn_(std::move(warn)), max_warnings_(max_warnings) {}
  Result<void> add_advisory(const AdvisoryRecord& rec) override;
  Result<void> add_vulnerability(const VulnerabilityRecord& rec) override;

  std::size_t invalid_advisories() const { return invalid_advisories_; }
  std::size_t invalid_vulnerabilities() const { return invalid_vulnerabilities_; }
  // Moves the invalid rows out of the importer's counts (which count rows handed to a sink) into
  // stats.invalid, and reports how many warnings were not printed.
  void finish(ImportStats& stats);

 private:
  void skipped(const std::string& id, const std::string& reason);
  FeedSink& inner_;
  std::string feed_;
  ProgressFn warn_;
  std::size_t max_warnings_;
  std::size_t warned_ = 0;
  std::size_t invalid_advisories_ = 0;
  std::size_t invalid_vulnerabilities_ = 0;
};

}  // namespace scangate::vulndb
