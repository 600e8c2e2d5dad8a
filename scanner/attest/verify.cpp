#include "scanner/attest/verify.h"

#include "scanner/attest/dsse.h"
#include "scanner/core/sha256.h"
#include "scanner/core/time_util.h"

namespace scangate::attest {
namespace {

std::string kind_of(const std::string& predicate_type) {
  if (predicate_type == kVulnPredicateType) return "vulnerability record";
  if (is_cyclonedx_type(predicate_type)) return "SBOM";
  return "attestation of type " + (predicate_type.empty() ? std::string("(none)") : predicate_type.substr(0, 120));
}

std::string age_words(std::chrono::seconds s) {
  const auto h = s.count() / 3600;
  if (h >= 48) return std::to_string(h / 24) + "d";
  if (h >= 1) return std::to_string(h) + "h";
  return std::to_string(s.count() / 60) + "m";
}

Checked check_one(const AttachedEnvelope& a, const VerifyOptions& o) {
  Checked c;
  c.where = a.where;
  c.predicate_type = a.predicate_type;
  auto env = parse_envelope(a.bytes);
  if (!env.ok()) {
    c.detail = env.error().message;
    return c;
  }
  if (env->signatures.empty()) {
    c.outcome = Outcome::kUnsigned;
    c.detail = "the envelope has no signatures";
    return c;
  }
  const PublicKey* key = verify_envelope(*env, o.keys);
  if (key == nullptr) {
    c.outcome = Outcome::kBadSignature;
    c.detail = "no trusted key verifies its signature";
    return c;
  }
  c.key_id = key->id();
  c.payload_digest = Sha256::digest(env->payload);
  // Only what was signed is read from here on.
  if (env->payload_type != kInTotoPayloadType) {
    c.detail = "payload type " + env->payload_type.substr(0, 80) + " is not " + std::string(kInTotoPayloadType);
    return c;
  }
  auto st = parse_statement(env->payload);
  if (!st.ok()) {
    c.detail = st.error().message;
    return c;
  }
  c.predicate_type = st->predicate_type;  // the signed type wins over the layer's annotation
  if (!st->names(o.digest)) {
    c.outcome = Outcome::kWrongSubject;
    c.detail = "it is about " + (st->subjects.empty() ? std::string("nothing") : st->subjects.front().digest) +
               ", not " + o.digest;
    return c;
  }
  if (st->predicate_type == kVulnPredicateType) {
    auto v = read_vuln_predicate(st->predicate);
    if (!v.ok()) {
      c.detail = v.error().message;
      return c;
    }
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(o.now - v->finished);
    c.vuln = std::move(v).value();
    c.statement = std::move(st).value();
    if (age > o.max_age) {
      c.outcome = Outcome::kStale;
      c.detail =
          "scanned " + c.vuln->finished_on + ", " + age_words(age) + " ago; scan.maxAge is " + age_words(o.max_age);
      return c;
    }
    if (c.vuln->finished > o.now + std::chrono::minutes(5)) {
      c.detail = "scanFinishedOn " + c.vuln->finished_on + " is in the future";
      return c;
    }
    c.outcome = Outcome::kVerified;
    return c;
  }
  if (is_cyclonedx_type(st->predicate_type)) {
    if (!st->predicate.is_object()) {
      c.detail = "the SBOM predicate is not an object";
      return c;
    }
    c.statement = std::move(st).value();
    c.outcome = Outcome::kVerified;
    return c;
  }
  c.outcome = Outcome::kUnsupportedType;
  c.detail = "scangate reads vulnerability records and CycloneDX SBOMs only";
  return c;
}

}  // namespace

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kVerified: return "verified";
    case Outcome::kBadSignature: return "bad_signature";
    case Outcome::kUnsigned: return "unsigned";
    case Outcome::kWrongSubject: return "wrong_subject";
    case Outcome::kStale: return "stale";
    case Outcome::kUnsupportedType: return "unsupported_type";
    case Outcome::kMalformed: return "malformed";
  }
  return "malformed";
}

bool is_cyclonedx_type(const std::string& predicate_type) {
  return predicate_type == kCycloneDxPredicateType ||
         predicate_type.rfind(std::string(kCycloneDxPredicateType) + "/", 0) == 0;
}

const Checked* Evaluation::sbom() const {
  // The one attached last: a new attestation is appended after the ones kept.
  const Checked* found = nullptr;
  for (const auto& c : checked)
    if (c.outcome == Outcome::kVerified && is_cyclonedx_type(c.predicate_type)) found = &c;
  return found;
}

const Checked* Evaluation::vuln() const {
  const Checked* best = nullptr;
  for (const auto& c : checked)
    if (c.outcome == Outcome::kVerified && c.vuln && (!best || c.vuln->finished > best->vuln->finished)) best = &c;
  return best;
}

std::string Evaluation::why_none() const {
  if (sbom() || vuln()) return {};
  // Words that name no repository or registry: a record may answer for another repository's pod.
  if (checked.empty()) return notes.empty() ? "no attestation is attached" : "no attestation could be read";
  // The most telling rejection: a signed one (stale, wrong subject) before an unsigned or bad one.
  const Checked* pick = &checked.front();
  for (const auto& c : checked)
    if (c.outcome == Outcome::kStale || c.outcome == Outcome::kWrongSubject) pick = &c;
  std::string s = "the " + kind_of(pick->predicate_type) + " attestation (" + pick->where +
                  ") was rejected: " + to_string(pick->outcome);
  if (!pick->detail.empty()) s += ", " + pick->detail;
  if (checked.size() > 1) s += " (" + std::to_string(checked.size() - 1) + " more rejected)";
  return s;
}

Evaluation evaluate(const FetchResult& fetched, const VerifyOptions& options) {
  Evaluation e;
  e.notes = fetched.notes;
  for (const auto& a : fetched.envelopes) e.checked.push_back(check_one(a, options));
  return e;
}

}  // namespace scangate::attest
