// Kubeconfig files (the clientcmd v1 Config of the Kubernetes reference, "kubeconfig (v1)"): the
// context chosen, its cluster and user, paths relative to the file, what is refused; the order in
// which --kubeconfig, KUBECONFIG and the in-cluster configuration are tried; and a client built
// from an inline CA and token talking to a loopback TLS server (the net tests' PKI).
#include "scanner/kube/kubeconfig.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "scanner/core/log.h"
#include "support/test_support.h"
#include "unit/net/net_test_util.h"

using namespace scangate;
using namespace scangate::kube;
using scangate::test::net::pki;
using scangate::test::net::Server;

namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string base64(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {abc[n >> 18], abc[(n >> 12) & 63], abc[(n >> 6) & 63], abc[n & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned n = (unsigned char)in[i] << 16;
    out += {abc[n >> 18], abc[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {abc[n >> 18], abc[(n >> 12) & 63], abc[(n >> 6) & 63], '='};
  }
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A kubeconfig with one context "dev" (current), its cluster and user given as YAML map bodies
// (indented by 4 spaces under `cluster:` / `user:`).
std::string kubeconfig(const std::string& cluster, const std::string& user) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: dev-cluster\n"
         "  cluster:\n" +
         cluster +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: dev-cluster\n"
         "    user: dev-user\n"
         "    namespace: team-a\n"
         "current-context: dev\n"
         "preferences: {}\n"
         "users:\n"
         "- name: dev-user\n"
         "  user:\n" +
         user;
}

}  // namespace

TEST_CASE("kubeconfig: an inline token and certificate-authority-data stay in memory", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-inline");
  const std::string ca = scangate::test::read_file(pki().ca_cert);
  write(d + "/config", kubeconfig("    server: https://127.0.0.1:6443\n"
                                  "    certificate-authority-data: " +
                                      base64(ca) + "\n",
                                  "    token: inline-token-0123456789abcdef\n"));
  auto c = load_kubeconfig(d + "/config");
  REQUIRE(c.ok());
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->ca_pem == ca);
  CHECK(c->ca_file.empty());
  CHECK(c->token == "inline-token-0123456789abcdef");
  CHECK(c->token_file.empty());
  // Registered with the logger's redaction as soon as it is read.
  CHECK_FALSE(has(log::redact("sent inline-token-0123456789abcdef"), "inline-token-0123456789abcdef"));

  // certificate-authority-data wins over certificate-authority (the reference: "Overrides
  // CertificateAuthority"); the file is then not even looked for.
  write(d + "/both", kubeconfig("    server: https://127.0.0.1:6443\n"
                                "    certificate-authority: /no/such/ca.crt\n"
                                "    certificate-authority-data: " +
                                    base64(ca) + "\n",
                                "    token: inline-token-0123456789abcdef\n"));
  auto both = load_kubeconfig(d + "/both");
  REQUIRE(both.ok());
  CHECK(both->ca_pem == ca);
  CHECK(both->ca_file.empty());

  // Data that is not base64, or base64 of something that is not a certificate.
  write(d + "/bad64", kubeconfig("    server: https://127.0.0.1:6443\n"
                                 "    certificate-authority-data: '***not base64***'\n",
                                 "    token: inline-token-0123456789abcdef\n"));
  auto bad64 = load_kubeconfig(d + "/bad64");
  REQUIRE_FALSE(bad64.ok());
  CHECK(bad64.error().kind == ErrorKind::kFormat);
  CHECK(has(bad64.error().message, "certificate-authority-data is not base64"));
  write(d + "/notca", kubeconfig("    server: https://127.0.0.1:6443\n"
                                 "    certificate-authority-data: " +
                                     base64("hello\n") + "\n",
                                 "    token: inline-token-0123456789abcdef\n"));
  auto notca = load_kubeconfig(d + "/notca");
  REQUIRE_FALSE(notca.ok());
  CHECK(notca.error().kind == ErrorKind::kFormat);
  CHECK(has(notca.error().message, "cluster \"dev-cluster\""));

  // A token with a line break inside would be written into the request's header block.
  write(d + "/crlf", kubeconfig("    server: https://127.0.0.1:6443\n", "    token: \"abc\\r\\nX-Injected: 1\"\n"));
  auto crlf = load_kubeconfig(d + "/crlf");
  REQUIRE_FALSE(crlf.ok());
  CHECK(crlf.error().kind == ErrorKind::kAuth);
  CHECK(has(crlf.error().message, "user \"dev-user\"'s token holds a byte a bearer token cannot"));
  CHECK_FALSE(has(crlf.error().message, "X-Injected"));  // the error never quotes the token
}

TEST_CASE("kubeconfig: tokenFile and certificate-authority are relative to the kubeconfig's directory",
          "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-paths");
  write(d + "/creds/token", "file-token-abcdef0123456789\n");
  write(d + "/kube/ca.crt", scangate::test::read_file(pki().ca_cert));
  write(d + "/kube/config", kubeconfig("    server: https://127.0.0.1:6443\n"
                                       "    certificate-authority: ca.crt\n",
                                       "    tokenFile: ../creds/token\n"
                                       "    token: also-inline-0123456789\n"));
  auto c = load_kubeconfig(d + "/kube/config");
  REQUIRE(c.ok());
  CHECK(c->ca_file == d + "/kube/ca.crt");
  CHECK(c->ca_pem.empty());
  CHECK(c->token_file == d + "/creds/token");  // the file wins when both are given
  CHECK(c->token == "also-inline-0123456789");

  // An absolute path stays as it is.
  write(d + "/abs", kubeconfig("    server: https://127.0.0.1:6443\n"
                               "    certificate-authority: " +
                                   d + "/kube/ca.crt\n",
                               "    tokenFile: " + d + "/creds/token\n"));
  auto abs = load_kubeconfig(d + "/abs");
  REQUIRE(abs.ok());
  CHECK(abs->ca_file == d + "/kube/ca.crt");
  CHECK(abs->token_file == d + "/creds/token");

  // A file that is not there is named, resolved.
  write(d + "/kube/missing", kubeconfig("    server: https://127.0.0.1:6443\n", "    tokenFile: no-such-token\n"));
  auto missing = load_kubeconfig(d + "/kube/missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
  CHECK(has(missing.error().message, "no tokenFile " + d + "/kube/no-such-token"));
  write(d + "/kube/missing-ca", kubeconfig("    server: https://127.0.0.1:6443\n"
                                           "    certificate-authority: nope/ca.crt\n",
                                           "    token: inline-token-0123456789abcdef\n"));
  auto missing_ca = load_kubeconfig(d + "/kube/missing-ca");
  REQUIRE_FALSE(missing_ca.ok());
  CHECK(has(missing_ca.error().message, "no certificate-authority file " + d + "/kube/nope/ca.crt"));

  // No CA at all: the system roots (the reference: "If empty, system roots should be used").
  write(d + "/noca", kubeconfig("    server: https://kube.example.com\n", "    token: inline-token-0123456789\n"));
  auto noca = load_kubeconfig(d + "/noca");
  REQUIRE(noca.ok());
  CHECK(noca->ca_file.empty());
  CHECK(noca->ca_pem.empty());
}

TEST_CASE("kubeconfig: current-context or the context named, what is missing is named", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-ctx");
  const std::string two = R"(apiVersion: v1
kind: Config
current-context: staging
contexts:
- name: staging
  context: {cluster: staging, user: ci}
- name: prod
  context: {cluster: prod, user: ci, namespace: scangate}
- name: no-cluster
  context: {cluster: gone, user: ci}
- name: no-user
  context: {cluster: prod, user: nobody}
- name: anonymous
  context: {cluster: prod}
clusters:
- name: staging
  cluster: {server: "https://staging.example.com:6443"}
- name: prod
  cluster: {server: "https://prod.example.com"}
users:
- name: ci
  user: {token: ci-token-0123456789}
)";
  write(d + "/config", two);
  auto current = load_kubeconfig(d + "/config");
  REQUIRE(current.ok());
  CHECK(current->server == "https://staging.example.com:6443");
  auto prod = load_kubeconfig(d + "/config", "prod");
  REQUIRE(prod.ok());
  CHECK(prod->server == "https://prod.example.com");
  CHECK(prod->token == "ci-token-0123456789");
  auto anonymous = load_kubeconfig(d + "/config", "anonymous");
  REQUIRE(anonymous.ok());
  CHECK(anonymous->token.empty());
  CHECK(anonymous->token_file.empty());

  auto unknown = load_kubeconfig(d + "/config", "qa");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::kNotFound);
  CHECK(unknown.error().message == "kubeconfig " + d +
                                       "/config: no context \"qa\" (it defines: staging, prod, "
                                       "no-cluster, no-user, anonymous)");
  auto no_cluster = load_kubeconfig(d + "/config", "no-cluster");
  REQUIRE_FALSE(no_cluster.ok());
  CHECK(no_cluster.error().kind == ErrorKind::kNotFound);
  CHECK(has(no_cluster.error().message,
            "no cluster \"gone\" (context \"no-cluster\" names it; it defines: "
            "staging, prod)"));
  auto no_user = load_kubeconfig(d + "/config", "no-user");
  REQUIRE_FALSE(no_user.ok());
  CHECK(no_user.error().kind == ErrorKind::kNotFound);
  CHECK(has(no_user.error().message, "no user \"nobody\" (context \"no-user\" names it; it defines: ci)"));

  // No current-context and none named.
  std::string none = two;
  none.replace(none.find("current-context: staging\n"), 25, "");
  write(d + "/none", none);
  auto no_current = load_kubeconfig(d + "/none");
  REQUIRE_FALSE(no_current.ok());
  CHECK(has(no_current.error().message, "no current-context, and no context was named"));
  CHECK(load_kubeconfig(d + "/none", "prod").ok());

  // A cluster without a server.
  write(d + "/noserver", kubeconfig("    certificate-authority-data: \"\"\n", "    token: t-0123456789\n"));
  auto no_server = load_kubeconfig(d + "/noserver");
  REQUIRE_FALSE(no_server.ok());
  CHECK(has(no_server.error().message, "cluster \"dev-cluster\" has no server"));

  // Two entries of one name.
  std::string dup = two + "- name: ci\n  user: {token: other-token-0123456789}\n";
  write(d + "/dup", dup);
  auto twice = load_kubeconfig(d + "/dup");
  REQUIRE_FALSE(twice.ok());
  CHECK(has(twice.error().message, "users has two entries named \"ci\""));
}

