// scangate-webhook, the composition root (with wiring.h): parses the configuration, wires the
// verdict service's decider into the server's routes and runs the HTTPS server until
// SIGTERM/SIGINT. Every line it writes goes through the core logger (--log-format text|json,
// --log-level). With --publish-webhook-config it publishes its own ValidatingWebhookConfiguration
// once ready (publisher.h), and with --publish-mutating-webhook-config the MutatingWebhookConfiguration
// of digest pinning too; `scangate-webhook admission-test` is the chart's helm test
// (admission_test.h).
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/core/log.h"
#include "scanner/kube/kube_client.h"
#include "scanner/kube/kubeconfig.h"
#include "webhook/app/admission_test.h"
#include "webhook/app/publisher.h"
#include "webhook/app/wiring.h"
#include "webhook/server/config.h"
#include "webhook/server/metrics.h"
#include "webhook/server/router.h"
#include "webhook/server/server.h"

#ifndef SCANGATE_VERSION
#define SCANGATE_VERSION "dev"
#endif

namespace {

using namespace scangate;
using namespace scangate::webhook;

// --publish-webhook-config (and --publish-mutating-webhook-config): their companion flags and the
// Kubernetes API client, checked at start (a bad flag or a configuration file that is not the
// configuration its flag names stops the webhook with exit 2, the flag named). The metrics:
// scangate_webhook_config_published (0/1) and scangate_webhook_config_publish_failures_total{reason}
// (publish_failure_reason's closed set).
Result<std::unique_ptr<app::WebhookConfigPublisher>> make_publisher(const WebhookConfig& cfg, WebhookMetrics& metrics,
                                                                    net::Cancellation* cancel,
                                                                    std::function<bool()> ready) {
  if (cfg.publish_ca_file.empty() || cfg.webhook_owner_clusterrole.empty())
    return Error(ErrorKind::kInvalidArgument,
                 "--publish-webhook-config needs --publish-ca-file FILE and --webhook-owner-clusterrole NAME");
  app::PublisherOptions po;
  po.configs.push_back({cfg.publish_webhook_config, app::WebhookConfigKind::kValidating, "--publish-webhook-config"});
  if (!cfg.publish_mutating_webhook_config.empty())
    po.configs.push_back(
        {cfg.publish_mutating_webhook_config, app::WebhookConfigKind::kMutating, "--publish-mutating-webhook-config"});
  for (const auto& c : po.configs) {
    std::ifstream in(c.file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Error(ErrorKind::kIo, c.flag + ": cannot read " + c.file);
    SG_TRY(app::check_webhook_config(text.str(), c.file, c.kind));
  }
  auto kube_cfg = kube::resolve_kube_config(
      cfg.kubeconfig, {cfg.kube_api_server, cfg.kube_token_file, cfg.kube_ca_file}, kube::process_env());
  if (!kube_cfg) return kube_cfg.error().wrap("--publish-webhook-config");
  kube::ClientOptions ko;
  ko.user_agent = std::string("scangate-webhook/") + SCANGATE_VERSION;
  ko.cancel = cancel;
  auto client = kube::KubeClient::create(*kube_cfg, ko);
  if (!client) return client.error().wrap("--publish-webhook-config");

  auto& published =
      prometheus::BuildGauge()
          .Name("scangate_webhook_config_published")
          .Help("1 once this pod has applied the webhook configurations it publishes (--publish-*webhook-config)")
          .Register(*metrics.registry)
          .Add({});
  auto& failures = prometheus::BuildCounter()
                       .Name("scangate_webhook_config_publish_failures_total")
                       .Help("Failed attempts to apply the webhook configurations, by reason")
                       .Register(*metrics.registry);
  std::map<std::string, prometheus::Counter*> by_reason;
  for (const char* reason : {"config", "ca", "owner", "forbidden", "rejected", "unavailable"})
    by_reason[reason] = &failures.Add({{"reason", reason}});
  app::PublisherHooks hooks;
  hooks.published = [&published] { published.Set(1); };
  hooks.failure = [by_reason](const std::string& reason) {
    auto it = by_reason.find(reason);
    (it != by_reason.end() ? it->second : by_reason.at("unavailable"))->Increment();
  };
  po.ca_file = cfg.publish_ca_file;
  po.owner_clusterrole = cfg.webhook_owner_clusterrole;
  return std::make_unique<app::WebhookConfigPublisher>(po, std::move(client).value(), std::move(ready),
                                                       std::move(hooks));
}

int run(std::vector<std::string> args) {
  // The log flags first, so that even a configuration error is a line in the chosen format.
  // They are command-line only: the --config file does not know them.
  if (auto bad = log::take_flags(args)) {
    std::fprintf(stderr, "scangate-webhook: %s\n", bad->c_str());
    return 2;
  }
  if (!args.empty() && args.front() == "admission-test")
    return app::run_admission_test(std::vector<std::string>(args.begin() + 1, args.end()));
  const log::Logger lg("webhook");
  auto parsed = parse_webhook_args(args);
  if (!parsed) {
    lg.error(parsed.error().message);
    return 2;
  }
  if (parsed->help) {
    std::string help = webhook_help();
    help += "\nLogging (command line only):\n" + log::flags_help();
    help +=
        "\nSubcommands:\n  admission-test        submit a dry-run Pod and check the webhook's answer (the chart's helm "
        "test;\n                        see scangate-webhook admission-test --help)\n";
    std::fputs(help.c_str(), stdout);
    return 0;
  }
  const WebhookConfig& cfg = parsed->config;
  if (cfg.tls_cert_file.empty() || cfg.tls_private_key_file.empty()) {
    lg.error("--tls-cert-file and --tls-private-key-file are required (HTTPS only)");
    return 2;
  }
  auto listen = parse_listen_address(cfg.listen);
  auto metrics_listen = parse_listen_address(cfg.metrics_listen);
  if (!listen || !metrics_listen) {
    lg.error((!listen ? listen : metrics_listen).error().message);
    return 2;
  }

  WebhookMetrics metrics(SCANGATE_VERSION);
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  net::Cancellation kube_cancel;  // outlives the publisher: stops its calls at shutdown
  std::unique_ptr<app::WebhookConfigPublisher> publisher;
  if (!cfg.publish_mutating_webhook_config.empty() && cfg.publish_webhook_config.empty()) {
    lg.error("--publish-mutating-webhook-config needs --publish-webhook-config: the two are published together");
    return 2;
  }
  if (!cfg.publish_webhook_config.empty()) {
    auto p =
        make_publisher(cfg, metrics, &kube_cancel, [&ready, &draining] { return ready.load() && !draining.load(); });
    if (!p) {
      lg.error(p.error().message);
      return 2;
    }
    publisher = std::move(p).value();
  }

  ServerOptions opts;
  opts.address = listen->address;
  opts.port = listen->port;
  opts.metrics_address = metrics_listen->address;
  opts.metrics_port = metrics_listen->port;
  opts.cert_file = cfg.tls_cert_file;
  opts.key_file = cfg.tls_private_key_file;
  opts.threads = cfg.threads;
  opts.body_budget = static_cast<std::size_t>(cfg.max_buffered_request_bytes);
  opts.handle_signals = true;
  opts.shutdown_delay = cfg.shutdown_delay;
  opts.on_draining = [&draining] { draining.store(true); };
  opts.log = lg;

  RouterOptions routes;
  routes.ready = &ready;
  routes.draining = &draining;
  routes.metrics = &metrics;
  // Start serving /healthz first; /readyz turns ready once the decider (DB + policy) is loaded.
  auto decider = std::make_shared<Decider>();
  routes.decider = [decider, &ready](admission::AdmissionRequest req, DecideContext ctx, DecisionCallback done) {
    if (!ready.load() || !*decider) {
      admission::AdmissionDecision d;
      d.allowed = false;
      d.code = 503;
      d.message = "scangate: the webhook is starting (vulnerability DB and policy not loaded yet)";
      return done(std::move(d));
    }
    (*decider)(std::move(req), ctx, std::move(done));
  };

  // POST /mutate: digests to pin; until ready, none (the object is admitted unpinned and the
  // validating webhook, which answers 503 then, decides).
  auto pinner = std::make_shared<Decider>();
  routes.pinner = [pinner, &ready](admission::AdmissionRequest req, DecideContext ctx, DecisionCallback done) {
    if (!ready.load() || !*pinner) return done(admission::AdmissionDecision{});
    (*pinner)(std::move(req), ctx, std::move(done));
  };

  auto server = Server::create(opts, make_router(std::move(routes)), metrics);
  if (!server) {
    lg.error(server.error().message);
    return 1;
  }
  (*server)->start();
  lg.info(
      "listening",
      {{"https_port", (*server)->port()}, {"metrics_port", (*server)->metrics_port()}, {"version", SCANGATE_VERSION}});
  // The verdict engine: DB, policy (hot-reloaded), scanner, CSPM spool. A configuration error is
  // fatal at start-up, with the flag named.
  auto runtime = app::make_engine_runtime(cfg, metrics);
  if (!runtime) {
    lg.error(runtime.error().message);
    (*server)->stop();
    (*server)->wait();
    return 2;
  }
  *decider = (*runtime)->decider();
  *pinner = (*runtime)->pinner();
  ready.store(true);
  // Only now, with /readyz answering 200, may the (fail-closed) webhook configuration go live.
  if (publisher) publisher->start();
  (*server)->wait();
  // Nothing is removed: the other replicas keep serving the configuration.
  if (publisher) {
    kube_cancel.cancel();
    publisher->stop();
  }
  *decider = nullptr;
  *pinner = nullptr;
  lg.info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(std::vector<std::string>(argv + 1, argv + argc)); }
