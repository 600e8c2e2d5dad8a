#include "scanner/vulndb/writer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "scanner/core/fs_util.h"
#include "scanner/core/time_util.h"
#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/schema.h"
#include "scanner/vulndb/sqlite_util.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

std::string ranges_to_json(const std::vector<OsvRange>& ranges) {
  if (ranges.empty()) return {};
  Json arr = Json::array();
  for (const auto& r : ranges) {
    Json events = Json::array();
    for (const auto& e : r.events) events.push_back(Json{{to_string(e.type), e.version}});
    arr.push_back(Json{{"type", r.type}, {"events", std::move(events)}});
  }
  return detail::dump_compact(arr);
}

std::string strings_to_json(const std::vector<std::string>& v) {
  if (v.empty()) return {};
  return detail::dump_compact(Json(v));
}

std::string refs_to_json(const std::vector<VulnReference>& refs) {
  if (refs.empty()) return {};
  Json arr = Json::array();
  for (const auto& r : refs) arr.push_back(Json{{"url", r.url}, {"source", r.source}});
  return detail::dump_compact(arr);
}

std::string cvss_to_json(const NvdMetrics& m) {
  Json arr = Json::array();
  auto add = [&](const char* key, const std::vector<CvssMetric>& list) {
    for (const auto& c : list)
      arr.push_back(Json{{"metric", key},
                         {"source", c.source},
                         {"type", c.type},
                         {"version", c.version},
                         {"vector", c.vector},
                         {"score", c.score},
                         {"severity", c.base_severity}});
  };
  add("cvssMetricV31", m.v31);
  add("cvssMetricV30", m.v30);
  add("cvssMetricV2", m.v2);
  if (arr.empty()) return {};
  return detail::dump_compact(arr);
}

std::string primary_url_for(const std::string& id) {
  if (id.rfind("CVE-", 0) == 0) return "https://nvd.nist.gov/vuln/detail/" + id;
  if (id.rfind("GHSA-", 0) == 0) return "https://github.com/advisories/" + id;
  return "https://osv.dev/vulnerability/" + id;
}

std::string sev_text(const std::optional<Severity>& s) { return s ? to_string(*s) : ""; }

std::optional<Severity> sev_from_text(const std::string& s) {
  if (s.empty() || s == "UNKNOWN") return std::nullopt;
  return parse_severity_label(s);
}

constexpr const char* kInsertAdvisory =
    "INSERT INTO advisory(vuln_id, ecosystem, release, package, kind, status, fixed_version, ranges_json, "
    "versions_json, cve_id, vendor_severity, vendor_source, vendor_is_fallback, ghsa_severity) "
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";

constexpr const char* kUpsertNvd =
    "INSERT INTO vulnerability(vuln_id, cve_id, description, cvss_json, references_json, published, "
    "last_modified, primary_url, has_nvd, nvd_severity, nvd_basis) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,1,?9,?10) "
    "ON CONFLICT(vuln_id) DO UPDATE SET "
    "cve_id=excluded.cve_id, "
    "description=CASE WHEN excluded.description<>'' THEN excluded.description ELSE description END, "
    "cvss_json=excluded.cvss_json, "
    "references_json=CASE WHEN excluded.references_json<>'' THEN excluded.references_json ELSE references_json END, "
    "published=CASE WHEN excluded.published<>'' THEN excluded.published ELSE published END, "
    "last_modified=CASE WHEN excluded.last_modified<>'' THEN excluded.last_modified ELSE last_modified END, "
    "has_nvd=1, nvd_severity=excluded.nvd_severity, nvd_basis=excluded.nvd_basis";

constexpr const char* kUpsertOsv =
    "INSERT INTO vulnerability(vuln_id, cve_id, title, description, references_json, aliases_json, published, "
    "last_modified, primary_url, ghsa_severity, feed_severity, feed_source) "
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) "
    "ON CONFLICT(vuln_id) DO UPDATE SET "
    "cve_id=CASE WHEN cve_id='' THEN excluded.cve_id ELSE cve_id END, "
    "title=CASE WHEN title='' THEN excluded.title ELSE title END, "
    "description=CASE WHEN description='' THEN excluded.description ELSE description END, "
    "references_json=CASE WHEN references_json='' THEN excluded.references_json ELSE references_json END, "
    "aliases_json=CASE WHEN aliases_json='' THEN excluded.aliases_json ELSE aliases_json END, "
    "published=CASE WHEN published='' THEN excluded.published ELSE published END, "
    "last_modified=CASE WHEN last_modified='' THEN excluded.last_modified ELSE last_modified END, "
    "ghsa_severity=CASE WHEN ghsa_severity='' THEN excluded.ghsa_severity ELSE ghsa_severity END, "
    "feed_severity=CASE WHEN feed_severity='' THEN excluded.feed_severity ELSE feed_severity END, "
    "feed_source=CASE WHEN feed_source='' THEN excluded.feed_source ELSE feed_source END";

