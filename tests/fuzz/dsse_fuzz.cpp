// libFuzzer target: DSSE envelopes (scanner/attest/dsse.h), the first parser of every attestation
// a registry holds (a `.att` tag or an OCI referrer pushed by whoever can push to the repository).
//
// Properties: refusals are kFormat or kLimit; an accepted envelope has at most kMaxSignatures
// signatures; render_envelope() of it parses back to the same envelope (type, payload and each
// signature's keyid and bytes), and rendering that again gives the same text; the PAE starts with
// "DSSEv1 " and the two lengths; no signature verifies under a key whose private half nobody has
// (its signatures' DER is parsed by OpenSSL on the way).
#include "scanner/attest/dsse.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;
using namespace scangate::attest;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("dsse_fuzz", what, in); }

// A P-256 public key generated for this target; its private key was thrown away.
constexpr std::string_view kOrphanKey = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXC3owRn6gilMKapFWvY2i+ah/T6f
XfuuM2OC3K50XImjdWW83txPsWghYzyK6B2DqI2AwllHtG7Hl4Hrtk0zmw==
-----END PUBLIC KEY-----
)";

bool same(const Envelope& a, const Envelope& b) {
  if (a.payload_type != b.payload_type || a.payload != b.payload || a.signatures.size() != b.signatures.size())
    return false;
  for (std::size_t i = 0; i < a.signatures.size(); ++i)
    if (a.signatures[i].keyid != b.signatures[i].keyid || a.signatures[i].sig != b.signatures[i].sig) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<PublicKey> keys = [] {
    auto k = PublicKey::from_pem(kOrphanKey, "dsse_fuzz key");
    if (!k.ok()) std::abort();
    return std::vector<PublicKey>{*k};
  }();
  const std::string_view in = fuzz::as_text(data, size);
  auto e = parse_envelope(in);
  if (!e.ok()) {
    if (e.error().kind != ErrorKind::kFormat && e.error().kind != ErrorKind::kLimit)
      fail("refused with another kind: " + e.error().message, in);
    return 0;
  }
  if (e->signatures.size() > kMaxSignatures) fail("more signatures than kMaxSignatures", in);

  const std::string text = render_envelope(*e);
  auto again = parse_envelope(text);
  if (!again.ok()) fail("the rendered envelope does not parse: " + again.error().message + "\n  " + text, in);
  if (!same(*e, *again)) fail("the rendered envelope parses to another envelope: " + text, in);
  if (render_envelope(*again) != text) fail("rendering is not stable", in);

  const std::string p = pae(e->payload_type, e->payload);
  const std::string head = "DSSEv1 " + std::to_string(e->payload_type.size()) + " " + e->payload_type + " " +
                           std::to_string(e->payload.size()) + " ";
  if (p.size() != head.size() + e->payload.size() || p.compare(0, head.size(), head) != 0) fail("PAE", in);

  if (verify_envelope(*e, keys) != nullptr) fail("a signature verified under a key nobody can sign with", in);
  return 0;
}
