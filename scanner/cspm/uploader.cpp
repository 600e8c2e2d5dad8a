#include "scanner/cspm/uploader.h"

#include "scanner/net/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

namespace scangate::cspm {

namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

UploaderDeps real_uploader_deps(Logger log) {
  UploaderDeps d;
  d.now = [] { return std::chrono::steady_clock::now(); };
  d.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  d.random = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  d.log = std::move(log);
  return d;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random) {
  net::RetryPolicy p;  // the one implementation (scanner/net/retry.h), in its full-jitter form
  p.initial_delay = policy.initial_delay;
  p.multiplier = 2.0;
  p.max_delay = policy.max_delay;
  p.full_jitter = true;
  p.max_retry_after = std::chrono::milliseconds::max();  // the drain's time budget bounds it instead
  return net::backoff_delay(p, retry, retry_after, unit_random);
}

const char* to_string(EntryState s) {
  switch (s) {
    case EntryState::kDelivered: return "delivered";
    case EntryState::kDeadLettered: return "dead-lettered";
    case EntryState::kPending: return "pending";
    case EntryState::kSkipped: return "skipped (another process is sending it)";
  }
  return "unknown";
}

const EntryResult* DrainResult::find(const std::string& id) const {
  for (const auto& e : entries)
    if (e.id == id) return &e;
  return nullptr;
}

Uploader::Uploader(Spool& spool, Sink& sink, RetryPolicy policy, UploaderDeps deps)
    : spool_(spool), sink_(sink), policy_(policy), deps_(std::move(deps)) {
  if (!deps_.now) deps_.now = [] { return std::chrono::steady_clock::now(); };
  if (!deps_.sleep) deps_.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  if (!deps_.random) deps_.random = real_uploader_deps().random;
  policy_.max_attempts = std::max(1, policy_.max_attempts);
}

EntryResult Uploader::send_with_retries(const std::string& id, std::chrono::steady_clock::time_point deadline) {
  EntryResult r;
  r.id = id;
  auto claim = spool_.claim(id);
  if (!claim.ok()) {
    r.kind = claim.error().kind;
    r.message = claim.error().message;
    return r;
  }
  if (!*claim) {
    r.state = EntryState::kSkipped;
    r.message = "another process is sending it, or it was delivered meanwhile";
    return r;
  }
  auto entry = spool_.load(id);
  if (!entry.ok()) {
    if (entry.error().kind == ErrorKind::kNotFound) {
      r.state = EntryState::kSkipped;
      r.message = entry.error().message;
    } else {
      r.kind = entry.error().kind;
      r.message = entry.error().message;
    }
    return r;
  }
  const std::string what = "report " + id + " to " + sink_.describe();
  const Logger lg = deps_.log.with({{"report", id}});

  for (int attempt = 1;; ++attempt) {
    r.attempts = attempt;
    auto sent = sink_.send(*entry);
    if (!sent.ok()) {
      r.kind = sent.error().kind;
      r.message = "uploading " + what + ": " + sent.error().message;
      lg.error(r.message, {{"attempt", attempt}});
      return r;
    }
    const SendOutcome& o = *sent;
    r.http_status = o.http_status;
    switch (o.status) {
      case SendStatus::kDelivered: {
        r.state = EntryState::kDelivered;
        r.message = "delivered " + what + " (" + o.detail + ")";
        lg.info(r.message, {{"attempt", attempt}, {"http_status", o.http_status}});
        if (auto a = spool_.ack(id); !a.ok())
          lg.error("delivered " + what +
                   " but could not remove it from the spool (it may be sent again): " + a.error().message);
        return r;
      }
      case SendStatus::kPermanentAuth:
      case SendStatus::kPermanent: {
        bool auth = o.status == SendStatus::kPermanentAuth;
        r.kind = auth ? ErrorKind::kAuth : ErrorKind::kInvalidArgument;
        r.message = std::string(auth ? "authentication failed uploading " : "the server rejected ") + what + ": " +
                    o.detail + "; moved to " + spool_.dir() + "/dead";
        auto d = spool_.dead_letter(id, o.detail, o.http_status);
        if (d.ok()) {
          r.state = EntryState::kDeadLettered;
        } else {
          r.message += " (but moving it failed: " + d.error().message + ")";
        }
        lg.error(r.message, {{"attempt", attempt}, {"http_status", o.http_status}});
        return r;
      }
      case SendStatus::kRetryable: break;
    }
    r.kind = ErrorKind::kNetwork;
    if (attempt >= policy_.max_attempts) {
      r.message = "uploading " + what + " failed after " + std::to_string(attempt) + " attempts: " + o.detail +
                  "; it stays in the spool " + spool_.dir() + " for the next run";
      lg.error(r.message, {{"attempt", attempt}, {"http_status", o.http_status}});
      return r;
    }
    auto delay = backoff_delay(policy_, attempt, o.retry_after, deps_.random());
    auto now = deps_.now();
    if (now + delay > deadline) {
      r.message = "uploading " + what + " failed: " + o.detail + "; giving up after " + std::to_string(attempt) +
                  " attempts (" +
                  (o.retry_after ? "the server asked to wait " + seconds_text(*o.retry_after) + ", " : std::string()) +
                  "beyond the time budget); it stays in the spool " + spool_.dir() + " for the next run";
      lg.error(r.message, {{"attempt", attempt}, {"http_status", o.http_status}});
      return r;
    }
    lg.warn("uploading " + what + ": attempt " + std::to_string(attempt) + "/" + std::to_string(policy_.max_attempts) +
                " failed: " + o.detail + "; retrying in " + seconds_text(delay),
            {{"attempt", attempt}, {"http_status", o.http_status}, {"retry_in_ms", delay.count()}});
    deps_.sleep(delay);
  }
}

Result<DrainResult> Uploader::drain(const std::optional<std::string>& first) {
  auto listed = spool_.list();
  if (!listed.ok()) return listed.error();
  std::vector<std::string> order;
  if (first) order.push_back(*first);
  for (const auto& e : *listed)
    if (!first || e.id != *first) order.push_back(e.id);

  const auto deadline = deps_.now() + policy_.max_elapsed;
  DrainResult out;
  for (size_t i = 0; i < order.size(); ++i) {
    EntryResult r = send_with_retries(order[i], deadline);
    switch (r.state) {
      case EntryState::kDelivered: ++out.delivered; break;
      case EntryState::kDeadLettered: ++out.dead_lettered; break;
      case EntryState::kPending: ++out.pending; break;
      case EntryState::kSkipped: ++out.skipped; break;
    }
    bool stop = r.state == EntryState::kPending || (r.state == EntryState::kDeadLettered && r.kind == ErrorKind::kAuth);
    out.entries.push_back(std::move(r));
    if (stop && i + 1 < order.size()) {
      out.stopped_early = true;
      size_t left = order.size() - i - 1;
      out.pending += left;
      deps_.log.warn("not sending the other " + std::to_string(left) + " spooled report(s) now; they stay in " +
                     spool_.dir());
      break;
    }
  }
  return out;
}

}  // namespace scangate::cspm
