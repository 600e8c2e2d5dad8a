// Signed scan attestations: the DSSE envelope and PAE against the spec's example and against an
// independent implementation (tests/fixtures/dsse_ref.py: openssl's ECDSA, Python's base64),
// keys refused for the wrong algorithm or curve, statements, and evaluate()'s outcomes.
#include <catch2/catch.hpp>

#include <string>

#include "scanner/attest/dsse.h"
#include "scanner/attest/keys.h"
#include "scanner/attest/statement.h"
#include "scanner/attest/store.h"
#include "scanner/attest/verify.h"
#include "scanner/core/base64.h"
#include "scanner/core/sha256.h"
#include "scanner/image/reference.h"
#include "scanner/core/time_util.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::attest;
using scangate::test::make_temp_dir;
using scangate::test::run_process;

namespace {

const std::string kRef = std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/dsse_ref.py";
const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOther = "sha256:" + std::string(64, 'b');

struct KeyPair {
  std::string dir, key, pub;
};

KeyPair make_keys(const std::string& name) {
  KeyPair k;
  k.dir = make_temp_dir("attest-" + name);
  auto r = run_process({"/usr/bin/python3", kRef, "keygen", k.dir});
  REQUIRE(r.exit_code == 0);
  k.key = k.dir + "/key.pem";
  k.pub = k.dir + "/pub.pem";
  return k;
}

std::string vuln_statement(const std::string& digest, const std::string& finished) {
  VulnRecord r;
  r.scanner_uri = "pkg:github/aquasecurity/trivy@0.50.0";
  r.scanner_version = "0.50.0";
  r.db_version = "2026-12-07";
  r.result = {{"SchemaVersion", 2}, {"ArtifactName", "app"}, {"Results", nlohmann::json::array()}};
  r.started_on = finished;
  r.finished_on = finished;
  Statement s;
  s.predicate_type = std::string(kVulnPredicateType);
  s.subjects.push_back({"registry.example/app", digest});
  s.predicate = vuln_predicate(r);
  return render_statement(s);
}

AttachedEnvelope attached(const std::string& envelope, const std::string& type) {
  return {type, "sha256:layer", envelope, "tag " + att_tag(kDigest)};
}

}  // namespace

