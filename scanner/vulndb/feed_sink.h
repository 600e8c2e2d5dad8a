// What importers produce. An importer parses one feed and hands rows to a FeedSink; the DB
// writer is one sink, tests use a collecting sink. Importers never touch SQLite.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/advisory.h"
#include "scanner/vulndb/severity.h"

namespace scangate::vulndb {

// One advisory row before severity resolution. advisory.severity* are ignored by the writer;
// the hints below are what resolve_severity() gets at build time.
struct AdvisoryRecord {
  Advisory advisory;
  std::optional<Severity> ghsa_severity;
  std::string feed_severity_source;  // for advisory.vendor_severity used as the feed's own severity
  bool vendor_is_fallback = false;   // Debian urgency: used only when NVD has none
};

// A vulnerability's description. NVD records own description/CVSS/references/dates; OSV
// records add title (summary), aliases and fill what NVD did not give.
struct VulnerabilityRecord {
  enum class Origin { kNvd, kOsv };
  Origin origin = Origin::kNvd;
  std::string vuln_id;
  std::string cve_id;  // for OSV: the CVE alias used to find NVD severity
  std::string title;
  std::string description;
  std::vector<VulnReference> references;
  std::vector<std::string> aliases;
  std::string published;
  std::string last_modified;
  NvdMetrics metrics;                     // NVD only
  std::optional<Severity> ghsa_severity;  // OSV GHSA records
  std::optional<Severity> feed_severity;  // OSV records' own label
  std::string feed_severity_source;
};

class FeedSink {
 public:
  virtual ~FeedSink() = default;
  virtual Result<void> add_advisory(const AdvisoryRecord& rec) = 0;
  virtual Result<void> add_vulnerability(const VulnerabilityRecord& rec) = 0;
};

// Collects everything in memory (tests; small imports).
class CollectingSink final : public FeedSink {
 public:
  Result<void> add_advisory(const AdvisoryRecord& rec) override {
    advisories.push_back(rec);
    return Ok();
  }
  Result<void> add_vulnerability(const VulnerabilityRecord& rec) override {
    vulnerabilities.push_back(rec);
    return Ok();
  }
  std::vector<AdvisoryRecord> advisories;
  std::vector<VulnerabilityRecord> vulnerabilities;
};

struct ImportStats {
  std::size_t files = 0;
  std::size_t advisories = 0;       // rows handed to the sink
  std::size_t vulnerabilities = 0;  // rows handed to the sink
  std::size_t skipped = 0;          // entries deliberately not stored ("0" keys, not-affected, ...)
  std::size_t invalid = 0;          // records refused by validation (see validate.h), never stored
  ImportStats& operator+=(const ImportStats& o) {
    files += o.files;
    advisories += o.advisories;
    vulnerabilities += o.vulnerabilities;
    skipped += o.skipped;
    invalid += o.invalid;
    return *this;
  }
};

// Progress lines ("osv all.zip: 12000 records"); the CLI prints them to stderr.
using ProgressFn = std::function<void(std::string_view message)>;

}  // namespace scangate::vulndb
