#include "scanner/pipeline/pipeline.h"

#include <algorithm>

#include "scanner/analyze/analyzer.h"
#include "scanner/core/time_util.h"
#include "scanner/match/matcher.h"
#include "scanner/match/targets.h"
#include "scanner/policy/ignore_file.h"
#include "scanner/scan/scan.h"
#include "scanner/secret/secret_config.h"
#include "scanner/vulndb/vuln_db.h"

namespace scangate::pipeline {

const char* to_string(Stage s) {
  switch (s) {
    case Stage::kSource: return "source";
    case Stage::kSecretConfig: return "secret config";
    case Stage::kSecretRules: return "secret rules";
    case Stage::kScan: return "scan";
    case Stage::kVulnStore: return "vulnerability store";
    case Stage::kMatch: return "match";
    case Stage::kIgnoreFile: return "ignore file";
    case Stage::kPolicy: return "policy";
  }
  return "?";
}

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  if (name == "table") return ReportFormat::kTable;
  if (name == "json") return ReportFormat::kJson;
  if (name == "sarif") return ReportFormat::kSarif;
  if (name == "cyclonedx") return ReportFormat::kCycloneDx;
  return std::nullopt;
}

size_t GateResult::reported_vulnerability_count() const {
  size_t n = 0;
  for (const auto& [sev, count] : reported_vulnerabilities) n += static_cast<size_t>(count);
  return n;
}

ReportInput ScanResult::report_input(const ReportInfo& info) const {
  ReportInput in;
  in.meta = meta;
  in.inventory = inventory;
  in.targets = build_targets(in.meta, in.inventory, reported);
  in.artifact_type = info.artifact_type;
  in.created_at = info.created_at;
  in.tool_version = info.tool_version;
  in.include_vulnerabilities = info.include_vulnerabilities;
  return in;
}

std::string ScanResult::report(ReportFormat format, const ReportInfo& info) const {
  return write_report(report_input(info), format);
}

std::string write_report(const ReportInput& in, ReportFormat format) {
  switch (format) {
    case ReportFormat::kJson: return write_trivy_json(in);
    case ReportFormat::kSarif: return write_sarif(in);
    case ReportFormat::kCycloneDx: return write_cyclonedx(in);
    case ReportFormat::kTable: break;
  }
  return write_table(in);
}

namespace {

// One run: the options, the stage reached, and what the stages hand each other.
class Run {
 public:
  Run(const Options& o, Stage* stopped_at) : o_(o), stopped_at_(stopped_at) {}

  Result<ScanResult> go() {
    SG_TRY(enter(Stage::kSource));
    std::unique_ptr<ImageSource> source;
    if (o_.rootfs.empty()) {
      // The registry calls of the source (resolve, config, every layer) are bounded by the
      // earlier of the run's deadline and the one the caller put in the source options.
      SourceOptions so = o_.source;
      so.deadline = so.deadline.earliest(o_.deadline);
      auto s = open_image_source(so);
      if (!s.ok()) return s.error();
      source = std::move(s).value();
    }
    SG_TRY(secrets());
    SG_TRY(enter(Stage::kScan));
    SG_TRY(scan(source.get()));
    if (o_.scanners.vuln) SG_TRY(match());
    SG_TRY(gate());
    return std::move(result_);
  }

  // The stages after the scan, on what an earlier scan found.
  Result<ScanResult> from_inventory(ImageMetadata meta, Inventory inventory) {
    result_.meta = std::move(meta);
    result_.inventory = std::move(inventory);
    if (o_.scanners.vuln) SG_TRY(match());
    SG_TRY(gate());
    return std::move(result_);
  }

 private:
  void warn(const std::string& w) const {
    if (o_.hooks.warning) o_.hooks.warning(w);
  }

  // Records the stage and checks the deadline before it starts.
  Result<void> enter(Stage s) {
    if (stopped_at_) *stopped_at_ = s;
    if (o_.deadline.expired())
      return Error(ErrorKind::kLimit, std::string("the deadline passed before the ") + to_string(s) + " stage");
    return Ok();
  }

  Result<void> secrets() {
    if (!o_.scanners.secret) return Ok();
    scanner_ = o_.secret_scanner;
    if (scanner_) return Ok();
    SG_TRY(enter(Stage::kSecretConfig));
    SecretConfig cfg;
    if (!o_.secret_config_file.empty()) {
      auto c = load_secret_config(o_.secret_config_file);
      if (!c.ok()) return c.error();
      cfg = std::move(c.value());
    }
    SG_TRY(enter(Stage::kSecretRules));
    auto sc = SecretScanner::create(cfg);
    if (!sc.ok()) return sc.error();
    for (const auto& w : sc->warnings()) warn("secret config: " + w);
    scanner_ = std::make_shared<const SecretScanner>(std::move(sc.value()));
    return Ok();
  }

