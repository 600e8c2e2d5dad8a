#include "scanner/version/vulnerable.h"

namespace scangate::version {
namespace {

// True when `installed` satisfies any of the lists' entries. Every entry is checked, so a
// malformed one is reported even when an earlier one matched (Trivy parses the whole "||" join).
Result<bool> any_satisfied(Scheme scheme, std::string_view installed, const std::vector<std::string>& first,
                           const std::vector<std::string>* second, const MatchOptions& opts) {
  bool any = false;
  for (const auto* list : {&first, second}) {
    if (list == nullptr) continue;
    for (const std::string& c : *list) {
      auto ok = satisfies(scheme, installed, c, opts);
      if (!ok.ok()) return ok.error().wrap("advisory range \"" + c + "\"");
      any = any || *ok;
    }
  }
  return any;
}

}  // namespace

Result<bool> is_vulnerable(Scheme scheme, std::string_view installed, const std::vector<std::string>& vulnerable,
                           const std::vector<std::string>& patched, const std::vector<std::string>& unaffected,
                           const MatchOptions& opts) {
  for (const auto* list : {&vulnerable, &patched}) {
    for (const std::string& c : *list) {
      if (c.empty()) return true;
    }
  }
  bool matched = false;
  if (!vulnerable.empty()) {
    auto m = any_satisfied(scheme, installed, vulnerable, nullptr, opts);
    if (!m.ok()) return m.error();
    if (!*m) return false;
    matched = true;
  }
  if (patched.empty() && unaffected.empty()) return matched;
  auto safe = any_satisfied(scheme, installed, patched, &unaffected, opts);
  if (!safe.ok()) return safe.error();
  return !*safe;
}

}  // namespace scangate::version
