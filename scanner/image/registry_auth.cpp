#include "scanner/image/registry_auth.h"

#include <nlohmann/json.hpp>

#include "scanner/core/base64.h"
#include "scanner/core/json_depth.h"
#include "scanner/core/text_safe.h"
#include "scanner/image/registry_client.h"

namespace scangate {
namespace {

std::string basic(const Credential& c) { return "Basic " + base64_encode(c.username + ":" + c.password); }

}  // namespace

std::string registry_error_detail(const std::string& body) {
  if (json_nesting(body, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting) return {};
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  auto errs = j.find("errors");
  if (errs == j.end() || !errs->is_array()) return {};
  std::string out;
  for (const auto& e : *errs) {
    if (!e.is_object()) continue;
    std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
    std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    // The registry's words, made harmless for a terminal or a log line, and kept short.
    std::string one = printable(code.empty() ? msg : (msg.empty() ? code : code + ": " + msg), 300);
    if (!one.empty()) out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

std::string with_registry_detail(const std::string& msg, const std::string& body) {
  std::string d = registry_error_detail(body);
  return d.empty() ? msg : msg + " (" + d + ")";
}

RegistryAuth::RegistryAuth(net::HttpClient& http, std::optional<Credential> credential, CredentialStore store,
                           std::vector<std::string> insecure_registries)
    : http_(http),
      credential_(std::move(credential)),
      store_(std::move(store)),
      insecure_(std::move(insecure_registries)) {}

std::optional<Credential> RegistryAuth::credential_for(const std::string& registry) const {
  if (credential_ && !credential_->empty()) return credential_;
  return store_.find(registry);
}

std::string RegistryAuth::cached(const Reference& repo, bool push) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(repo.registry + "|" + repo.repository + (push ? "|push" : ""));
  return it == cache_.end() ? std::string() : it->second;
}

Error RegistryAuth::rejected(const Reference& repo, const std::string& body) const {
  auto cred = credential_for(repo.registry);
  // What a helper answered is not kept here (it may have been "nothing"), so a configured helper
  // is named instead of guessing at a user.
  const std::string helper = credential_ && !credential_->empty() ? std::string() : store_.helper_for(repo.registry);
  std::string why;
  if (!helper.empty()) {
    why = "the registry rejected the credentials of the credential helper docker-credential-" + helper;
    why += cred
               ? std::string(" (or, when it had none, the registry config's entry)")
               : ", or it had none and " + repo.repository + " requires credentials (or the repository does not exist)";
  } else if (cred) {
    why = "the registry rejected the credentials" +
          (cred->username.empty() ? std::string() : " for user \"" + cred->username + "\"");
  } else {
    why = "the registry requires credentials for " + repo.repository + " (or the repository does not exist)";
  }
  return Error(ErrorKind::kAuth, with_registry_detail("authentication to " + repo.registry + " failed: " + why, body) +
                                     "; check --username/--password-stdin or the registry config");
}

Result<std::string> RegistryAuth::authenticate(const Reference& repo, const std::string& www_authenticate,
                                               const Deadline& deadline, bool push) {
  const std::string fail = "authentication to " + repo.registry + " failed: ";
  if (www_authenticate.empty()) return Error(ErrorKind::kAuth, fail + "HTTP 401 without a WWW-Authenticate challenge");
  auto challenges = parse_www_authenticate(www_authenticate);
  if (!challenges.ok()) return Error(ErrorKind::kAuth, fail + printable(challenges.error().message, 400));
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic_ch = nullptr;
  for (const auto& c : *challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic_ch) basic_ch = &c;
  }
  // --username/--password-stdin, else the store: a credential helper (which may run a program, so
  // only now that a challenge asks for credentials), else the inline entry.
  std::optional<Credential> cred;
  if (credential_ && !credential_->empty()) {
    cred = credential_;
  } else {
    auto found = store_.lookup(repo.registry, deadline);
    if (!found.ok())
      // A caller whose deadline passed keeps the helper's own kind: that is a timeout, not a refusal.
      return Error(deadline.expired() ? found.error().kind : ErrorKind::kAuth, fail + found.error().message);
    cred = std::move(found).value();
  }
  Result<std::string> authz = Error(ErrorKind::kInternal, "no challenge answered");
  if (bearer) {
    authz = fetch_token(repo, *bearer, cred, deadline, push);
  } else if (basic_ch) {
    if (!cred || cred->username.empty())
      return Error(ErrorKind::kAuth, fail +
                                         "the registry requires a username and password; pass "
                                         "--username/--password-stdin or add " +
                                         repo.registry + " to the registry config");
    authz = basic(*cred);
  } else {
    return Error(ErrorKind::kAuth, fail + "unsupported scheme \"" + printable((*challenges)[0].scheme, 40) +
                                       "\" (only Basic and Bearer are supported)");
  }
  if (!authz.ok()) return authz;
  std::lock_guard<std::mutex> lock(mu_);
  cache_[repo.registry + "|" + repo.repository + (push ? "|push" : "")] = *authz;
  return authz;
}

Result<std::string> RegistryAuth::fetch_token(const Reference& repo, const AuthChallenge& ch,
                                              const std::optional<Credential>& cred, const Deadline& deadline,
                                              bool push) {
  const std::string fail = "authentication to " + repo.registry + " failed: ";
  auto realm = net::parse_url(ch.param("realm"));
  if (!realm.ok()) return Error(ErrorKind::kAuth, fail + "the token realm is not usable: " + realm.error().message);
  const bool insecure = is_insecure_registry(repo.registry, insecure_);
  if (realm->scheme == "http" && !net::is_loopback_host(realm->host) && cred && !insecure)
    return Error(ErrorKind::kAuth,
                 fail + "refusing to send credentials to the token service " + realm->display() + " over plain HTTP");
  const std::string service = ch.param("service");
  // A push needs both: the upload checks whether the blob exists, and mounts read.
  const std::string scope = "repository:" + repo.repository + (push ? ":pull,push" : ":pull");
  net::Request req;
  req.url = *realm;
  req.max_body = 1u << 20;
  if (cred && !cred->identity_token.empty()) {
    req.method = "POST";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "grant_type=refresh_token&client_id=scangate&service=" + net::percent_encode(service) +
               "&scope=" + net::percent_encode(scope) + "&refresh_token=" + net::percent_encode(cred->identity_token);
  } else {
    std::string q = "scope=" + net::percent_encode(scope);
    if (!service.empty()) q = "service=" + net::percent_encode(service) + "&" + q;
    req.url.target += (req.url.target.find('?') == std::string::npos ? "?" : "&") + q;
    if (cred && !cred->username.empty()) req.headers.emplace_back("Authorization", basic(*cred));
  }
  auto r = http_.send(req, deadline);
  if (!r.ok()) return r.error().wrap("authentication to " + repo.registry + " failed");
  if (r->status == 401 || r->status == 403) {
    std::string who =
        cred ? (cred->username.empty() ? "the identity token" : "the credentials for user \"" + cred->username + "\"")
             : std::string("anonymous access");
    return Error(ErrorKind::kAuth, with_registry_detail(fail + "the token service " + req.url.display() + " rejected " +
                                                            who + " (HTTP " + std::to_string(r->status) + ")",
                                                        r->body) +
                                       "; check --username/--password-stdin or the registry config");
  }
  if (r->truncated || r->status != 200)
    return Error(ErrorKind::kAuth,
                 fail + "the token service " + req.url.display() + " answered HTTP " + std::to_string(r->status));
  if (json_nesting(r->body, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting)
    return Error(ErrorKind::kAuth, fail + "the token service " + req.url.display() + " answered nested JSON; refused");
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  std::string token;
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
        token = it->get<std::string>();
        break;
      }
    }
  }
  if (token.empty())
    return Error(ErrorKind::kAuth, fail + "the token service " + req.url.display() + " returned no token");
  for (char c : token)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
      return Error(ErrorKind::kAuth, fail + "the token service returned a malformed token");
  return "Bearer " + token;
}

}  // namespace scangate
