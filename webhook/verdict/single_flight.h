// One piece of work per key at a time, however many callers want its result: the first caller
// of a key leads (does the work and calls complete()), the others only wait for the value. The
// callbacks run on the thread that calls complete(), outside the lock; a caller that no longer
// needs the value just ignores its callback. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace scangate::verdict {

// `Shared` is per-flight state the callers and the leader share (e.g. "someone wants the upload").
template <class Key, class Value, class Shared = std::monostate>
class SingleFlight {
 public:
  using Callback = std::function<void(const Value&)>;

  struct Joined {
    bool leader = false;             // true: the caller must do the work, then complete(key, value)
    std::shared_ptr<Shared> shared;  // the flight's shared state
  };

  // Adds `callback` to the flight of `key`, starting a flight when none is running.
  Joined join(const Key& key, Callback callback) {
    std::lock_guard<std::mutex> l(mu_);
    auto [it, inserted] = flights_.try_emplace(key);
    if (inserted) it->second.shared = std::make_shared<Shared>();
    it->second.callbacks.push_back(std::move(callback));
    return Joined{inserted, it->second.shared};
  }

  // Ends the flight of `key`: every callback gets `value`, on this thread. A join() after this
  // starts a new flight.
  void complete(const Key& key, const Value& value) {
    std::vector<Callback> callbacks;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = flights_.find(key);
      if (it == flights_.end()) return;
      callbacks = std::move(it->second.callbacks);
      flights_.erase(it);
    }
    for (auto& cb : callbacks) cb(value);
  }

  // Flights running now.
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return flights_.size();
  }

 private:
  struct Flight {
    std::shared_ptr<Shared> shared;
    std::vector<Callback> callbacks;
  };
  mutable std::mutex mu_;
  std::unordered_map<Key, Flight> flights_;
};

}  // namespace scangate::verdict
