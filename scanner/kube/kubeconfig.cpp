#include "scanner/kube/kubeconfig.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <vector>

#include "scanner/core/base64.h"
#include "scanner/core/yaml_schema.h"
#include "scanner/kube/ca_bundle.h"

namespace scangate::kube {

namespace {

namespace ys = yaml_schema;

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A path the kubeconfig names, relative to the kubeconfig's directory (as kubectl reads it).
std::string resolve_path(const std::string& kubeconfig, const std::string& p) {
  std::filesystem::path fp(p);
  if (fp.is_absolute()) return p;
  return (std::filesystem::path(kubeconfig).parent_path() / fp).lexically_normal().string();
}

// One kubeconfig being read: its path for messages, and helpers that fail naming the place.
struct Reader {
  std::string path;

  Error error(ErrorKind kind, const std::string& what) const { return Error(kind, "kubeconfig " + path + ": " + what); }

  // A string field of `map` ("" when absent or null). `where` names the map in an error.
  Result<std::string> string(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node v = map[key];
    if (!v || v.IsNull()) return std::string();
    if (!v.IsScalar())
      return error(ErrorKind::kFormat, where + "." + key + ": expected a single value, got " + ys::kind_of(v));
    return v.Scalar();
  }

  // The names of the entries of list `key` ("contexts", "clusters", "users"), for messages.
  std::string known(const YAML::Node& root, const char* key) const {
    std::vector<std::string> names;
    const YAML::Node list = root[key];
    if (list && list.IsSequence())
      for (const auto& item : list)
        if (item.IsMap() && item["name"] && item["name"].IsScalar()) names.push_back(item["name"].Scalar());
    return names.empty() ? std::string("it defines none") : "it defines: " + ys::join(names);
  }

