// Installed Python distributions: core metadata (packaging.python.org "Core metadata
// specifications") in NAME-VER.dist-info/METADATA, NAME.egg-info/PKG-INFO, a NAME.egg-info
// file (distutils) or EGG-INFO/PKG-INFO (eggs). RFC 822 headers up to the first blank line;
// a header continues on lines that start with whitespace.
//
// Licence: License-Expression (PEP 639), else License when it is one line and not
// "UNKNOWN", else every "License :: ..." classifier's last part ("MIT License").
#include "scanner/analyze/analyzer.h"
#include "scanner/analyze/text.h"

namespace scangate {
namespace {

std::string_view parent_dir(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  std::string_view dir = path.substr(0, slash);
  size_t s2 = dir.rfind('/');
  return s2 == std::string_view::npos ? dir : dir.substr(s2 + 1);
}

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

class PythonAnalyzer : public Analyzer {
 public:
  std::string_view type() const override { return "python"; }
  int version() const override { return 1; }
  bool required(std::string_view path) const override {
    std::string_view base = base_name(path);
    std::string_view parent = parent_dir(path);
    if (base == "METADATA") return text::ends_with(parent, ".dist-info") && parent.size() > 10;
    if (base == "PKG-INFO") return (text::ends_with(parent, ".egg-info") && parent.size() > 9) || parent == "EGG-INFO";
    return text::ends_with(base, ".egg-info") && base.size() > 9;
  }

  Result<AnalysisResult> analyze(const AnalysisInput& in) const override {
    AnalysisResult r;
    std::string name, version, license, license_expr;
    bool license_multiline = false;
    std::vector<std::string> classifier_licenses;
    std::string* last = nullptr;  // the header a continuation line belongs to
    auto ls = text::lines(in.content);
    for (size_t i = 0; i < ls.size(); ++i) {
      std::string_view line = ls[i];
      if (line.empty()) break;  // end of headers; the description follows
      if (line.front() == ' ' || line.front() == '\t') {
        if (last == &license && !text::trim(line).empty()) license_multiline = true;
        continue;
      }
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        r.warnings.push_back(text::where(in.path, i + 1) + ": not a metadata header; headers end here");
        break;
      }
      std::string key = text::lower(text::trim(line.substr(0, colon)));
      std::string value(text::trim(line.substr(colon + 1)));
      last = nullptr;
      if (key == "name") {
        name = value;
      } else if (key == "version") {
        version = value;
      } else if (key == "license") {
        license = value;
        last = &license;
      } else if (key == "license-expression") {
        license_expr = value;
      } else if (key == "classifier" && text::starts_with(value, "License ::")) {
        size_t sep = value.rfind("::");
        std::string part(text::trim(std::string_view(value).substr(sep + 2)));
        if (!part.empty() && part != "OSI Approved") classifier_licenses.push_back(part);
      }
    }
    if (name.empty() || version.empty()) {
      r.warnings.push_back(in.path + " has no " + std::string(name.empty() ? "Name" : "Version") +
                           " header; not a usable distribution record, skipped");
      return r;
    }
    Package p;
    p.type = "pypi";
    p.name = name;
    p.version = version;
    p.src_name = name;
    p.src_version = version;
    if (!license_expr.empty()) {
      p.licenses.push_back(license_expr);
    } else if (!license.empty() && !license_multiline && license != "UNKNOWN") {
      p.licenses.push_back(license);
    } else {
      p.licenses = classifier_licenses;
    }
    p.file_path = in.path;
    r.packages.push_back(std::move(p));
    return r;
  }
};

}  // namespace

std::unique_ptr<Analyzer> make_python_analyzer() { return std::make_unique<PythonAnalyzer>(); }

}  // namespace scangate
