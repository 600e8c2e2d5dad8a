// The webhook's routes, as a Handler: POST /validate, POST /mutate (digest pinning), GET /healthz,
// GET /readyz.
// No sockets: tests call the handler with Request values.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "webhook/admission/review.h"
#include "webhook/server/http_types.h"

namespace scangate::webhook {

struct WebhookMetrics;

struct DecideContext {
  // The API server's ?timeout= (its own deadline for this call); nullopt when absent/invalid.
  std::optional<std::chrono::nanoseconds> timeout;
  std::chrono::steady_clock::time_point received{};  // when the request was fully read
};

// Delivers the decision; may be called from any thread, once.
using DecisionCallback = std::function<void(admission::AdmissionDecision)>;

// Decides one admission request (the verdict engine). It must call `done` exactly once, and
// should do so before the deadline derived from `ctx.timeout`.
using Decider = std::function<void(admission::AdmissionRequest, DecideContext, DecisionCallback)>;

struct RouterOptions {
  Decider decider;
  // POST /mutate: resolves the images to pin (AdmissionDecision::digests; its verdict is not
  // read). Empty: /mutate admits everything unpinned.
  Decider pinner;
  const std::atomic<bool>* ready = nullptr;  // /readyz: 503 until set (nullptr: never ready)
  // /readyz: 503 once set (the pod is stopping and drains); requests are still answered.
  const std::atomic<bool>* draining = nullptr;
  WebhookMetrics* metrics = nullptr;  // optional
};

Handler make_router(RouterOptions options);

// "application/json" or "application/json; charset=utf-8" (case-insensitive).
bool is_json_content_type(std::string_view content_type);

}  // namespace scangate::webhook
