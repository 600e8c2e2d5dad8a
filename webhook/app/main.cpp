// scangate-webhook, the composition root (with wiring.h): parses the configuration, wires the
// verdict service's decider into the server's routes and runs the HTTPS server until
// SIGTERM/SIGINT. Every line it writes goes through the core logger (--log-format text|json,
// --log-level).
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "scanner/core/log.h"
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

int run(std::vector<std::string> args) {
  // The log flags first, so that even a configuration error is a line in the chosen format.
  // They are command-line only: the --config file does not know them.
  if (auto bad = log::take_flags(args)) {
    std::fprintf(stderr, "scangate-webhook: %s\n", bad->c_str());
    return 2;
  }
  const log::Logger lg("webhook");
  auto parsed = parse_webhook_args(args);
  if (!parsed) {
    lg.error(parsed.error().message);
    return 2;
  }
  if (parsed->help) {
    std::string help = webhook_help();
    help += "\nLogging (command line only):\n" + log::flags_help();
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
  ready.store(true);
  (*server)->wait();
  *decider = nullptr;
  lg.info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(std::vector<std::string>(argv + 1, argv + argc)); }