TEST_CASE("kubeconfig: exec, auth-provider, client certificates and impersonation are refused", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-users");
  const std::string cluster = "    server: https://127.0.0.1:6443\n";
  struct Case {
    std::string user, named;
  };
  const std::vector<Case> cases = {
      {"    exec:\n"
       "      apiVersion: client.authentication.k8s.io/v1\n"
       "      command: aws\n"
       "      args: [eks, get-token, --cluster-name, dev]\n"
       "      interactiveMode: Never\n",
       "uses exec,"},
      {"    auth-provider:\n      name: oidc\n      config: {idp-issuer-url: https://issuer.example.com}\n",
       "uses auth-provider,"},
      {"    client-certificate-data: " + base64("cert") + "\n    client-key-data: " + base64("key") + "\n",
       "uses client-certificate-data, client-key-data,"},
      {"    client-certificate: client.crt\n    client-key: client.key\n", "uses client-certificate, client-key,"},
      {"    username: admin\n    password: hunter2\n", "uses username, password,"},
      {"    token: t-0123456789abcdef\n    as: system:admin\n    as-groups: [system:masters]\n", "uses as, as-groups,"},
  };
  for (const auto& c : cases) {
    INFO(c.user);
    write(d + "/config", kubeconfig(cluster, c.user));
    auto r = load_kubeconfig(d + "/config");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(has(r.error().message, "user \"dev-user\" " + c.named));
    CHECK(has(r.error().message, "bearer token only: give the user token or tokenFile"));
    CHECK_FALSE(has(r.error().message, "hunter2"));
  }
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify is refused", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-insecure");
  for (const std::string value : {"true", "True", "\"yes\"", "maybe"}) {
    INFO(value);
    write(d + "/config", kubeconfig("    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: " + value + "\n",
                                    "    token: t-0123456789abcdef\n"));
    auto r = load_kubeconfig(d + "/config");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(has(r.error().message, "cluster \"dev-cluster\" sets insecure-skip-tls-verify: scangate always verifies"));
  }
  write(d + "/config", kubeconfig("    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: false\n",
                                  "    token: t-0123456789abcdef\n"));
  CHECK(load_kubeconfig(d + "/config").ok());
  write(d + "/config", kubeconfig("    server: https://127.0.0.1:6443\n    tls-server-name: kubernetes\n",
                                  "    token: t-0123456789abcdef\n"));
  auto sni = load_kubeconfig(d + "/config");
  REQUIRE_FALSE(sni.ok());
  CHECK(has(sni.error().message, "sets tls-server-name, which scangate does not support"));
}

