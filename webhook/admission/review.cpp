#include "webhook/admission/review.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "webhook/admission/workload.h"

namespace scangate::admission {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxDepth = 128;  // Kubernetes objects nest ~20 deep (managedFields)

Error bad(std::string msg) { return Error(ErrorKind::kFormat, std::move(msg)); }

// Rejects documents nested deeper than kMaxDepth before the DOM is built, so a body of
// millions of '[' costs a linear scan instead of a deep tree.
Result<void> check_depth(std::string_view body) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth)
        return bad("AdmissionReview nests deeper than " + std::to_string(kMaxDepth) +
                   " levels at byte " + std::to_string(i) + "; send a Kubernetes object");
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return Ok();
}

const char* type_name(const json& v) { return v.type_name(); }

// Optional string member: absent or null -> "", wrong type -> error naming the field.
Result<std::string> opt_string(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return bad(where + "." + key + " must be a string, got " + type_name(*it));
  return it->get<std::string>();
}

// Optional object member: absent or null -> nullptr.
Result<const json*> opt_object(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object())
    return bad(where + "." + key + " must be an object, got " + type_name(*it));
  return &*it;
}

Result<GroupVersionKind> parse_gvk(const json& v, const std::string& where) {
  GroupVersionKind g;
  auto group = opt_string(v, "group", where);
  if (!group) return group.error();
  auto version = opt_string(v, "version", where);
  if (!version) return version.error();
  auto kind = opt_string(v, "kind", where);
  if (!kind) return kind.error();
  g.group = std::move(*group);
  g.version = std::move(*version);
  g.kind = std::move(*kind);
  return g;
}

Result<GroupVersionResource> parse_gvr(const json& v, const std::string& where) {
  GroupVersionResource g;
  auto group = opt_string(v, "group", where);
  if (!group) return group.error();
  auto version = opt_string(v, "version", where);
  if (!version) return version.error();
  auto resource = opt_string(v, "resource", where);
  if (!resource) return resource.error();
  g.group = std::move(*group);
  g.version = std::move(*version);
  g.resource = std::move(*resource);
  return g;
}

// Splits "apps/v1" into group and version; "v1" is the core group.
void split_api_version(const std::string& api_version, GroupVersionKind& out) {
  auto slash = api_version.find('/');
  if (slash == std::string::npos) {
    out.group.clear();
    out.version = api_version;
  } else {
    out.group = api_version.substr(0, slash);
    out.version = api_version.substr(slash + 1);
  }
}

// Walks a path of object members; nullptr when any step is absent, null or not an object.
const json* walk(const json* v, std::initializer_list<const char*> path) {
  for (const char* key : path) {
    if (v == nullptr || !v->is_object()) return nullptr;
    auto it = v->find(key);
    if (it == v->end() || !it->is_object()) return nullptr;
    v = &*it;
  }
  return v;
}

const json* pod_spec(const json* object, PodSpecPath path) {
  switch (path) {
    case PodSpecPath::kSpec: return walk(object, {"spec"});
    case PodSpecPath::kTemplate: return walk(object, {"spec", "template", "spec"});
    case PodSpecPath::kJobTemplate: return walk(object, {"spec", "jobTemplate", "spec", "template", "spec"});
    case PodSpecPath::kPodTemplate: return walk(object, {"template", "spec"});
    case PodSpecPath::kNone: break;
  }
  return nullptr;
}

struct ListKey {
  const char* field;
  ContainerKind kind;
};
constexpr ListKey kAllLists[] = {{"containers", ContainerKind::kContainer},
                                 {"initContainers", ContainerKind::kInitContainer},
                                 {"ephemeralContainers", ContainerKind::kEphemeralContainer}};

// Appends the images of the listed container arrays of `spec`. A container without a string
// image is skipped (the API server's schema validation has already run on the object).
Result<void> collect(const json* spec, bool ephemeral_only, const std::string& where,
                     std::vector<ContainerImage>& out) {
  if (spec == nullptr) return Ok();
  for (const auto& list : kAllLists) {
    if (ephemeral_only && list.kind != ContainerKind::kEphemeralContainer) continue;
    auto it = spec->find(list.field);
    if (it == spec->end() || it->is_null()) continue;
    if (!it->is_array())
      return bad(where + "." + list.field + " must be an array, got " + type_name(*it));
    for (const auto& c : *it) {
      if (!c.is_object())
        return bad(where + "." + list.field + " entries must be objects, got " + type_name(c));
      auto image = c.find("image");
      if (image == c.end() || !image->is_string()) continue;
      ContainerImage ci;
      ci.image = image->get<std::string>();
      if (auto name = c.find("name"); name != c.end() && name->is_string()) ci.container = name->get<std::string>();
      ci.kind = list.kind;
      out.push_back(std::move(ci));
    }
  }
  return Ok();
}

