#include "scanner/cli/scan_flags.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "scanner/core/fs_util.h"
#include "scanner/cspm/upload.h"
#include "scanner/core/time_util.h"
#include "scanner/match/matcher.h"
#include "scanner/match/targets.h"
#include "scanner/policy/gate.h"
#include "scanner/policy/ignore_file.h"
#include "scanner/policy/render.h"
#include "scanner/report/report.h"
#include "scanner/secret/secret_scanner.h"

namespace scangate::cli {

const std::vector<FlagSpec>& common_scan_flags() {
  static const std::vector<FlagSpec> specs = {
      {"format", true, false, "FORMAT", "report format: table, json (Trivy-compatible), sarif, cyclonedx", "table"},
      {"output", true, false, "FILE", "write the report to FILE instead of standard output"},
      {"scanners", true, false, "LIST", "what to look for: pkg (inventory only), vuln, secret", "vuln,secret"},
      {"secret-config", true, false, "FILE", "secret rules config (Trivy format): custom rules, disabled built-ins"},
      {"db", true, false, "FILE", "vulnerability DB", "$XDG_CACHE_HOME/scangate/db.sqlite"},
      {"severity", true, false, "LIST", "severities to report and gate on, e.g. HIGH,CRITICAL",
       "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"},
      {"exit-code", true, false, "N", "exit N when findings at those severities remain", "0"},
      {"ignore-unfixed", false, false, "", "leave out vulnerabilities that have no fix yet"},
      {"ignorefile", true, false, "FILE", "ids to ignore, .trivyignore format (id [exp:YYYY-MM-DD])"},
      {"policy", true, false, "FILE",
       "gate on this policy file (the webhook's policy); denied exits --exit-code, default 1"},
      {"max-layer-size", true, false, "BYTES", "most bytes one layer may expand to (suffixes K, M, G)", "8G"},
      {"quiet", false, false, "", "no progress on standard error"},
      {"upload", false, false, "", "upload the report to the CSPM artifact API (Trivy JSON as TR; CycloneDX as SBOM)"},
      {"cspm-url", true, false, "URL", "CSPM endpoint for --upload; https:// is added without a scheme",
       "$ACCUKNOX_ENDPOINT, $CSPM_URL"},
      {"tenant-id", true, false, "ID", "CSPM tenant id (optional)", "$TENANT_ID"},
      {"label", true, false, "ID", "CSPM label id (optional)", "$ACCUKNOX_LABEL"},
      {"token-file", true, false, "FILE", "file holding the CSPM API token (a mounted secret)",
       "$ACCUKNOX_TOKEN, $ACCUKNOX_API_TOKEN"},
      {"cspm-cacert", true, false, "FILE", "extra CA certificates (PEM) to verify the CSPM server"},
  };
  return specs;
}

const std::vector<FlagSpec>& scan_and_upload_flags() {
  static const std::vector<FlagSpec> specs = [] {
    std::vector<FlagSpec> s = common_scan_flags();
    for (const auto& f : upload_tuning_flags()) s.push_back(f);
    return s;
  }();
  return specs;
}

namespace {

Result<uint64_t> parse_size(const std::string& s) {
  if (s.empty()) return Error(ErrorKind::kInvalidArgument, "empty size");
  size_t idx = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(s, &idx);
  } catch (...) { return Error(ErrorKind::kInvalidArgument, "'" + s + "' is not a size (e.g. 512M, 8G)"); }
  std::string suffix = s.substr(idx);
  uint64_t mul = 1;
  if (suffix == "K" || suffix == "KiB")
    mul = 1ull << 10;
  else if (suffix == "M" || suffix == "MiB")
    mul = 1ull << 20;
  else if (suffix == "G" || suffix == "GiB")
    mul = 1ull << 30;
  else if (!suffix.empty())
    return Error(ErrorKind::kInvalidArgument, "'" + s + "' has an unknown size suffix");
  return static_cast<uint64_t>(n) * mul;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

Result<ScanSettings> parse_scan_settings(const Args& args) {
  ScanSettings s;
  s.format = args.get_or("format", "table");
  static const std::set<std::string> formats = {"table", "json", "sarif", "cyclonedx"};
  if (!formats.count(s.format))
    return Error(ErrorKind::kInvalidArgument, "--format " + s.format + " is not one of table, json, sarif, cyclonedx");
  s.output = args.get_or("output", "");
  if (auto sc = args.get("scanners")) {
    s.scan_vuln = false;
    s.scan_secret = false;
    for (const auto& x : split(*sc, ',')) {
      if (x == "vuln")
        s.scan_vuln = true;
      else if (x == "secret")
        s.scan_secret = true;
      else if (x == "pkg") {
      } else {
        return Error(ErrorKind::kInvalidArgument, "--scanners: unknown scanner '" + x + "' (use pkg, vuln, secret)");
      }
    }
  }
  s.secret_config = args.get_or("secret-config", "");
  s.quiet = args.has("quiet");
  if (auto m = args.get("max-layer-size")) {
    auto n = parse_size(*m);
    if (!n.ok()) return n.error().wrap("--max-layer-size");
    s.max_layer_bytes = *n;
  }
  s.db_path = args.get_or("db", default_db_path());
  if (auto sev = args.get("severity")) {
    for (const auto& x : split(*sev, ',')) {
      auto v = parse_severity(x);
      if (!v)
        return Error(ErrorKind::kInvalidArgument,
                     "--severity: '" + x + "' is not UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL");
      s.severities.push_back(*v);
    }
  }
  if (auto ec = args.get("exit-code")) {
    try {
      size_t idx = 0;
      s.exit_code = std::stoi(*ec, &idx);
      if (idx != ec->size()) throw std::invalid_argument("trailing");
    } catch (...) { return Error(ErrorKind::kInvalidArgument, "--exit-code '" + *ec + "' is not a number"); }
    if (s.exit_code < 0 || s.exit_code > 125 || s.exit_code == kExitError || s.exit_code == kExitUploadFailed) {
      return Error(ErrorKind::kInvalidArgument, "--exit-code " + *ec + " is not allowed: use 1..125 except " +
                                                    std::to_string(kExitError) + " (errors) and " +
                                                    std::to_string(kExitUploadFailed) + " (upload failures)");
    }
  }
  s.exit_code_given = args.has("exit-code");
  s.policy = args.get_or("policy", "");
  s.ignore_unfixed = args.has("ignore-unfixed");
  s.ignorefile = args.get_or("ignorefile", "");

  s.upload = args.has("upload");
  if (!s.upload) {
    for (const auto& f : upload_tuning_flags())
      if (args.has(f.name)) return Error(ErrorKind::kInvalidArgument, "--" + f.name + " only applies with --upload");
    for (const char* f : {"cspm-url", "tenant-id", "label", "token-file", "cspm-cacert"})
      if (args.has(f)) return Error(ErrorKind::kInvalidArgument, std::string("--") + f + " only applies with --upload");
    return s;
  }
  auto env = cspm::process_environment();
  auto tuning = parse_upload_tuning(args, env);
  if (!tuning.ok()) return tuning.error();
  s.upload_tuning = std::move(tuning.value());
  cspm::CspmFlags f;
  f.url = args.get("cspm-url");
  f.tenant_id = args.get("tenant-id");
  f.label = args.get("label");
  f.token_file = args.get("token-file");
  f.cacert = args.get("cspm-cacert");
  f.data_type = s.format == "cyclonedx" ? "SBOM" : "TR";
  auto c = cspm::resolve_cspm_config(f, env);
  if (!c.ok()) {
    // The message names the flag and variables, never the token.
    if (!s.upload_tuning.soft_fail) return c.error().wrap("--upload");
    s.upload_skipped = c.error().message;
    return s;
  }
  c->http.read_timeout = s.upload_tuning.read_timeout;
  s.cspm = std::move(c.value());
  return s;
}

namespace {

// Sends the report through the spool; returns the exit code the upload means.
int upload_scan_report(const ScanSettings& s, const ReportInput& in, const std::string& written, Io io) {
  // --quiet silences progress, not warnings: a report left behind is worth a line.
  cspm::Logger log = stderr_logger(io.err, "scangate upload", s.quiet ? cspm::LogLevel::kWarn : cspm::LogLevel::kInfo);
  if (!s.cspm) return upload_failure(log, "--upload: " + s.upload_skipped, kExitUploadFailed, /*soft_fail=*/true);
  // CSPM takes Trivy JSON (TR) or CycloneDX (SBOM): the report as written when it is one of those.
  const bool as_written = s.format == "json" || s.format == "cyclonedx";
  std::string bytes = as_written ? written : write_trivy_json(in);
  cspm::UploadOptions o = s.upload_tuning.options;
  o.deps = cspm::real_uploader_deps(log);
  o.data_type = s.cspm->data_type;
  // "registry:5000/team/app:1.2" -> "app_1.2.json"; a directory -> its last component.
  std::string name = in.meta.reference;
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty()) name = "scan";
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  o.filename = name + (s.format == "cyclonedx" ? ".cdx.json" : ".json");
  auto r = cspm::upload_report(*s.cspm, bytes, o);
  if (!r.ok()) return upload_failure(log, r.error().message, kExitUploadFailed, s.upload_tuning.soft_fail);
  return report_upload_outcome(*r,
                               "the " + std::string(s.format == "cyclonedx" ? "SBOM" : "report") + " of " +
                                   (in.meta.reference.empty() ? std::string("the scan") : in.meta.reference),
                               s.cspm->base_url, o.spool_dir, s.upload_tuning.soft_fail,
                               cspm::redacting(log, {s.cspm->token}));
}

}  // namespace

Result<ScanOptions> make_scan_options(const ScanSettings& s, Io io) {
  ScanOptions o;
  if (s.scan_secret) {
    SecretConfig cfg;
    if (!s.secret_config.empty()) {
      auto c = load_secret_config(s.secret_config);
      if (!c.ok()) return c.error();
      cfg = std::move(c.value());
    }
    auto sc = SecretScanner::create(cfg);
    if (!sc.ok()) return sc.error().wrap("--secret-config " + s.secret_config);
    if (!s.quiet)
      for (const auto& w : sc->warnings()) io.err << "warning: secret config: " << w << "\n";
    std::function<void(const std::string&)> warn;
    if (!s.quiet) {
      std::ostream* err = &io.err;
      warn = [err](const std::string& w) { *err << "warning: " << w << "\n"; };
    }
    add_secret_scanning(o, std::make_shared<const SecretScanner>(std::move(sc.value())), std::move(warn));
  }
  o.limits.max_layer_bytes = s.max_layer_bytes;
  if (!s.quiet) {
    std::ostream* err = &io.err;
    auto start = std::chrono::steady_clock::now();
    o.progress = [err, start](const std::string& msg) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      char buf[32];
      std::snprintf(buf, sizeof buf, "[%5.2fs] ", static_cast<double>(ms) / 1000.0);
      *err << buf << msg << "\n";
    };
  }
  return o;
}

