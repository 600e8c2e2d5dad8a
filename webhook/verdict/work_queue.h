// A bounded job queue with its own threads, for work that blocks on the network (tag look-ups,
// scans). Unlike one unbounded FIFO shared by everything:
//  - every job carries the deadline it was given when it was queued; a job whose deadline passed
//    while it waited is not run: its `expired` callback runs instead (it must still end whatever
//    waits for the job);
//  - jobs have a key (the registry host) and at most `per_key_running` jobs of one key run at once,
//    so one registry that never answers holds some threads, never all of them; jobs of a key at
//    its limit stay queued while jobs of other keys behind them run (first queued, first run among
//    those that may run);
//  - at most `max_queued` jobs wait (and `per_key_queued` per key): past that, submit() refuses
//    at once and the caller decides without the work;
//  - shutdown() waits a bounded time for the running jobs, then leaves the threads that are still
//    blocked to end on their own (detached; their jobs hold what they use).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "scanner/core/deadline.h"

namespace scangate::verdict {

class WorkQueue {
 public:
  struct Limits {
    unsigned threads = 1;
    size_t max_queued = 256;       // jobs waiting for a thread, all keys together (0: none may wait)
    unsigned per_key_running = 0;  // jobs of one key running at once; 0: no limit
    size_t per_key_queued = 0;     // jobs of one key waiting; 0: only max_queued applies
  };
  enum class Refusal { kNone, kFull, kKeyFull, kStopped };

  explicit WorkQueue(Limits limits) : st_(std::make_shared<State>()) {
    st_->limits = limits;
    st_->limits.threads = std::max(1u, limits.threads);
    st_->ended.assign(st_->limits.threads, false);
    for (unsigned i = 0; i < st_->limits.threads; ++i) threads_.emplace_back([st = st_, i] { work(st, i); });
  }
  ~WorkQueue() { shutdown(std::chrono::milliseconds(0)); }
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `run` (called with `deadline` on a thread of the queue) unless refused; `expired` is
  // called instead of `run` when the deadline passed before a thread took the job. Neither is
  // called when the job is refused, nor for jobs still queued at shutdown.
  Refusal submit(const std::string& key, Deadline deadline, std::function<void(const Deadline&)> run,
                 std::function<void()> expired) {
    {
      std::lock_guard<std::mutex> l(st_->mu);
      if (st_->stop) return Refusal::kStopped;
      if (st_->queue.size() >= st_->limits.max_queued) return Refusal::kFull;
      size_t& per_key = st_->queued_per_key[key];
      if (st_->limits.per_key_queued && per_key >= st_->limits.per_key_queued) {
        if (per_key == 0) st_->queued_per_key.erase(key);
        return Refusal::kKeyFull;
      }
      per_key++;
      st_->queue.push_back(Job{key, deadline, std::move(run), std::move(expired)});
    }
    st_->cv.notify_all();
    return Refusal::kNone;
  }

  // Stops taking jobs and drops the queued ones; waits up to `grace` for the running ones, then
  // detaches the threads still blocked in a job (intentionally: a job that never returns must not
  // hold the process; it ends when its own deadline stops it). True when every thread ended.
  bool shutdown(std::chrono::milliseconds grace) {
    if (threads_.empty()) return true;
    std::deque<Job> dropped;
    std::vector<bool> ended;
    {
      std::unique_lock<std::mutex> l(st_->mu);
      st_->stop = true;
      dropped.swap(st_->queue);
      st_->queued_per_key.clear();
      st_->cv.notify_all();
      st_->idle.wait_for(l, grace, [&] { return st_->alive == 0; });
      ended = st_->ended;
    }
    bool all = true;
    for (size_t i = 0; i < threads_.size(); ++i) {
      if (ended[i]) {
        threads_[i].join();
      } else {
        threads_[i].detach();
        all = false;
      }
    }
    threads_.clear();
    return all;  // `dropped` goes here, outside the lock
  }

  size_t queued() const {
    std::lock_guard<std::mutex> l(st_->mu);
    return st_->queue.size();
  }

 private:
  struct Job {
    std::string key;
    Deadline deadline;
    std::function<void(const Deadline&)> run;
    std::function<void()> expired;
  };
  struct State {
    std::mutex mu;
    std::condition_variable cv;    // a job was queued, a key has room, or stop
    std::condition_variable idle;  // a thread ended
    Limits limits;
    std::deque<Job> queue;
    std::map<std::string, size_t> queued_per_key;
    std::map<std::string, unsigned> running;
    std::vector<bool> ended;
    unsigned alive = 0;
    bool stop = false;
  };

  // The first queued job that may run now (an expired one always may: it does not block).
  static std::optional<Job> pick(State& st) {
    const auto now = Deadline::Clock::now();
    for (auto it = st.queue.begin(); it != st.queue.end(); ++it) {
      const bool expired = it->deadline.bounded() && it->deadline.when() <= now;
      if (!expired && st.limits.per_key_running) {
        auto r = st.running.find(it->key);
        if (r != st.running.end() && r->second >= st.limits.per_key_running) continue;
      }
      Job job = std::move(*it);
      st.queue.erase(it);
      if (--st.queued_per_key[job.key] == 0) st.queued_per_key.erase(job.key);
      return job;
    }
    return std::nullopt;
  }

  static void work(const std::shared_ptr<State>& st, unsigned index) {
    std::unique_lock<std::mutex> l(st->mu);
    st->alive++;
    for (;;) {
      std::optional<Job> job;
      while (!st->stop && !(job = pick(*st))) {
        // Wake for the earliest queued deadline too: an expired job behind a busy key is ended then.
        std::optional<Deadline::Clock::time_point> next;
        for (const auto& j : st->queue)
          if (j.deadline.bounded() && (!next || j.deadline.when() < *next)) next = j.deadline.when();
        if (next)
          st->cv.wait_until(l, *next);
        else
          st->cv.wait(l);
      }
      if (st->stop) break;
      if (job->deadline.expired()) {
        l.unlock();
        job->expired();
        job.reset();
        l.lock();
        continue;
      }
      st->running[job->key]++;
      l.unlock();
      job->run(job->deadline);
      const std::string key = std::move(job->key);
      job.reset();  // what the job holds is released before the next one starts
      l.lock();
      if (--st->running[key] == 0) st->running.erase(key);
      st->cv.notify_all();  // a job of `key` may run now
    }
    st->alive--;
    st->ended[index] = true;
    st->idle.notify_all();
  }

  std::shared_ptr<State> st_;
  std::vector<std::thread> threads_;
};

}  // namespace scangate::verdict