TEST_CASE("kubeconfig: a file that is not a kubeconfig", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-bad");
  write(d + "/broken", "clusters:\n- name: a\n  cluster: {server: [unclosed\n");
  auto broken = load_kubeconfig(d + "/broken");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().kind == ErrorKind::kFormat);
  CHECK(has(broken.error().message, "kubeconfig " + d + "/broken: line "));

  write(d + "/list", "- a\n- b\n");
  auto list = load_kubeconfig(d + "/list");
  REQUIRE_FALSE(list.ok());
  CHECK(has(list.error().message, "not a kubeconfig"));

  write(d + "/pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n");
  auto pod = load_kubeconfig(d + "/pod");
  REQUIRE_FALSE(pod.ok());
  CHECK(has(pod.error().message, "kind is 'Pod', not Config"));

  write(d + "/clusters-map", "current-context: a\ncontexts: [{name: a, context: {cluster: a}}]\nclusters: {a: 1}\n");
  auto clusters_map = load_kubeconfig(d + "/clusters-map");
  REQUIRE_FALSE(clusters_map.ok());
  CHECK(has(clusters_map.error().message, "clusters: expected a list"));

  write(d + "/server-list", kubeconfig("    server: [a, b]\n", "    token: t-0123456789abcdef\n"));
  auto server_list = load_kubeconfig(d + "/server-list");
  REQUIRE_FALSE(server_list.ok());
  CHECK(has(server_list.error().message, "cluster \"dev-cluster\".server: expected a single value"));

  auto absent = load_kubeconfig(d + "/absent");
  REQUIRE_FALSE(absent.ok());
  CHECK(has(absent.error().message, d + "/absent"));
}

