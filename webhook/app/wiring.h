// The webhook's composition root, with main.cpp: the one place that knows both the HTTP server
// (webhook/server) and the verdict service (webhook/verdict), and wires one into the other. The
// server defines what it calls (webhook::Decider); the verdict service knows nothing of the
// server; neither includes this folder.
#pragma once

#include <memory>

#include "scanner/core/result.h"
#include "webhook/server/config.h"
#include "webhook/server/metrics.h"
#include "webhook/server/router.h"
#include "webhook/verdict/runtime.h"

namespace scangate::app {

// The verdict service as the server sees it.
class EngineRuntime {
 public:
  explicit EngineRuntime(std::unique_ptr<verdict::EngineRuntime> runtime) : runtime_(std::move(runtime)) {}
  // The decider for the server's routes; valid while this object lives.
  webhook::Decider decider();
  // The digest resolver for POST /mutate (RouterOptions::pinner).
  webhook::Decider pinner();

 private:
  std::unique_ptr<verdict::EngineRuntime> runtime_;
};

// The server's configuration, as the verdict service takes it.
verdict::RuntimeConfig runtime_config(const webhook::WebhookConfig& cfg);
// The verdict service's hooks, feeding the webhook's metrics.
verdict::RuntimeHooks runtime_hooks(webhook::WebhookMetrics& metrics);

// The verdict service for the webhook's configuration, reporting to its metrics. A configuration
// error is an Error naming the flag.
Result<std::unique_ptr<EngineRuntime>> make_engine_runtime(const webhook::WebhookConfig& cfg,
                                                           webhook::WebhookMetrics& metrics);

}  // namespace scangate::app
