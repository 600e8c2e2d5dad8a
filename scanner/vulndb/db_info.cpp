#include "scanner/vulndb/db_info.h"

#include <sstream>

#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/vuln_db.h"

namespace scangate::vulndb {

namespace detail {

std::string sources_to_json(const std::vector<SourceInfo>& sources) {
  Json arr = Json::array();
  for (const auto& s : sources) {
    Json j{{"kind", s.kind},
           {"location", s.location},
           {"files", s.stats.files},
           {"advisories", s.stats.advisories},
           {"vulnerabilities", s.stats.vulnerabilities},
           {"skipped", s.stats.skipped}};
    if (s.stats.invalid > 0) j["invalid"] = s.stats.invalid;  // absent: none (and older DBs)
    arr.push_back(std::move(j));
  }
  return dump_compact(arr);
}

Result<std::vector<SourceInfo>> sources_from_json(const std::string& json) {
  std::vector<SourceInfo> out;
  if (json.empty()) return out;
  auto j = parse_json(json, "meta.sources");
  if (!j) return j.error();
  if (!j.value().is_array()) return type_error("meta.sources", "", "array", j.value());
  try {
    for (const Json& s : j.value()) {
      SourceInfo si;
      si.kind = s.value("kind", std::string());
      si.location = s.value("location", std::string());
      si.stats.files = s.value("files", std::size_t{0});
      si.stats.advisories = s.value("advisories", std::size_t{0});
      si.stats.vulnerabilities = s.value("vulnerabilities", std::size_t{0});
      si.stats.skipped = s.value("skipped", std::size_t{0});
      si.stats.invalid = s.value("invalid", std::size_t{0});
      out.push_back(std::move(si));
    }
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, std::string("meta.sources: ") + e.what()); }
  return out;
}

std::string counts_to_json(const DbInfo& info) {
  Json by = Json::object();
  for (const auto& [eco, n] : info.advisories_by_ecosystem) by[eco] = n;
  return dump_compact(Json{
      {"advisories", info.advisories}, {"vulnerabilities", info.vulnerabilities}, {"advisories_by_ecosystem", by}});
}

Result<void> counts_from_json(const std::string& json, DbInfo& info) {
  if (json.empty()) return Ok();
  auto j = parse_json(json, "meta.counts");
  if (!j) return j.error();
  try {
    info.advisories = j.value().value("advisories", std::size_t{0});
    info.vulnerabilities = j.value().value("vulnerabilities", std::size_t{0});
    if (auto it = j.value().find("advisories_by_ecosystem"); it != j.value().end() && it->is_object())
      for (const auto& [eco, n] : it->items()) info.advisories_by_ecosystem[eco] = n.get<std::size_t>();
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, std::string("meta.counts: ") + e.what()); }
  return Ok();
}

}  // namespace detail

Result<DbInfo> read_db_info(const std::string& path) {
  auto db = VulnDb::open(path);
  if (!db) return db.error();
  return db.value()->info();
}

std::string render_db_info(const DbInfo& info) {
  std::ostringstream out;
  out << "Path:            " << info.path << "\n";
  out << "Schema version:  " << info.schema_version << "\n";
  out << "Built at:        " << info.built_at << "\n";
  out << "Revision:        " << info.revision << "\n";
  out << "Advisories:      " << info.advisories << "\n";
  for (const auto& [eco, n] : info.advisories_by_ecosystem) out << "  " << eco << ": " << n << "\n";
  out << "Vulnerabilities: " << info.vulnerabilities << "\n";
  out << "Sources:\n";
  for (const auto& s : info.sources)
    out << "  " << s.kind << " " << s.location << " (" << s.stats.files << " files, " << s.stats.advisories
        << " advisories, " << s.stats.vulnerabilities << " records, " << s.stats.skipped << " skipped"
        << (s.stats.invalid > 0 ? ", " + std::to_string(s.stats.invalid) + " invalid" : std::string()) << ")\n";
  return out.str();
}

}  // namespace scangate::vulndb
