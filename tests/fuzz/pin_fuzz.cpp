// libFuzzer target: digest pinning's image fields (webhook/admission/pin.h) on arbitrary bytes.
//
// image_fields() must refuse exactly what parse_admission_review() refuses, with its message. On a
// body it accepts (valid JSON to nlohmann too, but for numbers beyond a double), a reference
// written here on nlohmann's DOM from pin.h's rules must list the same fields, and:
//   - each pointer, resolved by nlohmann in request.object, is the field's image string;
//   - on CREATE the fields are the images the codec gates (AdmissionRequest::images), less the
//     empty and the pinned ones: the mutating webhook pins what the validating one judges;
//   - the JSONPatch of pinning every field (to its previous digest, or a made-up one) is valid
//     JSON, applies to request.object (every `test` holds) and leaves each pinned reference there;
//   - the mutating reply is valid JSON whose patch is that JSONPatch in base64.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "scanner/core/base64.h"
#include "tests/fuzz/fuzz_check.h"
#include "webhook/admission/pin.h"
#include "webhook/admission/workload.h"

using nlohmann::json;
using namespace scangate;
using namespace scangate::admission;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view body) { fuzz::fail("pin_fuzz", what, body); }

std::string describe(const std::vector<ImageField>& fields) {
  std::string s;
  for (const auto& f : fields)
    s += f.pointer + " " + to_string(f.kind) + ":" + f.container + "=" + f.image + " prev=" + f.previous_digest + "; ";
  return s;
}

struct Container {
  std::string pointer, image, name;
  ContainerKind kind;
};

// pin.h's rules, on nlohmann's DOM.
std::vector<Container> containers(const json* object, const std::vector<std::string>& keys, bool ephemeral_only) {
  std::vector<Container> out;
  const json* spec = object;
  std::string prefix;
  for (const auto& k : keys) {
    if (!spec || !spec->is_object()) return out;
    auto it = spec->find(k);
    spec = it == spec->end() ? nullptr : &*it;
    prefix += "/" + k;
  }
  if (!spec || !spec->is_object()) return out;
  const std::pair<const char*, ContainerKind> lists[] = {{"containers", ContainerKind::kContainer},
                                                         {"initContainers", ContainerKind::kInitContainer},
                                                         {"ephemeralContainers", ContainerKind::kEphemeralContainer}};
  for (const auto& [field, kind] : lists) {
    if (ephemeral_only && kind != ContainerKind::kEphemeralContainer) continue;
    auto arr = spec->find(field);
    if (arr == spec->end() || !arr->is_array()) continue;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const json& c = (*arr)[i];
      if (!c.is_object()) continue;
      auto image = c.find("image");
      if (image == c.end() || !image->is_string()) continue;
      auto name = c.find("name");
      out.push_back({prefix + "/" + field + "/" + std::to_string(i) + "/image", image->get<std::string>(),
                     name != c.end() && name->is_string() ? name->get<std::string>() : "", kind});
    }
  }
  return out;
}