Result<void> step_done(sqlite3* db, sqlite3_stmt* s, std::string_view what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) return detail::sqlite_error(db, what);
  return Ok();
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  // Length-prefixed, so field boundaries are part of the hash.
  void field(std::string_view v) {
    std::uint64_t n = v.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    EVP_DigestUpdate(ctx_, len, sizeof len);
    EVP_DigestUpdate(ctx_, v.data(), v.size());
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
      out.push_back(kHex[md[i] >> 4]);
      out.push_back(kHex[md[i] & 15]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

Result<void> fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Error(ErrorKind::kIo, "opening " + path + " for fsync: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Error(ErrorKind::kIo, "fsync " + path + ": " + std::strerror(err));
  return Ok();
}

}  // namespace

struct VulnDbWriter::Impl {
  detail::DbHandle db;
  detail::Stmt insert_advisory, upsert_nvd, upsert_osv;
};

VulnDbWriter::VulnDbWriter(std::unique_ptr<Impl> impl, std::string output, std::string temp)
    : impl_(std::move(impl)), output_path_(std::move(output)), temp_path_(std::move(temp)) {}

VulnDbWriter::~VulnDbWriter() {
  if (!finished_) abort();
}

Result<std::unique_ptr<VulnDbWriter>> VulnDbWriter::create(const std::string& output_path) {
  if (output_path.empty()) return Error(ErrorKind::kInvalidArgument, "no output path for the vulnerability DB");
  // Built beside the file the path names after its symlinks (then renamed over it, the links kept),
  // or, when the path is a device, a FIFO or /dev/stdout, in $TMPDIR (then copied into it).
  auto target = fs::resolve_output(output_path);
  if (!target.ok()) return target.error();
  std::string tmpl = fs::output_temp_template(*target);
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0)
    return Error(ErrorKind::kIo, "cannot create a temporary file next to " + output_path + ": " + std::strerror(errno) +
                                     " (is the folder writable?)");
  ::close(fd);
  std::string temp(buf.data());

  auto impl = std::make_unique<Impl>();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(temp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);
  // From here on the writer owns the temp file and removes it on failure.
  std::unique_ptr<VulnDbWriter> w(new VulnDbWriter(std::move(impl), output_path, temp));
  if (rc != SQLITE_OK) return detail::sqlite_error(raw, "opening " + temp);
  sqlite3* db = w->impl_->db.get();
  std::string pragmas =
      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA application_id=" +
      std::to_string(kApplicationId) + "; PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";";
  SG_TRY(detail::exec(db, pragmas.c_str()));
  SG_TRY(detail::exec(db, "BEGIN"));
  SG_TRY(detail::exec(db, kSchemaSql));
  auto a = detail::prepare(db, kInsertAdvisory);
  if (!a) return a.error();
  auto n = detail::prepare(db, kUpsertNvd);
  if (!n) return n.error();
  auto o = detail::prepare(db, kUpsertOsv);
  if (!o) return o.error();
  w->impl_->insert_advisory = std::move(a.value());
  w->impl_->upsert_nvd = std::move(n.value());
  w->impl_->upsert_osv = std::move(o.value());
  return w;
}

void VulnDbWriter::abort() {
  if (impl_) {
    impl_->insert_advisory.reset();
    impl_->upsert_nvd.reset();
    impl_->upsert_osv.reset();
    impl_->db.reset();
  }
  if (!temp_path_.empty()) {
    std::remove(temp_path_.c_str());
    std::remove((temp_path_ + "-journal").c_str());
  }
  finished_ = true;
}

