// Where attestations live in a registry, the way cosign keeps them (ATTESTATION_SPEC): an OCI
// image manifest tagged "sha256-<hex>.att" in the image's repository, one layer per DSSE envelope
// (mediaType application/vnd.dsse.envelope.v1+json, annotation predicateType). Also as OCI 1.1
// referrers (a manifest per envelope whose `subject` is the image) where the registry has the
// referrers API. Everything read here is untrusted until verify.h has checked it: the reads are
// bounded in count and size, and each blob is checked against its digest.
#pragma once

#include <string>
#include <vector>

#include "scanner/attest/dsse.h"
#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_client.h"
#include "scanner/image/registry_push.h"

namespace scangate::attest {

// "sha256:abc..." -> "sha256-abc....att".
std::string att_tag(const std::string& digest);

struct AttachedEnvelope {
  std::string predicate_type;  // the layer's annotation ("" when it has none)
  std::string layer_digest;
  std::string bytes;  // the envelope JSON
  std::string where;  // "tag sha256-….att" or "referrer sha256:…"
};

struct FetchLimits {
  size_t max_envelopes = 16;  // layers read, both places together
  size_t max_envelope_bytes = 16u << 20;
  // All envelopes together: what one image's attestations may hold in memory at once.
  size_t max_total_bytes = 24u << 20;
  size_t max_referrers = 32;  // referrer manifests read
  // Layers whose predicateType annotation is one of these (or missing) are read; empty: all.
  std::vector<std::string> predicate_types;
};

struct FetchResult {
  std::vector<AttachedEnvelope> envelopes;
  std::vector<std::string> notes;  // what was skipped and why (limits, unreadable layers)
};

// The envelopes attached to `digest` in `repo`: the .att tag's, then (when the tag has none) the
// referrers'. No attestation is an empty result, not an error; a registry that fails is an Error.
Result<FetchResult> fetch_attestations(RegistryClient& client, const Reference& repo, const std::string& digest,
                                       const Deadline& deadline, const FetchLimits& limits = {});

struct NewAttestation {
  std::string predicate_type;
  std::string envelope;  // DSSE JSON
};

struct AttachResult {
  std::string att_manifest_digest;            // of the .att manifest written
  std::vector<std::string> referrer_digests;  // one per envelope, when the registry has the referrers API
  bool referrers_api = false;
  size_t kept_layers = 0;  // earlier attestations of other predicate types kept in the .att manifest
};

// Pushes the envelopes for the image `digest` of `repo`: their layers and the .att manifest (an
// earlier attestation of the same predicate type is replaced, others are kept), then one
// referrer manifest per envelope where the registry supports it. `reader` reads the existing
// .att manifest and the image's own manifest (for the referrers' subject descriptor).
Result<AttachResult> attach_attestations(RegistryPusher& pusher, RegistryClient& reader, const Reference& repo,
                                         const std::string& digest, const std::vector<NewAttestation>& attestations,
                                         const Deadline& deadline);

}  // namespace scangate::attest