// Images of one object (object or oldObject) for the request's kind and subresource.
Result<void> object_images(const json* object, PodSpecPath path, bool ephemeral_subresource,
                           const std::string& where, std::vector<ContainerImage>& out) {
  if (object == nullptr) return Ok();
  if (ephemeral_subresource) {
    // Kubernetes <= 1.21 sent an EphemeralContainers object for pods/ephemeralcontainers;
    // later versions send the whole Pod.
    auto kind = object->find("kind");
    if (kind != object->end() && kind->is_string() && *kind == "EphemeralContainers")
      return collect(object, true, where, out);
    return collect(pod_spec(object, PodSpecPath::kSpec), true, where + ".spec", out);
  }
  return collect(pod_spec(object, path), false, where + " pod spec", out);
}

Result<std::optional<UserInfo>> parse_user(const json& req) {
  auto u = opt_object(req, "userInfo", "request");
  if (!u) return u.error();
  if (*u == nullptr) return std::optional<UserInfo>();
  const json& v = **u;
  UserInfo info;
  auto name = opt_string(v, "username", "request.userInfo");
  if (!name) return name.error();
  auto uid = opt_string(v, "uid", "request.userInfo");
  if (!uid) return uid.error();
  info.username = std::move(*name);
  info.uid = std::move(*uid);
  if (auto g = v.find("groups"); g != v.end() && g->is_array()) {
    for (const auto& s : *g)
      if (s.is_string()) info.groups.push_back(s.get<std::string>());
  }
  return std::optional<UserInfo>(std::move(info));
}

}  // namespace

const char* to_string(ContainerKind k) {
  switch (k) {
    case ContainerKind::kContainer: return "container";
    case ContainerKind::kInitContainer: return "initContainer";
    case ContainerKind::kEphemeralContainer: return "ephemeralContainer";
  }
  return "container";
}

int admission_http_status(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kLimit: return 413;
    case ErrorKind::kFormat:
    case ErrorKind::kInvalidArgument: return 400;
    default: return 500;
  }
}

