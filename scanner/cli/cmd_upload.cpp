// `scangate upload FILE` and `scangate upload --drain`: deliver reports to the CSPM backend
// (AccuKnox, or DefectDojo with --sink defectdojo) through the durable spool.
#include <charconv>
#include <iostream>
#include <memory>
#include <mutex>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
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
  return {
      {"cspm-url", true, false, "URL", "CSPM endpoint; https:// is added without a scheme", "$ACCUKNOX_ENDPOINT, $CSPM_URL"},
      {"tenant-id", true, false, "ID", "tenant id (optional)", "$TENANT_ID"},
      {"label", true, false, "ID", "label id (optional)", "$ACCUKNOX_LABEL"},
      {"token-file", true, false, "FILE", "file holding the API token (a mounted secret)",
       "$ACCUKNOX_TOKEN, $ACCUKNOX_API_TOKEN"},
      {"cacert", true, false, "FILE", "extra CA certificates (PEM) to verify the server"},
      {"data-type", true, false, "TR|SBOM", "what the file is", "SBOM for CycloneDX, TR otherwise"},
      {"spool-dir", true, false, "DIR", "durable spool", "$XDG_STATE_HOME/scangate/spool"},
      {"spool-max-reports", true, false, "N", "spool cap in reports; the oldest is dropped when full", "1000"},
      {"spool-max-mb", true, false, "N", "spool cap in MiB", "1024"},
      {"upload-timeout", true, false, "SECONDS", "per-request timeout", "60"},
      {"upload-retries", true, false, "N", "attempts per report", "6"},
      {"upload-max-time", true, false, "SECONDS", "time budget for the whole upload, retries included", "120"},
      {"upload-soft-fail", false, false, "", "exit 0 even when the report was not delivered"},
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
}

Result<int64_t> positive(const Args& args, const std::string& name, int64_t def) {
  auto v = args.get(name);
  if (!v) return def;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n <= 0)
    return Error(ErrorKind::kInvalidArgument, "--" + name + " must be a positive whole number, not '" + *v + "'");
  return n;
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
  const bool soft = args->has("upload-soft-fail");
  const bool quiet = args->has("quiet");
  if (drain_only ? !args->positional().empty() : args->positional().size() != 1) {
    io.err << "scangate upload: " << (drain_only ? "--drain takes no FILE" : "give exactly one report FILE")
           << "\n\nUsage: " << kUploadUsage << "\n";
    return kExitError;
  }

  // Everything after this point may involve the token: messages go through the redacting logger.
  auto err_mu = std::make_shared<std::mutex>();
  std::ostream* err = &io.err;
  cspm::Logger to_stderr = [err, err_mu, quiet](cspm::LogLevel level, const std::string& msg) {
    if (quiet && level != cspm::LogLevel::kError) return;
    std::lock_guard<std::mutex> lock(*err_mu);
    *err << "scangate upload: " << (level == cspm::LogLevel::kInfo ? "" : std::string(cspm::to_string(level)) + ": ")
         << msg << "\n";
  };
  // Configuration and upload failures are soft with --upload-soft-fail; usage errors never are.
  auto fail = [&](const std::string& msg, int code) {
    to_stderr(cspm::LogLevel::kError, msg);
    if (soft) {
      to_stderr(cspm::LogLevel::kWarn, "continuing because of --upload-soft-fail");
      return kExitOk;
    }
    return code;
  };

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

  auto max_reports = positive(*args, "spool-max-reports", 1000);
  auto max_mb = positive(*args, "spool-max-mb", 1024);
  auto timeout = positive(*args, "upload-timeout", 60);
  auto retries = positive(*args, "upload-retries", 6);
  auto max_time = positive(*args, "upload-max-time", 120);
  for (const auto* r : {&max_reports, &max_mb, &timeout, &retries, &max_time}) {
    if (!r->ok()) {
      io.err << "scangate upload: " << r->error().message << "\n";
      return kExitError;
    }
  }
  auto env = cspm::process_environment();
  cspm::UploadOptions o;
  o.spool_dir = args->get_or("spool-dir", cspm::default_spool_dir(env));
  o.spool.max_entries = static_cast<size_t>(*max_reports);
  o.spool.max_bytes = static_cast<uint64_t>(*max_mb) << 20;
  o.retry.max_attempts = static_cast<int>(std::min<int64_t>(*retries, 100));
  o.retry.max_elapsed = std::chrono::seconds(*max_time);
  if (!drain_only) o.filename = base_name(args->positional()[0]);
  if (auto dt = args->get("data-type")) {
    auto n = cspm::normalize_data_type(*dt);
    if (!n.ok()) {
      io.err << "scangate upload: " << n.error().message << "\n";
      return kExitError;
    }
    o.data_type = *n;
  }

  std::unique_ptr<cspm::Sink> sink;
  std::string secret;
  std::string sink_name = args->get_or("sink", "accuknox");
  std::chrono::milliseconds read_timeout = std::chrono::seconds(*timeout);
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
    log(cspm::LogLevel::kInfo, "spool " + o.spool_dir + ": " + std::to_string(d->delivered) + " delivered, " +
                                   std::to_string(d->dead_lettered) + " dead-lettered, " +
                                   std::to_string(d->pending) + " still pending");
    if (d->pending > 0 || d->dead_lettered > 0)
      return fail("not every spooled report was delivered", kExitUploadFailed);
    return kExitOk;
  }

  auto r = cspm::upload_with_sink(*sink, report, o);
  if (!r.ok()) return fail(scrub(r.error().message), kExitError);
  if (r->delivered()) {
    log(cspm::LogLevel::kInfo, "uploaded " + args->positional()[0] + " to " + sink->describe() + " (report id " +
                                   r->id + ")");
    return kExitOk;
  }
  // The uploader logged the details; this is the one-line verdict.
  std::string status = r->http_status ? " (HTTP " + std::to_string(r->http_status) + ")" : "";
  if (r->status == cspm::UploadStatus::kRejected)
    return fail(std::string(r->kind == ErrorKind::kAuth ? "authentication failed" + status +
                                                              ": the server refused the token; "
                                                        : "the server rejected the report" + status + "; ") +
                    "the report was moved to " + o.spool_dir + "/dead",
                kExitUploadFailed);
  return fail("the report was not delivered" + status + "; it stays in the spool " + o.spool_dir +
                  " and goes out with the next upload or `scangate upload --drain`",
              kExitUploadFailed);
}

}  // namespace scangate::cli
