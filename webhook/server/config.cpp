#include "webhook/server/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "scanner/core/duration.h"
#include "scanner/core/yaml_schema.h"

namespace scangate::webhook {

namespace {

enum class Kind { kString, kUnsigned, kDuration, kList, kLabels, kPath };

// Checks a flag's text and stores it; `name` is the flag, for messages.
using Setter = std::function<Result<void>(const char* name, const std::string& text, WebhookConfig&)>;

struct Key {
  const char* name;  // flag without dashes, and the YAML key
  Kind kind;
  const char* value_name;
  const char* help;
  Setter set;
};

// The text as is.
Setter text(std::string WebhookConfig::*field) {
  return [field](const char*, const std::string& v, WebhookConfig& c) -> Result<void> {
    c.*field = v;
    return Ok();
  };
}

Setter listen_address(std::string WebhookConfig::*field) {
  return [field](const char*, const std::string& v, WebhookConfig& c) -> Result<void> {
    SG_TRY(parse_listen_address(v));
    c.*field = v;
    return Ok();
  };
}

// A whole number from lo to hi.
template <class T>
Setter whole_number(T WebhookConfig::*field, std::uint64_t lo, std::uint64_t hi) {
  return [field, lo, hi](const char* name, const std::string& v, WebhookConfig& c) -> Result<void> {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty())
      return Error(ErrorKind::kInvalidArgument,
                   std::string(name) + " must be a non-negative integer, got \"" + v + "\"");
    if (n < lo || n > hi)
      return Error(ErrorKind::kInvalidArgument,
                   std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    c.*field = static_cast<T>(n);
    return Ok();
  };
}

// The one duration grammar (scanner/core/duration.h), so `7d` is a duration here as in the policy.
// A TTL cannot be negative.
Setter ttl(std::chrono::milliseconds WebhookConfig::*field) {
  return [field](const char* name, const std::string& v, WebhookConfig& c) -> Result<void> {
    auto d = try_parse_duration(v);
    if (std::holds_alternative<DurationError>(d))
      return Error(ErrorKind::kInvalidArgument,
                   std::string(name) + " must be a duration such as 30s, 10m or 24h, got \"" + v + "\"");
    const auto ns = std::get<std::chrono::nanoseconds>(d);
    if (ns < ns.zero())
      return Error(ErrorKind::kInvalidArgument, std::string(name) + " must not be negative, got \"" + v + "\"");
    c.*field = std::chrono::duration_cast<std::chrono::milliseconds>(ns);
    return Ok();
  };
}

// true or false.
Setter boolean(bool WebhookConfig::*field) {
  return [field](const char* name, const std::string& v, WebhookConfig& c) -> Result<void> {
    if (v != "true" && v != "false")
      return Error(ErrorKind::kInvalidArgument, std::string(name) + " must be true or false, got \"" + v + "\"");
    c.*field = v == "true";
    return Ok();
  };
}

// A deadline: a duration above zero.
Setter timeout(std::chrono::milliseconds WebhookConfig::*field) {
  return [field](const char* name, const std::string& v, WebhookConfig& c) -> Result<void> {
    SG_TRY(ttl(field)(name, v, c));
    if ((c.*field).count() <= 0)
      return Error(ErrorKind::kInvalidArgument, std::string(name) + " must be longer than 0, got \"" + v + "\"");
    return Ok();
  };
}

const std::vector<Key>& keys() {
  using C = WebhookConfig;
  static const std::vector<Key> k = {
      {"listen", Kind::kString, "ADDR:PORT", "HTTPS listen address (default :8443)", listen_address(&C::listen)},
      {"tls-cert-file", Kind::kPath, "FILE", "PEM certificate chain; reloaded when it changes (required)",
       text(&C::tls_cert_file)},
      {"tls-private-key-file", Kind::kPath, "FILE", "PEM private key; reloaded when it changes (required)",
       text(&C::tls_private_key_file)},
      {"metrics-listen", Kind::kString, "ADDR:PORT", "plain-HTTP Prometheus /metrics address (default :9090)",
       listen_address(&C::metrics_listen)},
      {"db", Kind::kPath, "FILE", "vulnerability DB built by `scangate db build`", text(&C::db)},
      {"db-repository", Kind::kString, "REF",
       "OCI artifact to pull the DB from (`scangate db push`): at start when --db is missing, then on every "
       "--db-poll when its digest changes",
       text(&C::db_repository)},
      {"db-poll", Kind::kDuration, "DURATION",
       "how often --db-repository is checked for a new DB; 0: only at start (default 1h)", ttl(&C::db_poll)},
      {"policy", Kind::kPath, "FILE", "gate policy (the same file the CLI gate uses)", text(&C::policy)},
      {"registry-config", Kind::kPath, "FILE", "registry credentials (docker config.json format)",
       text(&C::registry_config)},
      {"insecure-registry", Kind::kList, "HOST[:PORT]", "registry reached over plain HTTP (repeatable)",
       [](const char*, const std::string& v, WebhookConfig& c) -> Result<void> {
         c.insecure_registries.push_back(v);
         return Ok();
       }},
      {"attestation-key", Kind::kList, "FILE",
       "trusted public key (PEM, EC P-256) of the pipeline's signed scan attestations (repeatable): a verified "
       "SBOM or vulnerability record decides before any scan",
       [](const char*, const std::string& v, WebhookConfig& c) -> Result<void> {
         c.attestation_keys.push_back(v);
         return Ok();
       }},
      {"platforms", Kind::kList, "OS/ARCH[/VARIANT],...",
       "platforms the cluster runs: an image index is judged by each one's image (default: all linux)",
       [](const char* name, const std::string& v, WebhookConfig& c) -> Result<void> {
         size_t start = 0;
         for (;;) {
           auto comma = v.find(',', start);
           std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
           item.erase(0, item.find_first_not_of(" \t"));
           item.erase(item.find_last_not_of(" \t") + 1);
           if (item.empty())
             return Error(
                 ErrorKind::kInvalidArgument,
                 std::string(name) + " must list platforms such as linux/amd64,linux/arm64, got \"" + v + "\"");
           c.platforms.push_back(item);
           if (comma == std::string::npos) return Ok();
           start = comma + 1;
         }
       }},
      {"scan-workers", Kind::kUnsigned, "N", "concurrent image scans (default 2)",
       whole_number(&C::scan_workers, 1, 256)},
      {"cache-size", Kind::kUnsigned, "N", "verdict cache entries (default 10000)",
       whole_number(&C::cache_size, 0, std::numeric_limits<std::uint64_t>::max())},
      {"cache-ttl", Kind::kDuration, "DURATION", "verdict cache lifetime, e.g. 30m, 24h or 7d (default 24h)",
       ttl(&C::cache_ttl)},
      // Limits and overload (README "Limits and overload").
      {"tag-cache-ttl", Kind::kDuration, "DURATION",
       "how long a tag's digest is reused before the registry is asked again; 0: every review (default 10s)",
       ttl(&C::tag_cache_ttl)},
      {"lookup-threads", Kind::kUnsigned, "N", "tag look-ups in flight at once (default 32)",
       whole_number(&C::lookup_threads, 1, 256)},
      {"max-lookups-per-registry", Kind::kUnsigned, "N",
       "look-up threads one registry host may hold at once (default 2)",
       whole_number(&C::max_lookups_per_registry, 1, 256)},
      {"max-queued-lookups", Kind::kUnsigned, "N", "tag look-ups waiting for a thread; more are refused (default 256)",
       whole_number(&C::max_queued_lookups, 1, 1u << 20)},
      {"max-queued-lookups-per-registry", Kind::kUnsigned, "N",
       "look-ups of one registry host waiting; more are refused (default 64)",
       whole_number(&C::max_queued_lookups_per_registry, 1, 1u << 20)},
      {"max-queued-scans", Kind::kUnsigned, "N", "scans waiting for a worker; more are refused (default 256)",
       whole_number(&C::max_queued_scans, 1, 1u << 20)},
      {"max-images-per-review", Kind::kUnsigned, "N",
       "distinct images judged per review; more: scan.onError decides (default 256)",
       whole_number(&C::max_images_per_review, 1, 1u << 20)},
      {"shutdown-delay", Kind::kDuration, "DURATION",
       "on SIGTERM, keep answering this long with /readyz failing before stopping, so the Service stops "
       "routing to the pod first; 0: stop at once (default 10s)",
       ttl(&C::shutdown_delay)},
      {"lookup-timeout", Kind::kDuration, "DURATION",
       "deadline of one tag look-up, from when it is queued (default 30s)", timeout(&C::lookup_timeout)},
      {"scan-timeout", Kind::kDuration, "DURATION", "deadline of one image scan, from when it is queued (default 10m)",
       timeout(&C::scan_timeout)},
      {"max-buffered-request-bytes", Kind::kUnsigned, "BYTES",
       "request-body bytes buffered at once, all connections; past it 503 + Retry-After (default 67108864)",
       whole_number(&C::max_buffered_request_bytes, 4u << 20, std::numeric_limits<std::uint64_t>::max())},
      {"cspm-url", Kind::kString, "URL", "CSPM endpoint that receives scan reports", text(&C::cspm_url)},
      {"cspm-tenant-id", Kind::kString, "ID", "CSPM tenant", text(&C::cspm_tenant_id)},
      {"cspm-label", Kind::kLabels, "KEY=VALUE", "label attached to uploads (repeatable)",
       [](const char*, const std::string& v, WebhookConfig& c) -> Result<void> {
         auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0)
           return Error(ErrorKind::kInvalidArgument, "cspm-label must be KEY=VALUE, got \"" + v + "\"");
         c.cspm_labels[v.substr(0, eq)] = v.substr(eq + 1);
         return Ok();
       }},
      {"cspm-token-file", Kind::kPath, "FILE", "file holding the CSPM API token (never logged)",
       text(&C::cspm_token_file)},
      {"spool-dir", Kind::kPath, "DIR", "durable spool for reports while CSPM is unreachable", text(&C::spool_dir)},
      {"publish-webhook-config", Kind::kPath, "FILE",
       "ValidatingWebhookConfiguration (JSON) to apply once ready, with the caBundle filled in; re-applied when "
       "the CA file changes, never removed",
       text(&C::publish_webhook_config)},
      {"publish-mutating-webhook-config", Kind::kPath, "FILE",
       "MutatingWebhookConfiguration (JSON) of digest pinning (POST /mutate), applied with and like "
       "--publish-webhook-config's",
       text(&C::publish_mutating_webhook_config)},
      {"publish-ca-file", Kind::kPath, "FILE",
       "PEM CA bundle written as every webhook's caBundle (with --publish-webhook-config)", text(&C::publish_ca_file)},
      {"webhook-owner-clusterrole", Kind::kString, "NAME",
       "ClusterRole that owns the published configuration: deleting it (helm uninstall) deletes the configuration",
       text(&C::webhook_owner_clusterrole)},
      {"pod-pull-secrets", Kind::kString, "true|false",
       "scan with the pod's imagePullSecrets and its ServiceAccount's, then --registry-config, as the kubelet "
       "pulls (needs get on secrets and serviceaccounts; default false)",
       boolean(&C::pod_pull_secrets)},
      {"pull-secret-cache-ttl", Kind::kDuration, "DURATION",
       "how long a Secret or ServiceAccount read for --pod-pull-secrets is kept (default 30s)",
       ttl(&C::pull_secret_cache_ttl)},
      {"kubeconfig", Kind::kPath, "FILE",
       "kubeconfig for running outside a cluster (default: $KUBECONFIG, else in-cluster)", text(&C::kubeconfig)},
      {"kube-api-server", Kind::kString, "URL", "Kubernetes API server (default: in-cluster, KUBERNETES_SERVICE_HOST)",
       text(&C::kube_api_server)},
      {"kube-token-file", Kind::kPath, "FILE",
       "bearer token for the API server, re-read when it changes (default: the pod's service-account token)",
       text(&C::kube_token_file)},
      {"kube-ca-file", Kind::kPath, "FILE", "CA bundle of the API server (default: the pod's service-account ca.crt)",
       text(&C::kube_ca_file)},
      {"threads", Kind::kUnsigned, "N", "HTTPS worker threads (default 2)", whole_number(&C::threads, 1, 256)},
  };
  return k;
}

const Key* find_key(std::string_view name) {
  for (const auto& k : keys())
    if (name == k.name) return &k;
  return nullptr;
}

namespace ys = yaml_schema;

// The config file's schema: every flag is a key; a key set by a flag is known but not read.
ys::Type config_schema(const std::vector<std::string>& set_by_flags, WebhookConfig& config) {
  std::vector<ys::Field> fields;
  for (const auto& k : keys()) {
    if (std::find(set_by_flags.begin(), set_by_flags.end(), k.name) != set_by_flags.end()) {
      fields.push_back({k.name, ys::ignored()});
      continue;
    }
    ys::Type one = ys::scalar([&k, &config](const std::string& v) { return k.set(k.name, v, config); });
    if (k.kind == Kind::kList) {
      fields.push_back({k.name, ys::any_of({one, ys::list(one)}, "a string or a list of strings")});
    } else if (k.kind == Kind::kLabels) {
      ys::Type pairs = ys::free_map(nullptr, [&k, &config](const std::string& key) {
        return ys::scalar([&k, &config, key](const std::string& v) { return k.set(k.name, key + "=" + v, config); });
      });
      fields.push_back({k.name, ys::any_of({one, ys::list(one), pairs}, "a map or a list of KEY=VALUE")});
    } else {
      fields.push_back({k.name, one});
    }
  }
  return ys::mapping(std::move(fields));
}

// "config.yaml line 3: unknown key ..."
std::string render(const std::string& source, const ys::Problem& p) {
  const std::string at = source + (p.line > 0 ? " line " + std::to_string(p.line) : "") + ": ";
  switch (p.kind) {
    case ys::ProblemKind::kSyntax: return at + "not valid YAML: " + p.message;
    case ys::ProblemKind::kUnknownKey:
      return at + "unknown key \"" + p.path + "\" (known keys: " + ys::join(p.allowed) + ")";
    case ys::ProblemKind::kType:
      if (p.path.empty()) return at + "expected a mapping of settings at the top level, got " + p.found;
      return at + "key \"" + p.path + "\" " + (p.found == "no value" ? "has no value" : "must be " + p.expected);
    case ys::ProblemKind::kValue: return at + p.message;  // the setters name their key
    default: return at + "key \"" + p.path + "\" " + ys::describe(p);
  }
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error(ErrorKind::kInvalidArgument, "listen address \"" + text + "\" must look like [::1]:8443");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return Error(ErrorKind::kInvalidArgument, "listen address \"" + text + "\" must be ADDR:PORT or :PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || p > 65535)
    return Error(ErrorKind::kInvalidArgument, "listen address \"" + text + "\" has a bad port");
  ListenAddress out;
  out.address = host.empty() ? "0.0.0.0" : host;
  out.port = static_cast<std::uint16_t>(p);
  return out;
}

Result<void> apply_config_yaml(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& set_by_flags, WebhookConfig& config) {
  ys::Checker c;
  auto docs = ys::load_all(yaml_text, c);
  if (docs && !docs->empty() && !(*docs)[0].IsNull()) ys::check((*docs)[0], config_schema(set_by_flags, config), c);
  if (c.ok()) return Ok();
  const bool syntax = c.problems().front().kind == ys::ProblemKind::kSyntax;
  return Error(syntax ? ErrorKind::kFormat : ErrorKind::kInvalidArgument,
               c.render([&](const ys::Problem& p) { return render(source, p); }));
}

Result<ParsedArgs> parse_webhook_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  std::vector<std::string> set_by_flags;
  std::vector<bool> list_reset(keys().size(), false);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      return out;
    }
    if (a.rfind("--", 0) != 0)
      return Error(ErrorKind::kInvalidArgument, "unexpected argument \"" + a + "\" (see --help)");
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return Error(ErrorKind::kInvalidArgument, "flag --" + name + " needs a value");
      value = args[++i];
    }
    if (name == "config") {
      out.config.config_file = value;
      continue;
    }
    const Key* key = find_key(name);
    if (key == nullptr) return Error(ErrorKind::kInvalidArgument, "unknown flag --" + name + " (see --help)");
    auto r = key->set(key->name, value, out.config);
    if (!r) return r.error().wrap("flag --" + name);
    set_by_flags.push_back(name);
  }
  if (!out.config.config_file.empty()) {
    std::ifstream in(out.config.config_file, std::ios::binary);
    if (!in) return Error(ErrorKind::kIo, "cannot read config file " + out.config.config_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    SG_TRY(apply_config_yaml(ss.str(), out.config.config_file, set_by_flags, out.config));
  }
  return out;
}

