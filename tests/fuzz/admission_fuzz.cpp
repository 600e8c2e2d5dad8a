// libFuzzer target: arbitrary bytes through parse_admission_review (json_tape: validation,
// duplicate keys, depth; then the decode and image extraction), cross-checked against
// nlohmann/json on the same bytes.
//
// Validity: nlohmann's SAX parser says whether the bytes are JSON (RFC 8259) and, on its way,
// how deep they nest and whether an object repeats a key. The webhook must reject exactly
// what nlohmann rejects, plus its documented refusals: nesting deeper than 128 levels,
// duplicate keys (issue 12) and a leading UTF-8 byte order mark (which nlohmann skips; RFC
// 8259 section 8.1 lets a parser refuse it, and Go's encoding/json does) and a raw NUL byte
// (nlohmann stops at one between tokens, as at the end of a C string). Inconclusive and
// skipped: a number nlohmann cannot hold in a double (1e400: it refuses with out_of_range 406,
// RFC 8259 allows it, the webhook never reads numbers and accepts it).
//
// Decoding: when the bytes are valid, a reference decoder written here on nlohmann's DOM
// applies the rules of review.h (kind and apiVersion checks, uid and operation required,
// wrongly typed fields, pod spec location per kind, subresources, images new on UPDATE) and
// both must agree: the same error message, or the same uid, kind, operation, images and the
// other fields. Any disagreement aborts, so libFuzzer saves the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/admission/review.h"
#include "webhook/admission/workload.h"

using nlohmann::json;
using namespace scangate;
using namespace scangate::admission;

namespace {

[[noreturn]] void mismatch(std::string_view body, const std::string& what) {
  std::fprintf(stderr, "admission_fuzz MISMATCH: %s\nbody (%zu bytes): %.*s\n", what.c_str(), body.size(),
               static_cast<int>(std::min<std::size_t>(body.size(), 2000)), body.data());
  std::abort();
}

// What nlohmann's SAX parser saw: error id (0: valid), deepest nesting, a repeated key.
struct Sax : nlohmann::json_sax<json> {
  int depth = 0, max_depth = 0, error_id = 0;
  bool duplicate = false;
  std::vector<std::set<std::string>> keys;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    max_depth = std::max(max_depth, ++depth);
    keys.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys.back().insert(k).second) duplicate = true;
    return true;
  }
  bool end_object() override {
    --depth;
    keys.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    max_depth = std::max(max_depth, ++depth);
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_id = e.id;
    return false;
  }
};

// ---- the reference decoder, on nlohmann's DOM ----

Error bad(std::string m) { return Error(ErrorKind::kFormat, std::move(m)); }

const char* type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    default: return "value";
  }
}

