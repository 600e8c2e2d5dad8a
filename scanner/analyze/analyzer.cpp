#include "scanner/analyze/analyzer.h"

#include <algorithm>

namespace scangate {

Result<void> AnalyzerRegistry::add(std::unique_ptr<Analyzer> a) {
  if (!a) return Error(ErrorKind::kInvalidArgument, "cannot register a null analyzer");
  if (find(a->type()) != nullptr) {
    return Error(ErrorKind::kInvalidArgument,
                 "analyzer type '" + std::string(a->type()) + "' is already registered; each type registers once");
  }
  analyzers_.push_back(std::move(a));
  return Ok();
}

const Analyzer* AnalyzerRegistry::find(std::string_view type) const {
  for (const auto& a : analyzers_)
    if (a->type() == type) return a.get();
  return nullptr;
}

bool AnalyzerRegistry::any_required(std::string_view path) const {
  return std::any_of(analyzers_.begin(), analyzers_.end(), [&](const auto& a) { return a->required(path); });
}

bool AnalyzerRegistry::any_essential(std::string_view path) const {
  return std::any_of(analyzers_.begin(), analyzers_.end(),
                     [&](const auto& a) { return a->essential() && a->required(path); });
}

std::string AnalyzerRegistry::versions_key() const {
  std::vector<std::string> parts;
  for (const auto& a : analyzers_) parts.push_back(std::string(a->type()) + ":" + std::to_string(a->version()));
  std::sort(parts.begin(), parts.end());  // independent of registration order
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ",";
    out += p;
  }
  return out;
}

AnalyzerRegistry AnalyzerRegistry::builtin() {
  AnalyzerRegistry r;
  // The five types are distinct, so these adds cannot fail.
  (void)r.add(make_os_release_analyzer());
  (void)r.add(make_apk_analyzer());
  (void)r.add(make_dpkg_analyzer());
  (void)r.add(make_python_analyzer());
  (void)r.add(make_npm_analyzer());
  return r;
}

}  // namespace scangate
