#include "webhook/verdict/registry_scanner.h"

#include <ctime>

#include "scanner/analyze/analyzer.h"
#include "scanner/image/reference.h"
#include "scanner/match/matcher.h"
#include "scanner/match/targets.h"
#include "scanner/report/report.h"
#include "scanner/scan/scan.h"

namespace scangate::verdict {

SourceOptions source_options(const RegistryAccess& access, const std::string& reference) {
  SourceOptions so;
  so.reference = reference;
  so.credential_sources = CredentialSources::from_environment(access.registry_config);
  so.insecure_registries = access.insecure_registries;
  so.ca_file = access.ca_file;
  return so;
}

RegistryImageScanner::RegistryImageScanner(RegistryAccess access, std::shared_ptr<const vulndb::VulnStore> db,
                                           std::shared_ptr<const SecretScanner> secrets)
    : access_(std::move(access)), db_(std::move(db)), secrets_(std::move(secrets)) {}

Result<ScanRecord> RegistryImageScanner::scan(const std::string& pinned_reference) {
  auto source = open_image_source(source_options(access_, pinned_reference));
  if (!source.ok()) return source.error();
  auto analyzers = AnalyzerRegistry::builtin();
  ScanOptions opts;
  if (secrets_) {
    auto sc = secrets_;
    opts.extra_want = [sc](std::string_view p, uint64_t size) { return sc->wants(p, size); };
    opts.per_layer = [sc](const LayerContents& layer, Inventory& inv) {
      for (const auto& f : layer.files) {
        if (f.type != EntryType::kRegular || !f.has_content || !sc->wants(f.path, f.content.size())) continue;
        for (auto& s : sc->scan(f.path, f.content)) {
          s.layer = layer.layer;
          inv.secrets.push_back(std::move(s));
        }
      }
    };
  }
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
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  in.created_at = buf;
  in.tool_version = "scangate-webhook";
  rec.report_json = write_trivy_json(in);
  return rec;
}

Result<std::string> RegistryDigestResolver::resolve(const std::string& reference) {
  auto ref = parse_reference(reference);
  if (!ref.ok()) return ref.error();
  auto client = make_registry_client(source_options(access_, reference));
  if (!client.ok()) return client.error();
  return (*client)->resolve_digest(*ref);
}

}  // namespace scangate::verdict