std::vector<ImageField> reference(const json& doc, const AdmissionRequest& req) {
  std::vector<ImageField> out;
  if (req.operation != "CREATE" && req.operation != "UPDATE") return out;
  std::optional<std::vector<std::string>> keys;
  bool ephemeral_only = false;
  if (req.sub_resource.empty()) {
    switch (pod_spec_path(req.kind.group, req.kind.kind)) {
      case PodSpecPath::kSpec: keys = {{"spec"}}; break;
      case PodSpecPath::kTemplate: keys = {{"spec", "template", "spec"}}; break;
      case PodSpecPath::kJobTemplate: keys = {{"spec", "jobTemplate", "spec", "template", "spec"}}; break;
      case PodSpecPath::kPodTemplate: keys = {{"template", "spec"}}; break;
      case PodSpecPath::kNone: break;
    }
  } else if (req.sub_resource == "ephemeralcontainers" && req.kind.group.empty()) {
    ephemeral_only = true;
    if (req.kind.kind == "Pod") keys = {{"spec"}};
    if (req.kind.kind == "EphemeralContainers") keys = std::vector<std::string>{};
  }
  if (!keys) return out;
  const json& request = doc.at("request");
  auto object = request.find("object");
  if (object == request.end() || !object->is_object()) return out;
  std::vector<Container> old;
  if (req.operation == "UPDATE")
    if (auto o = request.find("oldObject"); o != request.end() && o->is_object())
      old = containers(&*o, *keys, ephemeral_only);
  for (const auto& c : containers(&*object, *keys, ephemeral_only)) {
    if (c.image.empty() || c.image.find('@') != std::string::npos) continue;
    ImageField f;
    auto before =
        std::find_if(old.begin(), old.end(), [&](const Container& o) { return o.kind == c.kind && o.name == c.name; });
    if (before != old.end()) {
      if (before->image == c.image) continue;
      if (before->image.rfind(c.image + "@", 0) == 0 && is_pinnable_digest(before->image.substr(c.image.size() + 1)))
        f.previous_digest = before->image.substr(c.image.size() + 1);
    }
    f.pointer = c.pointer;
    f.image = c.image;
    f.kind = c.kind;
    f.container = c.name;
    out.push_back(f);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  auto got = image_fields(body);
  auto req = parse_admission_review(body);
  if (got.ok() != req.ok() || (!got.ok() && got.error().message != req.error().message))
    fail("image_fields and parse_admission_review disagree: " +
             (got.ok() ? "fields " + describe(*got) : "fields error " + got.error().message) + " / " +
             (req.ok() ? std::string("review accepted") : "review error " + req.error().message),
         body);
  if (!got.ok()) return 0;

  const json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return 0;  // a number beyond a double: nlohmann refuses, JSON allows it
  const auto want = reference(doc, *req);
  if (*got != want) fail("fields differ:\n  got:       " + describe(*got) + "\n  reference: " + describe(want), body);

  if (req->operation == "CREATE") {
    std::vector<ContainerImage> gated;
    for (const auto& c : req->images)
      if (!c.image.empty() && c.image.find('@') == std::string::npos) gated.push_back(c);
    std::vector<ContainerImage> pinned;
    for (const auto& f : *got) pinned.push_back({f.container, f.image, f.kind});
    if (pinned != gated) fail("on CREATE the fields are not the gated images: " + describe(*got), body);
  }

  if (got->empty()) return 0;
  json object = doc.at("request").at("object");
  const std::string made_up = "sha256:" + std::string(64, 'a');
  std::vector<ImagePin> pins;
  for (const auto& f : *got) {
    if (!f.previous_digest.empty() && !is_pinnable_digest(f.previous_digest))
      fail("previous digest " + f.previous_digest + " is not pinnable", body);
    const json* at = nullptr;
    try {
      at = &object.at(json::json_pointer(f.pointer));
    } catch (const json::exception& e) { fail("pointer " + f.pointer + " does not resolve: " + e.what(), body); }
    if (!at->is_string() || at->get<std::string>() != f.image)
      fail("pointer " + f.pointer + " is not the image " + f.image, body);
    const std::string digest = f.previous_digest.empty() ? made_up : f.previous_digest;
    const std::string pinned = pin_image(f.image, digest);
    if (pinned != f.image + "@" + digest) fail("pin_image(" + f.image + ") = " + pinned, body);
    pins.emplace_back(f.pointer, f.image, pinned);
  }
  const std::string patch_text = render_json_patch(pins);
  const json patch = json::parse(patch_text, nullptr, false);
  if (patch.is_discarded() || !patch.is_array() || patch.size() != 2 * pins.size())
    fail("the JSONPatch is not an array of two operations per pin: " + patch_text, body);
  json patched;
  try {
    patched = object.patch(patch);
  } catch (const json::exception& e) {
    fail(std::string("the JSONPatch does not apply: ") + e.what() + "\n  patch: " + patch_text, body);
  }
  for (const auto& p : pins)
    if (patched.at(json::json_pointer(p.pointer)) != p.new_image)
      fail("after the patch " + p.pointer + " is not " + p.new_image, body);

  const std::string reply = render_mutation_response(*req, patch_text, {"w\"arning\n"});
  const json r = json::parse(reply, nullptr, false);
  if (r.is_discarded()) fail("the mutating reply is not JSON: " + reply, body);
  const json* b64 = nullptr;
  if (r.contains("response") && r["response"].is_object() && r["response"].contains("patch"))
    b64 = &r["response"]["patch"];
  const auto decoded = b64 && b64->is_string() ? base64_decode(b64->get<std::string>()) : std::nullopt;
  if (!decoded || *decoded != patch_text || r["response"].value("patchType", "") != "JSONPatch" ||
      r["response"].value("uid", "") != req->uid)
    fail("the mutating reply does not carry the patch: " + reply, body);
  return 0;
}
