// libFuzzer target: the in-toto statement (scanner/attest/statement.h) of an attestation, and what
// the webhook reads of its predicate once the signature verified: the cosign vulnerability record
// (read_vuln_predicate, its scanner.result as a Trivy report through policy::read_trivy_report, as
// webhook/verdict/registry_scanner.cpp does) or the CycloneDX SBOM (read_cyclonedx on the parsed
// predicate). A signed statement is still untrusted in its shape: whoever holds the key may have
// signed anything.
//
// Properties: refusals are kFormat or kLimit; an accepted statement has a known _type, a predicate
// type, subjects each "<alg>:<value>", and names() finds each; rendered
// (render_statement) it parses back to the same statement when it has a subject; bound_sbom() and
// the predicate readers never crash, and a record read has a finish time.
#include "scanner/attest/statement.h"
#include "scanner/attest/verify.h"
#include "scanner/policy/trivy_report.h"
#include "scanner/report/cyclonedx_read.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;
using namespace scangate::attest;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("statement_fuzz", what, in); }

std::string describe(const Statement& s) {
  std::string out = s.type + " " + s.predicate_type + " [";
  for (const auto& sub : s.subjects) out += sub.name + "=" + sub.digest + ";";
  return out + "] " + s.predicate.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  auto st = parse_statement(in);
  if (!st.ok()) {
    if (st.error().kind != ErrorKind::kFormat && st.error().kind != ErrorKind::kLimit)
      fail("refused with another kind: " + st.error().message, in);
    return 0;
  }
  if (st->type != kStatementV01 && st->type != kStatementV1) fail("_type " + st->type, in);
  if (st->predicate_type.empty()) fail("no predicate type", in);
  for (const auto& sub : st->subjects) {
    if (sub.digest.find(':') == std::string::npos) fail("subject digest " + sub.digest, in);
    if (!st->names(sub.digest)) fail("names() misses " + sub.digest, in);
  }
  if (!st->subjects.empty()) {
    const std::string text = render_statement(*st);
    auto again = parse_statement(text);
    if (!again.ok()) fail("the rendered statement does not parse: " + again.error().message + "\n  " + text, in);
    if (describe(*again) != describe(*st))
      fail("the rendered statement reads otherwise:\n  " + describe(*st) + "\n  " + describe(*again), in);
  }

  (void)bound_sbom(st->predicate);
  if (st->predicate_type == kVulnPredicateType) {
    auto v = read_vuln_predicate(st->predicate);
    if (v.ok()) {
      if (v->finished_on.empty()) fail("a record without scanFinishedOn", in);
      (void)policy::read_trivy_report(v->result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (v.error().kind != ErrorKind::kFormat) {
      fail("read_vuln_predicate: " + v.error().message, in);
    }
  } else if (is_cyclonedx_type(st->predicate_type) && st->predicate.is_object()) {
    SbomLimits limits;
    limits.max_components = 500;
    (void)read_cyclonedx(st->predicate, limits);
  }
  return 0;
}
