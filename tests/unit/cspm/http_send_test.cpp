#include "scanner/cspm/http_send.h"

#include <catch2/catch.hpp>

using namespace scangate::cspm;
using std::chrono::milliseconds;

TEST_CASE("http_send: Retry-After in both RFC 9110 forms", "[http_send]") {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  // RFC 9110's own example date, 90 seconds after `now`.
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now) == milliseconds(90000));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));  // in the past
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
}

TEST_CASE("http_send: classification of responses", "[http_send]") {
  auto now = std::chrono::system_clock::now();
  CHECK(classify_response(200, std::nullopt, R"({"detail":"File received successfully"})", now).status ==
        SendStatus::kDelivered);
  CHECK(classify_response(201, std::nullopt, "", now).status == SendStatus::kDelivered);
  for (int s : {408, 429, 500, 502, 503, 504})
    CHECK(classify_response(s, std::nullopt, "", now).status == SendStatus::kRetryable);
  for (int s : {401, 403}) {
    auto o = classify_response(s, std::nullopt, R"({"detail":"Invalid token."})", now);
    CHECK(o.status == SendStatus::kPermanentAuth);
    CHECK(o.detail.find("authentication failed") != std::string::npos);
    CHECK(o.detail.find("Invalid token.") != std::string::npos);
  }
  for (int s : {301, 400, 404, 413, 422})
    CHECK(classify_response(s, std::nullopt, "", now).status == SendStatus::kPermanent);
  auto limited = classify_response(429, std::string_view("7"), "", now);
  CHECK(limited.retry_after == milliseconds(7000));
  CHECK(limited.http_status == 429);
}

TEST_CASE("http_send: body excerpts are short and printable", "[http_send]") {
  CHECK(body_excerpt(R"({"detail":"File received successfully"})") == "File received successfully");
  CHECK(body_excerpt("line1\nline2\x1b[31m") == "line1 line2 [31m");
  CHECK(body_excerpt(std::string(1000, 'x')).size() == 303);
}

TEST_CASE("http_send: multipart encoding (RFC 7578)", "[http_send]") {
  std::string body = encode_multipart(
      {{"scan_type", "Trivy Scan", "", ""}, {"file", "{\"a\":1}", "my report\".json", "application/json"}}, "BOUNDARY");
  CHECK(body ==
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"scan_type\"\r\n\r\nTrivy Scan\r\n"
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my_report_.json\"\r\n"
        "Content-Type: application/json\r\n\r\n{\"a\":1}\r\n--BOUNDARY--\r\n");
}