Result<void> VulnDbWriter::add_advisory(const AdvisoryRecord& rec) {
  if (finished_) return Error(ErrorKind::kInternal, "vulnerability DB writer already finished");
  const Advisory& a = rec.advisory;
  sqlite3_stmt* s = impl_->insert_advisory.get();
  detail::bind_text(s, 1, a.vuln_id);
  detail::bind_text(s, 2, a.ecosystem);
  detail::bind_text(s, 3, a.release);
  detail::bind_text(s, 4, a.package);
  detail::bind_text(s, 5, to_string(a.kind));
  detail::bind_text(s, 6, to_string(a.status));
  detail::bind_text(s, 7, a.fixed_version);
  detail::bind_text(s, 8, ranges_to_json(a.ranges));
  detail::bind_text(s, 9, strings_to_json(a.versions));
  detail::bind_text(s, 10, a.cve_id);
  detail::bind_text(s, 11, sev_text(a.vendor_severity));
  detail::bind_text(s, 12, a.vendor_severity ? rec.feed_severity_source : std::string());
  sqlite3_bind_int(s, 13, rec.vendor_is_fallback ? 1 : 0);
  detail::bind_text(s, 14, sev_text(rec.ghsa_severity));
  return step_done(impl_->db.get(), s, "inserting advisory");
}

Result<void> VulnDbWriter::add_advisories(std::span<const AdvisoryRecord> recs) {
  for (const auto& r : recs) SG_TRY(add_advisory(r));
  return Ok();
}

Result<void> VulnDbWriter::add_vulnerability(const VulnerabilityRecord& rec) {
  if (finished_) return Error(ErrorKind::kInternal, "vulnerability DB writer already finished");
  if (rec.vuln_id.empty()) return Error(ErrorKind::kFormat, "vulnerability record without an id");
  if (rec.origin == VulnerabilityRecord::Origin::kNvd) {
    sqlite3_stmt* s = impl_->upsert_nvd.get();
    ResolvedSeverity nvd = resolve_nvd_severity(rec.metrics);
    detail::bind_text(s, 1, rec.vuln_id);
    detail::bind_text(s, 2, rec.cve_id.empty() ? rec.vuln_id : rec.cve_id);
    detail::bind_text(s, 3, rec.description);
    detail::bind_text(s, 4, cvss_to_json(rec.metrics));
    detail::bind_text(s, 5, refs_to_json(rec.references));
    detail::bind_text(s, 6, rec.published);
    detail::bind_text(s, 7, rec.last_modified);
    detail::bind_text(s, 8, primary_url_for(rec.vuln_id));
    detail::bind_text(s, 9, nvd.severity == Severity::kUnknown ? "" : to_string(nvd.severity));
    detail::bind_text(s, 10, nvd.basis);
    return step_done(impl_->db.get(), s, "inserting NVD record " + rec.vuln_id);
  }
  sqlite3_stmt* s = impl_->upsert_osv.get();
  detail::bind_text(s, 1, rec.vuln_id);
  detail::bind_text(s, 2, rec.cve_id);
  detail::bind_text(s, 3, rec.title);
  detail::bind_text(s, 4, rec.description);
  detail::bind_text(s, 5, refs_to_json(rec.references));
  detail::bind_text(s, 6, strings_to_json(rec.aliases));
  detail::bind_text(s, 7, rec.published);
  detail::bind_text(s, 8, rec.last_modified);
  detail::bind_text(s, 9, primary_url_for(rec.vuln_id));
  detail::bind_text(s, 10, sev_text(rec.ghsa_severity));
  detail::bind_text(s, 11, sev_text(rec.feed_severity));
  detail::bind_text(s, 12, rec.feed_severity ? rec.feed_severity_source : std::string());
  return step_done(impl_->db.get(), s, "inserting OSV record " + rec.vuln_id);
}

void VulnDbWriter::add_source(SourceInfo source) { sources_.push_back(std::move(source)); }