Result<AdmissionRequest> parse_admission_review(std::string_view body) {
  if (body.empty()) return bad("empty body: expected an AdmissionReview JSON object");
  SG_TRY(check_depth(body));
  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return bad("malformed JSON: " + what);
  }
  if (!doc.is_object())
    return bad(std::string("not an AdmissionReview: the body is a JSON ") + type_name(doc) +
               ", expected an object with apiVersion, kind and request");

  AdmissionRequest out;
  auto kind = opt_string(doc, "kind", "AdmissionReview");
  if (!kind) return kind.error();
  if (*kind != "AdmissionReview")
    return bad("not an AdmissionReview: kind is \"" + *kind +
               "\"; the webhook accepts kind AdmissionReview (admission.k8s.io/v1 or v1beta1)");
  auto api = opt_string(doc, "apiVersion", "AdmissionReview");
  if (!api) return api.error();
  if (*api != "admission.k8s.io/v1" && *api != "admission.k8s.io/v1beta1")
    return bad("unsupported AdmissionReview apiVersion \"" + *api +
               "\"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1");
  out.api_version = std::move(*api);

  auto reqp = opt_object(doc, "request", "AdmissionReview");
  if (!reqp) return reqp.error();
  if (*reqp == nullptr) return bad("AdmissionReview has no request object");
  const json& req = **reqp;

  auto uid = opt_string(req, "uid", "request");
  if (!uid) return uid.error();
  if (uid->empty()) return bad("AdmissionReview request has no uid");
  out.uid = std::move(*uid);

  auto op = opt_string(req, "operation", "request");
  if (!op) return op.error();
  if (op->empty()) return bad("AdmissionReview request has no operation");
  out.operation = std::move(*op);

  auto ns = opt_string(req, "namespace", "request");
  if (!ns) return ns.error();
  out.namespace_ = std::move(*ns);
  auto name = opt_string(req, "name", "request");
  if (!name) return name.error();
  out.name = std::move(*name);
  auto sub = opt_string(req, "subResource", "request");
  if (!sub) return sub.error();
  out.sub_resource = std::move(*sub);

  if (auto d = req.find("dryRun"); d != req.end() && !d->is_null()) {
    if (!d->is_boolean()) return bad(std::string("request.dryRun must be a boolean, got ") + type_name(*d));
    out.dry_run = d->get<bool>();
  }
  auto user = parse_user(req);
  if (!user) return user.error();
  out.user = std::move(*user);

  auto resource = opt_object(req, "resource", "request");
  if (!resource) return resource.error();
  if (*resource != nullptr) {
    auto gvr = parse_gvr(**resource, "request.resource");
    if (!gvr) return gvr.error();
    out.resource = std::move(*gvr);
  }

  auto objp = opt_object(req, "object", "request");
  if (!objp) return objp.error();
  auto oldp = opt_object(req, "oldObject", "request");
  if (!oldp) return oldp.error();

  auto kindp = opt_object(req, "kind", "request");
  if (!kindp) return kindp.error();
  if (*kindp != nullptr) {
    auto gvk = parse_gvk(**kindp, "request.kind");
    if (!gvk) return gvk.error();
    out.kind = std::move(*gvk);
  }
  if (out.kind.kind.empty() && *objp != nullptr) {
    // Hand-made reviews (e.g. gator samples) omit request.kind: use the object's own.
    auto okind = opt_string(**objp, "kind", "request.object");
    if (!okind) return okind.error();
    auto oapi = opt_string(**objp, "apiVersion", "request.object");
    if (!oapi) return oapi.error();
    out.kind.kind = std::move(*okind);
    split_api_version(*oapi, out.kind);
  }

  // Which images are gated.
  if (out.operation != "CREATE" && out.operation != "UPDATE") {
    out.not_gated_reason = out.operation + " is not gated";
    return out;
  }
  const bool ephemeral_sub = out.sub_resource == "ephemeralcontainers";
  if (!out.sub_resource.empty() && !ephemeral_sub) {
    out.not_gated_reason = "subresource " + out.sub_resource + " is not gated";
    return out;
  }
  PodSpecPath path = PodSpecPath::kSpec;
  if (!ephemeral_sub) {
    path = pod_spec_path(out.kind.group, out.kind.kind);
    if (path == PodSpecPath::kNone) {
      out.not_gated_reason = "kind " + (out.kind.group.empty() ? "" : out.kind.group + "/") +
                             out.kind.kind + " carries no pod spec";
      return out;
    }
  } else if (!(out.kind.group.empty() && (out.kind.kind == "Pod" || out.kind.kind == "EphemeralContainers"))) {
    out.not_gated_reason = "subresource ephemeralcontainers of kind " + out.kind.kind + " is not gated";
    return out;
  }

  std::vector<ContainerImage> images;
  SG_TRY(object_images(*objp, path, ephemeral_sub, "request.object", images));
  if (out.operation == "UPDATE" && *oldp != nullptr) {
    std::vector<ContainerImage> old;
    SG_TRY(object_images(*oldp, path, ephemeral_sub, "request.oldObject", old));
    std::set<std::string_view> before;
    for (const auto& c : old) before.insert(c.image);
    std::erase_if(images, [&](const ContainerImage& c) { return before.count(c.image) != 0; });
    if (images.empty() && !old.empty()) out.not_gated_reason = "no new images on UPDATE";
  }
  out.images = std::move(images);
  return out;
}

std::string render_admission_response(const AdmissionRequest& req, const AdmissionDecision& d) {
  json response = json::object();
  response["uid"] = req.uid;
  response["allowed"] = d.allowed;
  if (!d.allowed) {
    response["status"] = {{"code", d.code != 0 ? d.code : 403}, {"message", d.message}};
  }
  if (!d.warnings.empty()) response["warnings"] = d.warnings;
  if (!d.audit_annotations.empty()) response["auditAnnotations"] = d.audit_annotations;
  json reply = {{"apiVersion", req.api_version.empty() ? "admission.k8s.io/v1" : req.api_version},
                {"kind", "AdmissionReview"},
                {"response", std::move(response)}};
  // Strings are echoed from the request or composed from it; replace invalid UTF-8 rather than
  // throw.
  return reply.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace scangate::admission
