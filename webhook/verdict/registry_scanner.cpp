#include "webhook/verdict/registry_scanner.h"

#include "scanner/analyze/analyzer.h"
#include "scanner/core/time_util.h"
#include "scanner/image/reference.h"
#include "scanner/match/matcher.h"
#include "scanner/match/targets.h"
#include "scanner/report/report.h"
#include "scanner/scan/scan.h"

namespace scangate::verdict {

Result<std::shared_ptr<RegistryClient>> make_shared_registry_client(const RegistryAccess& access) {
  SourceOptions so;
  so.credential_sources = CredentialSources::from_environment(access.registry_config);
  so.insecure_registries = access.insecure_registries;
  so.ca_file = access.ca_file;
  return make_registry_client(so);
}

RegistryImageScanner::RegistryImageScanner(std::shared_ptr<RegistryClient> client,
                                           std::shared_ptr<const vulndb::VulnStore> db,
                                           std::shared_ptr<const SecretScanner> secrets)
    : client_(std::move(client)), db_(std::move(db)), secrets_(std::move(secrets)) {}

Result<ScanRecord> RegistryImageScanner::scan(const std::string& pinned_reference) {
  SourceOptions so;
  so.reference = pinned_reference;
  so.client = client_;
  auto source = open_image_source(so);
  if (!source.ok()) return source.error();
  auto analyzers = AnalyzerRegistry::builtin();
  ScanOptions opts;
  if (secrets_) add_secret_scanning(opts, secrets_);
  auto scanned = scan_image(**source, analyzers, opts);
  if (!scanned.ok()) return scanned.error();
  auto matched = match_inventory(scanned->inventory, *db_);
  if (!matched.ok()) return matched.error();

  ScanRecord rec;
  rec.meta = scanned->meta;
  rec.findings = matched->findings;
  rec.secrets = scanned->inventory.secrets;
  rec.scanned_at = std::chrono::system_clock::now();
  ReportInput in;
  in.meta = scanned->meta;
  in.inventory = std::move(scanned->inventory);
  in.targets = build_targets(in.meta, in.inventory, matched->findings);
  in.created_at = format_rfc3339(rec.scanned_at);
  in.tool_version = "scangate-webhook";
  rec.report_json = write_trivy_json(in);
  return rec;
}

Result<std::string> RegistryDigestResolver::resolve(const std::string& reference) {
  auto ref = parse_reference(reference);
  if (!ref.ok()) return ref.error();
  return client_->resolve_digest(*ref);
}

}  // namespace scangate::verdict
