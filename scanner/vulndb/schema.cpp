#include "scanner/vulndb/schema.h"

namespace scangate::vulndb {

const char* const kSchemaSql = R"SQL(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per (vulnerability, ecosystem release, source package, feed).
CREATE TABLE advisory(
  id              INTEGER PRIMARY KEY,
  vuln_id         TEXT NOT NULL,
  ecosystem       TEXT NOT NULL,            -- alpine | debian | pypi | npm
  release         TEXT NOT NULL,            -- 3.20 | 12 | unstable | '' (language ecosystems)
  package         TEXT NOT NULL,            -- source package / normalised name
  kind            TEXT NOT NULL,            -- alpine-secdb | debian-tracker | osv
  status          TEXT NOT NULL,            -- fixed | affected | will_not_fix | fix_deferred
  fixed_version   TEXT NOT NULL DEFAULT '',
  ranges_json     TEXT NOT NULL DEFAULT '', -- OSV: [{"type":"ECOSYSTEM","events":[{"introduced":"0"},...]}]
  versions_json   TEXT NOT NULL DEFAULT '', -- OSV: ["1.0.0", ...]
  cve_id          TEXT NOT NULL DEFAULT '', -- key into vulnerability for NVD severity
  vendor_severity TEXT NOT NULL DEFAULT '', -- the feed's own (Debian urgency, OSV label)
  vendor_source   TEXT NOT NULL DEFAULT '',
  vendor_is_fallback INTEGER NOT NULL DEFAULT 0,
  ghsa_severity   TEXT NOT NULL DEFAULT '',
  severity        TEXT NOT NULL DEFAULT 'UNKNOWN',  -- resolved at build time
  severity_source TEXT NOT NULL DEFAULT '',
  severity_basis  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE vulnerability(
  vuln_id         TEXT PRIMARY KEY,
  cve_id          TEXT NOT NULL DEFAULT '',
  title           TEXT NOT NULL DEFAULT '',
  description     TEXT NOT NULL DEFAULT '',
  cvss_json       TEXT NOT NULL DEFAULT '',
  references_json TEXT NOT NULL DEFAULT '',
  aliases_json    TEXT NOT NULL DEFAULT '',
  published       TEXT NOT NULL DEFAULT '',
  last_modified   TEXT NOT NULL DEFAULT '',
  primary_url     TEXT NOT NULL DEFAULT '',
  has_nvd         INTEGER NOT NULL DEFAULT 0,
  nvd_severity    TEXT NOT NULL DEFAULT '',
  nvd_basis       TEXT NOT NULL DEFAULT '',
  ghsa_severity   TEXT NOT NULL DEFAULT '',
  feed_severity   TEXT NOT NULL DEFAULT '',
  feed_source     TEXT NOT NULL DEFAULT '',
  severity        TEXT NOT NULL DEFAULT 'UNKNOWN',
  severity_source TEXT NOT NULL DEFAULT '',
  severity_basis  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)SQL";

const char* const kIndexSql = R"SQL(
CREATE INDEX advisory_lookup ON advisory(ecosystem, release, package);
CREATE INDEX advisory_cve ON advisory(cve_id);
)SQL";

}  // namespace scangate::vulndb
