#include "webhook/admission/review.h"

#include <algorithm>

#include "webhook/admission/json_tape.h"
#include "webhook/admission/workload.h"

namespace scangate::admission {

namespace {

using json::Value;

constexpr std::size_t kMaxDepth = 128;  // Kubernetes objects nest ~20 deep (managedFields)

Error bad(std::string msg) { return Error(ErrorKind::kFormat, std::move(msg)); }

// Optional string member: absent or null -> "", wrong type -> error naming the field.
Result<std::string> opt_string(const Value& obj, const char* key, const std::string& where) {
  auto v = obj.get(key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return bad(where + "." + key + " must be a string, got " + v->type_name());
  return v->str();
}

// Optional object member: absent or null -> nullopt.
Result<std::optional<Value>> opt_object(const Value& obj, const char* key, const std::string& where) {
  auto v = obj.get(key);
  if (!v || v->is_null()) return std::optional<Value>();
  if (!v->is_object()) return bad(where + "." + key + " must be an object, got " + v->type_name());
  return v;
}

Result<GroupVersionKind> parse_gvk(const Value& v, const std::string& where) {
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

Result<GroupVersionResource> parse_gvr(const Value& v, const std::string& where) {
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

// Walks a path of object members; nullopt when any step is absent or not an object.
std::optional<Value> walk(std::optional<Value> v, std::initializer_list<const char*> path) {
  for (const char* key : path) {
    if (!v || !v->is_object()) return std::nullopt;
    v = v->get(key);
  }
  if (!v || !v->is_object()) return std::nullopt;
  return v;
}

std::optional<Value> pod_spec(const std::optional<Value>& object, PodSpecPath path) {
  switch (path) {
    case PodSpecPath::kSpec: return walk(object, {"spec"});
    case PodSpecPath::kTemplate: return walk(object, {"spec", "template", "spec"});
    case PodSpecPath::kJobTemplate: return walk(object, {"spec", "jobTemplate", "spec", "template", "spec"});
    case PodSpecPath::kPodTemplate: return walk(object, {"template", "spec"});
    case PodSpecPath::kNone: break;
  }
  return std::nullopt;
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
Result<void> collect(const std::optional<Value>& spec, bool ephemeral_only, const std::string& where,
                     std::vector<ContainerImage>& out) {
  if (!spec) return Ok();
  for (const auto& list : kAllLists) {
    if (ephemeral_only && list.kind != ContainerKind::kEphemeralContainer) continue;
    auto arr = spec->get(list.field);
    if (!arr || arr->is_null()) continue;
    if (!arr->is_array()) return bad(where + "." + list.field + " must be an array, got " + arr->type_name());
    std::optional<Error> err;
    arr->for_each_element([&](const Value& c) {
      if (err) return;
      if (!c.is_object()) {
        err = bad(where + "." + list.field + " entries must be objects, got " + c.type_name());
        return;
      }
      auto image = c.get("image");
      if (!image || !image->is_string()) return;
      ContainerImage ci;
      ci.image = image->str();
      if (auto name = c.get("name"); name && name->is_string()) ci.container = name->str();
      ci.kind = list.kind;
      out.push_back(std::move(ci));
    });
    if (err) return *err;
  }
  return Ok();
}

// Images of one object (object or oldObject) for the request's kind and subresource.
Result<void> object_images(const std::optional<Value>& object, PodSpecPath path, bool ephemeral_subresource,
                           const std::string& where, std::vector<ContainerImage>& out) {
  if (!object) return Ok();
  if (ephemeral_subresource) {
    // Kubernetes <= 1.21 sent an EphemeralContainers object for pods/ephemeralcontainers;
    // later versions send the whole Pod.
    auto kind = object->get("kind");
    if (kind && kind->string_equals("EphemeralContainers")) return collect(object, true, where, out);
    return collect(pod_spec(object, PodSpecPath::kSpec), true, where + ".spec", out);
  }
  return collect(pod_spec(object, path), false, where + " pod spec", out);
}

// The pod spec's imagePullSecrets and ServiceAccount (see AdmissionRequest). Entries that are not
// objects with a string name are skipped, as the API server's validation would have refused them.
void pull_identity(const std::optional<Value>& spec, AdmissionRequest& out) {
  if (!spec) return;
  if (auto arr = spec->get("imagePullSecrets"); arr && arr->is_array()) {
    arr->for_each_element([&](const Value& e) {
      if (out.image_pull_secrets.size() >= kMaxPullSecrets || !e.is_object()) return;
      auto name = e.get("name");
      if (!name || !name->is_string() || name->str().empty()) return;
      std::string n = name->str();
      if (std::find(out.image_pull_secrets.begin(), out.image_pull_secrets.end(), n) == out.image_pull_secrets.end())
        out.image_pull_secrets.push_back(std::move(n));
    });
  }
  for (const char* key : {"serviceAccountName", "serviceAccount"}) {
    auto sa = spec->get(key);
    if (sa && sa->is_string() && !sa->str().empty()) {
      out.service_account = sa->str();
      break;
    }
  }
}

Result<std::optional<UserInfo>> parse_user(const Value& req) {
  auto u = opt_object(req, "userInfo", "request");
  if (!u) return u.error();
  if (!*u) return std::optional<UserInfo>();
  const Value& v = **u;
  UserInfo info;
  auto name = opt_string(v, "username", "request.userInfo");
  if (!name) return name.error();
  auto uid = opt_string(v, "uid", "request.userInfo");
  if (!uid) return uid.error();
  info.username = std::move(*name);
  info.uid = std::move(*uid);
  if (auto g = v.get("groups")) {
    g->for_each_element([&](const Value& s) {
      if (s.is_string()) info.groups.push_back(s.str());
    });
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
  auto tape = json::Tape::parse(body, kMaxDepth);
  if (!tape) return tape.error();
  const Value doc = tape->root();
  if (!doc.is_object())
    return bad(std::string("not an AdmissionReview: the body is a JSON ") + doc.type_name() +
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
  if (!*reqp) return bad("AdmissionReview has no request object");
  const Value req = **reqp;

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

  if (auto d = req.get("dryRun"); d && !d->is_null()) {
    if (!d->is_bool()) return bad(std::string("request.dryRun must be a boolean, got ") + d->type_name());
    out.dry_run = d->as_bool();
  }
  auto user = parse_user(req);
  if (!user) return user.error();
  out.user = std::move(*user);

  auto resource = opt_object(req, "resource", "request");
  if (!resource) return resource.error();
  if (*resource) {
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
  if (*kindp) {
    auto gvk = parse_gvk(**kindp, "request.kind");
    if (!gvk) return gvk.error();
    out.kind = std::move(*gvk);
  }
  if (out.kind.kind.empty() && *objp) {
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
      out.not_gated_reason =
          "kind " + (out.kind.group.empty() ? "" : out.kind.group + "/") + out.kind.kind + " carries no pod spec";
      return out;
    }
  } else if (!(out.kind.group.empty() && (out.kind.kind == "Pod" || out.kind.kind == "EphemeralContainers"))) {
    out.not_gated_reason = "subresource ephemeralcontainers of kind " + out.kind.kind + " is not gated";
    return out;
  }

  std::vector<ContainerImage> images;
  SG_TRY(object_images(*objp, path, ephemeral_sub, "request.object", images));
  if (out.operation == "UPDATE" && *oldp) {
    std::vector<ContainerImage> old;
    SG_TRY(object_images(*oldp, path, ephemeral_sub, "request.oldObject", old));
    std::erase_if(images, [&](const ContainerImage& c) {
      return std::any_of(old.begin(), old.end(), [&](const ContainerImage& o) { return o.image == c.image; });
    });
    if (images.empty() && !old.empty()) out.not_gated_reason = "no new images on UPDATE";
  }
  out.images = std::move(images);
  if (!out.images.empty()) pull_identity(pod_spec(*objp, ephemeral_sub ? PodSpecPath::kSpec : path), out);
  return out;
}

std::string render_admission_response(const AdmissionRequest& req, const AdmissionDecision& d) {
  return render_admission_response(req.api_version, req.uid, d);
}

std::string render_admission_response(std::string_view api_version, std::string_view uid, const AdmissionDecision& d) {
  // Written by hand (no DOM): this runs once per admission request.
  std::string out;
  out.reserve(160 + uid.size() + d.message.size());
  out += "{\"apiVersion\":";
  json::append_quoted(api_version.empty() ? std::string_view("admission.k8s.io/v1") : api_version, out);
  out += ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":";
  json::append_quoted(uid, out);
  out += d.allowed ? ",\"allowed\":true" : ",\"allowed\":false";
  if (!d.allowed) {
    out += ",\"status\":{\"code\":";
    out += std::to_string(d.code != 0 ? d.code : 403);
    out += ",\"message\":";
    json::append_quoted(d.message, out);
    out += "}";
  }
  if (!d.warnings.empty()) {
    out += ",\"warnings\":[";
    for (std::size_t i = 0; i < d.warnings.size(); ++i) {
      if (i) out += ",";
      json::append_quoted(d.warnings[i], out);
    }
    out += "]";
  }
  if (!d.audit_annotations.empty()) {
    out += ",\"auditAnnotations\":{";
    bool first = true;
    for (const auto& [k, v] : d.audit_annotations) {
      if (!first) out += ",";
      first = false;
      json::append_quoted(k, out);
      out += ":";
      json::append_quoted(v, out);
    }
    out += "}";
  }
  out += "}}";
  return out;
}

}  // namespace scangate::admission
