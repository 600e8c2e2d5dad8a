// The uploader's decisions, through a scripted Sink (no sockets): retries, backoff, Retry-After,
// dead letters, budgets.
#include "scanner/cspm/uploader.h"

#include <catch2/catch.hpp>
#include <deque>

#include "cspm_test_util.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;
using std::chrono::milliseconds;

namespace {

// Answers from a script; records which reports it was given.
class ScriptedSink : public Sink {
 public:
  std::deque<Result<SendOutcome>> script;
  std::vector<std::string> sent_ids;
  std::vector<std::string> sent_payloads;

  std::string describe() const override { return "scripted sink"; }
  Result<SendOutcome> send(const SpoolEntry& e) override {
    sent_ids.push_back(e.id);
    sent_payloads.push_back(e.payload);
    if (script.empty()) return SendOutcome{SendStatus::kDelivered, 200, std::nullopt, "HTTP 200"};
    auto r = script.front();
    script.pop_front();
    return r;
  }
};

SendOutcome outcome(SendStatus s, int http, std::optional<milliseconds> ra = std::nullopt) {
  return SendOutcome{s, http, ra, "HTTP " + std::to_string(http)};
}

struct Fixture {
  std::string dir = scangate::test::make_temp_dir("sg-uploader");
  ct::CapturedLog log;
  ct::FakeTime time;
  Spool spool = std::move(Spool::open(dir).value());
  ScriptedSink sink;
  RetryPolicy policy;

  Fixture() {
    policy.max_attempts = 5;
    policy.initial_delay = milliseconds(100);
    policy.max_delay = milliseconds(1000);
    policy.max_elapsed = milliseconds(60000);
  }
  std::string add(const std::string& bytes) { return spool.enqueue(bytes, {}).value().id; }
  DrainResult drain(std::optional<std::string> first = std::nullopt, double r = 0.5) {
    Uploader up(spool, sink, policy, ct::fake_deps(time, log.logger(), r));
    auto d = up.drain(first);
    REQUIRE(d.ok());
    return std::move(d.value());
  }
};

}  // namespace

TEST_CASE("uploader: backoff is exponential with full jitter, capped, and Retry-After is a floor", "[uploader]") {
  RetryPolicy p;
  p.initial_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  CHECK(backoff_delay(p, 1, std::nullopt, 0.999999) == milliseconds(99));
  CHECK(backoff_delay(p, 2, std::nullopt, 0.5) == milliseconds(100));
  CHECK(backoff_delay(p, 3, std::nullopt, 0.5) == milliseconds(200));
  CHECK(backoff_delay(p, 10, std::nullopt, 0.5) == milliseconds(500));  // capped at max_delay
  CHECK(backoff_delay(p, 3, std::nullopt, 0.0) == milliseconds(0));     // full jitter reaches zero
  CHECK(backoff_delay(p, 1, milliseconds(2000), 0.5) == milliseconds(2000));
  CHECK(backoff_delay(p, 10, milliseconds(10), 0.9) == milliseconds(900));
}

TEST_CASE("uploader: delivered reports leave the spool, oldest first", "[uploader]") {
  Fixture f;
  auto a = f.add("{\"a\":1}");
  auto b = f.add("{\"b\":2}");
  auto d = f.drain();
  CHECK(d.delivered == 2);
  CHECK(f.sink.sent_ids == std::vector<std::string>{a, b});
  CHECK(f.sink.sent_payloads[0] == "{\"a\":1}");
  CHECK(f.spool.list()->empty());
  CHECK(f.time.sleeps.empty());
}

TEST_CASE("uploader: `first` goes before the backlog", "[uploader]") {
  Fixture f;
  auto a = f.add("{}");
  auto b = f.add("{}");
  f.drain(b);
  CHECK(f.sink.sent_ids == std::vector<std::string>{b, a});
}

TEST_CASE("uploader: 500 then 429 with Retry-After then success", "[uploader]") {
  Fixture f;
  auto a = f.add("{}");
  f.sink.script = {outcome(SendStatus::kRetryable, 500), outcome(SendStatus::kRetryable, 429, milliseconds(3000))};
  auto d = f.drain();
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].state == EntryState::kDelivered);
  CHECK(d.entries[0].attempts == 3);
  REQUIRE(f.time.sleeps.size() == 2);
  CHECK(f.time.sleeps[0] == milliseconds(50));    // 0.5 * 100ms
  CHECK(f.time.sleeps[1] >= milliseconds(3000));  // the server's Retry-After
  CHECK(f.spool.list()->empty());
  CHECK(f.log.all().find("attempt 1/5 failed: HTTP 500") != std::string::npos);
}

