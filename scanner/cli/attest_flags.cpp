#include "scanner/cli/attest_flags.h"

#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "scanner/attest/dsse.h"
#include "scanner/attest/statement.h"
#include "scanner/attest/store.h"
#include "scanner/attest/verify.h"
#include "scanner/cli/registry_flags.h"
#include "scanner/core/sha256.h"
#include "scanner/core/time_util.h"
#include "scanner/image/manifest.h"
#include "scanner/image/platform.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_push.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/trivy_report.h"

namespace scangate::cli {
namespace {

using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The Trivy report of every finding (the report's --severity and ignore filters left out: the
// cluster decides with its own policy) and the SBOM, without findings.
std::string full_report(const pipeline::ScanResult& scanned, pipeline::ReportFormat format,
                        const std::string& created) {
  pipeline::ScanResult all = scanned;
  all.reported = all.findings;
  pipeline::ReportInfo info;
  info.created_at = created;
  info.tool_version = SCANGATE_VERSION;
  info.include_vulnerabilities = format != pipeline::ReportFormat::kCycloneDx;
  return pipeline::write_report(all.report_input(info), format);
}

std::string statement_of(const std::string& subject_name, const std::string& digest, std::string_view predicate_type,
                         json predicate) {
  attest::Statement st;
  st.predicate_type = std::string(predicate_type);
  st.subjects.push_back({subject_name, digest});
  st.predicate = std::move(predicate);
  return attest::render_statement(st);
}

Result<std::string> signed_envelope(const attest::SigningKey& key, std::string payload) {
  auto env = attest::sign_envelope(std::string(attest::kInTotoPayloadType), std::move(payload), key);
  if (!env.ok()) return env.error();
  return attest::render_envelope(*env);
}

}  // namespace

const std::vector<FlagSpec>& attest_flags() {
  static const std::vector<FlagSpec> specs = {
      {"attest", false, false, "",
       "sign the scan and attach it to the image: a cosign vulnerability record and a CycloneDX SBOM (DSSE, the "
       "sha256-<digest>.att tag and OCI referrers)"},
      {"key", true, false, "FILE",
       "PEM EC P-256 private key for --attest (else $SCANGATE_ATTEST_KEY holds the PEM, or "
       "$SCANGATE_ATTEST_KEY_FILE names the file)"},
      {"key-file", true, false, "FILE", "the same as --key"},
  };
  return specs;
}

Result<AttestSettings> parse_attest_settings(const Args& args, const SourceOptions& source) {
  AttestSettings out;
  const bool named = args.has("key") || args.has("key-file");
  if (!args.has("attest")) {
    if (named) return Error(ErrorKind::kInvalidArgument, "--key signs attestations: add --attest");
    return out;
  }
  out.enabled = true;
  if (!source.input.empty() || source.reference.empty())
    return Error(
        ErrorKind::kInvalidArgument,
        "--attest attaches the attestations to the image in its registry: name an image reference, not --input");
  if (args.has("key") && args.has("key-file"))
    return Error(ErrorKind::kInvalidArgument, "give --key or --key-file, not both");
  Result<attest::SigningKey> key = Error(ErrorKind::kInvalidArgument, "");
  if (named) {
    key = attest::SigningKey::load_file(args.has("key") ? args.get_or("key", "") : args.get_or("key-file", ""));
  } else if (auto pem = env("SCANGATE_ATTEST_KEY"); !pem.empty()) {
    key = attest::SigningKey::from_pem(pem, "$SCANGATE_ATTEST_KEY");
  } else if (auto file = env("SCANGATE_ATTEST_KEY_FILE"); !file.empty()) {
    key = attest::SigningKey::load_file(file);
  } else {
    return Error(ErrorKind::kInvalidArgument,
                 "--attest needs a signing key: --key FILE, or $SCANGATE_ATTEST_KEY (PEM) or $SCANGATE_ATTEST_KEY_FILE "
                 "(create one with `openssl ecparam -name prime256v1 -genkey -noout -out attest.key`)");
  }
  if (!key.ok()) return key.error();
  out.key = std::move(key).value();
  return out;
}

Result<void> attest_scan(const AttestSettings& a, const SourceOptions& source, const pipeline::ScanResult& scanned,
                         std::chrono::system_clock::time_point started, std::chrono::system_clock::time_point finished,
                         bool quiet, const Deadline& deadline, Io io) {
  const std::string digest = scanned.meta.manifest_digest;
  if (digest.empty()) return Error(ErrorKind::kInvalidArgument, "the scan has no manifest digest to attest");
  auto ref = parse_reference(source.reference);
  if (!ref.ok()) return ref.error();
  const std::string subject = ref->name();

  attest::VulnRecord rec;
  rec.scanner_uri = std::string("pkg:github/scangate/scangate@") + SCANGATE_VERSION;
  rec.scanner_version = SCANGATE_VERSION;
  rec.db_version = scanned.db_revision;
  rec.started_on = format_rfc3339(started);
  rec.finished_on = format_rfc3339(finished);
  auto report = json::parse(full_report(scanned, pipeline::ReportFormat::kJson, rec.finished_on), nullptr, false);
  auto bom = json::parse(full_report(scanned, pipeline::ReportFormat::kCycloneDx, rec.finished_on), nullptr, false);
  if (report.is_discarded() || bom.is_discarded())
    return Error(ErrorKind::kInternal, "the report to attest is not JSON");
  rec.result = std::move(report);

  // The record names the SBOM statement it was made with: a verifier never takes the record alone
  // when someone has removed its SBOM (attest::bound_sbom).
  const std::string sbom_payload = statement_of(subject, digest, attest::kCycloneDxPredicateType, std::move(bom));
  json vuln_pred = attest::vuln_predicate(rec);
  attest::bind_sbom(vuln_pred, Sha256::digest(sbom_payload));
  auto vuln = signed_envelope(*a.key, statement_of(subject, digest, attest::kVulnPredicateType, std::move(vuln_pred)));
  if (!vuln.ok()) return vuln.error();
  auto sbom = signed_envelope(*a.key, sbom_payload);
  if (!sbom.ok()) return sbom.error();

  auto ro = registry_client_options(source);
  if (!ro.ok()) return ro.error();
  auto reader = make_http_registry_client(*ro);
  RegistryPusher pusher(std::move(ro).value());
  if (!quiet) io.err << "attesting " << subject << "@" << digest << " (key " << a.key->public_key().id() << ")\n";
  auto attached = attest::attach_attestations(
      pusher, *reader, *ref, digest,
      {{std::string(attest::kVulnPredicateType), *vuln}, {std::string(attest::kCycloneDxPredicateType), *sbom}},
      deadline);
  if (!attached.ok()) return attached.error().wrap("attaching the attestations to " + subject + "@" + digest);
  if (!quiet) {
    io.err << "attached a vulnerability record and an SBOM as " << subject << ":" << attest::att_tag(digest) << " ("
           << attached->att_manifest_digest << ")";
    if (attached->referrers_api)
      io.err << " and as " << attached->referrer_digests.size() << " OCI referrers";
    else
      io.err << "; the registry has no referrers API, so the tag alone carries them";
    io.err << "\n";
  }
  return Ok();
}

namespace {

const std::vector<FlagSpec>& verify_flags() {
  static const std::vector<FlagSpec> specs = [] {
    std::vector<FlagSpec> s = {
        {"key", true, true, "FILE", "trusted PEM public key (EC P-256, e.g. cosign.pub); repeatable"},
        {"max-age", true, false, "DURATION", "a vulnerability record older than this is stale", "24h"},
        {"platform", true, false, "OS/ARCH[/VARIANT]", "image to pick from a multi-arch index", "linux/amd64"},
        {"format", true, false, "text|json", "output format", "text"},
    };
    for (const auto& f : registry_flags()) s.push_back(f);
    return s;
  }();
  return specs;
}

const char* kAttestUsage = "scangate attest verify [flags] --key KEY.pub IMAGE";

// The image manifest digest `ref` names: an index is resolved to `platform`'s image, as
// `scangate image` does, because that is the digest the pipeline attests.
Result<std::string> image_digest(RegistryClient& client, const Reference& ref, const std::string& platform,
                                 const Deadline& deadline) {
  auto top = client.get_manifest(ref, ref.manifest_reference(), deadline);
  if (!top.ok()) return top.error();
  auto parsed = parse_manifest(top->body, top->media_type, "manifest of " + ref.normalized());
  if (!parsed.ok()) return parsed.error();
  if (!parsed->is_index) return top->digest;
  auto want = parse_platform(platform.empty() ? "linux/amd64" : platform);
  if (!want.ok()) return want.error();
  auto d = select_platform(parsed->index, *want, ref.normalized());
  if (!d.ok()) return d.error();
  return d->digest;
}

std::string summary_of(const attest::Checked& c) {
  if (c.vuln) {
    std::map<std::string, int> by;
    auto r = policy::read_trivy_report(c.vuln->result.dump());
    if (!r.ok()) return "report unreadable: " + r.error().message;
    for (const auto& f : r->findings) by[to_string(f.severity)]++;
    std::string s = "scanned " + c.vuln->finished_on + " by " + c.vuln->scanner_uri;
    if (!c.vuln->db_version.empty()) s += ", DB " + c.vuln->db_version.substr(0, 19);
    s += "; findings:";
    if (by.empty()) s += " none";
    for (const char* sev : {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"})
      if (by.count(sev)) s += " " + std::to_string(by[sev]) + " " + sev;
    return s;
  }
  if (c.statement && attest::is_cyclonedx_type(c.predicate_type)) {
    const auto& p = c.statement->predicate;
    auto comps = p.find("components");
    return "CycloneDX " +
           (p.contains("specVersion") && p["specVersion"].is_string() ? p["specVersion"].get<std::string>() : "?") +
           ", " + std::to_string(comps != p.end() && comps->is_array() ? comps->size() : 0) + " components";
  }
  return {};
}

int cmd_attest_verify(const std::vector<std::string>& argv, Io io) {
  for (const auto& a : argv)
    if (a == "--help" || a == "-h") {
      io.out << render_help(kAttestUsage,
                            "List the attestations attached to an image (cosign's .att tag, OCI referrers) and say "
                            "whether each verifies: signature under a trusted key, subject = the image digest, a "
                            "known predicate type, and a fresh vulnerability record. Exit 0 when a vulnerability "
                            "record or an SBOM verifies, 1 when none does, 2 on errors.",
                            verify_flags());
      return kExitOk;
    }
  auto args = parse_args(argv, verify_flags());
  if (!args.ok()) {
    io.err << "scangate attest verify: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().size() != 1) {
    io.err
        << "scangate attest verify: name one image, e.g. `scangate attest verify --key cosign.pub registry/app:1.0`\n";
    return kExitError;
  }
  if (!args->has("key")) {
    io.err << "scangate attest verify: --key KEY.pub is required (the public key the pipeline signs with)\n";
    return kExitError;
  }
  std::vector<attest::PublicKey> keys;
  for (const auto& path : args->all("key")) {
    auto k = attest::PublicKey::load_file(path);
    if (!k.ok()) {
      io.err << "scangate attest verify: " << k.error().message << "\n";
      return kExitError;
    }
    keys.push_back(std::move(k).value());
  }
  auto max_age = policy::parse_duration(args->get_or("max-age", "24h"));
  if (!max_age.ok()) {
    io.err << "scangate attest verify: --max-age: " << max_age.error().message << "\n";
    return kExitError;
  }
  const std::string format = args->get_or("format", "text");
  if (format != "text" && format != "json") {
    io.err << "scangate attest verify: --format is text or json\n";
    return kExitError;
  }
  auto access = registry_source_options(*args, "attest verify", io);
  if (!access) return kExitError;
  SourceOptions so = std::move(*access);
  so.reference = args->positional()[0];
  auto ref = parse_reference(so.reference);
  if (!ref.ok()) {
    io.err << "scangate attest verify: " << ref.error().message << "\n";
    return kExitError;
  }
  auto client = make_registry_client(so);
  if (!client.ok()) {
    io.err << "scangate attest verify: " << client.error().message << "\n";
    return kExitError;
  }
  const Deadline deadline = Deadline::after(std::chrono::minutes(5));
  auto digest = image_digest(**client, *ref, args->get_or("platform", ""), deadline);
  if (!digest.ok()) {
    io.err << "scangate attest verify: " << digest.error().message << "\n";
    return kExitError;
  }
  attest::FetchLimits limits;
  auto fetched = attest::fetch_attestations(**client, *ref, *digest, deadline, limits);
  if (!fetched.ok()) {
    io.err << "scangate attest verify: " << fetched.error().message << "\n";
    return kExitError;
  }
  attest::VerifyOptions vo{keys, *digest, std::chrono::system_clock::now(), std::chrono::seconds(*max_age)};
  auto e = attest::evaluate(*fetched, vo);
  const bool trusted = e.sbom() != nullptr || e.vuln() != nullptr;
  if (format == "json") {
    json out = {{"image", ref->name() + "@" + *digest}, {"verified", trusted}, {"attestations", json::array()}};
    for (const auto& c : e.checked)
      out["attestations"].push_back({{"where", c.where},
                                     {"predicateType", c.predicate_type},
                                     {"result", to_string(c.outcome)},
                                     {"detail", c.detail},
                                     {"key", c.key_id},
                                     {"summary", summary_of(c)}});
    out["notes"] = e.notes;
    if (!trusted) out["reason"] = e.why_none();
    io.out << out.dump(2) << "\n";
  } else {
    io.out << ref->name() << "@" << *digest << ": " << e.checked.size() << " attestation"
           << (e.checked.size() == 1 ? "" : "s") << "\n";
    for (const auto& c : e.checked) {
      io.out << "  " << (c.outcome == attest::Outcome::kVerified ? "OK  " : "FAIL") << " " << c.predicate_type << " ("
             << c.where << "): " << to_string(c.outcome);
      if (!c.key_id.empty()) io.out << ", signed by " << c.key_id;
      if (!c.detail.empty()) io.out << ", " << c.detail;
      io.out << "\n";
      if (auto s = summary_of(c); !s.empty()) io.out << "       " << s << "\n";
    }
    for (const auto& n : e.notes) io.out << "  note: " << n << "\n";
    io.out << (trusted ? "verified" : "not verified: " + e.why_none()) << "\n";
  }
  return trusted ? kExitOk : 1;
}

}  // namespace

int cmd_attest(const std::vector<std::string>& argv, Io io) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    (argv.empty() ? io.err : io.out) << "Usage: " << kAttestUsage
                                     << "\n\nRun `scangate attest verify --help` for the flags.\n";
    return argv.empty() ? kExitError : kExitOk;
  }
  if (argv[0] == "verify") return cmd_attest_verify(std::vector<std::string>(argv.begin() + 1, argv.end()), io);
  io.err << "scangate attest: unknown subcommand '" << argv[0] << "' (known: verify)\n";
  return kExitError;
}

}  // namespace scangate::cli
