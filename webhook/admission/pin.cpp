#include "webhook/admission/pin.h"

#include <algorithm>
#include <optional>

#include "scanner/core/base64.h"
#include "webhook/admission/json_tape.h"
#include "webhook/admission/workload.h"

namespace scangate::admission {

namespace {

using json::Value;

// The nesting bound parse_admission_review() checks the body with (review.cpp): the body is
// parsed again here only after it passed there, so this parse cannot fail on depth.
constexpr std::size_t kMaxDepth = 128;

// Where the container lists are: the member path from request.object and the same as an RFC 6901
// pointer prefix (every step is a fixed key without '~' or '/', so nothing needs escaping).
struct SpecLocation {
  std::vector<const char*> keys;
  bool ephemeral_only = false;
};

std::optional<SpecLocation> spec_location(PodSpecPath path) {
  switch (path) {
    case PodSpecPath::kSpec: return SpecLocation{{"spec"}};
    case PodSpecPath::kTemplate: return SpecLocation{{"spec", "template", "spec"}};
    case PodSpecPath::kJobTemplate: return SpecLocation{{"spec", "jobTemplate", "spec", "template", "spec"}};
    case PodSpecPath::kPodTemplate: return SpecLocation{{"template", "spec"}};
    case PodSpecPath::kNone: break;
  }
  return std::nullopt;
}

struct ListKey {
  const char* field;
  ContainerKind kind;
};
constexpr ListKey kLists[] = {{"containers", ContainerKind::kContainer},
                              {"initContainers", ContainerKind::kInitContainer},
                              {"ephemeralContainers", ContainerKind::kEphemeralContainer}};

struct Found {
  std::string pointer;
  std::string image;
  ContainerKind kind;
  std::string name;
};

// Every container with a string image under `object` at `loc`, with its pointer.
std::vector<Found> containers(const std::optional<Value>& object, const SpecLocation& loc) {
  std::vector<Found> out;
  std::optional<Value> spec = object;
  std::string prefix;
  for (const char* key : loc.keys) {
    if (!spec || !spec->is_object()) return out;
    spec = spec->get(key);
    prefix += '/';
    prefix += key;
  }
  if (!spec || !spec->is_object()) return out;
  for (const auto& list : kLists) {
    if (loc.ephemeral_only && list.kind != ContainerKind::kEphemeralContainer) continue;
    auto arr = spec->get(list.field);
    if (!arr) continue;
    std::size_t index = 0;
    arr->for_each_element([&](const Value& c) {
      const std::size_t i = index++;
      if (!c.is_object()) return;
      auto image = c.get("image");
      if (!image || !image->is_string()) return;
      Found f;
      f.pointer = prefix + "/" + list.field + "/" + std::to_string(i) + "/image";
      f.image = image->str();
      f.kind = list.kind;
      if (auto name = c.get("name"); name && name->is_string()) f.name = name->str();
      out.push_back(std::move(f));
    });
  }
  return out;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool is_pinnable_digest(std::string_view digest) {
  const auto colon = digest.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view algorithm = digest.substr(0, colon), hex = digest.substr(colon + 1);
  const std::size_t want = algorithm == "sha256" ? 64 : algorithm == "sha384" ? 96 : algorithm == "sha512" ? 128 : 0;
  return want != 0 && hex.size() == want && is_lower_hex(hex);
}

Result<std::vector<ImageField>> image_fields(std::string_view admission_review_body) {
  auto req = parse_admission_review(admission_review_body);
  if (!req) return req.error();
  std::vector<ImageField> out;
  if (req->operation != "CREATE" && req->operation != "UPDATE") return out;

  // The same choice of lists as parse_admission_review (review.cpp) makes for the images it gates.
  std::optional<SpecLocation> loc;
  if (req->sub_resource.empty()) {
    loc = spec_location(pod_spec_path(req->kind.group, req->kind.kind));
  } else if (req->sub_resource == "ephemeralcontainers" && req->kind.group.empty()) {
    if (req->kind.kind == "Pod") loc = SpecLocation{{"spec"}, true};
    // Kubernetes <= 1.21 sent an EphemeralContainers object, its list at the top level.
    if (req->kind.kind == "EphemeralContainers") loc = SpecLocation{{}, true};
  }
  if (!loc) return out;

  auto tape = json::Tape::parse(admission_review_body, kMaxDepth);
  if (!tape) return tape.error();
  const auto request = tape->root().get("request");
  if (!request) return out;
  const auto object = request->get("object");
  if (!object || !object->is_object()) return out;
  std::vector<Found> old;
  if (req->operation == "UPDATE")
    if (auto old_object = request->get("oldObject"); old_object && old_object->is_object())
      old = containers(old_object, *loc);

  for (Found& c : containers(object, *loc)) {
    if (c.image.empty() || c.image.find('@') != std::string::npos) continue;  // nothing to pin, or pinned
    ImageField f;
    auto before =
        std::find_if(old.begin(), old.end(), [&](const Found& o) { return o.kind == c.kind && o.name == c.name; });
    if (before != old.end()) {
      if (before->image == c.image) continue;  // unchanged: never restart or roll out for a pin
      const auto at = before->image.find('@');
      if (at != std::string::npos && std::string_view(before->image).substr(0, at) == c.image &&
          is_pinnable_digest(std::string_view(before->image).substr(at + 1)))
        f.previous_digest = before->image.substr(at + 1);
    }
    f.pointer = std::move(c.pointer);
    f.image = std::move(c.image);
    f.kind = c.kind;
    f.container = std::move(c.name);
    out.push_back(std::move(f));
  }
  return out;
}

std::string pin_image(std::string_view image, std::string_view digest) {
  std::string out(image);
  if (image.find('@') != std::string_view::npos || !is_pinnable_digest(digest)) return out;
  out += '@';
  out += digest;
  return out;
}

std::string render_json_patch(const std::vector<ImagePin>& pins) {
  std::string out = "[";
  for (const ImagePin& p : pins) {
    if (p.new_image == p.old_image) continue;
    if (out.size() > 1) out += ',';
    out += "{\"op\":\"test\",\"path\":";
    json::append_quoted(p.pointer, out);
    out += ",\"value\":";
    json::append_quoted(p.old_image, out);
    out += "},{\"op\":\"replace\",\"path\":";
    json::append_quoted(p.pointer, out);
    out += ",\"value\":";
    json::append_quoted(p.new_image, out);
    out += '}';
  }
  out += ']';
  return out;
}

std::string render_mutation_response(const AdmissionRequest& req, std::string_view patch_json,
                                     const std::vector<std::string>& warnings) {
  AdmissionDecision allow;
  allow.allowed = true;
  allow.warnings = warnings;
  // One writer of the envelope: render_admission_response's reply always ends with the response
  // object's '}' and the review's '}'; the patch goes inside the response object.
  std::string out = render_admission_response(req, allow);
  if (patch_json.empty() || patch_json == "[]") return out;
  std::string patch = ",\"patchType\":\"JSONPatch\",\"patch\":\"";
  patch += base64_encode(patch_json);  // the base64 alphabet needs no JSON escaping
  patch += '"';
  out.insert(out.size() - 2, patch);
  return out;
}

}  // namespace scangate::admission