const json* member(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

// Absent or null: ""; a string: its value; else the error review.cpp words.
Result<std::string> str(const json& o, const char* key, const std::string& where) {
  const json* v = member(o, key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return bad(where + "." + key + " must be a string, got " + type_of(*v));
  return v->get<std::string>();
}

// Absent or null: nullptr; an object: it; else an error.
Result<const json*> obj(const json& o, const char* key, const std::string& where) {
  const json* v = member(o, key);
  if (!v || v->is_null()) return static_cast<const json*>(nullptr);
  if (!v->is_object()) return bad(where + "." + key + " must be an object, got " + type_of(*v));
  return v;
}

// The object at a path of members, each an object; nullptr when a step is missing.
const json* path(const json* v, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (!v || !v->is_object()) return nullptr;
    v = member(*v, k);
  }
  return v && v->is_object() ? v : nullptr;
}

Result<void> collect(const json* spec, bool ephemeral_only, const std::string& where,
                     std::vector<ContainerImage>& out) {
  if (!spec) return Ok();
  const std::pair<const char*, ContainerKind> lists[] = {{"containers", ContainerKind::kContainer},
                                                         {"initContainers", ContainerKind::kInitContainer},
                                                         {"ephemeralContainers", ContainerKind::kEphemeralContainer}};
  for (const auto& [field, kind] : lists) {
    if (ephemeral_only && kind != ContainerKind::kEphemeralContainer) continue;
    const json* arr = member(*spec, field);
    if (!arr || arr->is_null()) continue;
    if (!arr->is_array()) return bad(where + "." + field + " must be an array, got " + type_of(*arr));
    for (const json& c : *arr) {
      if (!c.is_object()) return bad(where + "." + field + " entries must be objects, got " + type_of(c));
      const json* image = member(c, "image");
      if (!image || !image->is_string()) continue;
      const json* name = member(c, "name");
      out.push_back({name && name->is_string() ? name->get<std::string>() : "", image->get<std::string>(), kind});
    }
  }
  return Ok();
}

Result<void> images_of(const json* o, PodSpecPath p, bool ephemeral_sub, const std::string& where,
                       std::vector<ContainerImage>& out) {
  if (!o) return Ok();
  if (ephemeral_sub) {
    const json* k = member(*o, "kind");
    if (k && k->is_string() && *k == "EphemeralContainers") return collect(o, true, where, out);
    return collect(path(o, {"spec"}), true, where + ".spec", out);
  }
  const json* spec = nullptr;
  switch (p) {
    case PodSpecPath::kSpec: spec = path(o, {"spec"}); break;
    case PodSpecPath::kTemplate: spec = path(o, {"spec", "template", "spec"}); break;
    case PodSpecPath::kJobTemplate: spec = path(o, {"spec", "jobTemplate", "spec", "template", "spec"}); break;
    case PodSpecPath::kPodTemplate: spec = path(o, {"template", "spec"}); break;
    case PodSpecPath::kNone: break;
  }
  return collect(spec, false, where + " pod spec", out);
}

#define REF_TRY(var, expr)              \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto var = std::move(*var##_r)

Result<AdmissionRequest> reference(const json& doc) {
  if (!doc.is_object())
    return bad(std::string("not an AdmissionReview: the body is a JSON ") + type_of(doc) +
               ", expected an object with apiVersion, kind and request");
  AdmissionRequest out;
  REF_TRY(kind, str(doc, "kind", "AdmissionReview"));
  if (kind != "AdmissionReview")
    return bad("not an AdmissionReview: kind is \"" + kind +
               "\"; the webhook accepts kind AdmissionReview (admission.k8s.io/v1 or v1beta1)");
  REF_TRY(api, str(doc, "apiVersion", "AdmissionReview"));
  if (api != "admission.k8s.io/v1" && api != "admission.k8s.io/v1beta1")
    return bad("unsupported AdmissionReview apiVersion \"" + api +
               "\"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1");
  out.api_version = api;
  REF_TRY(reqp, obj(doc, "request", "AdmissionReview"));
  if (!reqp) return bad("AdmissionReview has no request object");
  const json& req = *reqp;
  REF_TRY(uid, str(req, "uid", "request"));
  if (uid.empty()) return bad("AdmissionReview request has no uid");
  out.uid = uid;
  REF_TRY(op, str(req, "operation", "request"));
  if (op.empty()) return bad("AdmissionReview request has no operation");
  out.operation = op;
  REF_TRY(ns, str(req, "namespace", "request"));
  out.namespace_ = ns;
  REF_TRY(name, str(req, "name", "request"));
  out.name = name;
  REF_TRY(sub, str(req, "subResource", "request"));
  out.sub_resource = sub;
  if (const json* d = member(req, "dryRun"); d && !d->is_null()) {
    if (!d->is_boolean()) return bad(std::string("request.dryRun must be a boolean, got ") + type_of(*d));
    out.dry_run = d->get<bool>();
  }
  REF_TRY(user, obj(req, "userInfo", "request"));
  if (user) {
    UserInfo u;
    REF_TRY(uname, str(*user, "username", "request.userInfo"));
    REF_TRY(uuid, str(*user, "uid", "request.userInfo"));
    u.username = uname;
    u.uid = uuid;
    if (const json* g = member(*user, "groups"); g && g->is_array())
      for (const json& s : *g)
        if (s.is_string()) u.groups.push_back(s.get<std::string>());
    out.user = u;
  }
  REF_TRY(res, obj(req, "resource", "request"));
  if (res) {
    REF_TRY(g, str(*res, "group", "request.resource"));
    REF_TRY(v, str(*res, "version", "request.resource"));
    REF_TRY(r, str(*res, "resource", "request.resource"));
    out.resource = {g, v, r};
  }
  REF_TRY(object, obj(req, "object", "request"));
  REF_TRY(old, obj(req, "oldObject", "request"));
  REF_TRY(gvk, obj(req, "kind", "request"));
  if (gvk) {
    REF_TRY(g, str(*gvk, "group", "request.kind"));
    REF_TRY(v, str(*gvk, "version", "request.kind"));
    REF_TRY(k, str(*gvk, "kind", "request.kind"));
    out.kind = {g, v, k};
  }
  if (out.kind.kind.empty() && object) {
    REF_TRY(ok, str(*object, "kind", "request.object"));
    REF_TRY(oa, str(*object, "apiVersion", "request.object"));
    out.kind.kind = ok;
    auto slash = oa.find('/');
    out.kind.group = slash == std::string::npos ? "" : oa.substr(0, slash);
    out.kind.version = slash == std::string::npos ? oa : oa.substr(slash + 1);
  }
  if (op != "CREATE" && op != "UPDATE") {
    out.not_gated_reason = op + " is not gated";
    return out;
  }
  const bool eph = sub == "ephemeralcontainers";
  if (!sub.empty() && !eph) {
    out.not_gated_reason = "subresource " + sub + " is not gated";
    return out;
  }
  PodSpecPath p = PodSpecPath::kSpec;
  if (!eph) {
    p = pod_spec_path(out.kind.group, out.kind.kind);
    if (p == PodSpecPath::kNone) {
      out.not_gated_reason =
          "kind " + (out.kind.group.empty() ? "" : out.kind.group + "/") + out.kind.kind + " carries no pod spec";
      return out;
    }
  } else if (!(out.kind.group.empty() && (out.kind.kind == "Pod" || out.kind.kind == "EphemeralContainers"))) {
    out.not_gated_reason = "subresource ephemeralcontainers of kind " + out.kind.kind + " is not gated";
    return out;
  }
  std::vector<ContainerImage> imgs;
  if (auto r = images_of(object, p, eph, "request.object", imgs); !r) return r.error();
  if (op == "UPDATE" && old) {
    std::vector<ContainerImage> before;
    if (auto r = images_of(old, p, eph, "request.oldObject", before); !r) return r.error();
    std::vector<ContainerImage> kept;
    for (auto& c : imgs) {
      bool seen = false;
      for (const auto& o : before) seen = seen || o.image == c.image;
      if (!seen) kept.push_back(std::move(c));
    }
    imgs = std::move(kept);
    if (imgs.empty() && !before.empty()) out.not_gated_reason = "no new images on UPDATE";
  }
  out.images = std::move(imgs);
  return out;
}

std::string describe(const AdmissionRequest& r) {
  std::string s = "api=" + r.api_version + " uid=" + r.uid + " kind=" + r.kind.group + "/" + r.kind.version + "/" +
                  r.kind.kind + " resource=" + r.resource.group + "/" + r.resource.version + "/" + r.resource.resource +
                  " sub=" + r.sub_resource + " op=" + r.operation + " ns=" + r.namespace_ + " name=" + r.name +
                  " dry=" + (r.dry_run ? "1" : "0") + " reason=" + r.not_gated_reason + " user=";
  if (r.user) {
    s += r.user->username + "/" + r.user->uid + "[";
    for (const auto& g : r.user->groups) s += g + ",";
    s += "]";
  }
  s += " images=";
  for (const auto& c : r.images) s += std::string(to_string(c.kind)) + ":" + c.container + "=" + c.image + ";";
  return s;
}

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto got = parse_admission_review(body);
  if (!got.ok() && admission_http_status(got.error()) != 400) mismatch(body, "a parse error that is not a 400");

  Sax sax;
  json::sax_parse(body.begin(), body.end(), &sax, nlohmann::detail::input_format_t::json, true);
  if (sax.error_id == 406) return 0;  // a number beyond double: inconclusive (see the top)
  const bool bom = body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF";
  // nlohmann's lexer takes a NUL byte between tokens for the end of the input ("1\0x" parses as
  // 1); a raw NUL is never JSON (outside a string it is no token, inside one it must be escaped).
  const bool nul = body.find('\0') != std::string_view::npos;
  const std::string msg = got.ok() ? std::string() : got.error().message;
  const bool parse_refusal = !got.ok() && (starts_with(msg, "malformed JSON") || starts_with(msg, "duplicate key") ||
                                           starts_with(msg, "empty body"));

  if (sax.error_id != 0 || bom || nul) {  // not JSON to the webhook
    if (!parse_refusal)
      mismatch(body, "nlohmann refuses (error " + std::to_string(sax.error_id) +
                         "), webhook: " + (got.ok() ? "accepted" : msg));
    return 0;
  }
  const bool deep = sax.max_depth > 128;
  if (deep || sax.duplicate) {  // valid JSON the webhook refuses
    const bool expected = (deep && parse_refusal && msg.find("nested deeper than 128 levels") != std::string::npos) ||
                          (sax.duplicate && starts_with(msg, "duplicate key \""));
    if (!expected)
      mismatch(body, std::string("expected a refusal for ") + (deep ? "depth " : "") +
                         (sax.duplicate ? "a duplicate key" : "") + ", webhook: " + (got.ok() ? "accepted" : msg));
    return 0;
  }
  if (parse_refusal) mismatch(body, "valid JSON (nlohmann) refused by the webhook's parser: " + msg);

  const json doc = json::parse(body.begin(), body.end());
  auto want = reference(doc);
  if (want.ok() != got.ok() || (!got.ok() && want.error().message != msg))
    mismatch(body, "decode differs: webhook " + (got.ok() ? "accepted: " + describe(*got) : "refused: " + msg) +
                       "; reference " +
                       (want.ok() ? "accepted: " + describe(*want) : "refused: " + want.error().message));
  if (got.ok() && (describe(*got) != describe(*want) || got->images != want->images))
    mismatch(body, "decoded fields differ:\n  webhook:   " + describe(*got) + "\n  reference: " + describe(*want));
  return 0;
}
