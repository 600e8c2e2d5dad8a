#include "scanner/policy/render.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace scangate::policy {

namespace {

constexpr const char* kEllipsis = "…";

std::string score_text(double d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", d);
  return buf;
}

std::string finding_item(const CountedFinding& f) {
  std::string s = f.vuln_id + " " + f.pkg_name + " " + f.installed_version;
  if (!f.fixed_version.empty())
    s += "→" + f.fixed_version;
  else
    s += " (no fix)";
  return s;
}

std::string image_words(const Verdict& v) {
  std::string ref = !v.image.reference.empty()    ? v.image.reference
                    : !v.image.repository.empty() ? v.image.repository
                                                  : std::string("(unnamed)");
  std::string s = "image " + ref;
  if (!v.image.digest.empty() && ref.find(v.image.digest) == std::string::npos)
    s += " (" + short_digest(v.image.digest) + ")";
  return s;
}

std::string severity_phrase(const SeverityCount& c, bool first) {
  std::string sev = vulndb::to_string(c.severity);
  std::string noun = first ? (c.count == 1 ? " vulnerability" : " vulnerabilities") : "";
  return std::to_string(c.count) + " " + sev + noun + " (policy allows " + std::to_string(*c.limit) + ")";
}

}  // namespace

std::string truncate_utf8(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  const size_t ell = std::char_traits<char>::length(kEllipsis);
  if (max_bytes < ell) return std::string();
  size_t cut = max_bytes - ell;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + kEllipsis;
}

