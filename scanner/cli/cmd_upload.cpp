// `scangate upload FILE` and `scangate upload --drain`: deliver reports to the CSPM backend
// (AccuKnox, or DefectDojo with --sink defectdojo) through the durable spool.
#include <iostream>
#include <memory>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/upload_flags.h"
#include "scanner/cspm/config.h"
#include "scanner/core/fs_util.h"
#include "scanner/cspm/upload.h"

namespace scangate::cli {

namespace {

const char* kUploadUsage = "scangate upload FILE [flags]\n       scangate upload --drain [flags]";
const char* kUploadSummary =
    "Uploads a JSON report (TR) or a CycloneDX SBOM to the CSPM backend, as the AccuKnox CI integrations do:\n"
    "POST https://CSPM_URL/api/v1/artifact/?tenant_id=..&data_type=TR&label_id=..&save_to_s3=false.\n"
    "The report is first written to a durable spool, then sent with retries (connection errors, timeouts,\n"
    "429 honouring Retry-After, 5xx). A report that cannot be delivered now stays spooled and goes out with\n"
    "the next upload or `scangate upload --drain`; one the server refuses (4xx) moves to the spool's dead/\n"
    "folder. The token comes from --token-file or ACCUKNOX_TOKEN / ACCUKNOX_API_TOKEN, never a flag.\n"
    "Exit codes: 0 delivered, 4 not delivered (0 with --upload-soft-fail), 2 usage or configuration error.";

std::vector<FlagSpec> upload_flags() {
  std::vector<FlagSpec> specs = {
      {"cspm-url", true, false, "URL", "CSPM endpoint; https:// is added without a scheme",
       "$ACCUKNOX_ENDPOINT, $CSPM_URL"},
      {"tenant-id", true, false, "ID", "tenant id (optional)", "$TENANT_ID"},
      {"label", true, false, "ID", "label id (optional)", "$ACCUKNOX_LABEL"},
      {"token-file", true, false, "FILE", "file holding the API token (a mounted secret)",
       "$ACCUKNOX_TOKEN, $ACCUKNOX_API_TOKEN"},
      {"cacert", true, false, "FILE", "extra CA certificates (PEM) to verify the server"},
      {"data-type", true, false, "TR|SBOM", "what the file is", "SBOM for CycloneDX, TR otherwise"},
      {"drain", false, false, "", "send what is spooled, no new report"},
      {"sink", true, false, "accuknox|defectdojo", "the backend", "accuknox"},
      {"dd-url", true, false, "URL", "DefectDojo URL", "$DEFECTDOJO_URL"},
      {"dd-token-file", true, false, "FILE", "DefectDojo API v2 key file", "$DEFECTDOJO_TOKEN, $DEFECTDOJO_API_KEY"},
      {"dd-engagement-id", true, false, "ID", "DefectDojo engagement", "$DEFECTDOJO_ENGAGEMENT_ID"},
      {"dd-product", true, false, "NAME", "DefectDojo product name", "$DEFECTDOJO_PRODUCT"},
      {"dd-engagement", true, false, "NAME", "DefectDojo engagement name", "$DEFECTDOJO_ENGAGEMENT"},
      {"dd-product-type", true, false, "NAME", "DefectDojo product type (with --dd-auto-create)"},
      {"dd-auto-create", false, false, "", "create the DefectDojo product/engagement when missing"},
      {"quiet", false, false, "", "only errors on standard error"},
  };
  for (const auto& f : upload_tuning_flags()) specs.push_back(f);
  return specs;
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int cmd_upload(const std::vector<std::string>& argv, Io io) {
  for (const auto& a : argv) {
    if (a == "--help" || a == "-h") {
      io.out << render_help(kUploadUsage, kUploadSummary, upload_flags());
      return kExitOk;
    }
  }
  auto args = parse_args(argv, upload_flags());
  if (!args.ok()) {
    io.err << "scangate upload: " << args.error().message << "\n";
    return kExitError;
  }
  const bool drain_only = args->has("drain");
  const bool quiet = args->has("quiet");
  if (drain_only ? !args->positional().empty() : args->positional().size() != 1) {
    io.err << "scangate upload: " << (drain_only ? "--drain takes no FILE" : "give exactly one report FILE")
           << "\n\nUsage: " << kUploadUsage << "\n";
    return kExitError;
  }

  std::string report;
  if (!drain_only) {
    const std::string& file = args->positional()[0];
    auto bytes = fs::read_file(file, size_t{1} << 30);
    if (!bytes.ok()) {
      io.err << "scangate upload: cannot read the report " << file << ": " << bytes.error().message << "\n";
      return kExitError;
    }
    report = std::move(bytes.value());
  }

  auto env = cspm::process_environment();
  auto tuning = parse_upload_tuning(*args, env);
  if (!tuning.ok()) {
    io.err << "scangate upload: " << tuning.error().message << "\n";
    return kExitError;
  }
  const bool soft = tuning->soft_fail;
  cspm::UploadOptions o = tuning->options;
  if (!drain_only) o.filename = base_name(args->positional()[0]);
  if (auto dt = args->get("data-type")) {
    auto n = cspm::normalize_data_type(*dt);
    if (!n.ok()) {
      io.err << "scangate upload: " << n.error().message << "\n";
      return kExitError;
    }
    o.data_type = *n;
  }

  // Everything after this point may involve the token: messages go through the redacting logger.
  cspm::Logger to_stderr =
      stderr_logger(io.err, "scangate upload", quiet ? cspm::LogLevel::kError : cspm::LogLevel::kInfo);
  // Configuration and upload failures are soft with --upload-soft-fail; usage errors never are.
  auto fail = [&](const std::string& msg, int code) { return upload_failure(to_stderr, msg, code, soft); };

  std::unique_ptr<cspm::Sink> sink;
  std::string secret;
  std::string sink_name = args->get_or("sink", "accuknox");
  std::chrono::milliseconds read_timeout = tuning->read_timeout;
  if (sink_name == "accuknox") {
    cspm::CspmFlags f;
    f.url = args->get("cspm-url");
    f.tenant_id = args->get("tenant-id");
    f.label = args->get("label");
    f.token_file = args->get("token-file");
    f.cacert = args->get("cacert");
    f.data_type = args->get("data-type");
    auto c = cspm::resolve_cspm_config(f, env);
    if (!c.ok()) return fail(c.error().message, kExitError);
    c->http.read_timeout = read_timeout;
    secret = c->token;
    sink = cspm::make_accuknox_sink(*c);
  } else if (sink_name == "defectdojo") {
    cspm::DefectDojoFlags f;
    f.url = args->get("dd-url");
    f.token_file = args->get("dd-token-file");
    f.engagement_id = args->get("dd-engagement-id");
    f.product = args->get("dd-product");
    f.engagement = args->get("dd-engagement");
    f.product_type = args->get("dd-product-type");
    f.auto_create = args->has("dd-auto-create");
    f.cacert = args->get("cacert");
    auto c = cspm::resolve_defectdojo_config(f, env);
    if (!c.ok()) return fail(c.error().message, kExitError);
    c->http.read_timeout = read_timeout;
    secret = c->token;
    sink = cspm::make_defectdojo_sink(*c);
  } else {
    io.err << "scangate upload: --sink must be accuknox or defectdojo, not '" << sink_name << "'\n";
    return kExitError;
  }
  cspm::Logger log = cspm::redacting(to_stderr, {secret});
  o.deps = cspm::real_uploader_deps(log);
  o.spool.log = log;
  auto scrub = [&](const std::string& s) { return cspm::redact(s, {secret}); };

  if (drain_only) {
    auto d = cspm::drain_spool(*sink, o);
    if (!d.ok()) return fail(scrub(d.error().message), kExitError);
    log.info("spool " + o.spool_dir + ": " + std::to_string(d->delivered) + " delivered, " +
                 std::to_string(d->dead_lettered) + " dead-lettered, " + std::to_string(d->pending) + " still pending",
             {{"delivered", d->delivered}, {"dead_lettered", d->dead_lettered}, {"pending", d->pending}});
    if (d->pending > 0 || d->dead_lettered > 0)
      return fail("not every spooled report was delivered", kExitUploadFailed);
    return kExitOk;
  }

  auto r = cspm::upload_with_sink(*sink, report, o);
  if (!r.ok()) return fail(scrub(r.error().message), kExitError);
  return report_upload_outcome(*r, args->positional()[0], sink->describe(), o.spool_dir, soft, log);
}

}  // namespace scangate::cli