TEST_CASE("kubeconfig: --kubeconfig, then KUBECONFIG, then in-cluster, overrides on top", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-resolve");
  const std::string ca = scangate::test::read_file(pki().ca_cert);
  write(d + "/flag", kubeconfig("    server: https://flag.example.com\n", "    token: flag-token-0123456789\n"));
  write(d + "/env",
        kubeconfig("    server: https://env.example.com\n    certificate-authority-data: " + base64(ca) + "\n",
                   "    token: env-token-0123456789\n"));
  write(d + "/sa/token", "sa-token-0123456789\n");
  write(d + "/sa/ca.crt", ca);
  const ConfigOverrides none;

  auto flag = resolve_kube_config(d + "/flag", none, env_of({{"KUBECONFIG", d + "/env"}}));
  REQUIRE(flag.ok());
  CHECK(flag->server == "https://flag.example.com");

  // KUBECONFIG: the first non-empty path of the list.
  auto env = resolve_kube_config("", none, env_of({{"KUBECONFIG", "::" + d + "/env:" + d + "/flag"}}));
  REQUIRE(env.ok());
  CHECK(env->server == "https://env.example.com");
  CHECK(env->token == "env-token-0123456789");

  // Neither: in-cluster, from the environment (its files overridden here, as there is no pod).
  const ConfigOverrides sa{"", d + "/sa/token", d + "/sa/ca.crt"};
  auto in_cluster = resolve_kube_config("", sa, env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBECONFIG", ""}}));
  REQUIRE(in_cluster.ok());
  CHECK(in_cluster->server == "https://10.96.0.1:443");
  CHECK(in_cluster->token_file == d + "/sa/token");

  auto nothing = resolve_kube_config("", sa, env_of({}));
  REQUIRE_FALSE(nothing.ok());
  CHECK(has(nothing.error().message,
            "no --kubeconfig, KUBECONFIG is not set, and the in-cluster configuration is not "
            "usable: no Kubernetes API server: KUBERNETES_SERVICE_HOST is not set"));

  // A context needs a kubeconfig; with one, it is passed on.
  auto ctx_alone = resolve_kube_config("", sa, env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}), "dev");
  REQUIRE_FALSE(ctx_alone.ok());
  CHECK(has(ctx_alone.error().message, "no kubeconfig"));
  auto ctx = resolve_kube_config(d + "/flag", none, env_of({}), "qa");
  REQUIRE_FALSE(ctx.ok());
  CHECK(has(ctx.error().message, "no context \"qa\""));
  CHECK(has(ctx.error().message, "(the kubeconfig named by --kubeconfig)"));
  // A file KUBECONFIG names that does not exist is skipped, as client-go skips it: in-cluster.
  auto env_missing = resolve_kube_config(
      "", sa, env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBECONFIG", d + "/no-such-file"}}));
  REQUIRE(env_missing.ok());
  CHECK(env_missing->server == "https://10.96.0.1:443");
  // One that exists but is not a kubeconfig is an error naming where it came from.
  {
    std::ofstream f(d + "/broken");
    f << "clusters: [unterminated\n";
  }
  auto env_broken = resolve_kube_config("", none, env_of({{"KUBECONFIG", d + "/broken"}}));
  REQUIRE_FALSE(env_broken.ok());
  CHECK(has(env_broken.error().message, "(the kubeconfig named by KUBECONFIG)"));
  // A context kubectl would find in a later file of the list: the error says that file is unread.
  auto env_ctx = resolve_kube_config("", none, env_of({{"KUBECONFIG", d + "/flag:" + d + "/env"}}), "prod");
  REQUIRE_FALSE(env_ctx.ok());
  CHECK(has(env_ctx.error().message, "(the kubeconfig named by KUBECONFIG; only its first file is read)"));

  // The command line's overrides replace what the kubeconfig says.
  auto over = resolve_kube_config("", sa, env_of({{"KUBECONFIG", d + "/env"}}));
  REQUIRE(over.ok());
  CHECK(over->server == "https://env.example.com");
  CHECK(over->token_file == d + "/sa/token");
  CHECK(over->token.empty());
  CHECK(over->ca_file == d + "/sa/ca.crt");
  CHECK(over->ca_pem.empty());
  auto server = resolve_kube_config(d + "/env", {"https://127.0.0.1:1", "", ""}, env_of({}));
  REQUIRE(server.ok());
  CHECK(server->server == "https://127.0.0.1:1");
  CHECK(server->token == "env-token-0123456789");
  CHECK(server->ca_pem == ca);
  auto bad_override = resolve_kube_config(d + "/env", {"", d + "/nope", ""}, env_of({}));
  REQUIRE_FALSE(bad_override.ok());
  CHECK(has(bad_override.error().message, "--kube-token-file"));
}

