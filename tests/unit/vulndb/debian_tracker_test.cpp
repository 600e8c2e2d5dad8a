// Debian security tracker importer over vunnel's real tracker JSON sample.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "scanner/vulndb/debian_tracker.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

const std::string kSample = "vulndb/debian-tracker/vunnel-debian-tracker-sample.json";

const Advisory* find(const CollectingSink& sink, const std::string& pkg, const std::string& id,
                     const std::string& release) {
  for (const auto& r : sink.advisories)
    if (r.advisory.package == pkg && r.advisory.vuln_id == id && r.advisory.release == release) return &r.advisory;
  return nullptr;
}

CollectingSink import_json(const nlohmann::json& j) {
  CollectingSink sink;
  auto r = import_debian_tracker_text(j.dump(), "json", sink);
  REQUIRE(r.ok());
  return sink;
}

}  // namespace

TEST_CASE("tracker sample: entries read by hand") {
  CollectingSink sink;
  auto stats = import_debian_tracker_file(testdata(kSample), sink);
  REQUIRE(stats.ok());

  // prototypejs CVE-2008-7220, buster: resolved, fixed_version 1.6.0.2-1, urgency high**
  const Advisory* a = find(sink, "prototypejs", "CVE-2008-7220", "10");
  REQUIRE(a);
  CHECK(a->kind == AdvisoryKind::kDebianTracker);
  CHECK(a->ecosystem == "debian");
  CHECK(a->status == FixStatus::kFixed);
  CHECK(a->fixed_version == "1.6.0.2-1");
  CHECK(a->vendor_severity == Severity::kHigh);
  CHECK(find(sink, "prototypejs", "CVE-2008-7220", "unstable"));  // sid
  CHECK(find(sink, "prototypejs", "CVE-2008-7220", "9"));         // stretch
  CHECK(find(sink, "prototypejs", "CVE-2008-7220", "8"));         // jessie

  // prototypejs CVE-2007-2383: fixed_version "0" everywhere -> not affected, nothing stored.
  for (const char* rel : {"8", "9", "10", "unstable"}) CHECK_FALSE(find(sink, "prototypejs", "CVE-2007-2383", rel));

  // chromium CVE-2022-0456: bullseye resolved 98.0.4758.80-1~deb11u1; buster open (end-of-life).
  const Advisory* bullseye = find(sink, "chromium", "CVE-2022-0456", "11");
  REQUIRE(bullseye);
  CHECK(bullseye->status == FixStatus::kFixed);
  CHECK(bullseye->fixed_version == "98.0.4758.80-1~deb11u1");
  CHECK_FALSE(bullseye->vendor_severity);  // "not yet assigned"
  const Advisory* buster = find(sink, "chromium", "CVE-2022-0456", "10");
  REQUIRE(buster);
  CHECK(buster->status == FixStatus::kAffected);
  CHECK(buster->fixed_version.empty());
  CHECK(find(sink, "chromium", "CVE-2022-0456", "12")->fixed_version == "98.0.4758.80-1");

  // sope CVE-2025-53603 trixie -> 13
  REQUIRE(find(sink, "sope", "CVE-2025-53603", "13"));
  CHECK(find(sink, "sope", "CVE-2025-53603", "13")->fixed_version == "5.12.1-2");
  // txt2man low** -> LOW
  CHECK(find(sink, "txt2man", "CVE-2013-1444", "10")->vendor_severity == Severity::kLow);
  // backupninja medium
  CHECK(find(sink, "backupninja", "CVE-2005-3111", "9")->vendor_severity == Severity::kMedium);
  // chromium-browser CVE-2022-0358 has no releases
  for (const auto& r : sink.advisories) CHECK(r.advisory.package != "chromium-browser");
}

TEST_CASE("tracker sample: counts match a trivial walk") {
  auto j = nlohmann::json::parse(read_file(testdata(kSample)));
  std::size_t expected = 0, zero = 0;
  for (const auto& [pkg, cves] : j.items())
    for (const auto& [cve, info] : cves.items())
      for (const auto& [codename, rel] : info["releases"].items()) {
        if (rel.value("fixed_version", std::string()) == "0")
          ++zero;
        else
          ++expected;
      }
  CollectingSink sink;
  auto stats = import_debian_tracker_file(testdata(kSample), sink);
  REQUIRE(stats.ok());
  CHECK(sink.advisories.size() == expected);
  CHECK(stats->skipped == zero);
  for (const auto& r : sink.advisories) {
    CHECK(r.vendor_is_fallback);  // urgency only when NVD has none
    CHECK(r.feed_severity_source == "debian");
  }
}