namespace {

// Resolves severities of one table through a temp table (no updates while a SELECT runs).
Result<void> resolve_table(sqlite3* db, const char* select_sql, const char* temp_name, const char* key_type,
                           const char* update_sql, bool advisory_rows) {
  std::string create = std::string("CREATE TEMP TABLE ") + temp_name + "(k " + key_type +
                       " PRIMARY KEY, severity TEXT, source TEXT, basis TEXT)";
  SG_TRY(detail::exec(db, create.c_str()));
  auto sel = detail::prepare(db, select_sql);
  if (!sel) return sel.error();
  auto ins = detail::prepare(db, std::string("INSERT INTO ") + temp_name + " VALUES(?1,?2,?3,?4)");
  if (!ins) return ins.error();
  sqlite3_stmt* s = sel.value().get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    // Columns: key, feed_sev, feed_src, vendor_is_fallback, ghsa_sev, has_nvd, nvd_sev, nvd_basis
    SeverityInputs in;
    auto vendor = sev_from_text(detail::column_text(s, 1));
    std::string vendor_src = detail::column_text(s, 2);
    bool fallback = sqlite3_column_int(s, 3) != 0;
    if (fallback) {
      in.fallback = vendor;
      in.fallback_source = vendor_src;
    } else {
      in.feed = vendor;
      in.feed_source = vendor_src;
    }
    in.ghsa = sev_from_text(detail::column_text(s, 4));
    if (sqlite3_column_int(s, 5) != 0) {
      ResolvedSeverity nvd;
      auto ns = sev_from_text(detail::column_text(s, 6));
      nvd.severity = ns.value_or(Severity::kUnknown);
      nvd.source = ns ? "nvd" : "";
      nvd.basis = detail::column_text(s, 7);
      in.nvd = nvd;
    }
    ResolvedSeverity r = resolve_severity(in);
    sqlite3_stmt* is = ins.value().get();
    if (advisory_rows)
      sqlite3_bind_int64(is, 1, sqlite3_column_int64(s, 0));
    else
      detail::bind_text(is, 1, detail::column_text(s, 0));
    detail::bind_text(is, 2, to_string(r.severity));
    detail::bind_text(is, 3, r.source);
    detail::bind_text(is, 4, r.basis);
    SG_TRY(step_done(db, is, "resolving severity"));
  }
  if (rc != SQLITE_DONE) return detail::sqlite_error(db, "resolving severity");
  sel.value().reset();
  ins.value().reset();
  SG_TRY(detail::exec(db, update_sql));
  std::string drop = std::string("DROP TABLE ") + temp_name;
  return detail::exec(db, drop.c_str());
}

Result<std::string> content_revision(sqlite3* db) {
  Sha256 h;
  h.field("scangate-vulndb");
  h.field(std::to_string(kSchemaVersion));
  struct Q {
    const char* tag;
    const char* sql;
  };
  const Q queries[] = {
      {"advisory",
       "SELECT vuln_id, ecosystem, release, package, kind, status, fixed_version, ranges_json, versions_json, cve_id, "
       "vendor_severity, severity, severity_source FROM advisory ORDER BY ecosystem, release, package, vuln_id, kind, "
       "fixed_version, status, ranges_json, versions_json"},
      {"vulnerability",
       "SELECT vuln_id, cve_id, title, description, cvss_json, references_json, aliases_json, published, "
       "last_modified, primary_url, severity, severity_source FROM vulnerability ORDER BY vuln_id"},
  };
  for (const Q& q : queries) {
    h.field(q.tag);
    auto st = detail::prepare(db, q.sql);
    if (!st) return st.error();
    sqlite3_stmt* s = st.value().get();
    int cols = sqlite3_column_count(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      h.field("row");
      for (int i = 0; i < cols; ++i) h.field(detail::column_text(s, i));
    }
    if (rc != SQLITE_DONE) return detail::sqlite_error(db, "computing revision");
  }
  return "sha256:" + h.hex();
}

Result<std::size_t> count(sqlite3* db, const char* sql) {
  auto st = detail::prepare(db, sql);
  if (!st) return st.error();
  if (sqlite3_step(st.value().get()) != SQLITE_ROW) return detail::sqlite_error(db, "counting");
  return static_cast<std::size_t>(sqlite3_column_int64(st.value().get(), 0));
}

}  // namespace

