#include "scanner/policy/verdict.h"

#include <algorithm>
#include <map>
#include <set>

#include "scanner/policy/glob.h"
#include "scanner/policy/ignore_file.h"

namespace scangate::policy {

namespace {

constexpr std::array<Severity, 5> kOrder = {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow,
                                            Severity::kUnknown};

size_t slot(Severity s) { return static_cast<size_t>(Severity::kCritical) - static_cast<size_t>(s); }

bool any_glob(const std::vector<std::string>& patterns, const std::string& text) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob_match(p, text); });
}

bool in_scope(const Exception& x, const DecisionInput& in) {
  if (!x.images.empty() &&
      std::none_of(x.images.begin(), x.images.end(), [&](const std::string& p) { return image_matches(p, in.image); }))
    return false;
  if (!x.namespaces.empty() && (in.namespace_name.empty() || !any_glob(x.namespaces, in.namespace_name))) return false;
  return true;
}

std::string plural(int n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Tracks which exceptions suppressed (or, expired, would have suppressed) which ids.
class ExceptionBook {
 public:
  ExceptionBook(const Policy& p, const DecisionInput& in) : p_(p) {
    if (!is_iso_date(in.today)) return;  // no date, no exceptions: fail closed (decide() warns)
    for (size_t i = 0; i < p.exceptions.size(); ++i)
      if (in_scope(p.exceptions[i], in)) {
        if (p.exceptions[i].active_on(in.today))
          active_.push_back(i);
        else
          expired_.push_back(i);
      }
  }

  // True when an active exception accepts `id`; otherwise notes an expired one that would have.
  bool accepts(const std::string& id) {
    for (size_t i : active_)
      if (glob_match(p_.exceptions[i].id, id)) {
        note(applied_, i, id);
        return true;
      }
    for (size_t i : expired_)
      if (glob_match(p_.exceptions[i].id, id)) {
        note(expired_uses_, i, id);
        break;
      }
    return false;
  }

  std::vector<ExceptionUse> applied() const { return finish(applied_); }
  std::vector<ExceptionUse> expired() const { return finish(expired_uses_); }

 private:
  struct Acc {
    std::set<std::string> ids;
    int findings = 0;
  };
  void note(std::map<size_t, Acc>& m, size_t i, const std::string& id) {
    auto& a = m[i];
    a.ids.insert(id);
    a.findings++;
  }
  std::vector<ExceptionUse> finish(const std::map<size_t, Acc>& m) const {
    std::vector<ExceptionUse> out;
    for (const auto& [i, acc] : m) {
      const Exception& x = p_.exceptions[i];
      ExceptionUse u;
      u.index = i;
      u.id = x.id;
      u.expires = x.expires;
      u.reason = x.reason;
      u.line = x.line;
      u.matched.assign(acc.ids.begin(), acc.ids.end());
      u.findings = acc.findings;
      out.push_back(std::move(u));
    }
    return out;
  }

  const Policy& p_;
  std::vector<size_t> active_, expired_;
  std::map<size_t, Acc> applied_, expired_uses_;
};

std::string where(const Policy& p, int line) {
  return line > 0 ? " (" + p.name + ":" + std::to_string(line) + ")" : "";
}

}  // namespace

const SeverityCount& Verdict::count(Severity s) const { return counts[slot(s)]; }

std::vector<CountedFinding> Verdict::counted() const {
  std::vector<CountedFinding> out;
  for (const auto& c : counts)
    if (c.limit) out.insert(out.end(), c.top.begin(), c.top.end());
  return out;
}

std::optional<double> finding_score(const Finding& f) {
  if (auto it = f.cvss.find("nvd"); it != f.cvss.end()) {
    if (it->second.v3_score) return it->second.v3_score;
    if (it->second.v2_score) return it->second.v2_score;
  }
  std::optional<double> v3, v2;
  for (const auto& [source, s] : f.cvss) {
    if (s.v3_score && (!v3 || *s.v3_score > *v3)) v3 = s.v3_score;
    if (s.v2_score && (!v2 || *s.v2_score > *v2)) v2 = s.v2_score;
  }
  return v3 ? v3 : v2;
}

