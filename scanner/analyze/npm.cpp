// Installed npm packages: node_modules/NAME/package.json and node_modules/@SCOPE/NAME/
// package.json (the package.json of a project itself, or of a package's test fixtures,
// is not an installed package). name and version are required (a package.json without
// them is skipped with a warning); licence from "license" (a string, or the deprecated
// {"type": ...} object) or the deprecated "licenses" array of strings or objects.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "scanner/analyze/analyzer.h"
#include "scanner/analyze/text.h"
#include "scanner/core/json_depth.h"

namespace scangate {
namespace {

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

void add_license(const nlohmann::json& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    std::string s(text::trim(v.get<std::string>()));
    if (!s.empty()) out.push_back(s);
  } else if (v.is_object()) {
    auto t = v.find("type");
    if (t != v.end() && t->is_string()) add_license(*t, out);
  }
}

// A package.json is a flat record; one nested deeper than this is not a package's manifest.
// The parser needs no stack per level, but the parsed value costs about 80 bytes of heap per
// level: a 32 MiB file of '[' would take gigabytes, 200,000 levels some 16 MB.
constexpr size_t kMaxJsonDepth = 200'000;

class NpmAnalyzer : public Analyzer {
 public:
  std::string_view type() const override { return "npm"; }
  int version() const override { return 1; }
  bool required(std::string_view path) const override {
    auto parts = split_path(path);
    size_t n = parts.size();
    if (n < 3 || parts[n - 1] != "package.json") return false;
    const auto& pkg = parts[n - 2];
    if (pkg.empty() || pkg.front() == '@' || pkg.front() == '.') return false;
    if (parts[n - 3] == "node_modules") return true;
    return n >= 4 && parts[n - 3].size() > 1 && parts[n - 3].front() == '@' && parts[n - 4] == "node_modules";
  }

  Result<AnalysisResult> analyze(const AnalysisInput& in) const override {
    AnalysisResult r;
    nlohmann::json j;
    if (json_nesting(in.content, kMaxJsonDepth) > kMaxJsonDepth) {
      return Error(ErrorKind::kFormat, in.path + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                           " levels; not a package record");
    }
    try {
      j = nlohmann::json::parse(in.content.begin(), in.content.end());
    } catch (const nlohmann::json::exception& e) {
      return Error(ErrorKind::kFormat, in.path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) return Error(ErrorKind::kFormat, in.path + ": not a JSON object");
    auto str = [&](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string name = str("name"), version = str("version");
    if (name.empty() || version.empty()) {
      r.warnings.push_back(in.path + " has no " + std::string(name.empty() ? "name" : "version") +
                           "; not an installed package record, skipped");
      return r;
    }
    Package p;
    p.type = "npm";
    p.name = name;
    p.version = version;
    p.src_name = name;
    p.src_version = version;
    if (auto it = j.find("license"); it != j.end()) add_license(*it, p.licenses);
    if (p.licenses.empty()) {
      if (auto it = j.find("licenses"); it != j.end() && it->is_array()) {
        for (const auto& l : *it) add_license(l, p.licenses);
      }
    }
    p.file_path = in.path;
    r.packages.push_back(std::move(p));
    return r;
  }
};

}  // namespace

std::unique_ptr<Analyzer> make_npm_analyzer() { return std::make_unique<NpmAnalyzer>(); }

}  // namespace scangate
