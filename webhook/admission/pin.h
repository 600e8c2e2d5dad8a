// Digest pinning (issue 16), the pure half: which `image` fields of an admitted object to pin,
// how a pinned reference is written, the RFC 6902 JSONPatch that pins them, and the mutating
// webhook's AdmissionReview reply. No I/O: the tag -> digest resolution and the route (POST
// /mutate) live in the server and the verdict engine.
//
// Pinning makes the image the validating webhook checked the image the kubelet runs: the mutating
// webhook rewrites `repo:tag` to `repo:tag@sha256:...` before the validating webhook sees the
// object (mutating admission runs first), so the validating webhook judges, and the kubelet
// pulls, that one digest.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/result.h"
#include "webhook/admission/review.h"

namespace scangate::admission {

// One `image` field of request.object to pin.
struct ImageField {
  // RFC 6901 JSON pointer of the "image" string inside request.object, e.g.
  // "/spec/template/spec/containers/0/image" (a Deployment's first container).
  std::string pointer;
  std::string image;  // the reference exactly as written (not normalised)
  ContainerKind kind = ContainerKind::kContainer;
  std::string container;  // the container's name
  // UPDATE only: oldObject's container of the same list and name ran this very reference pinned,
  // `image@previous_digest`, and the update wrote it back unpinned (a re-apply of the unpinned
  // manifest, e.g. server-side apply by a GitOps tool). Pin it to previous_digest again, without
  // resolving the tag: the pod keeps running and the template does not roll out, whereas a fresh
  // resolution would roll the workload out whenever the tag has moved. "" otherwise: resolve.
  std::string previous_digest;

  bool operator==(const ImageField&) const = default;
};

// The `image` fields of request.object that need a pin, in spec order (containers,
// initContainers, ephemeralContainers), for a Pod and every kind pod_spec_path() knows
// (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController: the pod template;
// CronJob: /spec/jobTemplate/spec/template/spec; PodTemplate: /template/spec), and for the
// pods/ephemeralcontainers subresource its ephemeral containers only (of the Pod, or of the
// EphemeralContainers object older API servers send). Left out:
//   - an image already pinned (it contains '@': `repo@sha256:...`, `repo:tag@sha256:...`), or not
//     a non-empty string;
//   - on UPDATE, an image equal to the one the same container (same list, same name) has in
//     oldObject: pinning an unchanged image would restart a running pod's container, or roll a
//     workload's template out. A changed or added container is pinned.
//   - everything for operations other than CREATE and UPDATE, other subresources, and kinds that
//     carry no pod spec (an empty list, not an error).
// The body is checked with parse_admission_review() first (same bounds, same errors: kFormat with
// what is wrong, admission_http_status() maps it to 400).
Result<std::vector<ImageField>> image_fields(std::string_view admission_review_body);

// True for an OCI digest the webhook pins with: "sha256:" + 64 lowercase hex digits (or sha384 /
// sha512 with 96 / 128).
bool is_pinnable_digest(std::string_view digest);

// "repo:tag" -> "repo:tag@DIGEST", "repo" -> "repo@DIGEST", as written (no docker.io/library/
// added, no tag dropped). Unchanged when the image is already pinned (contains '@') or when
// `digest` is not is_pinnable_digest() (never writes a reference the kubelet cannot pull).
std::string pin_image(std::string_view image, std::string_view digest);

// One field to rewrite. A constructor rather than an aggregate, so that a pin cannot be built
// without its old value by accident.
struct ImagePin {
  ImagePin(std::string pointer, std::string old_image, std::string new_image)
      : pointer(std::move(pointer)), old_image(std::move(old_image)), new_image(std::move(new_image)) {}
  std::string pointer;    // ImageField::pointer
  std::string old_image;  // ImageField::image
  std::string new_image;  // pin_image(old_image, digest)
};

// The RFC 6902 JSONPatch: for each pin whose new image differs from the old, a `test` of the old
// value and then a `replace` with the new one, at the pin's pointer:
//   [{"op":"test","path":P,"value":OLD},{"op":"replace","path":P,"value":NEW},...]
// Strings are JSON-escaped (json::append_quoted). No pin that changes anything: "[]".
//
// Why the `test`: the API server applies the patch to the very object it sent, so the test holds
// unless a pointer is wrong. A wrong pointer must not pin (or overwrite) another field: with the
// test the patch fails as a whole. Note that the API server refuses the request when a patch does
// not apply (an internal error, whatever the webhook's failurePolicy): a failed test fails closed.
std::string render_json_patch(const std::vector<ImagePin>& pins);

// The mutating webhook's AdmissionReview reply: apiVersion and request.uid echoed (as
// render_admission_response does), allowed true, response.warnings when given, and with a patch
// (`patch_json` not "" and not "[]") "patchType":"JSONPatch" and "patch": base64 of patch_json.
// A mutating webhook never denies: whether the image may run is the validating webhook's verdict.
std::string render_mutation_response(const AdmissionRequest& req, std::string_view patch_json,
                                     const std::vector<std::string>& warnings);

}  // namespace scangate::admission
