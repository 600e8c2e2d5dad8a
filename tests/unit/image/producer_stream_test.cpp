#include <catch2/catch.hpp>

#include <atomic>
#include <string>

#include "scanner/image/producer_stream.h"

using namespace scangate;

TEST_CASE("producer stream delivers every byte in order through a small buffer", "[producer_stream]") {
  std::string expected;
  for (int i = 0; i < 100000; ++i) expected += static_cast<char>('a' + i % 26);
  auto s = start_producer_stream(
      [&](ProducerSink& sink) -> Result<void> {
        sink.started();
        for (size_t off = 0; off < expected.size(); off += 333)
          if (!sink.write(expected.data() + off, std::min<size_t>(333, expected.size() - off)))
            return Error(ErrorKind::kInternal, "cancelled");
        return Ok();
      },
      1000);
  REQUIRE(s.ok());
  std::string got;
  char buf[512];
  while (true) {
    auto r = (*s)->read(buf, sizeof buf);
    REQUIRE(r.ok());
    if (*r == 0) break;
    got.append(buf, *r);
  }
  CHECK(got == expected);
}

TEST_CASE("an error before start is returned by start_producer_stream", "[producer_stream]") {
  auto s =
      start_producer_stream([](ProducerSink&) -> Result<void> { return Error(ErrorKind::kNotFound, "no such blob"); });
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::kNotFound);
}

TEST_CASE("an error after some data surfaces from read once the data is consumed", "[producer_stream]") {
  auto s = start_producer_stream([](ProducerSink& sink) -> Result<void> {
    sink.started();
    sink.write("abc", 3);
    return Error(ErrorKind::kNetwork, "connection reset");
  });
  REQUIRE(s.ok());
  char buf[8];
  auto r1 = (*s)->read(buf, sizeof buf);
  REQUIRE(r1.ok());
  CHECK(std::string(buf, *r1) == "abc");
  auto r2 = (*s)->read(buf, sizeof buf);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kNetwork);
}

TEST_CASE("destroying the stream cancels a blocked producer and calls its interrupt", "[producer_stream]") {
  std::atomic<bool> interrupted{false};
  std::atomic<bool> saw_cancel{false};
  {
    auto s = start_producer_stream(
        [&](ProducerSink& sink) -> Result<void> {
          sink.set_interrupt([&] { interrupted = true; });
          sink.started();
          std::string chunk(100, 'x');
          while (sink.write(chunk.data(), chunk.size())) {}
          saw_cancel = sink.cancelled();
          sink.set_interrupt(nullptr);
          return Ok();
        },
        256);
    REQUIRE(s.ok());
    char buf[10];
    REQUIRE((*s)->read(buf, sizeof buf).ok());
  }
  CHECK(interrupted);
  CHECK(saw_cancel);
}
