// libFuzzer target: image references (scanner/image/reference.h), as a pod spec or a command line
// writes them.
//
// Properties: a refusal is kInvalidArgument; an accepted reference's normalized() form parses
// again to itself (same registry, repository, tag and digest), and so does its familiar() form
// (where Docker's is unambiguous: not for a Hub repository whose first component looks like a
// host, or named by 64 hex digits);
// Docker Hub's own names come out as docker.io. credential_host_key() (the key a registry's
// credentials are stored under) is idempotent.
#include "scanner/image/credentials.h"
#include "scanner/image/reference.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("reference_fuzz", what, in); }

std::string describe(const Reference& r) {
  return "registry=" + r.registry + " repository=" + r.repository + " tag=" + r.tag + " digest=" + r.digest;
}

void round_trip(const Reference& ref, const std::string& form, const char* which, std::string_view in) {
  auto again = parse_reference(form);
  // Known divergence (reported, not fixed): the 255-character bound applies to the name as written,
  // as in Docker's Parse(), not to the normalised name, as Docker's ParseNormalizedNamed() (what
  // docker pull and the kubelet use) applies it. "<250 a>" is accepted; "docker.io/library/<250 a>"
  // is not. tests/unit/image/reference_test.cpp holds Parse()'s vector of 255 characters as valid.
  if (!again.ok() && ref.name().size() > 255 &&
      again.error().message.find("characters long; at most 255 are allowed") != std::string::npos)
    return;
  if (!again.ok()) fail(std::string(which) + " form \"" + form + "\" does not parse: " + again.error().message, in);
  if (again->normalized() != ref.normalized() || again->registry != ref.registry ||
      again->repository != ref.repository || again->digest != ref.digest ||
      again->effective_tag() != ref.effective_tag())
    fail(std::string(which) + " form \"" + form + "\" parses to " + describe(*again) + ", not " + describe(ref), in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  const std::string key = credential_host_key(in);
  if (credential_host_key(key) != key) fail("credential_host_key is not idempotent: " + key, in);

  auto ref = parse_reference(in);
  if (!ref.ok()) {
    if (ref.error().kind != ErrorKind::kInvalidArgument) fail("refused with another kind: " + ref.error().message, in);
    return 0;
  }
  if (ref->registry.empty() || ref->repository.empty()) fail("empty part: " + describe(*ref), in);
  if (ref->registry == "index.docker.io") fail("Docker Hub not normalised: " + describe(*ref), in);
  if (ref->manifest_reference().empty()) fail("no manifest reference: " + describe(*ref), in);
  round_trip(*ref, ref->normalized(), "normalized", in);
  // Docker's familiar form drops docker.io/, so a Hub repository whose first component looks like a
  // host ("docker.io/a.b/c", "docker.io/localhost/c") reads back as another registry, as with
  // Docker's own FamiliarString; familiar() only labels reports.
  const std::string first = ref->repository.substr(0, ref->repository.find('/'));
  const bool ambiguous = ref->registry == kDockerHubDomain && ref->repository.find('/') != std::string::npos &&
                         (first.find_first_of(".:") != std::string::npos || first == "localhost");
  // Nor does a Hub repository named by 64 hex digits ("docker.io/library/<64 hex>" reads back from
  // "<64 hex>" as an image ID), which Docker's ParseNormalizedNamed refuses alike.
  const std::string familiar = ref->familiar();
  const bool image_id = familiar.size() == 64 && familiar.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!ambiguous && !image_id) round_trip(*ref, familiar, "familiar", in);
  return 0;
}