  // The `field` map ("context", "cluster", "user") of the entry of list `key` named `name`; an
  // absent or null field reads as an empty map. No such entry: kNotFound, naming `referrer` (the
  // context that names it) when given.
  Result<YAML::Node> entry(const YAML::Node& root, const char* key, const char* field, const std::string& name,
                           const std::string& referrer = "") const {
    const YAML::Node list = root[key];
    if (list && !list.IsNull() && !list.IsSequence())
      return error(ErrorKind::kFormat, std::string(key) + ": expected a list, got " + ys::kind_of(list));
    std::optional<YAML::Node> found;
    if (list && list.IsSequence()) {
      for (const auto& item : list) {
        if (!item.IsMap() || !item["name"] || !item["name"].IsScalar() || item["name"].Scalar() != name) continue;
        // Two entries of one name are ambiguous: refused rather than one of them guessed.
        if (found) return error(ErrorKind::kFormat, std::string(key) + " has two entries named \"" + name + "\"");
        found = item[field] ? item[field] : YAML::Node(YAML::NodeType::Map);
      }
    }
    if (!found)
      return error(ErrorKind::kNotFound, "no " + std::string(field) + " \"" + name + "\" (" +
                                             (referrer.empty() ? "" : referrer + " names it; ") + known(root, key) +
                                             ")");
    if (found->IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!found->IsMap())
      return error(ErrorKind::kFormat,
                   std::string(field) + " \"" + name + "\": expected a map of keys, got " + ys::kind_of(*found));
    return *found;
  }
};

Result<void> read_cluster(const Reader& r, const YAML::Node& cluster, const std::string& name, KubeConfig& out) {
  const std::string where = "cluster \"" + name + "\"";
  auto server = r.string(cluster, "server", where);
  if (!server) return server.error();
  if (server->empty()) return r.error(ErrorKind::kInvalidArgument, where + " has no server");
  out.server = *server;

  if (const YAML::Node skip = cluster["insecure-skip-tls-verify"]; skip && !skip.IsNull()) {
    bool on = true;  // a value that is not a boolean is refused like true: it is not "verify"
    if (skip.IsScalar()) (void)YAML::convert<bool>::decode(skip, on);
    if (on)
      return r.error(ErrorKind::kInvalidArgument,
                     where +
                         " sets insecure-skip-tls-verify: scangate always verifies the API server's certificate; "
                         "give the CA that signed it with certificate-authority or certificate-authority-data");
  }
  for (const char* unsupported : {"tls-server-name", "proxy-url"}) {
    auto v = r.string(cluster, unsupported, where);
    if (!v) return v.error();
    if (!v->empty())
      return r.error(ErrorKind::kInvalidArgument,
                     where + " sets " + unsupported +
                         ", which scangate does not support; the API server is reached "
                         "directly at the server URL and its certificate must name that host");
  }

  auto data = r.string(cluster, "certificate-authority-data", where);
  if (!data) return data.error();
  auto file = r.string(cluster, "certificate-authority", where);
  if (!file) return file.error();
  if (!data->empty()) {  // the data wins over the file, as kubectl has it
    auto pem = base64_decode(*data);
    if (!pem) return r.error(ErrorKind::kFormat, where + ": certificate-authority-data is not base64");
    auto checked = check_ca_bundle(*pem, where + "'s certificate-authority-data");
    if (!checked) return r.error(checked.error().kind, checked.error().message);
    out.ca_pem = std::move(*pem);
  } else if (!file->empty()) {
    out.ca_file = resolve_path(r.path, *file);
    if (!file_exists(out.ca_file))
      return r.error(ErrorKind::kNotFound, where + ": no certificate-authority file " + out.ca_file);
  }
  return Ok();
}

Result<void> read_user(const Reader& r, const YAML::Node& user, const std::string& name, KubeConfig& out) {
  const std::string where = "user \"" + name + "\"";
  // Present and not null: the user authenticates (or impersonates) in a way scangate cannot.
  std::vector<std::string> unsupported;
  for (const char* key : {"client-certificate", "client-certificate-data", "client-key", "client-key-data", "exec",
                          "auth-provider", "username", "password", "as", "as-uid", "as-groups", "as-user-extra"}) {
    const YAML::Node v = user[key];
    if (v && !v.IsNull() && !(v.IsScalar() && v.Scalar().empty())) unsupported.push_back(key);
  }
  if (!unsupported.empty())
    return r.error(ErrorKind::kInvalidArgument,
                   where + " uses " + ys::join(unsupported) +
                       ", which scangate does not support; it authenticates with a bearer token only: give the user "
                       "token or tokenFile (a service-account token, for example)");

  auto token = r.string(user, "token", where);
  if (!token) return token.error();
  auto token_file = r.string(user, "tokenFile", where);
  if (!token_file) return token_file.error();
  if (!token->empty()) {
    auto t = bearer_token(*token, where + "'s token");
    if (!t) return r.error(t.error().kind, t.error().message);
    out.token = std::move(*t);
  }
  if (!token_file->empty()) {
    out.token_file = resolve_path(r.path, *token_file);
    if (!file_exists(out.token_file)) return r.error(ErrorKind::kNotFound, where + ": no tokenFile " + out.token_file);
  }
  return Ok();
}

}  // namespace

Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context) {
  const Reader r{path};
  auto text = read_file_bounded(path, kMaxKubeconfigBytes, "the kubeconfig");
  if (!text) return text.error();
  ys::Checker checker;
  auto docs = ys::load_all(*text, checker);
  if (!docs) {
    const auto& p = checker.problems().front();
    return r.error(ErrorKind::kFormat,
                   "line " + std::to_string(p.line) + ", column " + std::to_string(p.column) + ": " + p.message);
  }
  if (docs->size() != 1 || !(*docs)[0].IsMap())
    return r.error(ErrorKind::kFormat,
                   "not a kubeconfig (expected one document, a map with clusters, users, "
                   "contexts and current-context)");
  const YAML::Node root = (*docs)[0];
  auto kind = r.string(root, "kind", "the file");
  if (!kind) return kind.error();
  if (!kind->empty() && *kind != "Config")
    return r.error(ErrorKind::kFormat, "kind is " + ys::quote(*kind) + ", not Config: not a kubeconfig");

  std::string name = context;
  if (name.empty()) {
    auto current = r.string(root, "current-context", "the file");
    if (!current) return current.error();
    if (current->empty())
      return r.error(ErrorKind::kInvalidArgument,
                     "no current-context, and no context was named (" + r.known(root, "contexts") + ")");
    name = *current;
  }
  auto ctx = r.entry(root, "contexts", "context", name);
  if (!ctx) return ctx.error();
  const std::string where = "context \"" + name + "\"";
  auto cluster_name = r.string(*ctx, "cluster", where);
  if (!cluster_name) return cluster_name.error();
  if (cluster_name->empty()) return r.error(ErrorKind::kInvalidArgument, where + " names no cluster");
  auto user_name = r.string(*ctx, "user", where);
  if (!user_name) return user_name.error();

  KubeConfig out;
  auto cluster = r.entry(root, "clusters", "cluster", *cluster_name, where);
  if (!cluster) return cluster.error();
  SG_TRY(read_cluster(r, *cluster, *cluster_name, out));
  // A context without a user makes anonymous calls (kubectl does the same).
  if (!user_name->empty()) {
    auto user = r.entry(root, "users", "user", *user_name, where);
    if (!user) return user.error();
    SG_TRY(read_user(r, *user, *user_name, out));
  }
  return out;
}