std::string default_db_path() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/scangate/db.sqlite";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/scangate/db.sqlite";
  return "scangate-db.sqlite";
}

namespace {

int gate_exit_code(const ScanSettings& s, const std::optional<policy::GateOutcome>& gate, const ReportInput& in,
                   const std::vector<Finding>& kept, Io io) {
  if (gate) {
    io.err << policy::render_text(gate->verdict);
    return gate->exit_code;
  }
  size_t kept_secrets = 0;
  for (const auto& sec : in.inventory.secrets) {
    auto sev = parse_severity(sec.severity).value_or(Severity::kUnknown);
    if (s.severities.empty() || std::find(s.severities.begin(), s.severities.end(), sev) != s.severities.end())
      ++kept_secrets;
  }
  if (s.exit_code != 0 && kept_secrets > 0) {
    if (!s.quiet) io.err << "gate failed: " << kept_secrets << " secrets found in the image\n";
    return s.exit_code;
  }
  if (s.exit_code != 0 && !kept.empty()) {
    if (!s.quiet) {
      std::map<Severity, int> counts;
      for (const auto& f : kept) counts[f.severity]++;
      io.err << "gate failed: " << kept.size() << " vulnerabilities (";
      bool first = true;
      for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
        io.err << (first ? "" : ", ") << to_string(it->first) << ": " << it->second;
        first = false;
      }
      io.err << ")\n";
    }
    return s.exit_code;
  }
  return kExitOk;
}

}  // namespace