TEST_CASE("uploader: out of attempts, the report stays pending and the drain stops", "[uploader]") {
  Fixture f;
  f.policy.max_attempts = 3;
  auto a = f.add("{}");
  auto b = f.add("{}");
  for (int i = 0; i < 3; ++i) f.sink.script.push_back(outcome(SendStatus::kRetryable, 503));
  auto d = f.drain();
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].state == EntryState::kPending);
  CHECK(d.entries[0].attempts == 3);
  CHECK(d.entries[0].message.find("failed after 3 attempts") != std::string::npos);
  CHECK(d.stopped_early);
  CHECK(d.pending == 2);
  CHECK(f.sink.sent_ids == std::vector<std::string>{a, a, a});
  CHECK(f.spool.list()->size() == 2);  // both still spooled for the next run
}

TEST_CASE("uploader: the time budget bounds the retries, Retry-After included", "[uploader]") {
  Fixture f;
  f.policy.max_elapsed = milliseconds(1000);
  f.add("{}");
  f.sink.script = {outcome(SendStatus::kRetryable, 429, milliseconds(5000))};
  auto d = f.drain();
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].state == EntryState::kPending);
  CHECK(d.entries[0].attempts == 1);
  CHECK(f.time.sleeps.empty());  // never sleeps past the budget
  CHECK(d.entries[0].message.find("the server asked to wait 5.0s") != std::string::npos);
}

TEST_CASE("uploader: 401 is an authentication failure, dead-lettered, and stops the drain", "[uploader]") {
  Fixture f;
  auto a = f.add("{}");
  f.add("{}");
  f.sink.script = {outcome(SendStatus::kPermanentAuth, 401)};
  auto d = f.drain();
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].state == EntryState::kDeadLettered);
  CHECK(d.entries[0].kind == ErrorKind::kAuth);
  CHECK(d.entries[0].message.find("authentication failed") != std::string::npos);
  CHECK(d.dead_lettered == 1);
  CHECK(d.pending == 1);
  CHECK(f.sink.sent_ids.size() == 1);  // one try: never retried
  CHECK(*f.spool.list_dead() == std::vector<std::string>{a});
  CHECK(f.spool.list()->size() == 1);
}

TEST_CASE("uploader: another 4xx dead-letters that report and continues", "[uploader]") {
  Fixture f;
  auto a = f.add("{}");
  auto b = f.add("{}");
  f.sink.script = {outcome(SendStatus::kPermanent, 400)};
  auto d = f.drain();
  CHECK(d.dead_lettered == 1);
  CHECK(d.delivered == 1);
  CHECK(d.find(a)->state == EntryState::kDeadLettered);
  CHECK(d.find(a)->kind == ErrorKind::kInvalidArgument);
  CHECK(d.find(b)->state == EntryState::kDelivered);
  CHECK(f.spool.list()->empty());
}

TEST_CASE("uploader: a local error (untrusted certificate) keeps the report and stops", "[uploader]") {
  Fixture f;
  f.add("{}");
  f.add("{}");
  f.sink.script = {Error(ErrorKind::kNetwork, "the server certificate is not trusted")};
  auto d = f.drain();
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].state == EntryState::kPending);
  CHECK(d.entries[0].message.find("not trusted") != std::string::npos);
  CHECK(f.spool.list()->size() == 2);
  CHECK(f.spool.list_dead()->empty());
}

TEST_CASE("uploader: a report another process is sending is skipped", "[uploader]") {
  Fixture f;
  auto a = f.add("{}");
  auto b = f.add("{}");
  auto other = Spool::open(f.dir);
  REQUIRE(other.ok());
  auto held = other->claim(a);
  REQUIRE(held.ok());
  REQUIRE(*held);
  auto d = f.drain();
  CHECK(d.find(a)->state == EntryState::kSkipped);
  CHECK(d.find(b)->state == EntryState::kDelivered);
  CHECK(f.sink.sent_ids == std::vector<std::string>{b});
}