Result<DbInfo> VulnDbWriter::commit(std::chrono::system_clock::time_point built_at) {
  if (finished_) return Error(ErrorKind::kInternal, "vulnerability DB writer already finished");
  auto fail = [this](const Error& e) {
    abort();
    return e.wrap("building " + output_path_);
  };
  sqlite3* db = impl_->db.get();
  impl_->insert_advisory.reset();
  impl_->upsert_nvd.reset();
  impl_->upsert_osv.reset();

  // The same advisory from two inputs (main + community, a record in two exports) is kept once.
  if (auto r = detail::exec(db,
                            "DELETE FROM advisory WHERE id NOT IN (SELECT MIN(id) FROM advisory GROUP BY ecosystem, "
                            "release, package, vuln_id, kind, fixed_version, status)");
      !r)
    return fail(r.error());

  if (auto r = resolve_table(
          db,
          "SELECT v.vuln_id, v.feed_severity, v.feed_source, 0, v.ghsa_severity, COALESCE(n.has_nvd, 0), "
          "n.nvd_severity, n.nvd_basis FROM vulnerability v LEFT JOIN vulnerability n "
          "ON n.vuln_id = v.cve_id AND n.has_nvd = 1",
          "resolved_v", "TEXT",
          "UPDATE vulnerability SET severity=r.severity, severity_source=r.source, severity_basis=r.basis "
          "FROM resolved_v AS r WHERE r.k = vulnerability.vuln_id",
          false);
      !r)
    return fail(r.error());
  if (auto r =
          resolve_table(db,
                        "SELECT a.id, a.vendor_severity, a.vendor_source, a.vendor_is_fallback, a.ghsa_severity, "
                        "COALESCE(n.has_nvd, 0), n.nvd_severity, n.nvd_basis FROM advisory a LEFT JOIN vulnerability n "
                        "ON a.cve_id <> '' AND n.vuln_id = a.cve_id AND n.has_nvd = 1",
                        "resolved_a", "INTEGER",
                        "UPDATE advisory SET severity=r.severity, severity_source=r.source, severity_basis=r.basis "
                        "FROM resolved_a AS r WHERE r.k = advisory.id",
                        true);
      !r)
    return fail(r.error());

  if (auto r = detail::exec(db, kIndexSql); !r) return fail(r.error());

  DbInfo info;
  info.path = output_path_;
  info.schema_version = kSchemaVersion;
  info.built_at = format_rfc3339(built_at);
  info.sources = sources_;
  auto rev = content_revision(db);
  if (!rev) return fail(rev.error());
  info.revision = rev.value();
  auto na = count(db, "SELECT COUNT(*) FROM advisory");
  if (!na) return fail(na.error());
  info.advisories = na.value();
  auto nv = count(db, "SELECT COUNT(*) FROM vulnerability");
  if (!nv) return fail(nv.error());
  info.vulnerabilities = nv.value();
  {
    auto st = detail::prepare(db, "SELECT ecosystem, COUNT(*) FROM advisory GROUP BY ecosystem");
    if (!st) return fail(st.error());
    while (sqlite3_step(st.value().get()) == SQLITE_ROW)
      info.advisories_by_ecosystem[detail::column_text(st.value().get(), 0)] =
          static_cast<std::size_t>(sqlite3_column_int64(st.value().get(), 1));
  }
  {
    auto st = detail::prepare(db, "INSERT INTO meta(key, value) VALUES(?1, ?2)");
    if (!st) return fail(st.error());
    const std::pair<const char*, std::string> rows[] = {
        {"schema_version", std::to_string(kSchemaVersion)},
        {"built_at", info.built_at},
        {"revision", info.revision},
        {"sources", detail::sources_to_json(info.sources)},
        {"counts", detail::counts_to_json(info)},
    };
    for (const auto& [k, v] : rows) {
      detail::bind_text(st.value().get(), 1, k);
      detail::bind_text(st.value().get(), 2, v);
      if (auto r = step_done(db, st.value().get(), "writing meta"); !r) return fail(r.error());
    }
  }
  if (auto r = detail::exec(db, "COMMIT"); !r) return fail(r.error());
  if (auto r = detail::exec(db, "ANALYZE"); !r) return fail(r.error());
  if (sqlite3_close(impl_->db.release()) != SQLITE_OK)
    return fail(Error(ErrorKind::kIo, "closing " + temp_path_ + " failed"));

  if (auto r = fsync_path(temp_path_, false); !r) return fail(r.error());
  if (::chmod(temp_path_.c_str(), 0644) != 0)
    return fail(Error(ErrorKind::kIo, "chmod " + temp_path_ + ": " + std::strerror(errno)));
  auto target = fs::resolve_output(output_path_);
  if (!target.ok()) return fail(target.error());
  finished_ = true;  // install_output removes the temporary file whatever happens
  if (auto r = fs::install_output(temp_path_, *target); !r.ok()) return r.error().wrap("building " + output_path_);
  return info;
}

}  // namespace scangate::vulndb