TEST_CASE("kubeconfig: a client from an inline CA and token talks TLS to the API server", "[kube][kubeconfig]") {
  const std::string d = scangate::test::make_temp_dir("sg-kubeconfig-tls");
  Server api("127.0.0.1", true);
  api.http().Get("/api/v1/namespaces/team-a", [&](const auto&, auto& res) {
    res.set_content(R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team-a"}})", "application/json");
  });
  api.start();
  write(d + "/config", kubeconfig("    server: " + api.origin() + "\n    certificate-authority-data: " +
                                      base64(scangate::test::read_file(pki().ca_cert)) + "\n",
                                  "    token: tls-inline-token-0123456789\n"));
  auto cfg = load_kubeconfig(d + "/config");
  REQUIRE(cfg.ok());
  auto client = KubeClient::create(*cfg);
  REQUIRE(client.ok());
  auto ns = (*client)->get("/api/v1/namespaces/team-a", Deadline::after(std::chrono::seconds(30)));
  REQUIRE(ns.ok());
  CHECK((*ns)["metadata"]["name"] == "team-a");
  REQUIRE(api.seen().size() == 1);
  CHECK(api.seen()[0].header("Authorization") == "Bearer tls-inline-token-0123456789");
  // Nothing was written next to the kubeconfig (the CA and the token stay in memory).
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d)) ++files;
  CHECK(files == 1);

  // The inline CA is what made the server trusted: without it (the system roots only) the
  // handshake fails and nothing reaches the server.
  KubeConfig no_ca = *cfg;
  no_ca.ca_pem.clear();
  ClientOptions o;
  o.retry.max_attempts = 1;
  auto untrusted = KubeClient::create(no_ca, o);
  REQUIRE(untrusted.ok());
  auto refused = (*untrusted)->get("/api/v1/namespaces/team-a", Deadline::after(std::chrono::seconds(30)));
  REQUIRE_FALSE(refused.ok());
  CHECK(api.seen().size() == 1);

  // An inline token that no bearer token can be is refused at creation, before any call.
  KubeConfig bad = *cfg;
  bad.token = "two words";
  auto refused_token = KubeClient::create(bad);
  REQUIRE_FALSE(refused_token.ok());
  CHECK(refused_token.error().kind == ErrorKind::kAuth);
  // A CA given inline is checked like a CA file.
  KubeConfig cut = *cfg;
  cut.ca_pem = cut.ca_pem.substr(0, cut.ca_pem.size() / 2);
  auto cut_ca = KubeClient::create(cut);
  REQUIRE_FALSE(cut_ca.ok());
  CHECK(cut_ca.error().kind == ErrorKind::kFormat);
}
