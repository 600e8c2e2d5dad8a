#include "scanner/match/targets.h"

#include <algorithm>
#include <map>

namespace scangate {

namespace {

struct Group {
  std::string target, klass, type;
};

Group group_for(const Package& p, const ImageMetadata& meta, const OSInfo& os) {
  if (p.type == "apk" || p.type == "deb") {
    const std::string& name = meta.reference;
    std::string fam = os.family.empty() ? (p.type == "apk" ? "alpine" : "debian") : os.family;
    return {name + " (" + fam + " " + os.name + ")", "os-pkgs", fam};
  }
  if (p.type == "pypi") return {"Python", "lang-pkgs", "python-pkg"};
  if (p.type == "npm") return {"Node.js", "lang-pkgs", "node-pkg"};
  return {p.type, "lang-pkgs", p.type};
}

int order(const std::string& klass) { return klass == "os-pkgs" ? 0 : 1; }

}  // namespace

std::vector<ScanTarget> build_targets(const ImageMetadata& meta, const Inventory& inv,
                                      const std::vector<Finding>& findings) {
  std::map<std::string, ScanTarget> by_target;
  std::vector<std::string> seen;
  auto get = [&](const Group& g) -> ScanTarget& {
    auto it = by_target.find(g.target);
    if (it == by_target.end()) {
      seen.push_back(g.target);
      it = by_target.emplace(g.target, ScanTarget{g.target, g.klass, g.type, {}, {}}).first;
    }
    return it->second;
  };
  for (const auto& p : inv.packages) get(group_for(p, meta, inv.os)).packages.push_back(p);
  for (const auto& f : findings) get(group_for(f.pkg, meta, inv.os)).findings.push_back(f);
  std::vector<ScanTarget> out;
  for (const auto& t : seen) out.push_back(std::move(by_target[t]));
  std::stable_sort(out.begin(), out.end(),
                   [](const ScanTarget& a, const ScanTarget& b) { return order(a.klass) < order(b.klass); });
  for (auto& t : out) {
    std::stable_sort(t.packages.begin(), t.packages.end(), [](const Package& a, const Package& b) {
      return std::tie(a.name, a.version, a.file_path) < std::tie(b.name, b.version, b.file_path);
    });
    std::stable_sort(t.findings.begin(), t.findings.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.pkg.name, a.pkg.version, a.vuln_id) < std::tie(b.pkg.name, b.pkg.version, b.vuln_id);
    });
  }
  return out;
}

}  // namespace scangate