TEST_CASE("tracker status mapping rules") {
  auto rel = [](nlohmann::json fields) {
    fields["repositories"] = {{"bookworm", "1.0-1"}};
    return nlohmann::json{{"pkg", {{"CVE-2099-0001", {{"releases", {{"bookworm", fields}}}}}}}};
  };
  struct Row {
    nlohmann::json fields;
    std::optional<FixStatus> status;
    std::string fixed;
  };
  const Row rows[] = {
      {{{"status", "resolved"}, {"fixed_version", "1.2-1"}, {"urgency", "low"}}, FixStatus::kFixed, "1.2-1"},
      {{{"status", "resolved"}, {"fixed_version", "0"}, {"urgency", "unimportant"}}, std::nullopt, ""},
      {{{"status", "open"}, {"urgency", "medium"}}, FixStatus::kAffected, ""},
      {{{"status", "open"}, {"urgency", "low"}, {"nodsa", "Minor issue"}, {"nodsa_reason", ""}},
       FixStatus::kAffected,
       ""},
      {{{"status", "open"}, {"urgency", "low"}, {"nodsa", "Minor issue"}, {"nodsa_reason", "ignored"}},
       FixStatus::kWillNotFix,
       ""},
      {{{"status", "open"}, {"urgency", "low"}, {"nodsa", "Minor issue"}, {"nodsa_reason", "postponed"}},
       FixStatus::kFixDeferred,
       ""},
      {{{"status", "undetermined"}, {"urgency", "not yet assigned"}}, std::nullopt, ""},
      {{{"status", "not-affected"}}, std::nullopt, ""},
  };
  for (const auto& row : rows) {
    INFO(row.fields.dump());
    auto sink = import_json(rel(row.fields));
    if (!row.status) {
      CHECK(sink.advisories.empty());
      continue;
    }
    REQUIRE(sink.advisories.size() == 1);
    CHECK(sink.advisories[0].advisory.status == *row.status);
    CHECK(sink.advisories[0].advisory.fixed_version == row.fixed);
    CHECK(sink.advisories[0].advisory.release == "12");
  }
}

TEST_CASE("releases written as an empty array mean none, a non-empty array is a type error") {
  CollectingSink sink;
  auto empty = nlohmann::json{{"pkg", {{"CVE-2099-0003", {{"releases", nlohmann::json::array()}}}}}};
  REQUIRE(import_debian_tracker_text(empty.dump(), "json", sink).ok());
  CHECK(sink.advisories.empty());
  auto bad = nlohmann::json{{"pkg", {{"CVE-2099-0003", {{"releases", {1}}}}}}};
  auto r = import_debian_tracker_text(bad.dump(), "json", sink);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "json: [\"pkg\"][\"CVE-2099-0003\"].releases: expected object, got array");
}

TEST_CASE("urgency labels") {
  CHECK(debian_urgency_severity("high**") == Severity::kHigh);
  CHECK(debian_urgency_severity("medium*") == Severity::kMedium);
  CHECK(debian_urgency_severity("unimportant") == Severity::kLow);
  CHECK_FALSE(debian_urgency_severity("not yet assigned"));
  CHECK_FALSE(debian_urgency_severity("end-of-life"));
}

TEST_CASE("unknown codenames are skipped, not guessed") {
  auto j = nlohmann::json{{"pkg", {{"CVE-2099-0002", {{"releases", {{"experimental", {{"status", "open"}}}}}}}}}};
  CollectingSink sink;
  auto r = import_debian_tracker_text(j.dump(), "json", sink);
  REQUIRE(r.ok());
  CHECK(sink.advisories.empty());
  CHECK(r->skipped == 1);
}

TEST_CASE("malformed tracker JSON names file and position") {
  std::string text = read_file(testdata(kSample));
  CollectingSink sink;
  SECTION("truncated") {
    auto r = import_debian_tracker_text(text.substr(0, 1000), "tracker.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("tracker.json: byte 100", 0) == 0);
  }
  SECTION("wrong type") {
    auto j = nlohmann::json::parse(text);
    j["txt2man"]["CVE-2013-1444"]["releases"]["buster"]["fixed_version"] = 15;
    auto r = import_debian_tracker_text(j.dump(), "tracker.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "tracker.json: [\"txt2man\"][\"CVE-2013-1444\"].releases[\"buster\"].fixed_version: expected string, got "
          "number");
  }
  SECTION("unknown status") {
    auto j = nlohmann::json::parse(text);
    j["txt2man"]["CVE-2013-1444"]["releases"]["buster"]["status"] = "maybe";
    auto r = import_debian_tracker_text(j.dump(), "tracker.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("unknown status \"maybe\"") != std::string::npos);
  }
}