std::string render_text(const Verdict& v, const TextOptions& opt) {
  std::ostringstream o;
  o << "policy: " << v.policy_name;
  if (!v.policy_revision.empty()) o << " (" << v.policy_revision.substr(0, 19) << ")";
  o << ", mode " << to_string(v.mode);
  if (v.override_index >= 0) {
    o << " (override #" << v.override_index + 1;
    if (v.override_line > 0) o << " at line " << v.override_line;
    o << " for namespace " << v.namespace_name << ")";
  }
  o << "\n";
  o << "image: " << (v.image.reference.empty() ? v.image.repository : v.image.reference);
  std::vector<std::string> about;
  if (!v.image.repository.empty() && !v.image.reference.empty()) about.push_back("repository " + v.image.repository);
  if (!v.image.digest.empty() && v.image.reference.find(v.image.digest) == std::string::npos)
    about.push_back(v.image.digest);
  for (size_t i = 0; i < about.size(); ++i) o << (i ? ", " : " (") << about[i] << (i + 1 == about.size() ? ")" : "");
  if (!v.namespace_name.empty()) o << ", namespace " << v.namespace_name;
  o << "\n";

  o << "verdict: ";
  if (v.exempt)
    o << "ALLOWED (exempt by " << v.exempt_by << ")\n";
  else if (!v.allowed)
    o << "DENIED\n";
  else if (v.violated && v.mode == Mode::kWarn)
    o << "ALLOWED with violations (mode: warn)\n";
  else if (v.violated && v.mode == Mode::kAudit)
    o << "ALLOWED with violations (mode: audit)\n";
  else
    o << "ALLOWED\n";
  if (v.exempt) return o.str();

  if (v.scan_state == ScanState::kPending)
    o << "scan: did not finish in time\n";
  else if (v.scan_state == ScanState::kError)
    o << "scan: failed" << (v.scan_error.empty() ? "" : ": " + v.scan_error) << "\n";

  o << "\n  severity   count  limit\n";
  for (const auto& c : v.counts) {
    char line[96];
    std::string limit = c.limit ? std::to_string(*c.limit) : "-";
    if (c.exceeded()) limit.resize(std::max<size_t>(limit.size(), 6), ' ');
    std::snprintf(line, sizeof line, "  %-9s %6d  %s%s\n", vulndb::to_string(c.severity), c.count, limit.c_str(),
                  c.exceeded() ? " exceeded" : "");
    o << line;
  }
  std::vector<std::string> ignored;
  if (v.ignored_unfixed) ignored.push_back(std::to_string(v.ignored_unfixed) + " without a fix (ignoreUnfixed)");
  if (v.ignored_below_cvss) ignored.push_back(std::to_string(v.ignored_below_cvss) + " below minCVSS");
  if (v.ignored_by_exception) ignored.push_back(std::to_string(v.ignored_by_exception) + " by exceptions");
  if (!ignored.empty()) {
    o << "  not counted:";
    for (size_t i = 0; i < ignored.size(); ++i) o << (i ? ", " : " ") << ignored[i];
    o << "\n";
  }
  if (v.secrets_action != SecretAction::kIgnore)
    o << "  secrets at " << vulndb::to_string(v.secrets_min_severity) << " or above: " << v.secrets_count << " (action "
      << to_string(v.secrets_action) << ")\n";

  if (!v.reasons.empty()) {
    o << "\n" << (v.allowed ? "violations (not enforced):\n" : "reasons:\n");
    for (const auto& r : v.reasons) o << "  - " << r << "\n";
  }

  auto counted = v.counted();
  if (!counted.empty()) {
    int total = 0;
    for (const auto& c : v.counts)
      if (c.limit) total += c.count;
    o << "\nfindings that count against a limit:\n";
    size_t shown = 0;
    for (const auto& f : counted) {
      if (shown == opt.max_findings) break;
      char sev[16];
      std::snprintf(sev, sizeof sev, "%-9s", vulndb::to_string(f.severity));
      o << "  " << sev << " " << finding_item(f);
      if (f.score) o << "  CVSS " << score_text(*f.score);
      o << "\n";
      ++shown;
    }
    if (static_cast<int>(shown) < total) o << "  … and " << total - static_cast<int>(shown) << " more\n";
  }
  if (!v.secrets.empty()) {
    o << "\nsecrets:\n";
    for (const auto& s : v.secrets)
      o << "  " << vulndb::to_string(s.severity) << " " << s.rule_id << " in " << s.file_path << ":" << s.line << "\n";
    if (v.secrets_count > static_cast<int>(v.secrets.size()))
      o << "  … and " << v.secrets_count - static_cast<int>(v.secrets.size()) << " more\n";
  }
  if (!v.applied_exceptions.empty()) {
    o << "\nexceptions applied:\n";
    for (const auto& x : v.applied_exceptions) {
      o << "  - " << x.id;
      if (x.line > 0)
        o << " (line " << x.line << ", expires " << x.expires << ")";
      else
        o << " (expires " << x.expires << ")";
      o << ": " << x.findings << (x.findings == 1 ? " finding" : " findings") << "; " << x.reason << "\n";
    }
  }
  if (!v.warnings.empty()) o << "\n";
  for (const auto& w : v.warnings) o << "warning: " << w << "\n";
  return o.str();
}

