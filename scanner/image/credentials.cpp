#include "scanner/image/credentials.h"

#include "scanner/core/base64.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <filesystem>

#include "scanner/core/json_depth.h"
#include "scanner/core/text_safe.h"
#include "scanner/image/credential_helper.h"

namespace scangate {
namespace {

constexpr size_t kMaxConfigBytes = 4u << 20;
// A docker config nests 3 levels; .dockercfg 2.
constexpr size_t kMaxConfigNesting = 16;
constexpr const char* kNameRule = " (only letters, digits, '.', '_' and '-' may follow docker-credential-)";

std::string get_string(const nlohmann::ordered_json& obj, const char* key, const std::string& where,
                       std::vector<std::string>* problems) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) {
    problems->push_back(where + "." + key + " must be a string");
    return {};
  }
  return it->get<std::string>();
}

Result<nlohmann::ordered_json> parse_object(std::string_view text, const std::string& what) {
  if (text.size() > kMaxConfigBytes)
    return Error(ErrorKind::kLimit, what + " is larger than 4 MiB; is it the right file?");
  // Checked before parsing: a config may come from a tenant's Secret, and nesting costs the
  // parser memory and stack per level.
  if (json_nesting(text, kMaxConfigNesting) > kMaxConfigNesting)
    return Error(ErrorKind::kFormat, what + " nests deeper than " + std::to_string(kMaxConfigNesting) +
                                         " levels; it is not a docker config");
  // Ordered: CredentialStore::entries keeps the file's order.
  auto doc = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorKind::kFormat, what + " is not valid JSON; fix or remove the file");
  if (!doc.is_object()) return Error(ErrorKind::kFormat, what + " must contain a JSON object");
  return doc;
}

// Reads an "auths" map into `store` (by_host and entries). `prefix` names the map in problems
// ("auths" gives auths["host"].auth; "" gives ["host"].auth).
void read_auths(const nlohmann::ordered_json& auths, const std::string& prefix, CredentialStore& store,
                std::vector<std::string>* problems) {
  for (const auto& [key, entry] : auths.items()) {
    std::string where = prefix + "[\"" + printable(key, 200) + "\"]";
    if (!entry.is_object()) {
      problems->push_back(where + " must be an object");
      continue;
    }
    Credential c;
    std::string auth = get_string(entry, "auth", where, problems);
    if (!auth.empty()) {
      auto decoded = base64_decode(auth);
      if (!decoded) {
        problems->push_back(where + ".auth is not valid base64");
        continue;
      }
      auto colon = decoded->find(':');
      if (colon == std::string::npos) {
        problems->push_back(where + ".auth must decode to \"username:password\"");
        continue;
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    if (c.username.empty()) c.username = get_string(entry, "username", where, problems);
    if (c.password.empty()) c.password = get_string(entry, "password", where, problems);
    c.identity_token = get_string(entry, "identitytoken", where, problems);
    if (c.empty()) continue;  // e.g. an entry only a credential helper fills
    store.by_host[credential_host_key(key)] = c;
    store.entries.emplace_back(key, std::move(c));
  }
}

Error problems_error(const std::string& what, const std::vector<std::string>& problems) {
  std::string msg = what + ": ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  return Error(ErrorKind::kFormat, msg);
}

}  // namespace

std::string credential_host_key(std::string_view key) {
  std::string_view s = key;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (s.size() >= scheme.size()) {
      bool match = true;
      for (size_t i = 0; i < scheme.size(); ++i) match &= std::tolower(static_cast<unsigned char>(s[i])) == scheme[i];
      if (match) {
        s.remove_prefix(scheme.size());
        break;
      }
    }
  }
  if (auto slash = s.find('/'); slash != std::string_view::npos) s = s.substr(0, slash);
  std::string host(s);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "registry.hub.docker.com")
    host = "docker.io";
  return host;
}

std::optional<Credential> CredentialStore::find(std::string_view registry) const {
  auto it = by_host.find(credential_host_key(registry));
  if (it == by_host.end()) return std::nullopt;
  return it->second;
}

std::string CredentialStore::helper_for(std::string_view registry) const {
  auto it = cred_helpers.find(credential_host_key(registry));
  return it != cred_helpers.end() ? it->second : creds_store;
}

Result<std::optional<Credential>> CredentialStore::lookup(std::string_view registry, const Deadline& deadline) const {
  if (std::string helper = helper_for(registry); !helper.empty()) {
    const std::string server = credential_helper_server_url(registry);
    auto answer = helpers ? helpers->get(helper, server, deadline) : run_credential_helper(helper, server, deadline);
    if (!answer.ok() || *answer) return answer;
  }
  return find(registry);
}

CredentialSources CredentialSources::from_environment(std::string registry_config_file) {
  CredentialSources s;
  s.registry_config_file = std::move(registry_config_file);
  if (const char* d = std::getenv("DOCKER_CONFIG")) s.docker_config_dir = d;
  if (const char* h = std::getenv("HOME")) s.home = h;
  return s;
}

