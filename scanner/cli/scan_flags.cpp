#include "scanner/cli/scan_flags.h"

#include "scanner/core/deadline.h"
#include "scanner/core/duration.h"
#include "scanner/core/log.h"

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
#include "scanner/core/time_util.h"
#include "scanner/cspm/upload.h"
#include "scanner/policy/render.h"
#include "scanner/report/report.h"

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
      {"timeout", true, false, "DURATION",
       "give up when the scan (pull, walk, match) is not done in this time: exit 2, never a pass; 0 = no limit", "10m"},
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
  if (auto t = args.get("timeout")) {
    auto d = duration_from_text(*t);
    if (!d.ok()) return d.error().wrap("--timeout");
    if (d->count() < 0) return Error(ErrorKind::kInvalidArgument, "--timeout must not be negative, got " + *t);
    s.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
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

pipeline::Options pipeline_options(const ScanSettings& s,
                                   Io /*io: events go to the core logger, which run() points at io.err*/) {
  pipeline::Options o;
  o.scanners.vuln = s.scan_vuln;
  o.scanners.secret = s.scan_secret;
  o.secret_config_file = s.secret_config;
  o.limits.max_layer_bytes = s.max_layer_bytes;
  // Every registry call and every stage is bounded by this; a stalled registry fails the gate
  // (exit 2) instead of hanging the pipeline.
  o.deadline = s.timeout.count() > 0 ? Deadline::after(s.timeout) : Deadline::never();
  o.db_path = s.db_path;
  o.severities = s.severities;
  o.ignore_unfixed = s.ignore_unfixed;
  o.ignore_file = s.ignorefile;
  o.policy_file = s.policy;
  o.deny_exit_code = s.exit_code_given ? s.exit_code : 1;
  // Progress, warnings and notes are log events of component "scan" (one formatter, one redactor,
  // --log-format json included); --quiet silences progress and warnings, not notes about the
  // ignore file.
  log::Logger lg("scan");
  if (!s.quiet) {
    auto start = std::chrono::steady_clock::now();
    o.hooks.progress = [lg, start](const std::string& msg) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ms) / 1000.0);
      lg.info(msg, {{"elapsed", std::string(buf)}});
    };
    o.hooks.warning = [lg](const std::string& w) { lg.warn(w); };
  }
  o.hooks.note = [lg](const std::string& n) { lg.warn(n); };
  return o;
}

std::string default_db_path() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/scangate/db.sqlite";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/scangate/db.sqlite";
  return "scangate-db.sqlite";
}

int gate_exit_code(const ScanSettings& s, const pipeline::GateResult& gate) {
  if (gate.policy) return gate.policy->exit_code;
  if (s.exit_code != 0 && (gate.reported_secrets > 0 || gate.reported_vulnerability_count() > 0)) return s.exit_code;
  return kExitOk;
}

int scan_exit_code(int gate_code, int upload_code) { return gate_code != kExitOk ? gate_code : upload_code; }

namespace {

// The gate's words on standard error: a policy's verdict always, a failed severity gate unless quiet.
void print_gate(const ScanSettings& s, const pipeline::GateResult& gate, Io io) {
  if (gate.policy) {
    io.err << policy::render_text(gate.policy->verdict);
    return;
  }
  if (s.exit_code == 0 || s.quiet) return;
  if (gate.reported_secrets > 0) {
    io.err << "gate failed: " << gate.reported_secrets << " secrets found in the image\n";
    return;
  }
  if (gate.reported_vulnerabilities.empty()) return;
  io.err << "gate failed: " << gate.reported_vulnerability_count() << " vulnerabilities (";
  bool first = true;
  for (auto it = gate.reported_vulnerabilities.rbegin(); it != gate.reported_vulnerabilities.rend(); ++it) {
    io.err << (first ? "" : ", ") << to_string(it->first) << ": " << it->second;
    first = false;
  }
  io.err << ")\n";
}

// Errors of the first stages name the command, as argument errors do; the later ones "scangate".
std::string error_line(const std::string& command, pipeline::Stage stage, const ScanSettings& s, const Error& e) {
  switch (stage) {
    case pipeline::Stage::kSource:
    case pipeline::Stage::kSecretConfig:
    case pipeline::Stage::kScan: return "scangate " + command + ": " + e.message;
    case pipeline::Stage::kSecretRules:
      return "scangate " + command + ": " + e.wrap("--secret-config " + s.secret_config).message;
    case pipeline::Stage::kVulnStore:
    case pipeline::Stage::kMatch:
    case pipeline::Stage::kIgnoreFile:
    case pipeline::Stage::kPolicy: break;
  }
  return "scangate: " + e.message;
}

}  // namespace

int run_scan(const std::string& command, const ScanSettings& s, const pipeline::Options& options,
             const std::string& artifact_type, Io io, const AfterReport& after_report) {
  pipeline::Stage stage = pipeline::Stage::kSource;
  const auto started = std::chrono::system_clock::now();
  auto scanned = pipeline::run(options, &stage);
  const auto finished = std::chrono::system_clock::now();
  if (!scanned.ok()) {
    io.err << error_line(command, stage, s, scanned.error()) << "\n";
    return kExitError;
  }

  pipeline::ReportInfo info;
  info.artifact_type = artifact_type;
  info.created_at = utc_now_rfc3339();
  info.tool_version = SCANGATE_VERSION;
  info.include_vulnerabilities = s.scan_vuln;
  const ReportInput in = scanned->report_input(info);
  const std::string report =
      pipeline::write_report(in, pipeline::parse_report_format(s.format).value_or(pipeline::ReportFormat::kTable));

  if (s.output.empty()) {
    io.out << report;
    io.out.flush();
  } else {
    // A regular file (or a new path) is replaced by a temporary file beside it, fsynced and
    // renamed: a reader never sees half a report. A device, FIFO or /dev/stdout is written through.
    auto w = fs::write_output(s.output, report, options.deadline);
    if (!w.ok()) {
      io.err << "scangate: " << w.error().message << "\n";
      return kExitError;
    }
    if (!s.quiet) io.err << "report written to " << s.output << "\n";
  }

  const int after_code = after_report ? after_report(*scanned, started, finished) : kExitOk;
  const int upload_code = s.upload ? upload_scan_report(s, in, report, io) : kExitOk;
  print_gate(s, scanned->gate, io);
  return scan_exit_code(gate_exit_code(s, scanned->gate), after_code != kExitOk ? after_code : upload_code);
}

}  // namespace scangate::cli
