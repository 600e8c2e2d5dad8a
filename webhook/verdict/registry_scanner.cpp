#include "webhook/verdict/registry_scanner.h"

#include "scanner/attest/store.h"
#include "scanner/attest/verify.h"
#include "scanner/core/log.h"
#include "scanner/core/time_util.h"
#include "scanner/policy/trivy_report.h"
#include "scanner/report/cyclonedx_read.h"
#include "scanner/image/manifest.h"
#include "scanner/image/reference.h"
#include "scanner/pipeline/pipeline.h"

namespace scangate::verdict {

Result<std::shared_ptr<RegistryClient>> make_shared_registry_client(const RegistryAccess& access) {
  SourceOptions so;
  so.credential_sources = CredentialSources::from_environment(access.registry_config);
  so.insecure_registries = access.insecure_registries;
  so.ca_file = access.ca_file;
  if (!access.http) return make_registry_client(so);
  auto ro = registry_client_options(so);
  if (!ro.ok()) return ro.error();
  ro->http = access.http;
  return make_http_registry_client(std::move(ro).value());
}

RegistryImageScanner::RegistryImageScanner(std::shared_ptr<RegistryClient> client,
                                           std::shared_ptr<const vulndb::VulnStore> db,
                                           std::shared_ptr<const SecretScanner> secrets)
    : client_(std::move(client)), db_([db = std::move(db)] { return db; }), secrets_(std::move(secrets)) {}

RegistryImageScanner::RegistryImageScanner(std::shared_ptr<RegistryClient> client, DbProvider db,
                                           std::shared_ptr<const SecretScanner> secrets)
    : client_(std::move(client)), db_(std::move(db)), secrets_(std::move(secrets)) {}

namespace {

// A record of `scanned`, its report written at `report_time`.
ScanRecord record_of(pipeline::ScanResult& scanned, std::chrono::system_clock::time_point report_time) {
  ScanRecord rec;
  pipeline::ReportInfo info;
  info.created_at = format_rfc3339(report_time);
  info.tool_version = "scangate-webhook";
  rec.report_json = scanned.report(pipeline::ReportFormat::kJson, info);
  rec.meta = std::move(scanned.meta);
  rec.findings = std::move(scanned.findings);
  rec.secrets = std::move(scanned.inventory.secrets);
  return rec;
}

}  // namespace

Result<ScanRecord> RegistryImageScanner::scan(const std::string& pinned_reference, const Deadline& deadline) {
  auto rec = scan_with(client_, pinned_reference, deadline);
  if (rec.ok()) rec->shared_reach = true;  // the webhook's own client
  return rec;
}

Result<ScanRecord> RegistryImageScanner::scan_as(const std::string& pinned_reference, const PullContext& who,
                                                 const Deadline& deadline) {
  if (!access_ || who.empty()) return scan(pinned_reference, deadline);
  auto ref = parse_reference(pinned_reference);
  if (!ref.ok()) return ref.error();
  auto chain = access_->client_for(*ref, who, deadline);
  auto rec = scan_with(chain, pinned_reference, deadline);
  if (rec.ok()) rec->shared_reach = chain->shared_reach();
  return rec;
}

Result<std::vector<PlatformImage>> RegistryImageScanner::images_as(const std::string& pinned_reference,
                                                                   const PullContext& who, const Deadline& deadline) {
  if (!access_ || who.empty()) return images_with(*client_, pinned_reference, deadline);
  auto ref = parse_reference(pinned_reference);
  if (!ref.ok()) return ref.error();
  auto chain = access_->client_for(*ref, who, deadline);
  return images_with(*chain, pinned_reference, deadline);
}

Result<std::optional<ScanRecord>> RegistryImageScanner::from_attestations(RegistryClient& client,
                                                                          const std::string& pinned_reference,
                                                                          const Deadline& deadline,
                                                                          std::string& basis) {
  static const log::Logger lg("attest");
  auto count = [this](const std::string& result) {
    if (attest_->counted) attest_->counted(result);
  };
  auto ref = parse_reference(pinned_reference);
  if (!ref.ok()) return ref.error();
  const std::string digest = ref->digest;
  // Reaching the image comes first: with a pod's credentials, that is the proof the pod may pull
  // it (and an attestation is never a way around it).
  auto manifest = client.get_manifest(*ref, digest, deadline);
  if (!manifest.ok()) return manifest.error();

  attest::FetchLimits limits;
  limits.predicate_types = {std::string(attest::kVulnPredicateType), std::string(attest::kCycloneDxPredicateType)};
  auto fetched = attest::fetch_attestations(client, *ref, digest, deadline, limits);
  if (!fetched.ok()) {
    count("error");
    basis = "its attestations could not be read";  // the why is logged: it may name a repository
    lg.warn("reading attestations failed; scanning", {{"image", pinned_reference}, {"error", fetched.error().message}});
    return std::optional<ScanRecord>();
  }
  const auto now = std::chrono::system_clock::now();
  attest::VerifyOptions vo{attest_->keys, digest, now,
                           attest_->max_age ? attest_->max_age() : std::chrono::seconds(24 * 3600)};
  auto e = attest::evaluate(*fetched, vo);
  if (e.checked.empty()) count("none");
  for (const auto& c : e.checked) {
    count(attest::to_string(c.outcome));
    if (c.outcome != attest::Outcome::kVerified && c.outcome != attest::Outcome::kStale &&
        c.outcome != attest::Outcome::kUnsupportedType)
      lg.warn("attestation rejected", {{"image", pinned_reference},
                                       {"where", c.where},
                                       {"predicate_type", c.predicate_type.substr(0, 120)},
                                       {"result", attest::to_string(c.outcome)},
                                       {"detail", c.detail}});
  }

  if (const auto* s = e.sbom()) {
    auto sbom = read_cyclonedx(s->statement->predicate);
    if (sbom.ok()) {
      // The subject was verified to be this digest: the SBOM's own idea of the image does not count.
      ImageMetadata meta = std::move(sbom->meta);
      meta.reference = pinned_reference;
      meta.normalized = ref->normalized();
      meta.repo_digest = ref->name() + "@" + digest;
      meta.manifest_digest = digest;
      pipeline::Options o;
      o.scanners.secret = false;  // an SBOM lists packages; secrets are not part of it
      o.store = db_();
      o.deadline = deadline;
      auto matched = pipeline::run_from_inventory(o, meta, sbom->inventory);
      if (!matched.ok()) return matched.error().wrap("matching the attested SBOM of " + pinned_reference);
      auto kept = KeptInventory::keep(matched->meta, matched->inventory);
      ScanRecord rec = record_of(*matched, now);
      rec.scanned_at = now;  // today's findings: the SBOM is content, the match is now
      rec.kept = std::move(kept);
      if (o.store) rec.db_revision = o.store->revision();
      rec.attested = "sbom";
      rec.basis = "the pipeline's signed SBOM (key " + s->key_id + "), matched against this cluster's DB";
      lg.info("decided from the attested SBOM", {{"image", pinned_reference}, {"key", s->key_id}});
      return std::optional<ScanRecord>(std::move(rec));
    }
    count("sbom_unreadable");
    lg.warn("the attested SBOM does not read as CycloneDX",
            {{"image", pinned_reference}, {"error", sbom.error().message}});
  }
  auto bound_sbom_missing = [&e](const attest::Checked& v) {
    const std::string bound = attest::bound_sbom(v.statement->predicate);
    if (bound.empty()) return false;
    for (const auto& c : e.checked)
      if (c.outcome == attest::Outcome::kVerified && c.payload_digest == bound) return false;
    return true;
  };
  if (const auto* v = e.vuln(); v && bound_sbom_missing(*v)) {
    // The pipeline attested an SBOM with this record, and it is not there. The record's findings
    // are the pipeline's DB's: not taken alone (the SBOM may have been removed to that end).
    count("sbom_missing");
    lg.warn("the vulnerability record names an SBOM that is not attached or not readable; scanning",
            {{"image", pinned_reference}, {"sbom", attest::bound_sbom(v->statement->predicate)}});
    basis = "its vulnerability record names an SBOM that is missing";
    return std::optional<ScanRecord>();
  }
  if (const auto* v = e.vuln()) {
    auto report =
        policy::read_trivy_report(v->vuln->result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (report.ok()) {
      ScanRecord rec;
      rec.meta.reference = pinned_reference;
      rec.meta.normalized = ref->normalized();
      rec.meta.repo_digest = ref->name() + "@" + digest;
      rec.meta.manifest_digest = digest;
      rec.meta.config_digest = report->image_id;
      rec.findings = std::move(report->findings);
      rec.secrets = std::move(report->secrets);
      rec.report_json = v->vuln->result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      rec.scanned_at = v->vuln->finished;
      // Decided with this DB in force (the cache keys by it); the findings are the pipeline's.
      if (auto db = db_()) rec.db_revision = db->revision();
      rec.attested = "vuln";
      rec.basis =
          "the pipeline's signed vulnerability record (key " + v->key_id + ", scanned " + v->vuln->finished_on + ")";
      lg.info("decided from the attested vulnerability record",
              {{"image", pinned_reference}, {"key", v->key_id}, {"scanned", v->vuln->finished_on}});
      return std::optional<ScanRecord>(std::move(rec));
    }
    count("malformed");
    lg.warn("the attested vulnerability record is not a readable report",
            {{"image", pinned_reference}, {"error", report.error().message}});
    basis = "its vulnerability record does not hold a readable report";
    return std::optional<ScanRecord>();
  }
  basis = e.why_none();
  return std::optional<ScanRecord>();
}

Result<ScanRecord> RegistryImageScanner::scan_with(const std::shared_ptr<RegistryClient>& client,
                                                   const std::string& pinned_reference, const Deadline& deadline) {
  std::string basis;
  if (attest_) {
    auto a = from_attestations(*client, pinned_reference, deadline, basis);
    if (!a.ok()) return a.error();
    if (a->has_value()) {
      (*a)->attestation_checked_at = std::chrono::system_clock::now();
      return std::move(**a);
    }
  }
  pipeline::Options o;
  o.source.reference = pinned_reference;
  o.source.client = client;
  o.scanners.secret = secrets_ != nullptr;
  o.secret_scanner = secrets_;
  o.store = db_();  // read once: the record names the revision it was matched against
  o.deadline = deadline;
  // No report filters and no gate here: the engine decides with the policy in force per request.
  auto scanned = pipeline::run(o);
  if (!scanned.ok()) return scanned.error();

  const auto now = std::chrono::system_clock::now();
  auto kept = KeptInventory::keep(scanned->meta, scanned->inventory);
  ScanRecord rec = record_of(*scanned, now);
  rec.scanned_at = now;
  rec.kept = std::move(kept);
  if (o.store) rec.db_revision = o.store->revision();
  rec.basis = std::move(basis);
  if (attest_) rec.attestation_checked_at = now;
  if (layers_pulled_) layers_pulled_(rec.meta.layer_digests.size());
  return rec;
}

Result<ScanRecord> RegistryImageScanner::rematch(const ScanRecord& previous, const std::string& pinned_reference,
                                                 const Deadline& deadline) {
  if (!previous.kept)
    return Error(ErrorKind::kInvalidArgument,
                 "the scan of " + pinned_reference + " kept no inventory to match again: scan it instead");
  // Decided without an attestation: one may have been pushed since. Asked with the webhook's own
  // credentials (a rematch has no pod); no layer is pulled either way.
  std::string basis = previous.basis;
  const auto checked = std::chrono::system_clock::now();
  if (attest_ && previous.attested.empty()) {
    auto a = from_attestations(*client_, pinned_reference, deadline, basis);
    if (a.ok() && a->has_value()) {
      ScanRecord rec = std::move(**a);
      rec.shared_reach = previous.shared_reach;  // the same content, reached by the same scope
      rec.attestation_checked_at = checked;
      return rec;
    }
    if (!a.ok()) basis = "its attestations could not be read";
  }
  pipeline::Options o;
  o.scanners.secret = false;  // the secrets are the kept ones: they do not depend on the DB
  o.store = db_();
  o.deadline = deadline;
  auto matched = pipeline::run_from_inventory(o, previous.kept->meta, previous.kept->inventory);
  if (!matched.ok()) return matched.error().wrap("matching the kept inventory of " + pinned_reference + " again");
  ScanRecord rec = record_of(*matched, std::chrono::system_clock::now());
  rec.scanned_at = previous.scanned_at;
  rec.kept = previous.kept;
  rec.shared_reach = previous.shared_reach;  // read from the same content with the same credentials
  rec.attested = previous.attested;          // the same inventory: an attested SBOM stays attested
  rec.basis = std::move(basis);
  rec.attestation_checked_at = attest_ && previous.attested.empty() ? checked : previous.attestation_checked_at;
  if (o.store) rec.db_revision = o.store->revision();
  return rec;
}

namespace {

// The image manifests of `index` (nested indexes read and flattened, at most `depth_left` deep);
// attestation entries ("unknown/unknown") are left out; annotations never hide an entry.
Result<void> collect_images(RegistryClient& client, const Reference& ref, const ImageIndex& index,
                            const std::string& shown, const Deadline& deadline, int depth_left,
                            std::vector<PlatformImage>& out) {
  for (const auto& d : index.manifests) {
    const bool has_platform = d.platform && !(d.platform->os.empty() && d.platform->architecture.empty());
    // Annotations are the index author's word, and runtimes ignore them: containerd picks an entry
    // by its platform, and takes one without a platform (or a nested index) when its config fits.
    // So every entry is judged whatever "vnd.docker.reference.type" says; only unknown/unknown
    // (buildx's attestation manifests, which no node runs) is left out, below and in
    // platforms_to_check().
    std::string platform;
    if (has_platform) {
      if (d.platform->os == "unknown" || d.platform->architecture == "unknown") continue;
      platform = d.platform->to_string();
    }
    if (d.media_type != media_type::kOciIndex && d.media_type != media_type::kDockerManifestList) {
      out.push_back({platform, d.digest});
      continue;
    }
    if (depth_left <= 0) return Error(ErrorKind::kFormat, "image index of " + shown + " is nested too deeply");
    auto m = client.get_manifest(ref, d.digest, deadline);
    if (!m.ok()) return m.error().wrap("nested index " + d.digest + " of " + shown);
    auto p = parse_manifest(m->body, m->media_type, "manifest " + d.digest + " of " + shown);
    if (!p.ok()) return p.error();
    if (!p->is_index) {
      out.push_back({platform, m->digest});
      continue;
    }
    SG_TRY(collect_images(client, ref, p->index, shown, deadline, depth_left - 1, out));
  }
  return Ok();
}

}  // namespace

Result<std::vector<PlatformImage>> RegistryImageScanner::images(const std::string& pinned_reference,
                                                                const Deadline& deadline) {
  return images_with(*client_, pinned_reference, deadline);
}

Result<std::vector<PlatformImage>> RegistryImageScanner::images_with(RegistryClient& client,
                                                                     const std::string& pinned_reference,
                                                                     const Deadline& deadline) {
  auto ref = parse_reference(pinned_reference);
  if (!ref.ok()) return ref.error();
  const std::string shown = ref->normalized();
  auto top = client.get_manifest(*ref, ref->manifest_reference(), deadline);
  if (!top.ok()) return top.error();
  auto parsed = parse_manifest(top->body, top->media_type, "manifest of " + shown);
  if (!parsed.ok()) return parsed.error();
  std::vector<PlatformImage> out;
  if (!parsed->is_index) {
    out.push_back({"", top->digest});
    return out;
  }
  SG_TRY(collect_images(client, *ref, parsed->index, shown, deadline, 1, out));
  return out;
}

Result<std::string> RegistryDigestResolver::resolve_checked(RegistryClient& client, const Reference& ref,
                                                            const std::string& scope, const Deadline& deadline) {
  auto d = client.resolve_digest(ref, deadline);
  if (!d.ok()) return d.error();
  const std::string key = scope + '\x1e' + ref.name() + "@" + *d;
  {
    std::lock_guard<std::mutex> l(verified_mu_);
    if (verified_.get(key) != nullptr) return d;
  }
  // get_manifest by digest hashes the bytes it receives and refuses any other digest.
  auto m = client.get_manifest(ref, *d, deadline);
  if (!m.ok()) return m.error().wrap(ref.normalized() + ": the registry named digest " + *d + " but did not serve it");
  std::lock_guard<std::mutex> l(verified_mu_);
  verified_.put(key, true);
  return d;
}

Result<std::string> RegistryDigestResolver::resolve(const std::string& reference, const Deadline& deadline) {
  auto ref = parse_reference(reference);
  if (!ref.ok()) return ref.error();
  if (deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed before the look-up of " + reference);
  if (!ref->digest.empty()) return ref->digest;
  return resolve_checked(*client_, *ref, "", deadline);
}

Result<DigestResolver::Resolution> RegistryDigestResolver::resolve_as(const std::string& reference,
                                                                      const PullContext& who,
                                                                      const Deadline& deadline) {
  if (!access_ || who.empty()) {
    auto d = resolve(reference, deadline);
    if (!d.ok()) return d.error();
    return Resolution{std::move(d).value(), true};
  }
  auto ref = parse_reference(reference);
  if (!ref.ok()) return ref.error();
  if (deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed before the look-up of " + reference);
  auto chain = access_->client_for(*ref, who, deadline);
  if (!ref->digest.empty()) {
    // A pinned reference names its digest: the proof that this pod reaches it is the registry
    // serving that manifest to its credentials (get_manifest checks the bytes' digest).
    auto m = chain->get_manifest(*ref, ref->digest, deadline);
    if (!m.ok()) return m.error();
    return Resolution{ref->digest, chain->shared_reach()};
  }
  auto d = resolve_checked(*chain, *ref, who.scope(), deadline);
  if (!d.ok()) return d.error();
  return Resolution{std::move(d).value(), chain->shared_reach()};
}

}  // namespace scangate::verdict
