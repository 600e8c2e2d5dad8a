// Drains the spool through a sink: one report at a time, oldest first, with exponential backoff and
// full jitter between attempts. The clock, the sleeper and the random source are injected, so tests
// run in microseconds and can check every delay.
//
// Per report:
//   delivered        -> removed from the spool (ack)
//   retryable        -> retried up to max_attempts, within the run's max_elapsed budget; a server's
//                       Retry-After is a floor for the delay. When attempts or time run out, the report
//                       stays pending for the next run, and the drain stops (the server is unhealthy;
//                       the other reports would fail the same way).
//   401/403          -> dead-lettered, named as an authentication problem; the drain stops so that a
//                       wrong token does not dead-letter the whole backlog.
//   other 4xx        -> dead-lettered; the drain continues with the next report.
//   local error      -> (untrusted certificate, unreadable CA file) the report stays pending; stop.
// A report claimed by another process is skipped (that process is sending it).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/cspm/log.h"
#include "scanner/cspm/sink.h"
#include "scanner/cspm/spool.h"

namespace scangate::cspm {

struct RetryPolicy {
  int max_attempts = 6;                           // per report and run, including the first
  std::chrono::milliseconds initial_delay{1000};  // the backoff cap before the first retry
  std::chrono::milliseconds max_delay{30000};     // the largest backoff cap
  std::chrono::milliseconds max_elapsed{120000};  // budget for one drain, sleeps included
};

struct UploaderDeps {
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random;  // uniform in [0, 1)
  Logger log{"cspm"};
};

// The real clock, sleeping and a private PRNG; `log` as given.
UploaderDeps real_uploader_deps(Logger log = Logger("cspm"));

// Full jitter: unit_random * min(max_delay, initial_delay * 2^(retry-1)), retry counting from 1;
// a server's Retry-After raises the delay to at least that long.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random);

enum class EntryState { kDelivered, kDeadLettered, kPending, kSkipped };
const char* to_string(EntryState s);

struct EntryResult {
  std::string id;
  EntryState state = EntryState::kPending;
  int attempts = 0;
  int http_status = 0;
  ErrorKind kind = ErrorKind::kNetwork;  // why it is not delivered (kAuth for 401/403)
  std::string message;                   // redacted by the sink
};

struct DrainResult {
  std::vector<EntryResult> entries;  // in the order they were handled
  size_t delivered = 0, dead_lettered = 0, pending = 0, skipped = 0;
  bool stopped_early = false;  // reports left untried after a failure
  const EntryResult* find(const std::string& id) const;
};

class Uploader {
 public:
  Uploader(Spool& spool, Sink& sink, RetryPolicy policy, UploaderDeps deps);

  // Sends all pending reports, oldest first, except that `first` (when given) goes before the
  // others: the report of the current run gets the first chance within the time budget.
  // An Error only when the spool cannot be listed.
  Result<DrainResult> drain(const std::optional<std::string>& first = std::nullopt);

 private:
  EntryResult send_with_retries(const std::string& id, std::chrono::steady_clock::time_point deadline);

  Spool& spool_;
  Sink& sink_;
  RetryPolicy policy_;
  UploaderDeps deps_;
};

}  // namespace scangate::cspm
