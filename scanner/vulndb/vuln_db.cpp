#include "scanner/vulndb/vuln_db.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/release.h"
#include "scanner/vulndb/schema.h"
#include "scanner/vulndb/sqlite_util.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

constexpr const char* kHint =
    "; pull a built one with `scangate db pull REGISTRY/REPOSITORY:TAG --output FILE` (or let `scangate image` pull "
    "it: --db-repository REF or $SCANGATE_DB_REPOSITORY), or build one from the upstream feeds with `scangate db "
    "update` (a few minutes; see the README)";

std::string file_uri(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out + "?immutable=1";
}

Severity severity_of(const std::string& s) { return parse_severity_label(s).value_or(Severity::kUnknown); }

Result<std::vector<OsvRange>> ranges_from_json(const std::string& text) {
  std::vector<OsvRange> out;
  if (text.empty()) return out;
  auto j = detail::parse_json(text, "advisory.ranges_json");
  if (!j) return j.error();
  if (!j.value().is_array()) return detail::type_error("advisory.ranges_json", "", "array", j.value());
  for (const Json& r : j.value()) {
    if (!r.is_object()) return detail::type_error("advisory.ranges_json", "", "object", r);
    OsvRange range;
    if (auto t = r.find("type"); t != r.end() && t->is_string()) range.type = t->get<std::string>();
    auto events = r.find("events");
    if (events == r.end() || !events->is_array()) continue;
    for (const Json& e : *events) {
      if (!e.is_object()) continue;
      for (auto t :
           {OsvEvent::Type::kIntroduced, OsvEvent::Type::kFixed, OsvEvent::Type::kLastAffected, OsvEvent::Type::kLimit})
        if (auto it = e.find(to_string(t)); it != e.end() && it->is_string())
          range.events.push_back(OsvEvent{t, it->get<std::string>()});
    }
    out.push_back(std::move(range));
  }
  return out;
}

std::vector<std::string> strings_from_json(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  auto j = detail::parse_json(text, "strings");
  if (!j || !j.value().is_array()) return out;
  for (const Json& s : j.value())
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

}  // namespace

struct VulnDb::Impl {
  detail::DbHandle db;
  detail::Stmt advisories, detail;
  mutable std::mutex mu;
};

VulnDb::VulnDb(std::unique_ptr<Impl> impl, DbInfo info) : impl_(std::move(impl)), info_(std::move(info)) {}
VulnDb::~VulnDb() = default;

Result<std::unique_ptr<VulnDb>> VulnDb::open(const std::string& path) {
  const std::string what = "vulnerability DB " + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error(ErrorKind::kNotFound, what + " does not exist" + kHint);
    return Error(ErrorKind::kIo, "cannot read " + what + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Error(ErrorKind::kInvalidArgument, what + " is not a regular file" + kHint);
  if (st.st_size == 0) return Error(ErrorKind::kFormat, what + " is empty (an interrupted copy?)" + kHint);
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error(ErrorKind::kIo, "cannot read " + what + ": " + std::strerror(errno));
    char header[16] = {};
    in.read(header, sizeof header);
    if (in.gcount() != 16 || std::memcmp(header, "SQLite format 3", 16) != 0)
      return Error(ErrorKind::kFormat, what + " is not a scangate vulnerability DB (not an SQLite file)" + kHint);
  }
  auto impl = std::make_unique<Impl>();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file_uri(path).c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) return Error(ErrorKind::kIo, "cannot open " + what + ": " + sqlite3_errmsg(raw));
  sqlite3* db = raw;
  auto corrupt = [&](const std::string& detail_msg) {
    return Error(ErrorKind::kFormat, what + " is damaged or incomplete (" + detail_msg + ")" + kHint);
  };
  if (auto r = detail::exec(db, "PRAGMA query_only=1"); !r) return corrupt(r.error().message);
  {
    auto st_app = detail::prepare(db, "PRAGMA application_id");
    if (!st_app) return corrupt(st_app.error().message);
    if (sqlite3_step(st_app.value().get()) != SQLITE_ROW) return corrupt(sqlite3_errmsg(db));
    if (sqlite3_column_int(st_app.value().get(), 0) != kApplicationId)
      return Error(ErrorKind::kFormat, what + " is an SQLite file but not a scangate vulnerability DB" + kHint);
  }
  DbInfo info;
  info.path = path;
  {
    auto meta = detail::prepare(db, "SELECT key, value FROM meta");
    if (!meta) return corrupt(meta.error().message);
    std::string sources, counts;
    int step;
    while ((step = sqlite3_step(meta.value().get())) == SQLITE_ROW) {
      std::string k = detail::column_text(meta.value().get(), 0);
      std::string v = detail::column_text(meta.value().get(), 1);
      if (k == "schema_version")
        info.schema_version = std::atoi(v.c_str());
      else if (k == "built_at")
        info.built_at = v;
      else if (k == "revision")
        info.revision = v;
      else if (k == "sources")
        sources = v;
      else if (k == "counts")
        counts = v;
    }
    if (step != SQLITE_DONE) return corrupt(sqlite3_errmsg(db));
    if (info.schema_version != kSchemaVersion)
      return Error(ErrorKind::kFormat, what + " has schema version " + std::to_string(info.schema_version) +
                                           ", this scangate reads version " + std::to_string(kSchemaVersion) + kHint);
    if (info.revision.empty()) return corrupt("no revision");
    auto s = detail::sources_from_json(sources);
    if (!s) return corrupt(s.error().message);
    info.sources = std::move(s.value());
    if (auto r = detail::counts_from_json(counts, info); !r) return corrupt(r.error().message);
  }
  auto adv = detail::prepare(db,
                             "SELECT vuln_id, kind, status, fixed_version, ranges_json, versions_json, cve_id, "
                             "vendor_severity, severity, severity_source, severity_basis, ecosystem, release, package "
                             "FROM advisory WHERE ecosystem=?1 AND release=?2 AND package=?3 ORDER BY vuln_id, id");
  if (!adv) return corrupt(adv.error().message);
  auto det = detail::prepare(db,
                             "SELECT vuln_id, title, description, severity, severity_source, severity_basis, "
                             "cvss_json, references_json, aliases_json, published, last_modified, primary_url, cve_id "
                             "FROM vulnerability WHERE vuln_id=?1");
  if (!det) return corrupt(det.error().message);
  impl->advisories = std::move(adv.value());
  impl->detail = std::move(det.value());
  return std::unique_ptr<VulnDb>(new VulnDb(std::move(impl), std::move(info)));
}