int finish_scan(const ScanSettings& s, ScanOutput scanned, const std::string& artifact_type, Io io) {
  for (const auto& w : scanned.warnings)
    if (!s.quiet) io.err << "warning: " << w << "\n";

  std::vector<Finding> findings;
  if (s.scan_vuln) {
    auto store = open_vuln_store(s.db_path);
    if (!store.ok()) {
      io.err << "scangate: " << store.error().message << "\n";
      return kExitError;
    }
    auto matched = match_inventory(scanned.inventory, **store);
    if (!matched.ok()) {
      io.err << "scangate: " << matched.error().message << "\n";
      return kExitError;
    }
    for (const auto& w : matched->warnings)
      if (!s.quiet) io.err << "warning: " << w << "\n";
    findings = std::move(matched->findings);
  }

  // Filters shared by the report and the gate: severities, unfixed, ignore file.
  IgnoreList ignores;
  std::string today = utc_today();
  if (!s.ignorefile.empty()) {
    auto l = load_ignore_file(s.ignorefile);
    if (!l.ok()) {
      io.err << "scangate: " << l.error().message << "\n";
      return kExitError;
    }
    ignores = std::move(l.value());
    for (const auto& e : ignores.expired(today))
      io.err << "note: ignore entry " << e.id << " (" << s.ignorefile << ":" << e.line << ") expired on " << e.expires
             << " and no longer applies\n";
  }
  // The policy sees every finding; --severity, --ignore-unfixed and --ignorefile shape the report.
  std::optional<policy::GateOutcome> gate;
  if (!s.policy.empty()) {
    auto pol = policy::load_policy_file(s.policy);
    if (!pol.ok()) {
      io.err << "scangate: " << pol.error().message << "\n";
      return kExitError;
    }
    policy::GateRequest req;
    req.image = policy::identity_of(scanned.meta);
    req.today = today;
    req.deny_exit_code = s.exit_code_given ? s.exit_code : 1;
    gate = policy::gate_findings(*pol, findings, scanned.inventory.secrets, req);
  }
  std::vector<Finding> kept;
  for (auto& f : findings) {
    if (!s.severities.empty() && std::find(s.severities.begin(), s.severities.end(), f.severity) == s.severities.end())
      continue;
    if (s.ignore_unfixed && f.fixed_version.empty()) continue;
    if (ignores.ignores(f.vuln_id, today)) continue;
    kept.push_back(std::move(f));
  }

  ReportInput in;
  in.meta = scanned.meta;
  in.inventory = std::move(scanned.inventory);
  in.targets = build_targets(in.meta, in.inventory, kept);
  in.artifact_type = artifact_type;
  in.created_at = utc_now_rfc3339();
  in.tool_version = SCANGATE_VERSION;
  in.include_vulnerabilities = s.scan_vuln;
  std::string report;
  if (s.format == "json")
    report = write_trivy_json(in);
  else if (s.format == "sarif")
    report = write_sarif(in);
  else if (s.format == "cyclonedx")
    report = write_cyclonedx(in);
  else
    report = write_table(in);

  if (s.output.empty()) {
    io.out << report;
    io.out.flush();
  } else {
    // A temporary file beside the output, fsynced and renamed: a reader never sees half a report.
    auto w = fs::write_file_atomic(s.output + ".tmp." + std::to_string(getpid()), s.output, report);
    if (!w.ok()) {
      io.err << "scangate: " << w.error().message << "\n";
      return kExitError;
    }
    if (!s.quiet) io.err << "report written to " << s.output << "\n";
  }

  // The gate decides first; an upload failure is the exit code only when the gate passed
  // (the pipeline fails either way, and the gate's reason is the one to act on).
  const int upload_code = s.upload ? upload_scan_report(s, in, report, io) : kExitOk;
  int gate_code = gate_exit_code(s, gate, in, kept, io);
  return gate_code != kExitOk ? gate_code : upload_code;
}

}  // namespace scangate::cli