CountedFinding counted_finding(const Finding& f) {
  return {f.vuln_id, f.pkg.name, f.pkg.version, f.fixed_version, f.severity, finding_score(f)};
}

SecretFinding decision_fields(const SecretFinding& s) {
  SecretFinding out;
  out.rule_id = s.rule_id;
  out.title = s.title;
  out.file_path = s.file_path;
  out.severity = s.severity;
  out.start_line = s.start_line;
  out.end_line = s.end_line;
  return out;
}

std::optional<std::string> exemption(const Policy& p, const std::string& ns, const ImageIdentity& image) {
  if (!ns.empty())
    for (const auto& pat : p.exempt_namespaces)
      if (glob_match(pat, ns)) return "exemptNamespaces '" + pat + "'";
  for (const auto& pat : p.exempt_images)
    if (image_matches(pat, image)) return "exemptImages '" + pat + "'";
  return std::nullopt;
}

EffectiveRules effective_rules(const Policy& p, const std::string& ns) {
  EffectiveRules r{p.mode, p.limits, p.ignore_unfixed, p.min_cvss, p.secrets, -1, p.scan.require_attestation};
  if (ns.empty()) return r;
  for (size_t i = 0; i < p.overrides.size(); ++i) {
    const Override& o = p.overrides[i];
    if (!any_glob(o.namespaces, ns)) continue;
    if (o.mode) r.mode = *o.mode;
    r.limits.merge(o.limits);
    if (o.ignore_unfixed) r.ignore_unfixed = *o.ignore_unfixed;
    if (o.min_cvss) r.min_cvss = *o.min_cvss;
    if (o.secrets_action) r.secrets.action = *o.secrets_action;
    if (o.secrets_min_severity) r.secrets.min_severity = *o.secrets_min_severity;
    if (o.require_attestation) r.require_attestation = *o.require_attestation;
    r.override_index = static_cast<int>(i);
    break;
  }
  return r;
}

bool needs_rescan(const Policy& p, std::chrono::seconds age) { return age.count() >= p.scan.max_age_seconds; }