Result<std::vector<Advisory>> VulnDb::advisories(std::string_view ecosystem, std::string_view release,
                                                 std::string_view package) const {
  std::string pkg = normalize_package_name(ecosystem, package);
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->advisories.get();
  detail::bind_text(s, 1, ecosystem);
  detail::bind_text(s, 2, release);
  detail::bind_text(s, 3, pkg);
  std::vector<Advisory> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Advisory a;
    a.vuln_id = detail::column_text(s, 0);
    auto kind = parse_advisory_kind(detail::column_text(s, 1));
    auto status = parse_fix_status(detail::column_text(s, 2));
    if (!kind || !status) {
      sqlite3_reset(s);
      return Error(ErrorKind::kFormat, "vulnerability DB " + info_.path + ": advisory " + a.vuln_id +
                                           " has an unknown kind or status; rebuild the DB");
    }
    a.kind = *kind;
    a.status = *status;
    a.fixed_version = detail::column_text(s, 3);
    auto ranges = ranges_from_json(detail::column_text(s, 4));
    if (!ranges) {
      sqlite3_reset(s);
      return ranges.error().wrap("vulnerability DB " + info_.path + ": advisory " + a.vuln_id);
    }
    a.ranges = std::move(ranges.value());
    a.versions = strings_from_json(detail::column_text(s, 5));
    a.cve_id = detail::column_text(s, 6);
    a.vendor_severity = parse_severity_label(detail::column_text(s, 7));
    a.severity = severity_of(detail::column_text(s, 8));
    a.severity_source = detail::column_text(s, 9);
    a.severity_basis = detail::column_text(s, 10);
    a.ecosystem = detail::column_text(s, 11);
    a.release = detail::column_text(s, 12);
    a.package = detail::column_text(s, 13);
    out.push_back(std::move(a));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return Error(ErrorKind::kIo,
                 "vulnerability DB " + info_.path + ": look-up failed: " + sqlite3_errmsg(impl_->db.get()));
  return out;
}

Result<std::optional<VulnDetail>> VulnDb::detail(std::string_view vuln_id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->detail.get();
  detail::bind_text(s, 1, vuln_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return std::optional<VulnDetail>();
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return Error(ErrorKind::kIo,
                 "vulnerability DB " + info_.path + ": look-up failed: " + sqlite3_errmsg(impl_->db.get()));
  }
  VulnDetail d;
  d.vuln_id = detail::column_text(s, 0);
  d.title = detail::column_text(s, 1);
  d.description = detail::column_text(s, 2);
  d.severity = severity_of(detail::column_text(s, 3));
  d.severity_source = detail::column_text(s, 4);
  d.severity_basis = detail::column_text(s, 5);
  std::string cvss = detail::column_text(s, 6);
  std::string refs = detail::column_text(s, 7);
  d.aliases = strings_from_json(detail::column_text(s, 8));
  d.published = detail::column_text(s, 9);
  d.last_modified = detail::column_text(s, 10);
  d.primary_url = detail::column_text(s, 11);
  d.cve_id = detail::column_text(s, 12);
  sqlite3_reset(s);
  try {
    decode_detail_json(cvss, refs, d);
  } catch (const std::exception& e) {
    return Error(ErrorKind::kFormat, "vulnerability DB " + info_.path + ": " + d.vuln_id + ": damaged record (" +
                                         e.what() + "); rebuild the DB");
  }
  return std::optional<VulnDetail>(std::move(d));
}

void VulnDb::decode_detail_json(const std::string& cvss, const std::string& refs, VulnDetail& d) {
  if (!cvss.empty()) {
    auto j = detail::parse_json(cvss, "vulnerability.cvss_json");
    if (!j) throw std::runtime_error(j.error().message);
    for (const Json& m : j.value()) {
      CvssMetric c;
      c.source = m.value("source", std::string());
      c.type = m.value("type", std::string());
      c.version = m.value("version", std::string());
      c.vector = m.value("vector", std::string());
      c.score = m.value("score", 0.0);
      c.base_severity = m.value("severity", std::string());
      d.cvss.push_back(std::move(c));
    }
  }
  if (!refs.empty()) {
    auto j = detail::parse_json(refs, "vulnerability.references_json");
    if (!j) throw std::runtime_error(j.error().message);
    for (const Json& r : j.value())
      d.references.push_back({r.value("url", std::string()), r.value("source", std::string())});
  }
}

}  // namespace scangate::vulndb