TEST_CASE("PAE is the DSSE v1.0 encoding of the spec's example", "[attest]") {
  CHECK(pae("http://example.com/HelloWorld", "hello world") ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(pae("", "") == "DSSEv1 0  0 ");
}

TEST_CASE("scangate's envelopes verify under the independent implementation, and its envelopes under scangate",
          "[attest]") {
  auto k = make_keys("interop");
  auto signing = SigningKey::load_file(k.key);
  REQUIRE(signing.ok());
  auto pub = PublicKey::load_file(k.pub);
  REQUIRE(pub.ok());
  CHECK(pub->id() == signing->public_key().id());

  const std::string payload = vuln_statement(kDigest, "2026-12-07T10:00:00Z");
  auto env = sign_envelope(std::string(kInTotoPayloadType), payload, *signing);
  REQUIRE(env.ok());
  auto out = run_process({"/usr/bin/python3", kRef, "verify", k.pub}, render_envelope(*env));
  CHECK(out.exit_code == 0);
  CHECK(out.out == payload);

  auto theirs = run_process({"/usr/bin/python3", kRef, "sign", k.key, std::string(kInTotoPayloadType)}, payload);
  REQUIRE(theirs.exit_code == 0);
  auto parsed = parse_envelope(theirs.out);
  REQUIRE(parsed.ok());
  CHECK(parsed->payload == payload);
  const PublicKey keys[] = {*pub};
  CHECK(verify_envelope(*parsed, keys) == &keys[0]);

  SECTION("a tampered payload does not verify, here or there") {
    auto t = *env;
    t.payload[t.payload.find("2026-12-07")] = '1';
    CHECK(verify_envelope(t, keys) == nullptr);
    CHECK(run_process({"/usr/bin/python3", kRef, "verify", k.pub}, render_envelope(t)).exit_code == 1);
  }
  SECTION("a changed payload type does not verify: PAE binds it") {
    auto t = *env;
    t.payload_type = "application/json";
    CHECK(verify_envelope(t, keys) == nullptr);
  }
  SECTION("another key does not verify") {
    auto other = make_keys("other");
    auto other_pub = PublicKey::load_file(other.pub);
    REQUIRE(other_pub.ok());
    const PublicKey wrong[] = {*other_pub};
    CHECK(verify_envelope(*env, wrong) == nullptr);
    CHECK(run_process({"/usr/bin/python3", kRef, "verify", other.pub}, render_envelope(*env)).exit_code == 1);
  }
  SECTION("no signatures verifies nothing") {
    auto t = *env;
    t.signatures.clear();
    CHECK(verify_envelope(t, keys) == nullptr);
  }
  SECTION("URL-safe base64 without padding is read too") {
    std::string b64 = base64_encode(payload);
    for (char& c : b64) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    nlohmann::json j = nlohmann::json::parse(render_envelope(*env));
    j["payload"] = b64;
    auto p = parse_envelope(j.dump());
    REQUIRE(p.ok());
    CHECK(verify_envelope(*p, keys) == &keys[0]);
  }
}

TEST_CASE("keys other than ECDSA P-256 are refused with a message", "[attest]") {
  auto dir = make_temp_dir("attest-keys");
  REQUIRE(run_process({"/usr/bin/openssl", "genrsa", "-out", dir + "/rsa.pem", "2048"}).exit_code == 0);
  REQUIRE(
      run_process({"/usr/bin/openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", dir + "/p384.pem"})
          .exit_code == 0);
  auto rsa = SigningKey::load_file(dir + "/rsa.pem");
  REQUIRE_FALSE(rsa.ok());
  CHECK_THAT(rsa.error().message, Catch::Contains("not an EC key"));
  auto p384 = SigningKey::load_file(dir + "/p384.pem");
  REQUIRE_FALSE(p384.ok());
  CHECK_THAT(p384.error().message, Catch::Contains("secp384r1"));
  CHECK_THAT(PublicKey::load_file(dir + "/missing.pem").error().message, Catch::Contains("cannot read key file"));
  CHECK(PublicKey::from_pem("garbage", "x").error().kind == ErrorKind::kFormat);
  auto k = make_keys("priv-as-pub");
  CHECK_THAT(PublicKey::load_file(k.key).error().message, Catch::Contains("is a private key"));
  // PKCS #8, as `openssl genpkey` writes it, is read; an encrypted one is refused.
  REQUIRE(run_process({"/usr/bin/openssl", "pkcs8", "-topk8", "-nocrypt", "-in", k.key, "-out", dir + "/p8.pem"})
              .exit_code == 0);
  CHECK(SigningKey::load_file(dir + "/p8.pem").ok());
  REQUIRE(
      run_process({"/usr/bin/openssl", "pkcs8", "-topk8", "-passout", "pass:x", "-in", k.key, "-out", dir + "/enc.pem"})
          .exit_code == 0);
  CHECK_THAT(SigningKey::load_file(dir + "/enc.pem").error().message, Catch::Contains("encrypted private key"));
  CHECK_THAT(SigningKey::from_pem("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "cosign.key").error().message,
             Catch::Contains("cosign's encrypted key format"));
}

TEST_CASE("malformed envelopes are errors that say what is wrong", "[attest]") {
  CHECK_THAT(parse_envelope("nope").error().message, Catch::Contains("not JSON"));
  CHECK_THAT(parse_envelope("[]").error().message, Catch::Contains("not a JSON object"));
  CHECK_THAT(parse_envelope(R"({"payload":"e30="})").error().message, Catch::Contains("payloadType is missing"));
  CHECK_THAT(parse_envelope(R"({"payloadType":"t","payload":"!!"})").error().message,
             Catch::Contains("payload is not base64"));
  CHECK_THAT(parse_envelope(R"({"payloadType":"t","payload":"e30=","signatures":[{"sig":5}]})").error().message,
             Catch::Contains("signatures[0].sig is not a string"));
  std::string many = R"({"payloadType":"t","payload":"e30=","signatures":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + R"({"sig":"AA=="})";
  CHECK(parse_envelope(many + "]}").error().kind == ErrorKind::kLimit);
  CHECK(parse_envelope(std::string(100, '[') + std::string(100, ']')).error().kind == ErrorKind::kFormat);
}

TEST_CASE("statements: subjects, types and the vulnerability record round trip", "[attest]") {
  auto st = parse_statement(vuln_statement(kDigest, "2026-12-07T10:00:00.123456789+02:00"));
  REQUIRE(st.ok());
  CHECK(st->names(kDigest));
  CHECK_FALSE(st->names(kOther));
  auto v = read_vuln_predicate(st->predicate);
  REQUIRE(v.ok());
  CHECK(v->db_version == "2026-12-07");
  CHECK(format_rfc3339(v->finished) == "2026-12-07T08:00:00Z");
  CHECK_THAT(parse_statement(R"({"_type":"x","predicateType":"p","subject":[]})").error().message,
             Catch::Contains("not an in-toto Statement"));
  CHECK_THAT(parse_statement(R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[]})")
                 .error()
                 .message,
             Catch::Contains("subject"));
  nlohmann::json bad = nlohmann::json::parse(vuln_statement(kDigest, "yesterday"));
  CHECK_THAT(read_vuln_predicate(bad["predicate"]).error().message, Catch::Contains("scanFinishedOn"));
}

TEST_CASE("RFC 3339 times parse, and nothing else does", "[attest]") {
  CHECK(format_rfc3339(*parse_rfc3339("2024-02-29T23:59:59Z")) == "2024-02-29T23:59:59Z");
  CHECK(format_rfc3339(*parse_rfc3339("2026-01-01T00:30:00-01:00")) == "2026-01-01T01:30:00Z");
  CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-01-01 00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00"));
  CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00Zjunk"));
}

TEST_CASE("evaluate trusts only signed, fresh attestations about this digest", "[attest]") {
  auto k = make_keys("eval");
  auto signing = SigningKey::load_file(k.key);
  REQUIRE(signing.ok());
  const PublicKey keys[] = {signing->public_key()};
  const auto now = *parse_rfc3339("2026-12-08T12:00:00Z");
  VerifyOptions o{keys, kDigest, now, std::chrono::hours(24)};
  auto env = [&](const std::string& payload) {
    return render_envelope(*sign_envelope(std::string(kInTotoPayloadType), payload, *signing));
  };
  FetchResult f;

  SECTION("a fresh record verifies") {
    f.envelopes.push_back(
        attached(env(vuln_statement(kDigest, "2026-12-08T11:00:00Z")), std::string(kVulnPredicateType)));
    auto e = evaluate(f, o);
    REQUIRE(e.vuln() != nullptr);
    CHECK(e.vuln()->key_id == keys[0].id());
    CHECK(e.why_none().empty());
  }
  SECTION("a stale one does not") {
    f.envelopes.push_back(
        attached(env(vuln_statement(kDigest, "2026-12-01T11:00:00Z")), std::string(kVulnPredicateType)));
    auto e = evaluate(f, o);
    CHECK(e.vuln() == nullptr);
    CHECK(e.checked[0].outcome == Outcome::kStale);
    CHECK_THAT(e.why_none(), Catch::Contains("stale") && Catch::Contains("2026-12-01T11:00:00Z"));
  }
  SECTION("one about another digest does not") {
    f.envelopes.push_back(
        attached(env(vuln_statement(kOther, "2026-12-08T11:00:00Z")), std::string(kVulnPredicateType)));
    auto e = evaluate(f, o);
    CHECK(e.vuln() == nullptr);
    CHECK(e.checked[0].outcome == Outcome::kWrongSubject);
  }
  SECTION("an unsigned or badly signed one does not, and its payload is not read") {
    Envelope u{std::string(kInTotoPayloadType), vuln_statement(kDigest, "2026-12-08T11:00:00Z"), {}};
    f.envelopes.push_back(attached(render_envelope(u), std::string(kVulnPredicateType)));
    u.signatures.push_back({"", "not a signature"});
    f.envelopes.push_back(attached(render_envelope(u), std::string(kVulnPredicateType)));
    auto e = evaluate(f, o);
    CHECK(e.vuln() == nullptr);
    CHECK(e.checked[0].outcome == Outcome::kUnsigned);
    CHECK(e.checked[1].outcome == Outcome::kBadSignature);
    CHECK_FALSE(e.checked[1].statement);
  }
  SECTION("a signed SBOM verifies, whatever the layer's annotation claims") {
    Statement s;
    s.predicate_type = std::string(kCycloneDxPredicateType);
    s.subjects.push_back({"app", kDigest});
    s.predicate = {{"bomFormat", "CycloneDX"}, {"specVersion", "1.5"}};
    f.envelopes.push_back(attached(env(render_statement(s)), "https://example.com/anything"));
    auto e = evaluate(f, o);
    REQUIRE(e.sbom() != nullptr);
    CHECK(e.sbom()->predicate_type == kCycloneDxPredicateType);
  }
  SECTION("nothing attached says so") { CHECK(evaluate(f, o).why_none() == "no attestation is attached"); }
}

TEST_CASE("the cosign tag of a digest", "[attest]") { CHECK(att_tag("sha256:abc") == "sha256-abc.att"); }

namespace {

// A registry that serves a .att manifest of `layers` DSSE layers of `size` bytes each.
struct HugeAttestations : RegistryClient {
  size_t layers, size;
  size_t blob_bytes_served = 0;
  HugeAttestations(size_t n, size_t s) : layers(n), size(s) {}
  static std::string blob(size_t i, size_t size) { return std::string(size, static_cast<char>('a' + i % 26)); }
  Result<ManifestResponse> get_manifest(const Reference&, const std::string& ref, const Deadline&) override {
    if (ref.find(".att") == std::string::npos) return Error(ErrorKind::kNotFound, "no");
    nlohmann::json m = {{"schemaVersion", 2}, {"layers", nlohmann::json::array()}};
    for (size_t i = 0; i < layers; ++i)
      m["layers"].push_back({{"mediaType", std::string(kDsseMediaType)},
                             {"digest", Sha256::digest(blob(i, size))},
                             {"size", size},
                             {"annotations", {{"predicateType", std::string(kVulnPredicateType)}}}});
    return ManifestResponse{"application/vnd.oci.image.manifest.v1+json", "", m.dump()};
  }
  Result<std::string> resolve_digest(const Reference&, const Deadline&) override { return kDigest; }
  Result<std::string> get_blob(const Reference&, const std::string& digest, size_t max_bytes,
                               const Deadline&) override {
    for (size_t i = 0; i < layers; ++i)
      if (Sha256::digest(blob(i, size)) == digest) {
        if (size > max_bytes) return Error(ErrorKind::kLimit, "blob larger than " + std::to_string(max_bytes));
        blob_bytes_served += size;
        return blob(i, size);
      }
    return Error(ErrorKind::kNotFound, "no blob");
  }
  Result<std::unique_ptr<BlobStream>> open_blob(const Reference&, const std::string&, int64_t,
                                                const Deadline&) override {
    return Error(ErrorKind::kNotFound, "no");
  }
};

}  // namespace

TEST_CASE("fetching attestations holds a bounded number of bytes, whatever the registry offers", "[attest]") {
  auto ref = parse_reference("registry.example/app@" + kDigest);
  REQUIRE(ref.ok());
  FetchLimits limits;                   // the webhook's defaults
  HugeAttestations huge(16, 6u << 20);  // 96 MiB offered
  auto got = fetch_attestations(huge, *ref, kDigest, Deadline::never(), limits);
  REQUIRE(got.ok());
  size_t held = 0;
  for (const auto& e : got->envelopes) held += e.bytes.size();
  CHECK(held <= limits.max_total_bytes);
  CHECK(huge.blob_bytes_served <= limits.max_total_bytes);
  REQUIRE_FALSE(got->notes.empty());
  CHECK_THAT(got->notes.back(), Catch::Contains("the rest were not read"));
  HugeAttestations one_big(1, limits.max_envelope_bytes + 1);
  auto big = fetch_attestations(one_big, *ref, kDigest, Deadline::never(), limits);
  REQUIRE(big.ok());
  CHECK(big->envelopes.empty());
  CHECK(one_big.blob_bytes_served == 0);  // refused on the manifest's word, before any download
}

namespace {

// An OCI 1.1 registry with no .att tag: the attestation is a referrer of the image.
struct ReferrersOnly : RegistryClient {
  std::string envelope, referrer;
  size_t referrer_reads = 0;
  explicit ReferrersOnly(std::string env) : envelope(std::move(env)) {
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                        {"artifactType", std::string(kDsseMediaType)},
                        {"layers",
                         {{{"mediaType", std::string(kDsseMediaType)},
                           {"digest", Sha256::digest(envelope)},
                           {"size", envelope.size()},
                           {"annotations", {{"predicateType", std::string(kVulnPredicateType)}}}}}},
                        {"subject", {{"digest", kDigest}}}};
    referrer = m.dump();
  }
  Result<ManifestResponse> get_manifest(const Reference&, const std::string& ref, const Deadline&) override {
    if (ref == Sha256::digest(referrer)) {
      ++referrer_reads;
      return ManifestResponse{"application/vnd.oci.image.manifest.v1+json", ref, referrer};
    }
    return Error(ErrorKind::kNotFound, "manifest unknown");
  }
  Result<std::string> resolve_digest(const Reference&, const Deadline&) override { return kDigest; }
  Result<std::string> get_blob(const Reference&, const std::string& digest, size_t, const Deadline&) override {
    if (digest == Sha256::digest(envelope)) return envelope;
    return Error(ErrorKind::kNotFound, "blob unknown");
  }
  Result<std::unique_ptr<BlobStream>> open_blob(const Reference&, const std::string&, int64_t,
                                                const Deadline&) override {
    return Error(ErrorKind::kNotFound, "no");
  }
  Result<std::optional<std::string>> get_referrers(const Reference&, const std::string& digest, const std::string&,
                                                   const Deadline&) override {
    if (digest != kDigest) return std::optional<std::string>(R"({"schemaVersion":2,"manifests":[]})");
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests",
                             {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"digest", Sha256::digest(referrer)},
                               {"size", referrer.size()},
                               {"artifactType", std::string(kDsseMediaType)}},
                              // Another tool's referrer (a signature): not read.
                              {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"digest", "sha256:" + std::string(64, 'c')},
                               {"size", 10},
                               {"artifactType", "application/vnd.dev.cosign.artifact.sig.v1+json"}}}}};
    return std::optional<std::string>(index.dump());
  }
};

}  // namespace

TEST_CASE("attestations are found as OCI 1.1 referrers when the .att tag is absent", "[attest]") {
  auto k = make_keys("referrers");
  auto signing = SigningKey::load_file(k.key);
  REQUIRE(signing.ok());
  auto env = sign_envelope(std::string(kInTotoPayloadType), vuln_statement(kDigest, utc_now_rfc3339()), *signing);
  REQUIRE(env.ok());
  ReferrersOnly registry(render_envelope(*env));
  auto ref = parse_reference("registry.example/app@" + kDigest);
  REQUIRE(ref.ok());
  auto got = fetch_attestations(registry, *ref, kDigest, Deadline::never());
  REQUIRE(got.ok());
  REQUIRE(got->envelopes.size() == 1);
  CHECK_THAT(got->envelopes[0].where, Catch::StartsWith("referrer sha256:"));
  CHECK(registry.referrer_reads == 1);  // the signature referrer was not read
  const PublicKey keys[] = {signing->public_key()};
  auto e = evaluate(*got, {keys, kDigest, std::chrono::system_clock::now(), std::chrono::hours(1)});
  CHECK(e.vuln() != nullptr);
}
