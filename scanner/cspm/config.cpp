#include "scanner/cspm/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "scanner/core/fs_util.h"

namespace scangate::cspm {

namespace {

constexpr size_t kMaxTokenFile = 64 * 1024;
// API tokens are long (AccuKnox: a JWT; DefectDojo: 40 hex digits). A shorter one is a mistake, and
// redacting it would garble every message that happens to contain those few characters.
constexpr size_t kMinTokenLength = 8;

std::string trim(std::string s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  return s.substr(i);
}

// First set value among the flag and the environment variables, with where it came from.
struct Sourced {
  std::string value;
  std::string source;
};

std::optional<Sourced> first_of(const std::optional<std::string>& flag, const std::string& flag_name,
                                const EnvLookup& env, std::initializer_list<const char*> vars) {
  if (flag && !flag->empty()) return Sourced{*flag, "--" + flag_name};
  for (const char* v : vars) {
    if (auto e = env(v); e && !e->empty()) return Sourced{*e, v};
  }
  return std::nullopt;
}

// Header-safe: no control characters or spaces (a token with a line break would inject headers).
Result<void> check_token(const std::string& token, const std::string& source) {
  if (token.empty()) return Error(ErrorKind::kAuth, "the token from " + source + " is empty");
  if (token.size() < kMinTokenLength)
    return Error(ErrorKind::kInvalidArgument, "the token from " + source + " is too short to be an API token (" +
                                                  std::to_string(token.size()) + " characters)");
  for (unsigned char c : token) {
    if (c < 0x21 || c == 0x7f)
      return Error(ErrorKind::kInvalidArgument,
                   "the token from " + source + " contains a space, line break or control character");
  }
  return Ok();
}

Result<Sourced> resolve_token(const std::optional<std::string>& token_file, const std::string& file_flag,
                              const EnvLookup& env, std::initializer_list<const char*> vars) {
  Sourced t;
  if (token_file && !token_file->empty()) {
    auto r = read_token_file(*token_file);
    if (!r.ok()) return r.error();
    t = {*r, "--" + file_flag + " " + *token_file};
  } else if (auto e = first_of(std::nullopt, "", env, vars)) {
    t = {trim(e->value), e->source};
  } else {
    std::string names;
    for (const char* v : vars) names += std::string(names.empty() ? "" : " or ") + v;
    return Error(ErrorKind::kAuth, "no API token: give --" + file_flag + " FILE or set " + names);
  }
  SG_TRY(check_token(t.value, t.source));
  log::add_secret(t.value);
  return t;
}

Result<void> check_plain(const std::string& value, const std::string& source) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return Error(ErrorKind::kInvalidArgument, source + " contains a control character");
  }
  return Ok();
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> normalize_base_url(const std::string& raw, const std::string& what) {
  std::string url = trim(raw);
  if (url.empty()) return Error(ErrorKind::kInvalidArgument, what + " is empty");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f)
      return Error(ErrorKind::kInvalidArgument, what + " '" + url + "' contains whitespace or a control character");
  }
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    url = "https://" + url;
  } else {
    std::string scheme = url.substr(0, sep);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme != "http" && scheme != "https")
      return Error(ErrorKind::kInvalidArgument,
                   what + " '" + url + "' has scheme '" + scheme + "'; use https:// (or http:// for a local receiver)");
    url = scheme + url.substr(sep);
  }
  size_t host_start = url.find("://") + 3;
  size_t path_start = url.find('/', host_start);
  std::string authority =
      url.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  if (authority.empty()) return Error(ErrorKind::kInvalidArgument, what + " '" + url + "' has no host");
  if (authority.find('@') != std::string::npos)
    return Error(ErrorKind::kInvalidArgument,
                 what + " must not carry user info; pass the token through its own setting");
  if (url.find_first_of("?#") != std::string::npos)
    return Error(ErrorKind::kInvalidArgument, what + " '" + url + "' must not have a query or fragment");
  while (url.size() > host_start && url.back() == '/') url.pop_back();
  return url;
}

Result<std::string> read_token_file(const std::string& path) {
  auto r = fs::read_file(path, kMaxTokenFile);
  if (!r.ok()) {
    if (r.error().kind == ErrorKind::kNotFound)
      return Error(ErrorKind::kInvalidArgument, "token file " + path + " does not exist");
    if (r.error().kind == ErrorKind::kLimit)
      return Error(ErrorKind::kInvalidArgument, "token file " + path + " is too large to be a token");
    return Error(r.error().kind, "cannot read token file " + path + " (check its permissions)");
  }
  std::string token = trim(*r);
  log::add_secret(token);
  return token;
}

