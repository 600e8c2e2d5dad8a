#include "scanner/attest/statement.h"

#include "scanner/core/json_depth.h"
#include "scanner/core/time_util.h"

namespace scangate::attest {
namespace {

using nlohmann::json;

// Reports and BOMs nest deeper than registry documents; still bounded before parsing.
constexpr size_t kMaxStatementNesting = 64;

Result<std::string> text_at(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error(ErrorKind::kFormat, where + key + ": not a string");
  return it->get<std::string>();
}

}  // namespace

bool Statement::names(const std::string& digest) const {
  for (const auto& s : subjects)
    if (s.digest == digest) return true;
  return false;
}

std::string render_statement(const Statement& s) {
  json subjects = json::array();
  for (const auto& sub : s.subjects) {
    const auto colon = sub.digest.find(':');
    subjects.push_back({{"name", sub.name}, {"digest", {{sub.digest.substr(0, colon), sub.digest.substr(colon + 1)}}}});
  }
  json j = {{"_type", s.type}, {"predicateType", s.predicate_type}, {"subject", subjects}, {"predicate", s.predicate}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Statement> parse_statement(std::string_view payload) {
  if (json_nesting(payload, kMaxStatementNesting) > kMaxStatementNesting)
    return Error(ErrorKind::kFormat,
                 "in-toto statement nests deeper than " + std::to_string(kMaxStatementNesting) + " levels");
  auto j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, "the payload is not a JSON object");
  Statement s;
  auto type = text_at(j, "_type", "statement.");
  if (!type.ok()) return type.error();
  if (*type != kStatementV01 && *type != kStatementV1)
    return Error(ErrorKind::kFormat, "the payload is not an in-toto Statement (_type \"" + type->substr(0, 80) + "\")");
  s.type = std::move(type).value();
  auto pt = text_at(j, "predicateType", "statement.");
  if (!pt.ok()) return pt.error();
  if (pt->empty()) return Error(ErrorKind::kFormat, "statement.predicateType is missing");
  s.predicate_type = std::move(pt).value();
  auto subj = j.find("subject");
  if (subj == j.end() || !subj->is_array() || subj->empty())
    return Error(ErrorKind::kFormat, "statement.subject: not a non-empty array");
  if (subj->size() > kMaxSubjects)
    return Error(ErrorKind::kLimit, "statement.subject has more than " + std::to_string(kMaxSubjects) + " entries");
  for (size_t i = 0; i < subj->size(); ++i) {
    const auto& e = (*subj)[i];
    const std::string where = "statement.subject[" + std::to_string(i) + "].";
    if (!e.is_object()) return Error(ErrorKind::kFormat, where + ": not an object");
    auto name = text_at(e, "name", where);
    if (!name.ok()) return name.error();
    auto d = e.find("digest");
    if (d == e.end() || !d->is_object()) return Error(ErrorKind::kFormat, where + "digest: not an object");
    for (auto it = d->begin(); it != d->end(); ++it) {
      if (!it.value().is_string()) return Error(ErrorKind::kFormat, where + "digest." + it.key() + ": not a string");
      s.subjects.push_back({*name, it.key() + ":" + it.value().get<std::string>()});
    }
  }
  auto pred = j.find("predicate");
  if (pred != j.end()) s.predicate = std::move(*pred);
  return s;
}

json vuln_predicate(const VulnRecord& r) {
  return {{"invocation", {{"parameters", nullptr}, {"uri", ""}, {"event_id", ""}, {"builder.id", ""}}},
          {"scanner",
           {{"uri", r.scanner_uri},
            {"version", r.scanner_version},
            {"db", {{"uri", r.db_uri}, {"version", r.db_version}}},
            {"result", r.result}}},
          {"metadata", {{"scanStartedOn", r.started_on}, {"scanFinishedOn", r.finished_on}}}};
}

void bind_sbom(json& vuln_predicate, const std::string& sbom_payload_digest) {
  vuln_predicate["scangate"] = {{"sbom", sbom_payload_digest}};
}

std::string bound_sbom(const json& p) {
  if (!p.is_object()) return {};
  auto s = p.find("scangate");
  if (s == p.end() || !s->is_object()) return {};
  auto d = s->find("sbom");
  return d != s->end() && d->is_string() ? d->get<std::string>() : std::string();
}

Result<VulnRecord> read_vuln_predicate(const json& p) {
  if (!p.is_object()) return Error(ErrorKind::kFormat, "predicate: not an object");
  VulnRecord r;
  auto scanner = p.find("scanner");
  if (scanner == p.end() || !scanner->is_object()) return Error(ErrorKind::kFormat, "predicate.scanner: missing");
  auto uri = text_at(*scanner, "uri", "predicate.scanner.");
  if (!uri.ok()) return uri.error();
  r.scanner_uri = std::move(uri).value();
  auto version = text_at(*scanner, "version", "predicate.scanner.");
  if (!version.ok()) return version.error();
  r.scanner_version = std::move(version).value();
  if (auto db = scanner->find("db"); db != scanner->end() && db->is_object()) {
    auto du = text_at(*db, "uri", "predicate.scanner.db.");
    auto dv = text_at(*db, "version", "predicate.scanner.db.");
    if (!du.ok()) return du.error();
    if (!dv.ok()) return dv.error();
    r.db_uri = std::move(du).value();
    r.db_version = std::move(dv).value();
  }
  auto result = scanner->find("result");
  if (result == scanner->end() || !result->is_object())
    return Error(ErrorKind::kFormat, "predicate.scanner.result: not a report object");
  r.result = *result;
  auto meta = p.find("metadata");
  if (meta == p.end() || !meta->is_object()) return Error(ErrorKind::kFormat, "predicate.metadata: missing");
  auto started = text_at(*meta, "scanStartedOn", "predicate.metadata.");
  auto finished = text_at(*meta, "scanFinishedOn", "predicate.metadata.");
  if (!started.ok()) return started.error();
  if (!finished.ok()) return finished.error();
  r.started_on = std::move(started).value();
  r.finished_on = std::move(finished).value();
  auto t = parse_rfc3339(r.finished_on);
  if (!t) return Error(ErrorKind::kFormat, "predicate.metadata.scanFinishedOn: not an RFC 3339 time");
  r.finished = *t;
  return r;
}

}  // namespace scangate::attest
