// libFuzzer targets: the vulnerability-feed importers (scanner/vulndb), one binary per feed,
// chosen at build time (CMakeLists.txt defines SCANGATE_FUZZ_FEED_<x>):
//   feed_alpine_fuzz  Alpine secdb, JSON or the older YAML (import_alpine_secdb_text)
//   feed_debian_fuzz  the Debian security tracker's JSON (import_debian_tracker_text)
//   feed_osv_fuzz     one OSV record (import_osv_record_text)
//   feed_nvd_fuzz     an NVD document: import_nvd_text (one tree) and import_nvd_document (one
//                     record at a time), a feed's .meta file, and NVD's time stamps
//
// Properties: a failure is an Error (kFormat or kLimit) naming the input; the counts in the
// stats are the rows the sink received; every row goes through the DB's validation
// (invalid_reason, printable_excerpt) without a crash. NVD: when both readers accept a document
// they hand the sink the same rows; compare_nvd_timestamps is reflexive and antisymmetric.
#include "scanner/vulndb/alpine_secdb.h"
#include "scanner/vulndb/debian_tracker.h"
#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/osv.h"
#include "scanner/vulndb/validate.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;
using namespace scangate::vulndb;

namespace {

#if defined(SCANGATE_FUZZ_FEED_alpine)
constexpr std::string_view kName = "feed_alpine_fuzz";
#elif defined(SCANGATE_FUZZ_FEED_debian)
constexpr std::string_view kName = "feed_debian_fuzz";
#elif defined(SCANGATE_FUZZ_FEED_osv)
constexpr std::string_view kName = "feed_osv_fuzz";
#elif defined(SCANGATE_FUZZ_FEED_nvd)
constexpr std::string_view kName = "feed_nvd_fuzz";
#else
#error "define SCANGATE_FUZZ_FEED_<alpine|debian|osv|nvd>"
#endif
constexpr std::string_view kFile = "fuzz-feed.json";

std::string_view g_input;

[[noreturn]] void fail(const std::string& what) { fuzz::fail(kName, what, g_input); }

void check_error(const Error& e) {
  if (e.kind != ErrorKind::kFormat && e.kind != ErrorKind::kLimit) fail("failed with another kind: " + e.message);
  if (e.message.find(kFile) == std::string::npos) fail("the error does not name the input: " + e.message);
}

[[maybe_unused]] std::string describe(const CollectingSink& sink) {
  std::string s;
  for (const auto& r : sink.advisories) {
    const Advisory& a = r.advisory;
    s += "A[" + a.vuln_id + "|" + a.ecosystem + "|" + a.release + "|" + a.package + "|" + to_string(a.kind) + "|" +
         to_string(a.status) + "|" + a.fixed_version + "|" + a.cve_id + "|" +
         (a.vendor_severity ? to_string(*a.vendor_severity) : "-") + "|" + std::to_string(a.ranges.size()) + "|" +
         std::to_string(a.versions.size()) + "]";
  }
  for (const auto& v : sink.vulnerabilities) {
    s += "V[" + v.vuln_id + "|" + v.cve_id + "|" + v.title + "|" + v.description + "|" + v.published + "|" +
         v.last_modified + "|" + std::to_string(v.references.size()) + "|" + std::to_string(v.aliases.size()) + "|" +
         std::to_string(v.metrics.v31.size()) + "/" + std::to_string(v.metrics.v30.size()) + "/" +
         std::to_string(v.metrics.v2.size()) + "]";
  }
  return s;
}

void validate_rows(const CollectingSink& sink) {
  for (const auto& r : sink.advisories) {
    if (auto why = invalid_reason(r)) (void)printable_excerpt(*why);
    (void)printable_excerpt(r.advisory.package);
  }
  for (const auto& v : sink.vulnerabilities) {
    if (auto why = invalid_reason(v)) (void)printable_excerpt(*why);
    (void)printable_excerpt(v.description, 200);
  }
}

void check_stats(const ImportStats& stats, const CollectingSink& sink) {
  if (stats.advisories != sink.advisories.size() || stats.vulnerabilities != sink.vulnerabilities.size())
    fail("stats count " + std::to_string(stats.advisories) + "/" + std::to_string(stats.vulnerabilities) +
         " rows, the sink got " + std::to_string(sink.advisories.size()) + "/" +
         std::to_string(sink.vulnerabilities.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_input = fuzz::as_text(data, size);
  CollectingSink sink;
#if defined(SCANGATE_FUZZ_FEED_alpine)
  auto r = import_alpine_secdb_text(g_input, kFile, sink);
#elif defined(SCANGATE_FUZZ_FEED_debian)
  auto r = import_debian_tracker_text(g_input, kFile, sink);
  (void)debian_urgency_severity(g_input.substr(0, 64));
#elif defined(SCANGATE_FUZZ_FEED_osv)
  auto r = import_osv_record_text(g_input, kFile, sink);
#elif defined(SCANGATE_FUZZ_FEED_nvd)
  auto r = import_nvd_document(g_input, kFile, sink);
  if (r.ok()) {
    ImportStats text_stats;
    CollectingSink tree;
    auto t = import_nvd_text(g_input, kFile, tree, &text_stats);
    if (t.ok()) {
      check_stats(text_stats, tree);
      if (describe(tree) != describe(sink))
        fail("import_nvd_text and import_nvd_document differ:\n  text:     " + describe(tree) +
             "\n  document: " + describe(sink));
    }
  }
  if (auto m = parse_nvd_feed_meta(g_input, kFile); m.ok()) {
    (void)check_nvd_feed_meta(*m, size, m->sha256, kFile);
  } else {
    check_error(m.error());
  }
  const auto stamps = fuzz::split(g_input, '\n', 3);
  if (stamps.size() >= 2) {
    const std::string_view a = stamps[0], b = stamps[1];
    if (compare_nvd_timestamps(a, a) != 0) fail("compare_nvd_timestamps(a, a) != 0");
    if (fuzz::sign(compare_nvd_timestamps(a, b)) != -fuzz::sign(compare_nvd_timestamps(b, a)))
      fail("compare_nvd_timestamps is not antisymmetric");
  }
#endif
  if (!r.ok()) {
    check_error(r.error());
    return 0;
  }
  check_stats(*r, sink);
  validate_rows(sink);
  return 0;
}
