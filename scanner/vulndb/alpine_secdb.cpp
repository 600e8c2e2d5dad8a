#include "scanner/vulndb/alpine_secdb.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/release.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

constexpr int kMaxYamlDepth = 64;

Result<Json> yaml_to_json(const YAML::Node& n, std::string_view name, int depth) {
  if (depth > kMaxYamlDepth) return Error(ErrorKind::kFormat, std::string(name) + ": YAML nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return Json(nullptr);
    case YAML::NodeType::Scalar: return Json(n.Scalar());
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& child : n) {
        auto v = yaml_to_json(child, name, depth + 1);
        if (!v) return v.error();
        arr.push_back(std::move(v.value()));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          return Error(ErrorKind::kFormat, std::string(name) + ": line " + std::to_string(kv.first.Mark().line + 1) +
                                               ": mapping key is not a scalar");
        auto v = yaml_to_json(kv.second, name, depth + 1);
        if (!v) return v.error();
        obj[kv.first.Scalar()] = std::move(v.value());
      }
      return obj;
    }
  }
  return Json(nullptr);
}

Result<Json> parse_yaml(std::string_view text, std::string_view name) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return yaml_to_json(root, name, 0);
  } catch (const YAML::Exception& e) {
    return Error(ErrorKind::kFormat, std::string(name) + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, std::string(name) + ": " + e.what()); }
}

bool looks_like_json(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[';
  }
  return true;  // empty: let the JSON parser report it
}

// A secfixes entry is normally one id; a few carry several separated by blanks.
std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool is_cve(std::string_view id) { return id.size() > 4 && id.substr(0, 4) == "CVE-"; }

Result<ImportStats> walk(const Json& root, std::string_view name, FeedSink& sink, const ProgressFn& progress) {
  if (!root.is_object()) return detail::type_error(name, "", "object", root);
  auto distro = detail::req_string(root, "distroversion", name, "");
  if (!distro) return distro.error();
  auto release = alpine_release(distro.value());
  if (!release)
    return Error(ErrorKind::kFormat,
                 std::string(name) + ": distroversion: expected \"vX.Y\" or \"edge\", got \"" + distro.value() + "\"");
  auto repo = detail::opt_string(root, "reponame", name, "");
  if (!repo) return repo.error();
  const Json* packages = detail::member(root, "packages");
  if (!packages) return Error(ErrorKind::kFormat, std::string(name) + ": packages: missing");
  if (!packages->is_array()) return detail::type_error(name, "packages", "array", *packages);

  ImportStats stats;
  stats.files = 1;
  for (std::size_t i = 0; i < packages->size(); ++i) {
    const Json& entry = (*packages)[i];
    std::string path = detail::index_path("packages", i);
    if (!entry.is_object()) return detail::type_error(name, path, "object", entry);
    const Json* pkg = detail::member(entry, "pkg");
    if (!pkg) return Error(ErrorKind::kFormat, std::string(name) + ": " + path + ".pkg: missing");
    path += ".pkg";
    if (!pkg->is_object()) return detail::type_error(name, path, "object", *pkg);
    auto pkg_name = detail::req_string(*pkg, "name", name, path);
    if (!pkg_name) return pkg_name.error();
    if (pkg_name.value().empty())
      return Error(ErrorKind::kFormat, std::string(name) + ": " + path + ".name: empty package name");
    auto secfixes = detail::opt_object(*pkg, "secfixes", name, path);
    if (!secfixes) return secfixes.error();
    if (!secfixes.value()) continue;
    std::string sf_path = path + ".secfixes";
    for (const auto& [fixed, ids] : secfixes.value()->items()) {
      std::string key_path = sf_path + "[\"" + fixed + "\"]";
      if (ids.is_null()) continue;
      if (!ids.is_array()) return detail::type_error(name, key_path, "array", ids);
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const Json& id = ids[k];
        if (!id.is_string()) return detail::type_error(name, detail::index_path(key_path, k), "string", id);
        for (std::string& vuln_id : split_ids(id.get<std::string>())) {
          if (fixed == "0") {  // "not affected": never stored, never matches
            ++stats.skipped;
            continue;
          }
          AdvisoryRecord rec;
          Advisory& a = rec.advisory;
          a.ecosystem = "alpine";
          a.release = release.value();
          a.package = pkg_name.value();
          a.kind = AdvisoryKind::kAlpineSecdb;
          a.status = FixStatus::kFixed;
          a.fixed_version = fixed;
          a.cve_id = is_cve(vuln_id) ? vuln_id : std::string();
          a.vuln_id = std::move(vuln_id);
          SG_TRY(sink.add_advisory(rec));
          ++stats.advisories;
        }
      }
    }
  }
  if (progress)
    progress(std::string(name) + ": alpine " + release.value() + "/" + repo.value() + ": " +
             std::to_string(stats.advisories) + " advisories");
  return stats;
}

}  // namespace

Result<ImportStats> import_alpine_secdb_text(std::string_view text, std::string_view name, FeedSink& sink,
                                             const ProgressFn& progress) {
  auto root = looks_like_json(text) ? detail::parse_json(text, name) : parse_yaml(text, name);
  if (!root) return root.error();
  return walk(root.value(), name, sink, progress);
}

Result<ImportStats> import_alpine_secdb_file(const std::string& path, FeedSink& sink, const ProgressFn& progress) {
  auto text = detail::read_whole_file(path);
  if (!text) return text.error();
  return import_alpine_secdb_text(text.value(), path, sink, progress);
}

}  // namespace scangate::vulndb