std::string webhook_help() {
  std::string out =
      "Usage: scangate-webhook --tls-cert-file FILE --tls-private-key-file FILE [flags]\n\n"
      "Kubernetes validating admission webhook: scans the images of pods and pod templates and\n"
      "denies those that violate the policy. Serves POST /validate, GET /healthz and GET /readyz\n"
      "over HTTPS (TLS 1.2+), and Prometheus metrics over plain HTTP at /metrics.\n\n"
      "Flags (each may also be set in the --config file, under the same name; flags win):\n";
  auto line = [&](const std::string& flag, const std::string& help) {
    std::string l = "  " + flag;
    if (l.size() < 38)
      l.resize(38, ' ');
    else
      l += "\n" + std::string(38, ' ');
    out += l + help + "\n";
  };
  for (const auto& k : keys()) line(std::string("--") + k.name + " " + k.value_name, k.help);
  line("--config FILE", "YAML file with the keys above; unknown keys are errors");
  line("--help", "show this help");
  out +=
      "\nSignals: SIGTERM/SIGINT drain for --shutdown-delay (/readyz fails, requests are answered), then\n"
      "stop gracefully (in-flight requests finish); a second one stops at once. SIGHUP reloads the\n"
      "TLS certificate (it is also reloaded when its files change).\n";
  return out;
}

}  // namespace scangate::webhook
