// A point in time by which an operation must be over. Callers pass deadlines down (the admission
// request's ?timeout= minus a margin, a scan's own budget, a CLI's --timeout); every blocking call
// bounds its waits by the deadline it was given instead of by a fixed timeout of its own.
#pragma once

#include <algorithm>
#include <chrono>

namespace scangate {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // No bound at all.
  static Deadline never() { return Deadline(Clock::time_point::max()); }
  static Deadline at(Clock::time_point t) { return Deadline(t); }
  template <class Rep, class Period>
  static Deadline after(std::chrono::duration<Rep, Period> d) {
    return Deadline(Clock::now() + std::chrono::duration_cast<Clock::duration>(d));
  }

  bool bounded() const { return at_ != Clock::time_point::max(); }
  bool expired() const { return bounded() && Clock::now() >= at_; }
  Clock::time_point when() const { return at_; }
  // Time left, never negative; `cap` when unbounded or further away than `cap`.
  std::chrono::milliseconds remaining(std::chrono::milliseconds cap = std::chrono::hours(24 * 365)) const {
    if (!bounded()) return cap;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), cap);
  }
  // The earlier of the two.
  Deadline earliest(const Deadline& other) const { return Deadline(std::min(at_, other.at_)); }

 private:
  explicit Deadline(Clock::time_point t) : at_(t) {}
  Clock::time_point at_;
};

}  // namespace scangate
