#include "scanner/match/matcher.h"

#include <algorithm>
#include <map>
#include <set>

#include "scanner/version/version.h"
#include "scanner/vulndb/release.h"

namespace scangate {

namespace {

using vulndb::Advisory;
using vulndb::AdvisoryKind;
using vulndb::FixStatus;
using vulndb::OsvEvent;

std::string primary_url_for(const std::string& id) {
  if (id.rfind("CVE-", 0) == 0) return "https://nvd.nist.gov/vuln/detail/" + id;
  if (id.rfind("GHSA-", 0) == 0) return "https://github.com/advisories/" + id;
  if (id.rfind("ALPINE-", 0) == 0) return "https://security.alpinelinux.org/vuln/" + id;
  if (id.rfind("DSA-", 0) == 0 || id.rfind("DLA-", 0) == 0 || id.rfind("TEMP-", 0) == 0)
    return "https://security-tracker.debian.org/tracker/" + id;
  return "https://osv.dev/vulnerability/" + id;
}

std::string cvss_source_name(const std::string& source) {
  if (source == "nvd@nist.gov") return "nvd";
  return source;
}

const char* data_source_for(AdvisoryKind k) {
  switch (k) {
    case AdvisoryKind::kAlpineSecdb: return "alpine";
    case AdvisoryKind::kDebianTracker: return "debian";
    case AdvisoryKind::kOsv: return "osv";
  }
  return "";
}

struct Driver {
  std::string ecosystem;  // DB ecosystem key
  std::string release;    // DB release key
  std::string scheme;     // version scheme
};

}  // namespace

Result<bool> osv_affected(const Advisory& adv, const std::string& scheme_name, const std::string& installed,
                          std::string& fixed) {
  auto scheme = version::scheme_for(scheme_name);
  if (!scheme.ok()) return scheme.error();
  for (const auto& v : adv.versions) {
    auto c = version::compare(*scheme, installed, v);
    if (c.ok() && *c == 0) return true;
  }
  for (const auto& range : adv.ranges) {
    // Sort events by version ("0" introduces from the beginning), then walk them.
    struct Ev {
      const OsvEvent* e;
      bool zero;
    };
    std::vector<Ev> evs;
    for (const auto& e : range.events) {
      if (e.type == OsvEvent::Type::kLimit) continue;
      bool zero = e.type == OsvEvent::Type::kIntroduced && e.version == "0";
      if (!zero && !version::valid(*scheme, e.version)) continue;  // unparsable bound: ignore that event
      evs.push_back({&e, zero});
    }
    std::stable_sort(evs.begin(), evs.end(), [&](const Ev& a, const Ev& b) {
      if (a.zero != b.zero) return a.zero;
      if (a.zero) return false;
      auto c = version::compare(*scheme, a.e->version, b.e->version);
      return c.ok() && *c < 0;
    });
    bool affected = false;
    for (const auto& ev : evs) {
      if (ev.zero) {
        affected = true;
        continue;
      }
      auto c = version::compare(*scheme, installed, ev.e->version);
      if (!c.ok()) return c.error();
      switch (ev.e->type) {
        case OsvEvent::Type::kIntroduced:
          if (*c >= 0) affected = true;
          break;
        case OsvEvent::Type::kFixed:
          if (*c >= 0)
            affected = false;
          else if (affected && fixed.empty())
            fixed = ev.e->version;
          break;
        case OsvEvent::Type::kLastAffected:
          if (*c > 0) affected = false;
          break;
        case OsvEvent::Type::kLimit: break;
      }
      if (*c < 0 && !affected) break;  // every later event is above the installed version
    }
    if (affected) return true;
    fixed.clear();
  }
  return false;
}

Result<MatchOutput> match_inventory(const Inventory& inv, const vulndb::VulnStore& store) {
  MatchOutput out;
  std::map<std::string, std::optional<vulndb::VulnDetail>> detail_cache;
  std::set<std::string> warned;

  auto driver_for = [&](const Package& p) -> std::optional<Driver> {
    if (p.type == "apk") {
      if (inv.os.family != "alpine") {
        if (warned.insert("apk-os").second)
          out.warnings.push_back("apk packages on OS '" + inv.os.family +
                                 "' are not matched: only Alpine is supported");
        return std::nullopt;
      }
      auto rel = vulndb::alpine_release(inv.os.name);
      if (!rel) {
        if (warned.insert("alpine-rel").second)
          out.warnings.push_back("Alpine version '" + inv.os.name + "' is not major.minor; apk packages not matched");
        return std::nullopt;
      }
      return Driver{"alpine", *rel, "apk"};
    }
    if (p.type == "deb") {
      if (inv.os.family != "debian") {
        if (warned.insert("deb-os").second)
          out.warnings.push_back("dpkg packages on OS '" + inv.os.family +
                                 "' are not matched: only Debian is supported in this release");
        return std::nullopt;
      }
      std::string rel = inv.os.codename.empty() ? vulndb::debian_release_for_version(inv.os.name)
                                                : vulndb::debian_release_for_codename(inv.os.codename)
                                                      .value_or(vulndb::debian_release_for_version(inv.os.name));
      return Driver{"debian", rel, "deb"};
    }
    if (p.type == "pypi") return Driver{"pypi", "", "pep440"};
    if (p.type == "npm") return Driver{"npm", "", "npm"};
    return std::nullopt;
  };

  for (const auto& p : inv.packages) {
    auto drv = driver_for(p);
    if (!drv) continue;
    auto scheme = version::scheme_for(drv->scheme);
    if (!scheme.ok()) return scheme.error();
    // OS packages match on the source package; Debian compares the source version.
    bool os_pkg = p.type == "apk" || p.type == "deb";
    std::string lookup = os_pkg ? (p.src_name.empty() ? p.name : p.src_name) : p.name;
    std::string installed = p.type == "deb" && !p.src_version.empty() ? p.src_version : p.version;
    if (!version::valid(*scheme, installed)) {
      out.warnings.push_back("skipped " + p.name + ": version '" + installed + "' is not a valid " + drv->scheme +
                             " version");
      continue;
    }
    auto advs = store.advisories(drv->ecosystem, drv->release, vulndb::normalize_package_name(drv->ecosystem, lookup));
    if (!advs.ok()) return advs.error().wrap("looking up " + lookup);
    std::set<std::string> seen_ids;
    for (const auto& adv : *advs) {
      Finding f;
      f.vuln_id = adv.vuln_id;
      bool affected = false;
      switch (adv.kind) {
        case AdvisoryKind::kAlpineSecdb:
        case AdvisoryKind::kDebianTracker: {
          if (adv.status == FixStatus::kFixed) {
            auto c = version::compare(*scheme, installed, adv.fixed_version);
            if (!c.ok()) {
              out.warnings.push_back("skipped " + adv.vuln_id + " for " + p.name + ": fixed version '" +
                                     adv.fixed_version + "' does not parse");
              continue;
            }
            affected = *c < 0;
            f.fixed_version = adv.fixed_version;
          } else {
            affected = true;
          }
          f.status = vulndb::to_string(adv.status);
          break;
        }
        case AdvisoryKind::kOsv: {
          std::string fixed;
          auto r = osv_affected(adv, drv->scheme, installed, fixed);
          if (!r.ok()) {
            out.warnings.push_back("skipped " + adv.vuln_id + " for " + p.name + ": " + r.error().message);
            continue;
          }
          affected = *r;
          f.fixed_version = fixed;
          f.status = fixed.empty() ? "affected" : "fixed";
          break;
        }
      }
      if (!affected || !seen_ids.insert(adv.vuln_id).second) continue;
      f.pkg = p;
      f.severity = adv.severity;
      f.severity_source = adv.severity_source;
      f.data_source = data_source_for(adv.kind);
      auto it = detail_cache.find(adv.vuln_id);
      if (it == detail_cache.end()) {
        auto d = store.detail(adv.vuln_id);
        if (!d.ok()) return d.error().wrap("reading details of " + adv.vuln_id);
        it = detail_cache.emplace(adv.vuln_id, std::move(d.value())).first;
      }
      f.primary_url = primary_url_for(adv.vuln_id);
      if (it->second) {
        const auto& d = *it->second;
        f.title = d.title;
        f.description = d.description;
        if (!d.primary_url.empty()) f.primary_url = d.primary_url;
        for (const auto& r : d.references) f.references.push_back(r.url);
        f.published = d.published;
        f.last_modified = d.last_modified;
        for (const auto& m : d.cvss) {
          auto& score = f.cvss[cvss_source_name(m.source)];
          if (m.version.rfind('3', 0) == 0) {
            if (!score.v3_score) {
              score.v3_score = m.score;
              score.v3_vector = m.vector;
            }
          } else if (!score.v2_score) {
            score.v2_score = m.score;
            score.v2_vector = m.vector;
          }
        }
      }
      out.findings.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace scangate
