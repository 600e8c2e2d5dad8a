#include "scanner/policy/policy.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <utility>

namespace scangate::policy {

// The names the file uses, in the enums' order.
namespace {
constexpr const char* kModeNames[] = {"enforce", "warn", "audit"};
constexpr const char* kSecretActionNames[] = {"deny", "warn", "ignore"};
constexpr const char* kScanFailureActionNames[] = {"deny", "allow"};

template <class E, std::size_t N>
const char* name_of(E value, const char* const (&names)[N]) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : names[0];
}
}  // namespace

const char* to_string(Mode m) { return name_of(m, kModeNames); }
const char* to_string(SecretAction a) { return name_of(a, kSecretActionNames); }
const char* to_string(ScanFailureAction a) { return name_of(a, kScanFailureActionNames); }

bool Limits::empty() const {
  for (const auto& l : by_severity)
    if (l) return false;
  return true;
}

void Limits::merge(const Limits& other) {
  for (size_t i = 0; i < by_severity.size(); ++i)
    if (other.by_severity[i]) by_severity[i] = other.by_severity[i];
}

Limits Policy::critical_zero() {
  Limits l;
  l.set(Severity::kCritical, 0);
  return l;
}

Policy Policy::default_policy() {
  Policy p;
  p.revision = policy_revision(p);
  return p;
}

// ---- durations (parse_duration is in policy_parse.cpp, next to maxAge) ----

std::string format_duration(int64_t seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  const std::pair<int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, unit] : units) {
    if (seconds >= size) {
      out += std::to_string(seconds / size) + unit;
      seconds %= size;
    }
  }
  return out;
}

// ---- canonical form and revision ----

namespace {

nlohmann::json limits_json(const Limits& l) {
  nlohmann::json o = nlohmann::json::object();
  for (int s = 0; s < 5; ++s)
    if (auto n = l.get(static_cast<Severity>(s))) o[vulndb::to_string(static_cast<Severity>(s))] = *n;
  return o;
}

}  // namespace

std::string canonical_json(const Policy& p) {
  nlohmann::json j;
  j["apiVersion"] = kApiVersion;
  j["kind"] = kKind;
  j["mode"] = to_string(p.mode);
  j["limits"] = limits_json(p.limits);
  j["ignoreUnfixed"] = p.ignore_unfixed;
  j["minCVSS"] = p.min_cvss;
  j["secrets"] = {{"action", to_string(p.secrets.action)}, {"minSeverity", vulndb::to_string(p.secrets.min_severity)}};
  j["scan"] = {{"onPending", to_string(p.scan.on_pending)},
               {"onError", to_string(p.scan.on_error)},
               {"maxAgeSeconds", p.scan.max_age_seconds}};
  // Only when set: the revisions of policies written before the key existed stay as they were.
  if (p.scan.require_attestation) j["scan"]["requireAttestation"] = true;
  j["exemptNamespaces"] = p.exempt_namespaces;
  j["exemptImages"] = p.exempt_images;
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& x : p.exceptions)
    ex.push_back({{"id", x.id},
                  {"images", x.images},
                  {"namespaces", x.namespaces},
                  {"expires", x.expires},
                  {"reason", x.reason}});
  j["exceptions"] = ex;
  nlohmann::json ov = nlohmann::json::array();
  for (const auto& o : p.overrides) {
    nlohmann::json oj = {{"namespaces", o.namespaces}};
    if (o.mode) oj["mode"] = to_string(*o.mode);
    if (!o.limits.empty()) oj["limits"] = limits_json(o.limits);
    if (o.ignore_unfixed) oj["ignoreUnfixed"] = *o.ignore_unfixed;
    if (o.min_cvss) oj["minCVSS"] = *o.min_cvss;
    if (o.secrets_action) oj["secretsAction"] = to_string(*o.secrets_action);
    if (o.secrets_min_severity) oj["secretsMinSeverity"] = vulndb::to_string(*o.secrets_min_severity);
    if (o.require_attestation) oj["requireAttestation"] = *o.require_attestation;
    ov.push_back(std::move(oj));
  }
  j["overrides"] = ov;
  // Values were checked as UTF-8 when the file was read; replace rather than throw regardless.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string policy_revision(const Policy& p) {
  std::string c = canonical_json(p);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(c.data(), c.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

}  // namespace scangate::policy
