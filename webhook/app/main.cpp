// scangate-webhook, the composition root (with wiring.h): parses the configuration, wires the
// verdict service's decider into the server's routes and runs the HTTPS server until
// SIGTERM/SIGINT.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

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

int run(const std::vector<std::string>& args) {
  auto parsed = parse_webhook_args(args);
  if (!parsed) {
    std::fprintf(stderr, "scangate-webhook: %s\n", parsed.error().message.c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(webhook_help().c_str(), stdout);
    return 0;
  }
  const WebhookConfig& cfg = parsed->config;
  if (cfg.tls_cert_file.empty() || cfg.tls_private_key_file.empty()) {
    std::fprintf(stderr, "scangate-webhook: --tls-cert-file and --tls-private-key-file are required (HTTPS only)\n");
    return 2;
  }
  auto listen = parse_listen_address(cfg.listen);
  auto metrics_listen = parse_listen_address(cfg.metrics_listen);
  if (!listen || !metrics_listen) {
    std::fprintf(stderr, "scangate-webhook: %s\n", (!listen ? listen : metrics_listen).error().message.c_str());
    return 2;
  }

  WebhookMetrics metrics(SCANGATE_VERSION);
  std::atomic<bool> ready{false};

  ServerOptions opts;
  opts.address = listen->address;
  opts.port = listen->port;
  opts.metrics_address = metrics_listen->address;
  opts.metrics_port = metrics_listen->port;
  opts.cert_file = cfg.tls_cert_file;
  opts.key_file = cfg.tls_private_key_file;
  opts.threads = cfg.threads;
  opts.handle_signals = true;

  RouterOptions routes;
  routes.ready = &ready;
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
    std::fprintf(stderr, "scangate-webhook: %s\n", server.error().message.c_str());
    return 1;
  }
  (*server)->start();
  std::fprintf(stderr, "level=info msg=\"listening\" https_port=%u metrics_port=%u version=%s\n",
               static_cast<unsigned>((*server)->port()), static_cast<unsigned>((*server)->metrics_port()),
               SCANGATE_VERSION);
  // The verdict engine: DB, policy (hot-reloaded), scanner, CSPM spool. A configuration error is
  // fatal at start-up, with the flag named.
  auto runtime = app::make_engine_runtime(cfg, metrics);
  if (!runtime) {
    std::fprintf(stderr, "scangate-webhook: %s\n", runtime.error().message.c_str());
    (*server)->stop();
    (*server)->wait();
    return 2;
  }
  *decider = (*runtime)->decider();
  ready.store(true);
  (*server)->wait();
  *decider = nullptr;
  std::fprintf(stderr, "level=info msg=\"stopped\"\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args);
}