  Result<void> scan(ImageSource* source) {
    ScanOptions so;
    so.limits = o_.limits;
    so.progress = o_.hooks.progress;
    so.deadline = o_.deadline;
    if (scanner_) {
      std::function<void(const std::string&)> w;
      if (o_.hooks.warning) w = o_.hooks.warning;
      add_secret_scanning(so, scanner_, std::move(w));
    }
    auto analyzers = AnalyzerRegistry::builtin();
    auto scanned = source ? scan_image(*source, analyzers, so) : scan_rootfs(o_.rootfs, analyzers, so);
    if (!scanned.ok()) return scanned.error();
    result_.meta = std::move(scanned->meta);
    if (source && result_.meta.reference.empty())
      result_.meta.reference = o_.source.reference.empty() ? o_.source.input : o_.source.reference;
    result_.inventory = std::move(scanned->inventory);
    for (const auto& w : scanned->warnings) warn(w);
    return Ok();
  }

  Result<void> match() {
    SG_TRY(enter(Stage::kVulnStore));
    std::shared_ptr<const vulndb::VulnStore> store = o_.store;
    if (!store) {
      auto db = vulndb::VulnDb::open(o_.db_path);
      if (!db.ok()) return db.error();
      store = std::shared_ptr<const vulndb::VulnStore>(std::move(db).value());
    }
    SG_TRY(enter(Stage::kMatch));
    auto matched = match_inventory(result_.inventory, *store);
    if (!matched.ok()) return matched.error();
    for (const auto& w : matched->warnings) warn(w);
    result_.findings = std::move(matched->findings);
    result_.db_revision = store->revision();
    return Ok();
  }

  bool reported_severity(Severity s) const {
    return o_.severities.empty() || std::find(o_.severities.begin(), o_.severities.end(), s) != o_.severities.end();
  }

  // The report's filters and the gate: the policy (when there is one) judges every finding; the
  // severity gate counts what the report keeps.
  Result<void> gate() {
    const std::string today = o_.today.empty() ? utc_today() : o_.today;
    SG_TRY(enter(Stage::kIgnoreFile));
    IgnoreList ignores;
    if (!o_.ignore_file.empty()) {
      auto l = load_ignore_file(o_.ignore_file);
      if (!l.ok()) return l.error();
      ignores = std::move(l.value());
      for (const auto& e : ignores.expired(today)) {
        if (o_.hooks.note)
          o_.hooks.note("ignore entry " + e.id + " (" + o_.ignore_file + ":" + std::to_string(e.line) +
                        ") expired on " + e.expires + " and no longer applies");
      }
    }
    SG_TRY(enter(Stage::kPolicy));
    std::optional<policy::Policy> loaded;
    const policy::Policy* pol = o_.policy ? &*o_.policy : nullptr;
    if (!pol && !o_.policy_file.empty()) {
      auto p = policy::load_policy_file(o_.policy_file);
      if (!p.ok()) return p.error();
      loaded = std::move(p.value());
      pol = &*loaded;
    }
    if (pol) {
      policy::GateRequest req;
      req.image = policy::identity_of(result_.meta);
      req.today = today;
      req.deny_exit_code = o_.deny_exit_code;
      result_.gate.policy = policy::gate_findings(*pol, result_.findings, result_.inventory.secrets, req);
    }
    for (const auto& f : result_.findings) {
      if (!reported_severity(f.severity)) continue;
      if (o_.ignore_unfixed && f.fixed_version.empty()) continue;
      if (ignores.ignores(f.vuln_id, today)) continue;
      result_.reported.push_back(f);
      result_.gate.reported_vulnerabilities[f.severity]++;
    }
    for (const auto& sec : result_.inventory.secrets)
      if (reported_severity(parse_severity(sec.severity).value_or(Severity::kUnknown))) ++result_.gate.reported_secrets;
    return Ok();
  }

  const Options& o_;
  Stage* stopped_at_;
  std::shared_ptr<const SecretScanner> scanner_;
  ScanResult result_;
};

}  // namespace

Result<ScanResult> run(const Options& options, Stage* stopped_at) { return Run(options, stopped_at).go(); }

Result<ScanResult> run_from_inventory(const Options& options, ImageMetadata meta, Inventory inventory,
                                      Stage* stopped_at) {
  return Run(options, stopped_at).from_inventory(std::move(meta), std::move(inventory));
}

}  // namespace scangate::pipeline
