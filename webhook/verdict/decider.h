// Builds the webhook's verdict engine from its configuration: the vulnerability DB, the policy
// (reloaded when its file changes; a bad edit keeps the last good one), the secret scanner, the
// CSPM spool, and the metrics.
#pragma once

#include <memory>

#include "scanner/core/result.h"
#include "webhook/server/config.h"
#include "webhook/server/metrics.h"
#include "webhook/server/router.h"

namespace scangate::verdict {

class EngineRuntime {
 public:
  virtual ~EngineRuntime() = default;
  virtual webhook::Decider decider() = 0;
};

// A configuration error (DB missing, policy invalid, CSPM token unreadable) is an Error naming
// the flag: the webhook must not start half-configured.
Result<std::unique_ptr<EngineRuntime>> make_engine_runtime(const webhook::WebhookConfig& cfg,
                                                           webhook::WebhookMetrics& metrics);

}  // namespace scangate::verdict