Result<CredentialStore> parse_docker_config(std::string_view text, const std::string& path, bool allow_helpers) {
  auto doc = parse_object(text, "registry config " + path);
  if (!doc.ok()) return doc.error();
  CredentialStore store;
  store.source = path;
  std::vector<std::string> problems;
  if (auto it = doc->find("auths"); it != doc->end() && !it->is_null()) {
    if (!it->is_object()) return Error(ErrorKind::kFormat, "registry config " + path + ": \"auths\" must be an object");
    read_auths(*it, "auths", store, &problems);
  }
  // Mistakes in the helper keys only matter when the helpers are used; a Secret's are ignored.
  std::vector<std::string> helper_problems;
  std::string creds_store;
  if (auto it = doc->find("credsStore"); it != doc->end() && !it->is_null()) {
    if (!it->is_string())
      helper_problems.push_back("credsStore must be a string");
    else
      creds_store = it->get<std::string>();
  }
  std::map<std::string, std::string> helpers;
  std::vector<std::string> helper_hosts;  // as written, for messages
  if (auto it = doc->find("credHelpers"); it != doc->end() && !it->is_null()) {
    if (!it->is_object()) {
      helper_problems.push_back("credHelpers must be an object");
    } else {
      for (const auto& [host, helper] : it->items()) {
        if (!helper.is_string()) {
          helper_problems.push_back("credHelpers[\"" + printable(host, 200) + "\"] must be a string");
          continue;
        }
        helper_hosts.push_back(host);
        // As in Docker, an empty name sends that registry to the inline entries, past credsStore.
        helpers[credential_host_key(host)] = helper.get<std::string>();
      }
    }
  }
  if (allow_helpers) {
    problems.insert(problems.end(), helper_problems.begin(), helper_problems.end());
    // A name that can never be run is refused here, before any registry is asked for.
    if (!creds_store.empty() && !valid_credential_helper_name(creds_store))
      problems.push_back("credsStore \"" + printable(creds_store, 64) + "\" is not a valid helper name" + kNameRule);
    for (const auto& host : helper_hosts) {
      const std::string& name = helpers[credential_host_key(host)];
      if (!name.empty() && !valid_credential_helper_name(name))
        problems.push_back("credHelpers[\"" + printable(host, 200) + "\"] = \"" + printable(name, 64) +
                           "\" is not a valid helper name" + kNameRule);
    }
    store.creds_store = std::move(creds_store);
    store.cred_helpers = std::move(helpers);
    if (!store.creds_store.empty() || !store.cred_helpers.empty())
      store.helpers = std::make_shared<CredentialHelpers>();
  } else if (!creds_store.empty() || !helper_hosts.empty()) {
    std::string named;
    if (!helper_hosts.empty()) {
      named = "credHelpers for ";
      const size_t shown = std::min<size_t>(helper_hosts.size(), 5);
      for (size_t i = 0; i < shown; ++i) named += (i ? ", " : "") + printable(helper_hosts[i], 100);
      if (helper_hosts.size() > shown) named += " and " + std::to_string(helper_hosts.size() - shown) + " more";
    }
    if (!creds_store.empty())
      named += (named.empty() ? "" : " and ") + std::string("the credsStore \"") + printable(creds_store, 64) + "\"";
    store.warnings.push_back("registry config " + path + " names " + named +
                             "; credential helpers named in a Kubernetes Secret are never run, so only its inline "
                             "\"auths\" entries are used");
  }
  if (!problems.empty()) return problems_error("registry config " + path, problems);
  return store;
}

Result<CredentialStore> parse_dockercfg(std::string_view text, const std::string& what) {
  auto doc = parse_object(text, "registry config " + what);
  if (!doc.ok()) return doc.error();
  CredentialStore store;
  store.source = what;
  std::vector<std::string> problems;
  read_auths(*doc, "", store, &problems);
  if (!problems.empty()) return problems_error("registry config " + what, problems);
  return store;
}

Result<CredentialStore> load_credentials(const CredentialSources& sources) {
  namespace fs = std::filesystem;
  std::string path;
  bool explicit_file = false;
  if (!sources.registry_config_file.empty()) {
    path = sources.registry_config_file;
    explicit_file = true;
  } else if (!sources.docker_config_dir.empty()) {
    path = sources.docker_config_dir + "/config.json";
  } else if (!sources.home.empty()) {
    path = sources.home + "/.docker/config.json";
  } else {
    return CredentialStore{};
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (explicit_file)
      return Error(ErrorKind::kNotFound, "registry config " + path + " (--registry-config) does not exist");
    return CredentialStore{};
  }
  auto size = fs::file_size(path, ec);
  if (ec) return Error(ErrorKind::kIo, "cannot read registry config " + path + ": " + ec.message());
  if (size > kMaxConfigBytes)
    return Error(ErrorKind::kLimit, "registry config " + path + " is larger than 4 MiB; is it the right file?");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kIo, "cannot open registry config " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_docker_config(ss.str(), path);
}

}  // namespace scangate
