#include "scanner/image/credentials.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <filesystem>

namespace scangate {
namespace {

constexpr size_t kMaxConfigBytes = 4u << 20;

std::optional<std::string> base64_decode(std::string_view in) {
  std::string clean;
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!clean.empty() && clean.back() == '=') --len;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string get_string(const nlohmann::json& obj, const char* key, const std::string& where,
                       std::vector<std::string>* problems) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) {
    problems->push_back(where + "." + key + " must be a string");
    return {};
  }
  return it->get<std::string>();
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

CredentialSources CredentialSources::from_environment(std::string registry_config_file) {
  CredentialSources s;
  s.registry_config_file = std::move(registry_config_file);
  if (const char* d = std::getenv("DOCKER_CONFIG")) s.docker_config_dir = d;
  if (const char* h = std::getenv("HOME")) s.home = h;
  return s;
}

Result<CredentialStore> parse_docker_config(std::string_view text, const std::string& path) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return Error(ErrorKind::kFormat, "registry config " + path + " is not valid JSON; fix or remove the file");
  if (!doc.is_object()) return Error(ErrorKind::kFormat, "registry config " + path + " must contain a JSON object");
  CredentialStore store;
  store.source = path;
  std::vector<std::string> problems;
  if (auto it = doc.find("auths"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return Error(ErrorKind::kFormat, "registry config " + path + ": \"auths\" must be an object");
    for (const auto& [key, entry] : it->items()) {
      std::string where = "auths[\"" + key + "\"]";
      if (!entry.is_object()) {
        problems.push_back(where + " must be an object");
        continue;
      }
      Credential c;
      std::string auth = get_string(entry, "auth", where, &problems);
      if (!auth.empty()) {
        auto decoded = base64_decode(auth);
        if (!decoded) {
          problems.push_back(where + ".auth is not valid base64");
          continue;
        }
        auto colon = decoded->find(':');
        if (colon == std::string::npos) {
          problems.push_back(where + ".auth must decode to \"username:password\"");
          continue;
        }
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
      }
      if (c.username.empty()) c.username = get_string(entry, "username", where, &problems);
      if (c.password.empty()) c.password = get_string(entry, "password", where, &problems);
      c.identity_token = get_string(entry, "identitytoken", where, &problems);
      if (c.empty()) continue;  // e.g. an entry only a credential helper fills
      store.by_host[credential_host_key(key)] = std::move(c);
    }
  }
  if (auto it = doc.find("credsStore"); it != doc.end() && it->is_string() && !it->get<std::string>().empty())
    store.warnings.push_back("registry config " + path + " names the credential store \"" + it->get<std::string>() +
                             "\" (credsStore); credential helpers are not supported, so only inline "
                             "\"auths\" entries are used. Pass --username/--password-stdin instead.");
  if (auto it = doc.find("credHelpers"); it != doc.end() && it->is_object() && !it->empty()) {
    std::string hosts;
    for (const auto& [host, helper] : it->items()) hosts += (hosts.empty() ? "" : ", ") + host;
    store.warnings.push_back("registry config " + path + " sets credHelpers for " + hosts +
                             "; credential helpers are not supported. Pass --username/--password-stdin "
                             "for those registries.");
  }
  if (!problems.empty()) {
    std::string msg = "registry config " + path + ": ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    return Error(ErrorKind::kFormat, msg);
  }
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
