// AdmissionReview codec: decodes an admission.k8s.io/v1 or v1beta1 AdmissionReview into the
// request fields the gate needs plus the images to gate, and renders the reply. Pure: no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::admission {

struct GroupVersionKind {
  std::string group;  // "" for the core group (Pod), "apps", "batch", ...
  std::string version;
  std::string kind;
};

struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;  // "pods", "deployments", ...
};

enum class ContainerKind { kContainer, kInitContainer, kEphemeralContainer };
const char* to_string(ContainerKind k);  // "container", "initContainer", "ephemeralContainer"

struct ContainerImage {
  std::string container;  // container name
  std::string image;      // image reference exactly as written in the spec
  ContainerKind kind = ContainerKind::kContainer;

  bool operator==(const ContainerImage&) const = default;
};

struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
};

struct AdmissionRequest {
  std::string api_version;  // echoed in the reply: admission.k8s.io/v1 or admission.k8s.io/v1beta1
  std::string uid;          // echoed in the reply
  GroupVersionKind kind;    // kind of the object (request.kind, else the object's own)
  GroupVersionResource resource;
  std::string sub_resource;  // "" for the main resource; "status", "ephemeralcontainers", ...
  std::string operation;     // CREATE, UPDATE, DELETE, CONNECT
  std::string namespace_;
  std::string name;  // may be empty on CREATE with generateName
  bool dry_run = false;
  std::optional<UserInfo> user;

  // Images to gate, in spec order (containers, initContainers, ephemeralContainers). Only the
  // ones that are new compared with oldObject on UPDATE; empty for DELETE, CONNECT, kinds that
  // carry no pod spec and subresources other than pods/ephemeralcontainers.
  std::vector<ContainerImage> images;
  // Why `images` is empty although the object may name images ("" when nothing was skipped):
  // e.g. "DELETE is not gated", "subresource status is not gated", "no new images on UPDATE".
  std::string not_gated_reason;

  // Who pulls those images, as the kubelet will: the pod spec's imagePullSecrets (names, in
  // order, at most kMaxPullSecrets) and its ServiceAccount (serviceAccountName, else the
  // deprecated serviceAccount; "" when the spec names none: the namespace's "default").
  std::vector<std::string> image_pull_secrets;
  std::string service_account;
};

// The pull secrets read from one pod spec: more are ignored (fewer credentials can only make an
// image unreachable, which scan.onError decides; never a pass).
inline constexpr std::size_t kMaxPullSecrets = 32;

// The verdict for one request, as the reply carries it.
struct AdmissionDecision {
  bool allowed = true;
  int code = 403;                                        // status.code on a denial
  std::string message;                                   // status.message on a denial (what kubectl prints)
  std::vector<std::string> warnings;                     // response.warnings (warn mode, expiring exceptions)
  std::map<std::string, std::string> audit_annotations;  // response.auditAnnotations (audit mode)
  bool cache_miss = false;  // true when a scan ran for this request (metrics label cache="miss")
  // Each image (as written) -> the digest its verdict was made on, when known: what the mutating
  // webhook pins (pin.h). Not part of the reply.
  std::map<std::string, std::string> digests;
};

// Parses an AdmissionReview body. Errors are ErrorKind::kFormat with a message saying what is
// wrong (malformed JSON with its line and column, a key repeated in an object, not an
// AdmissionReview, unsupported apiVersion, missing request or uid, wrongly typed field);
// admission_http_status() maps them to 400.
Result<AdmissionRequest> parse_admission_review(std::string_view body);

// HTTP status the server answers for a parse error.
int admission_http_status(const Error& e);

// Renders the AdmissionReview reply: echoes apiVersion, kind and request.uid, sets allowed;
// a denial carries status.code (403 unless set) and status.message. Warnings and audit
// annotations are emitted when present.
std::string render_admission_response(const AdmissionRequest& req, const AdmissionDecision& d);
// The same from the two echoed fields (api_version "" means admission.k8s.io/v1).
std::string render_admission_response(std::string_view api_version, std::string_view uid, const AdmissionDecision& d);

}  // namespace scangate::admission
