// Where reports go and with which credentials: flags first, then the environment variables the
// AccuKnox CI integrations use. The token is read from a file or the environment, never from a
// command-line flag, and every message that could contain it passes through redact().
//
//   URL     --cspm-url            > ACCUKNOX_ENDPOINT > CSPM_URL   ("https://" added when no scheme)
//   token   --token-file (trimmed) > ACCUKNOX_TOKEN > ACCUKNOX_API_TOKEN
//   tenant  --tenant-id           > TENANT_ID                       (optional)
//   label   --label               > ACCUKNOX_LABEL                  (optional)
//   CA      --cacert              (added to verification; TLS is always verified)
//   type    --data-type TR|SBOM   (default: SBOM for a CycloneDX document, TR otherwise)
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/cspm/log.h"

namespace scangate::cspm {

// Shared by the HTTP sinks.
struct HttpOptions {
  std::string ca_file;  // extra trust for HTTPS; verification is never off
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{60000};
};

struct CspmConfig {
  std::string base_url;   // "https://cspm.example.com[:port][/prefix]", no trailing slash
  std::string tenant_id;  // optional
  std::string label;      // optional
  std::string token;      // secret: never print, log or put in an error
  std::string data_type;  // empty: detect per report (see detect_data_type)
  HttpOptions http;
};

// The flag values a command collected (unset = not given).
struct CspmFlags {
  std::optional<std::string> url, tenant_id, label, token_file, cacert, data_type;
};

struct DefectDojoConfig {
  std::string base_url;                                          // "https://dojo.example.com"
  std::string token;                                             // API v2 key, sent as "Authorization: Token ..."
  std::string engagement_id;                                     // either this,
  std::string product_name, engagement_name, product_type_name;  // or these names,
  bool auto_create_context = false;                              // creating missing product/engagement
  std::string scan_type = "Trivy Scan";
  HttpOptions http;
};

//   URL   --dd-url > DEFECTDOJO_URL;  token --dd-token-file > DEFECTDOJO_TOKEN > DEFECTDOJO_API_KEY
//   --dd-engagement-id > DEFECTDOJO_ENGAGEMENT_ID, or --dd-product/--dd-engagement (> DEFECTDOJO_PRODUCT,
//   DEFECTDOJO_ENGAGEMENT) with --dd-auto-create, --dd-product-type
struct DefectDojoFlags {
  std::optional<std::string> url, token_file, engagement_id, product, engagement, product_type, cacert;
  bool auto_create = false;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the real process environment (empty values count as unset).
EnvLookup process_environment();

Result<CspmConfig> resolve_cspm_config(const CspmFlags& flags, const EnvLookup& env);
Result<DefectDojoConfig> resolve_defectdojo_config(const DefectDojoFlags& flags, const EnvLookup& env);

// "host" -> "https://host"; "http://host" stays; rejects other schemes, user info, queries,
// fragments and whitespace. The trailing slash is removed.
Result<std::string> normalize_base_url(const std::string& url, const std::string& what);

// A token file's contents without the trailing newline (and surrounding blanks). The message on
// failure names the file, never its contents.
Result<std::string> read_token_file(const std::string& path);

// "TR" or "SBOM" (case-insensitive input).
Result<std::string> normalize_data_type(const std::string& value);
// SBOM for a CycloneDX JSON document ("bomFormat": "CycloneDX"), TR otherwise.
std::string detect_data_type(const std::string& report_bytes);

// Replaces every occurrence of each non-empty secret with "[REDACTED]", and whatever else the
// logger redacts (log::redact: bearer tokens, passwords, registered secrets).
std::string redact(std::string_view text, const std::vector<std::string>& secrets);
// Registers the secrets with the logger (log::add_secret: from now on no line anywhere carries
// them) and returns `inner`.
Logger redacting(Logger inner, std::vector<std::string> secrets);

// Percent-encoding for a query-string value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view value);

}  // namespace scangate::cspm