Result<std::string> normalize_data_type(const std::string& value) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  if (v == "TR" || v == "SBOM") return v;
  return Error(ErrorKind::kInvalidArgument,
               "--data-type must be TR (a scan report) or SBOM (a CycloneDX document), not '" + value + "'");
}

std::string detect_data_type(const std::string& report_bytes) {
  auto j = nlohmann::json::parse(report_bytes, nullptr, false);
  if (j.is_object() && j.contains("bomFormat") && j["bomFormat"] == "CycloneDX") return "SBOM";
  return "TR";
}

Result<CspmConfig> resolve_cspm_config(const CspmFlags& flags, const EnvLookup& env) {
  CspmConfig c;
  auto url = first_of(flags.url, "cspm-url", env, {"ACCUKNOX_ENDPOINT", "CSPM_URL"});
  if (!url)
    return Error(ErrorKind::kInvalidArgument, "no CSPM endpoint: give --cspm-url or set ACCUKNOX_ENDPOINT or CSPM_URL");
  auto base = normalize_base_url(url->value, url->source);
  if (!base.ok()) return base.error();
  c.base_url = *base;

  auto token = resolve_token(flags.token_file, "token-file", env, {"ACCUKNOX_TOKEN", "ACCUKNOX_API_TOKEN"});
  if (!token.ok()) return token.error();
  c.token = token->value;

  if (auto t = first_of(flags.tenant_id, "tenant-id", env, {"TENANT_ID"})) {
    c.tenant_id = trim(t->value);
    SG_TRY(check_plain(c.tenant_id, t->source));
  }
  if (auto l = first_of(flags.label, "label", env, {"ACCUKNOX_LABEL"})) {
    c.label = trim(l->value);
    SG_TRY(check_plain(c.label, l->source));
  }
  if (flags.data_type && !flags.data_type->empty()) {
    auto dt = normalize_data_type(*flags.data_type);
    if (!dt.ok()) return dt.error();
    c.data_type = *dt;
  }
  if (flags.cacert && !flags.cacert->empty()) {
    if (!fs::exists(*flags.cacert))
      return Error(ErrorKind::kInvalidArgument, "--cacert " + *flags.cacert + " does not exist");
    c.http.ca_file = *flags.cacert;
  }
  return c;
}

Result<DefectDojoConfig> resolve_defectdojo_config(const DefectDojoFlags& flags, const EnvLookup& env) {
  DefectDojoConfig c;
  auto url = first_of(flags.url, "dd-url", env, {"DEFECTDOJO_URL"});
  if (!url) return Error(ErrorKind::kInvalidArgument, "no DefectDojo URL: give --dd-url or set DEFECTDOJO_URL");
  auto base = normalize_base_url(url->value, url->source);
  if (!base.ok()) return base.error();
  c.base_url = *base;
  auto token = resolve_token(flags.token_file, "dd-token-file", env, {"DEFECTDOJO_TOKEN", "DEFECTDOJO_API_KEY"});
  if (!token.ok()) return token.error();
  c.token = token->value;
  if (auto e = first_of(flags.engagement_id, "dd-engagement-id", env, {"DEFECTDOJO_ENGAGEMENT_ID"})) {
    c.engagement_id = trim(e->value);
    if (c.engagement_id.find_first_not_of("0123456789") != std::string::npos)
      return Error(ErrorKind::kInvalidArgument, e->source + " must be a numeric engagement id");
  }
  if (auto p = first_of(flags.product, "dd-product", env, {"DEFECTDOJO_PRODUCT"})) c.product_name = trim(p->value);
  if (auto e = first_of(flags.engagement, "dd-engagement", env, {"DEFECTDOJO_ENGAGEMENT"}))
    c.engagement_name = trim(e->value);
  if (flags.product_type) c.product_type_name = trim(*flags.product_type);
  c.auto_create_context = flags.auto_create;
  if (c.engagement_id.empty() && (c.product_name.empty() || c.engagement_name.empty()))
    return Error(ErrorKind::kInvalidArgument,
                 "DefectDojo needs --dd-engagement-id, or --dd-product and --dd-engagement (with --dd-auto-create "
                 "to create them when missing)");
  for (const auto* s : {&c.product_name, &c.engagement_name, &c.product_type_name})
    SG_TRY(check_plain(*s, "a DefectDojo name"));
  if (flags.cacert && !flags.cacert->empty()) {
    if (!fs::exists(*flags.cacert))
      return Error(ErrorKind::kInvalidArgument, "--cacert " + *flags.cacert + " does not exist");
    c.http.ca_file = *flags.cacert;
  }
  return c;
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  return log::redact(text, secrets);
}

Logger redacting(Logger inner, std::vector<std::string> secrets) {
  for (const auto& s : secrets) log::add_secret(s);
  return inner;
}

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace scangate::cspm