Verdict decide(const Policy& p, const DecisionInput& in) {
  Verdict v;
  v.policy_name = p.name;
  v.policy_revision = p.revision;
  v.image = in.image;
  v.namespace_name = in.namespace_name;
  v.scan_state = in.scan_state;
  v.scan_error = in.scan_error;
  v.attested = in.attested;
  v.basis = in.basis;

  EffectiveRules rules = effective_rules(p, in.namespace_name);
  v.mode = rules.mode;
  v.override_index = rules.override_index;
  if (rules.override_index >= 0) v.override_line = p.overrides[static_cast<size_t>(rules.override_index)].line;
  v.secrets_action = rules.secrets.action;
  v.secrets_min_severity = rules.secrets.min_severity;
  for (Severity s : kOrder) {
    v.counts[slot(s)].severity = s;
    v.counts[slot(s)].limit = rules.limits.get(s);
  }

  if (auto why = exemption(p, in.namespace_name, in.image)) {
    v.exempt = true;
    v.exempt_by = *why;
    return v;
  }

  std::vector<std::string> violations;

  // No result to judge: the scan is still running or it failed.
  if (in.scan_state == ScanState::kPending) {
    if (p.scan.on_pending == ScanFailureAction::kDeny)
      violations.push_back("the scan did not finish in time and scan.onPending is deny");
    else
      v.warnings.push_back("the scan did not finish in time; admitted because scan.onPending is allow");
  } else if (in.scan_state == ScanState::kError) {
    std::string what = in.scan_error.empty() ? "the scan failed" : "the scan failed (" + in.scan_error + ")";
    if (p.scan.on_error == ScanFailureAction::kDeny)
      violations.push_back(what + " and scan.onError is deny");
    else
      v.warnings.push_back(what + "; admitted because scan.onError is allow");
  }

  // Only images that came through the pipeline: a valid signed attestation decided the findings.
  // Not knowing (the check is pending or failed) is not having one.
  if (rules.require_attestation && in.attested && (in.scan_state != ScanState::kDone || in.attested->empty())) {
    v.attestation_missing = true;
    std::string why = in.scan_state == ScanState::kPending ? "the attestation check did not finish in time"
                      : in.scan_state == ScanState::kError ? "the attestation check failed"
                      : in.basis.empty()                   ? "none was found"
                                                           : in.basis;
    violations.push_back("no valid scan attestation from the pipeline (" + why +
                         "); the policy requires one (scan.requireAttestation)");
  }

  ExceptionBook book(p, in);
  if (!p.exceptions.empty() && !is_iso_date(in.today))
    v.warnings.push_back("no valid date to judge exceptions by ('" + in.today.substr(0, 16) +
                         "'); no exception was applied");

  std::array<std::vector<CountedFinding>, 5> per;
  auto consider = [&](CountedFinding c) {
    if (rules.ignore_unfixed && c.fixed_version.empty()) {
      v.ignored_unfixed++;
      return;
    }
    if (rules.min_cvss > 0 && c.score && *c.score < rules.min_cvss) {
      v.ignored_below_cvss++;
      return;
    }
    if (book.accepts(c.vuln_id)) {
      v.ignored_by_exception++;
      return;
    }
    per[slot(c.severity)].push_back(std::move(c));
  };
  for (const Finding& f : in.findings) consider(counted_finding(f));
  for (const CountedFinding& c : in.counted) consider(c);
  for (size_t i = 0; i < per.size(); ++i) {
    auto& list = per[i];
    std::sort(list.begin(), list.end(), [](const CountedFinding& a, const CountedFinding& b) {
      if (a.score != b.score) return a.score.value_or(-1) > b.score.value_or(-1);
      if (a.vuln_id != b.vuln_id) return a.vuln_id < b.vuln_id;
      return a.pkg_name < b.pkg_name;
    });
    v.counts[i].count = static_cast<int>(list.size());
    if (list.size() > in.max_listed) list.resize(in.max_listed);
    v.counts[i].top = std::move(list);
  }
  for (const auto& c : v.counts)
    if (c.exceeded())
      violations.push_back(plural(c.count, std::string(vulndb::to_string(c.severity)) + " vulnerability",
                                  std::string(vulndb::to_string(c.severity)) + " vulnerabilities") +
                           "; the policy allows " + std::to_string(*c.limit));

  if (rules.secrets.action != SecretAction::kIgnore) {
    std::vector<CountedSecret> found;
    for (const SecretFinding& s : in.secrets) {
      Severity sev = parse_severity(s.severity).value_or(Severity::kUnknown);
      if (sev < rules.secrets.min_severity) continue;
      if (book.accepts(s.rule_id)) {
        v.ignored_by_exception++;
        continue;
      }
      found.push_back({s.rule_id, s.title, s.file_path, sev, s.start_line});
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const CountedSecret& a, const CountedSecret& b) { return a.severity > b.severity; });
    v.secrets_count = static_cast<int>(found.size());
    if (found.size() > in.max_listed) found.resize(in.max_listed);
    v.secrets = std::move(found);
    if (v.secrets_count > 0) {
      std::string what = plural(v.secrets_count, "secret", "secrets") + " at " +
                         vulndb::to_string(rules.secrets.min_severity) +
                         (rules.secrets.min_severity == Severity::kCritical ? "" : " or above");
      if (rules.secrets.action == SecretAction::kDeny)
        violations.push_back(what + "; the policy denies secrets (secrets.action: deny)");
      else
        v.warnings.push_back(what + " (secrets.action: warn)");
    }
  }

  v.applied_exceptions = book.applied();
  v.expired_exceptions = book.expired();

  v.violated = !violations.empty();
  v.allowed = !(v.violated && v.mode == Mode::kEnforce);
  if (v.mode == Mode::kWarn)
    for (const auto& r : violations) v.warnings.push_back("policy violation (mode: warn): " + r);
  v.reasons = std::move(violations);
  for (const auto& x : v.expired_exceptions)
    v.warnings.push_back("exception '" + x.id + "'" + where(p, x.line) + " expired on " + x.expires +
                         " and no longer applies");
  return v;
}

}  // namespace scangate::policy