std::string render_admission_line(const std::string& container, const Verdict& v, size_t max_bytes) {
  if (v.allowed) return {};
  std::string head = "container \"" + container + "\" " + image_words(v);

  // The exceeded severities, highest first.
  std::vector<const SeverityCount*> over;
  for (const auto& c : v.counts)
    if (c.exceeded()) over.push_back(&c);

  std::vector<std::string> parts;
  std::string advice;
  if (v.scan_state == ScanState::kPending) {
    parts.push_back("was not scanned in time (policy scan.onPending: deny)");
    advice = " Retry shortly: the scan continues in the background.";
  } else if (v.scan_state == ScanState::kError) {
    parts.push_back("could not be scanned" + (v.scan_error.empty() ? std::string() : ": " + v.scan_error) +
                    " (policy scan.onError: deny)");
    advice = " Check that the image can be pulled, then retry.";
  }
  if (v.secrets_count > 0 && v.secrets_action == SecretAction::kDeny) {
    std::string s = "contains " + std::to_string(v.secrets_count) + (v.secrets_count == 1 ? " secret" : " secrets") +
                    " at " + vulndb::to_string(v.secrets_min_severity) +
                    (v.secrets_min_severity == Severity::kCritical ? "" : " or above") + " (policy denies secrets)";
    if (!v.secrets.empty()) s += ": " + v.secrets[0].rule_id + " in " + v.secrets[0].file_path;
    if (v.secrets_count > 1) s += ", …";
    parts.push_back(s);
    if (over.empty()) advice += " Remove the secrets from the image and rotate them.";
  }

  if (v.attestation_missing) {
    parts.push_back("has no valid scan attestation from the pipeline" +
                    (v.basis.empty() || v.scan_state != ScanState::kDone ? std::string() : ": " + v.basis) +
                    " (policy scan.requireAttestation)");
    advice = " Scan and attest it in the pipeline (scangate image --attest), then retry.";
  }

  std::string vulns;
  if (!over.empty()) {
    vulns = "has ";
    for (size_t i = 0; i < over.size(); ++i) vulns += (i ? " and " : "") + severity_phrase(*over[i], i == 0);
    advice = " Rebuild on a patched base image, or add a policy exception.";
  }

  // Everything but the id list, to know how much room the ids have.
  std::string rest;
  for (const auto& p : parts) rest += "; " + p;
  // What the findings rest on: the pipeline's attestation, or a scan here (and why).
  std::string basis;
  if (!over.empty() && !v.basis.empty())
    basis = v.attested && !v.attested->empty() ? " (findings from " + v.basis + ")"
                                               : " (findings from a scan by the webhook: " + v.basis + ")";
  rest += basis;
  size_t fixed = head.size() + 1 + vulns.size() + rest.size() + advice.size() + 1;  // + the full stop
  std::string ids;
  if (!over.empty()) {
    const std::string tail = ", …";
    size_t budget = max_bytes > fixed + 2 ? max_bytes - fixed - 2 : 0;  // ": "
    int total = 0, listed = 0;
    bool full = false;
    for (const auto* c : over) {
      total += c->count;
      for (const auto& f : c->top) {
        std::string item = (listed ? ", " : "") + finding_item(f);
        if (full || ids.size() + item.size() + tail.size() > budget) {
          full = true;
          break;
        }
        ids += item;
        ++listed;
      }
    }
    if (listed < total) ids += listed ? tail : std::string("…");
    vulns += ": " + ids;
  }
  std::string line = head;
  bool first = true;
  if (!vulns.empty()) {
    line += " " + vulns + basis;
    first = false;
  }
  for (const auto& p : parts) {
    line += (first ? " " : "; ") + p;
    first = false;
  }
  if (first) {  // denied for a reason with no words above (cannot happen today): say so anyway
    for (const auto& r : v.reasons) line += (first ? ": " : "; ") + r, first = false;
  }
  // A sentence ends before the advice, unless an elision ("…") already closes the list.
  if (!advice.empty() && !line.ends_with("…") && !line.ends_with(".")) line += ".";
  line += advice;
  return truncate_utf8(line, max_bytes);
}

std::string render_admission_message(const std::vector<ContainerVerdict>& containers, size_t max_bytes) {
  std::vector<std::string> lines;
  for (const auto& c : containers)
    if (c.verdict && !c.verdict->allowed) lines.push_back(render_admission_line(c.container, *c.verdict));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string more = "\n… and " + std::to_string(lines.size() - i) + " more containers denied";
    std::string add = (i ? "\n" : "") + lines[i];
    bool last = i + 1 == lines.size();
    if (out.size() + add.size() + (last ? 0 : more.size()) > max_bytes) {
      if (i == 0) return truncate_utf8(lines[0], max_bytes);
      out += more;
      return truncate_utf8(out, max_bytes);
    }
    out += add;
  }
  return out;
}

std::vector<std::string> admission_warnings(const std::string& container, const Verdict& v, size_t max_each) {
  std::vector<std::string> out;
  std::string head = "container \"" + container + "\" " + image_words(v) + ": ";
  for (const auto& w : v.warnings) out.push_back(truncate_utf8(head + w, max_each));
  return out;
}

}  // namespace scangate::policy