Result<KubeConfig> resolve_kube_config(const std::string& kubeconfig_flag, const ConfigOverrides& overrides,
                                       const GetEnv& env, const std::string& context) {
  std::string path = kubeconfig_flag;
  std::string named_by = "--kubeconfig";
  bool more = false;  // KUBECONFIG lists further files, not read
  if (path.empty()) {
    // kubectl merges every file of the list; reading the first existing one is enough here: a gate is pointed
    // at one cluster, and merging rules (the first file to set a key wins) would only hide which.
    named_by = "KUBECONFIG";
    if (auto list = env("KUBECONFIG")) {
      size_t at = 0;
      while (path.empty() && at <= list->size()) {
        size_t colon = list->find(':', at);
        if (colon == std::string::npos) colon = list->size();
        path = list->substr(at, colon - at);  // empty entries are skipped, as kubectl does
        // ... and so are files that do not exist (client-go ignores them): then in-cluster.
        if (!path.empty() && !file_exists(path)) path.clear();
        at = colon + 1;
      }
      more = list->find_first_not_of(':', std::min(at, list->size())) != std::string::npos;
    }
  }
  if (path.empty()) {
    if (!context.empty())
      return Error(ErrorKind::kInvalidArgument, "the Kubernetes context \"" + context +
                                                    "\" was named, but no kubeconfig: give --kubeconfig FILE or set "
                                                    "KUBECONFIG");
    auto c = in_cluster_config(overrides, env);
    if (!c)
      return Error(c.error().kind,
                   "no Kubernetes configuration: no --kubeconfig, KUBECONFIG is not set, and the "
                   "in-cluster configuration is not usable: " +
                       c.error().message);
    return c;
  }

  auto c = load_kubeconfig(path, context);
  if (!c)
    return Error(c.error().kind, c.error().message + " (the kubeconfig named by " + named_by +
                                     (more ? "; only its first file is read" : "") + ")");
  if (!overrides.server.empty()) c->server = overrides.server;
  if (!overrides.token_file.empty()) {
    if (!file_exists(overrides.token_file))
      return Error(ErrorKind::kNotFound, "no token file " + overrides.token_file + " (--kube-token-file)");
    c->token_file = overrides.token_file;
    c->token.clear();  // the file named on the command line replaces the kubeconfig's user
  }
  if (!overrides.ca_file.empty()) {
    if (!file_exists(overrides.ca_file))
      return Error(ErrorKind::kNotFound, "no CA file " + overrides.ca_file + " (--kube-ca-file)");
    c->ca_file = overrides.ca_file;
    c->ca_pem.clear();  // the CA named on the command line is the one trusted, not both
  }
  return c;
}

}  // namespace scangate::kube
