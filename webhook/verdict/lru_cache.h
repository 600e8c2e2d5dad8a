// A bounded map whose entries expire: least recently used entries go first when it is full, and an
// entry older than the TTL is never returned. Not synchronized: the owner holds its own lock (the
// verdict cache does more than one step under one lock).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace scangate::verdict {

template <class Key, class Value, class Hash = std::hash<Key>>
class LruTtlCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  // `capacity` below 1 is taken as 1. `now` replaces the clock (tests); empty: steady_clock.
  LruTtlCache(size_t capacity, Clock::duration ttl, Now now = {})
      : capacity_(std::max<size_t>(1, capacity)), ttl_(ttl), now_(std::move(now)) {}

  // The value of `key` when present and not older than the TTL, made the most recently used;
  // `age` (when given) receives its age. An expired entry is dropped.
  Value* get(const Key& key, Clock::duration* age = nullptr) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    auto a = now() - it->second.inserted;
    if (a > ttl_) {
      order_.erase(it->second.pos);
      map_.erase(it);
      return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second.pos);
    if (age) *age = a;
    return &it->second.value;
  }

  // The value of `key` as stored: no recency change, no expiry check.
  Value* peek(const Key& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }

  // Inserts or replaces `key` (its age starts again, or from `born` when given: a value derived
  // from an older one keeps that one's age), most recently used; then drops the least recently
  // used entries beyond the capacity.
  Value& put(const Key& key, Value value, std::optional<Clock::time_point> born = std::nullopt) {
    erase(key);
    order_.push_front(key);
    auto& node = map_[key];
    node.value = std::move(value);
    node.inserted = born ? std::min(*born, now()) : now();
    node.pos = order_.begin();
    while (map_.size() > capacity_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    return node.value;
  }

  bool erase(const Key& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    order_.erase(it->second.pos);
    map_.erase(it);
    return true;
  }

  void clear() {
    map_.clear();
    order_.clear();
  }
  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }
  Clock::duration ttl() const { return ttl_; }

 private:
  struct Node {
    Value value{};
    Clock::time_point inserted{};
    typename std::list<Key>::iterator pos;
  };
  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  size_t capacity_;
  Clock::duration ttl_;
  Now now_;
  std::unordered_map<Key, Node, Hash> map_;
  std::list<Key> order_;  // most recently used first
};

}  // namespace scangate::verdict
