#include "webhook/verdict/registry_scanner.h"

#include "scanner/core/time_util.h"
#include "scanner/image/reference.h"
#include "scanner/pipeline/pipeline.h"

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

Result<ScanRecord> RegistryImageScanner::scan(const std::string& pinned_reference, const Deadline& deadline) {
  pipeline::Options o;
  o.source.reference = pinned_reference;
  o.source.client = client_;
  o.scanners.secret = secrets_ != nullptr;
  o.secret_scanner = secrets_;
  o.store = db_;
  o.deadline = deadline;
  // No report filters and no gate here: the engine decides with the policy in force per request.
  auto scanned = pipeline::run(o);
  if (!scanned.ok()) return scanned.error();

  ScanRecord rec;
  rec.scanned_at = std::chrono::system_clock::now();
  pipeline::ReportInfo info;
  info.created_at = format_rfc3339(rec.scanned_at);
  info.tool_version = "scangate-webhook";
  rec.report_json = scanned->report(pipeline::ReportFormat::kJson, info);
  rec.meta = std::move(scanned->meta);
  rec.findings = std::move(scanned->findings);
  rec.secrets = std::move(scanned->inventory.secrets);
  return rec;
}

Result<std::string> RegistryDigestResolver::resolve(const std::string& reference, const Deadline& deadline) {
  auto ref = parse_reference(reference);
  if (!ref.ok()) return ref.error();
  if (deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed before the look-up of " + reference);
  return client_->resolve_digest(*ref, deadline);
}

}  // namespace scangate::verdict
