// Which JSON parser decodes AdmissionReviews on the webhook's hot path (issue 11, item 7):
// the webhook's own validating tape (webhook/admission/json_tape.h, through
// parse_admission_review: decode plus image extraction, exactly what the server calls) against
// an equivalent decoder on simdjson's On-Demand API (below: the same fields, the same image
// extraction, the same validation: the whole document is walked, every string unescaped and
// checked, every number checked against the RFC 8259 grammar, nesting bounded at 128 and
// duplicate keys rejected). Both must give the same AdmissionRequest on each body before
// anything is timed. A third figure, simdjson's stage 1 alone (parser.iterate(), which finds
// the structure and validates UTF-8 but decodes nothing), is the floor no On-Demand decoder of
// these bodies can go below.
//
// Bodies: the two of tests/bench/webhook_bench.sh, written by tests/bench/webhook/make_bodies.py
// from ../shared/testdata/admission (a ~1.1 KB Deployment review and the ~5.4 KB real Pod
// review, which is indented; the API server sends compact JSON, so the Pod review is also timed
// without its whitespace). Prints ns/op and MB/s, medians of several repetitions; asserts
// nothing about them.
//   admission_json_bench [DEPLOYMENT.json POD.json]
// Without arguments it runs make_bodies.py into a temporary folder (needs python3 and
// SCANGATE_TESTDATA or ../shared/testdata). Environment: BENCH_REPS (default 9),
// BENCH_MS (CPU time per repetition and parser, default 200), BENCH_ONLY (run only the parsers
// whose name contains it, e.g. json_tape), BENCH_BODY (only the bodies whose name contains it:
// deployment, pod, compact), BENCH_CALLS (no timing: N calls of each parser, for
// instruction counts under valgrind --tool=callgrind).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "webhook/admission/review.h"
#include "webhook/admission/workload.h"

#if SCANGATE_HAVE_SIMDJSON
#include <simdjson.h>
#endif

using namespace scangate;
using namespace scangate::admission;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `json` without the whitespace between tokens (the API server sends compact JSON).
std::string compact(const std::string& json) {
  std::string out;
  bool in_string = false, escape = false;
  for (char c : json) {
    if (in_string) {
      in_string = escape || c != '"';
      escape = !escape && c == '\\';
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      in_string = c == '"';
    }
    out.push_back(c);
  }
  return out;
}

#if SCANGATE_HAVE_SIMDJSON
bool same(const AdmissionRequest& a, const AdmissionRequest& b) {
  auto same_user = [](const std::optional<UserInfo>& x, const std::optional<UserInfo>& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || (x->username == y->username && x->uid == y->uid && x->groups == y->groups);
  };
  return a.api_version == b.api_version && a.uid == b.uid && a.kind.group == b.kind.group &&
         a.kind.version == b.kind.version && a.kind.kind == b.kind.kind && a.resource.group == b.resource.group &&
         a.resource.version == b.resource.version && a.resource.resource == b.resource.resource &&
         a.sub_resource == b.sub_resource && a.operation == b.operation && a.namespace_ == b.namespace_ &&
         a.name == b.name && a.dry_run == b.dry_run && same_user(a.user, b.user) && a.images == b.images &&
         a.not_gated_reason == b.not_gated_reason;
}

namespace od = simdjson::ondemand;

constexpr std::size_t kMaxDepth = 128;

Error bad(std::string msg) { return Error(ErrorKind::kFormat, std::move(msg)); }

const char* type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "value";
}

// RFC 8259 number grammar (simdjson's own number parsers refuse big integers, which JSON allows).
bool json_number(std::string_view s) {
  std::size_t i = 0, n = s.size();
  auto digit = [&] { return i < n && s[i] >= '0' && s[i] <= '9'; };
  if (i < n && s[i] == '-') ++i;
  if (!digit()) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit()) ++i;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (!digit()) return false;
    while (digit()) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit()) return false;
    while (digit()) ++i;
  }
  return i == n;
}

// Where a workload keeps a pod spec, as a walk of object members from request.object.
enum Node : std::uint8_t {
  kOther,
  kRoot,                             // the object itself (EphemeralContainers objects keep their list here)
  kSpec,                             // Pod
  kSpecTemplate,                     //
  kSpecTemplateSpec,                 // Deployment, Job, ...
  kSpecJobTemplate,                  //
  kSpecJobTemplateSpec,              //
  kSpecJobTemplateSpecTemplate,      //
  kSpecJobTemplateSpecTemplateSpec,  // CronJob
  kTemplate,                         //
  kTemplateSpec,                     // PodTemplate
  kNodes
};

Node child(Node n, std::string_view key) {
  switch (n) {
    case kRoot: return key == "spec" ? kSpec : key == "template" ? kTemplate : kOther;
    case kSpec: return key == "template" ? kSpecTemplate : key == "jobTemplate" ? kSpecJobTemplate : kOther;
    case kSpecTemplate: return key == "spec" ? kSpecTemplateSpec : kOther;
    case kSpecJobTemplate: return key == "spec" ? kSpecJobTemplateSpec : kOther;
    case kSpecJobTemplateSpec: return key == "template" ? kSpecJobTemplateSpecTemplate : kOther;
    case kSpecJobTemplateSpecTemplate: return key == "spec" ? kSpecJobTemplateSpecTemplateSpec : kOther;
    case kTemplate: return key == "spec" ? kTemplateSpec : kOther;
    default: return kOther;
  }
}

constexpr const char* kLists[] = {"containers", "initContainers", "ephemeralContainers"};
constexpr ContainerKind kListKinds[] = {ContainerKind::kContainer, ContainerKind::kInitContainer,
                                        ContainerKind::kEphemeralContainer};

struct Str {
  enum State : std::uint8_t { kAbsent, kString, kWrong } state = kAbsent;  // kAbsent: absent or null
  std::string_view s;
  const char* type = "";
};
struct ListScan {
  enum State : std::uint8_t { kAbsent, kArray, kWrong } state = kAbsent;
  const char* type = "";  // kWrong: the value's type; kArray: the first entry that is not an object
  std::vector<ContainerImage> images;
};
struct SpecScan {
  bool present = false;
  ListScan lists[3];
};
struct ObjScan {
  enum State : std::uint8_t { kAbsent, kObject, kWrong } state = kAbsent;
  const char* type = "";
  Str kind, api;
  SpecScan specs[kNodes];
};
struct Group {  // request.kind, request.resource, request.userInfo
  enum State : std::uint8_t { kAbsent, kObject, kWrong } state = kAbsent;
  const char* type = "";
  Str a, b, c;  // group/version/kind, group/version/resource, username/uid/-
  std::vector<std::string_view> groups;
};
struct Raw {
  Str kind, api;
  Group request;  // only its state and type
  Str uid, op, ns, name, sub;
  enum : std::uint8_t { kAbsent, kBool, kWrong } dry_state = kAbsent;
  bool dry = false;
  const char* dry_type = "";
  Group user, resource, gvk;
  ObjScan object, old;
};

// The decoder: one walk over the whole document that keeps what the webhook reads and
// validates the rest; then the same decisions as parse_admission_review.
class SimdDecoder {
 public:
  Result<AdmissionRequest> decode(const simdjson::padded_string& body) {
    if (body.size() == 0) return bad("empty body: expected an AdmissionReview JSON object");
    raw_ = Raw();
    error_.clear();
    od::document doc;
    if (auto e = parser_.iterate(body).get(doc)) return json_error(e);
    od::json_type t;
    if (auto e = doc.type().get(t)) return json_error(e);
    bool ok = true;
    if (t == od::json_type::object) {
      od::object o;
      ok = !doc.get_object().get(o) && root(o);
    } else if (t == od::json_type::array) {
      od::value v;
      ok = !doc.get_value().get(v) && validate(v, 0);
    } else {
      ok = scalar_doc(doc, t);
    }
    if (!ok) return error_.empty() ? json_error(simdjson::TAPE_ERROR) : bad(error_);
    if (!doc.current_location().error()) return bad("malformed JSON: unexpected data after the JSON value");
    if (t != od::json_type::object)
      return bad(std::string("not an AdmissionReview: the body is a JSON ") + type_name(t) +
                 ", expected an object with apiVersion, kind and request");
    return finish();
  }

 private:
  Error json_error(simdjson::error_code e) { return bad(std::string("malformed JSON: ") + simdjson::error_message(e)); }
  bool fail(simdjson::error_code e) {
    error_ = std::string("malformed JSON: ") + simdjson::error_message(e);
    return false;
  }
  bool fail(std::string msg) {
    error_ = std::move(msg);
    return false;
  }

  bool scalar_doc(od::document& doc, od::json_type t) {
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (auto e = doc.get_string().get(s)) return fail(e);
        return true;
      }
      case od::json_type::number: {
        std::string_view tok;
        if (auto e = doc.raw_json_token().get(tok)) return fail(e);
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t'))
          tok.remove_suffix(1);
        return json_number(tok) || fail(simdjson::NUMBER_ERROR);
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = doc.get_bool().get(b)) return fail(e);
        return true;
      }
      case od::json_type::null: {
        bool n;
        if (auto e = doc.is_null().get(n)) return fail(e);
        return n || fail(simdjson::N_ATOM_ERROR);
      }
      default: return fail(simdjson::TAPE_ERROR);
    }
  }

  // Duplicate keys: the keys seen so far in the open object at each depth.
  std::vector<std::string_view>& keys_at(std::size_t depth) {
    keys_[depth].clear();  // depth <= kMaxDepth: checked before any object opens
    return keys_[depth];
  }
  bool add_key(std::vector<std::string_view>& keys, std::string_view k) {
    for (auto seen : keys)
      if (seen == k) return fail("duplicate key \"" + std::string(k) + "\"");
    keys.push_back(k);
    return true;
  }

  // Iterates an object's members: f(key, value) -> bool.
  template <class F>
  bool members(od::object& o, std::size_t depth, F&& f) {
    auto& keys = keys_at(depth);
    for (auto fr : o) {
      od::field fld;
      if (auto e = std::move(fr).get(fld)) return fail(e);
      std::string_view k;
      if (auto e = fld.unescaped_key().get(k)) return fail(e);
      if (!add_key(keys, k)) return false;
      if (!f(k, fld.value())) return false;
    }
    return true;
  }

  // Validates any value (depth: containers open around it).
  bool validate(od::value v, std::size_t depth) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    switch (t) {
      case od::json_type::object: {
        if (depth >= kMaxDepth) return fail("nested deeper than 128 levels");
        od::object o;
        if (auto e = v.get_object().get(o)) return fail(e);
        return members(o, depth + 1, [&](std::string_view, od::value m) { return validate(m, depth + 1); });
      }
      case od::json_type::array: {
        if (depth >= kMaxDepth) return fail("nested deeper than 128 levels");
        od::array a;
        if (auto e = v.get_array().get(a)) return fail(e);
        for (auto er : a) {
          od::value el;
          if (auto e = std::move(er).get(el)) return fail(e);
          if (!validate(el, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail(e);
        return true;
      }
      case od::json_type::number: {
        std::string_view tok = v.raw_json_token();
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t'))
          tok.remove_suffix(1);
        return json_number(tok) || fail(simdjson::NUMBER_ERROR);
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return fail(e);
        return true;
      }
      case od::json_type::null: {
        bool n;
        if (auto e = v.is_null().get(n)) return fail(e);
        return n || fail(simdjson::N_ATOM_ERROR);
      }
    }
    return fail(simdjson::TAPE_ERROR);
  }

  // A string member: absent/null, a string, or another type (validated, remembered).
  bool string_of(od::value v, std::size_t depth, Str& out) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (t == od::json_type::string) {
      out.state = Str::kString;
      if (auto e = v.get_string().get(out.s)) return fail(e);
      return true;
    }
    out.state = t == od::json_type::null ? Str::kAbsent : Str::kWrong;
    out.type = type_name(t);
    return validate(v, depth);
  }

  // An object member read by `f(object)`, or absent/null, or another type.
  template <class S, class F>
  bool object_of(od::value v, std::size_t depth, S& state, const char*& type, F&& f) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (t == od::json_type::object) {
      if (depth >= kMaxDepth) return fail("nested deeper than 128 levels");
      state = S::kObject;
      od::object o;
      if (auto e = v.get_object().get(o)) return fail(e);
      return f(o);
    }
    state = t == od::json_type::null ? S::kAbsent : S::kWrong;
    type = type_name(t);
    return validate(v, depth);
  }

  bool root(od::object& o) {
    return members(o, 1, [&](std::string_view k, od::value v) {
      if (k == "kind") return string_of(v, 1, raw_.kind);
      if (k == "apiVersion") return string_of(v, 1, raw_.api);
      if (k == "request")
        return object_of(v, 1, raw_.request.state, raw_.request.type, [&](od::object& r) { return request(r, 2); });
      return validate(v, 1);
    });
  }

  bool group(od::value v, std::size_t depth, Group& g, const char* a, const char* b, const char* c) {
    return object_of(v, depth, g.state, g.type, [&](od::object& o) {
      return members(o, depth + 1, [&](std::string_view k, od::value m) {
        if (k == a) return string_of(m, depth + 1, g.a);
        if (k == b) return string_of(m, depth + 1, g.b);
        if (c && k == c) return string_of(m, depth + 1, g.c);
        if (!c && k == "groups") {  // userInfo.groups: the strings of an array; anything else ignored
          od::json_type t;
          if (auto e = m.type().get(t)) return fail(e);
          if (t != od::json_type::array) return validate(m, depth + 1);
          if (depth + 1 >= kMaxDepth) return fail("nested deeper than 128 levels");
          od::array arr;
          if (auto e = m.get_array().get(arr)) return fail(e);
          for (auto er : arr) {
            od::value el;
            if (auto e = std::move(er).get(el)) return fail(e);
            Str s;
            if (!string_of(el, depth + 2, s)) return false;
            if (s.state == Str::kString) g.groups.push_back(s.s);
          }
          return true;
        }
        return validate(m, depth + 1);
      });
    });
  }

  bool request(od::object& o, std::size_t depth) {
    return members(o, depth, [&](std::string_view k, od::value v) {
      if (k == "uid") return string_of(v, depth, raw_.uid);
      if (k == "operation") return string_of(v, depth, raw_.op);
      if (k == "namespace") return string_of(v, depth, raw_.ns);
      if (k == "name") return string_of(v, depth, raw_.name);
      if (k == "subResource") return string_of(v, depth, raw_.sub);
      if (k == "dryRun") {
        od::json_type t;
        if (auto e = v.type().get(t)) return fail(e);
        if (t == od::json_type::boolean) {
          raw_.dry_state = Raw::kBool;
          if (auto e = v.get_bool().get(raw_.dry)) return fail(e);
          return true;
        }
        raw_.dry_state = t == od::json_type::null ? Raw::kAbsent : Raw::kWrong;
        raw_.dry_type = type_name(t);
        return validate(v, depth);
      }
      if (k == "userInfo") return group(v, depth, raw_.user, "username", "uid", nullptr);
      if (k == "resource") return group(v, depth, raw_.resource, "group", "version", "resource");
      if (k == "kind") return group(v, depth, raw_.gvk, "group", "version", "kind");
      if (k == "object") return object(v, depth, raw_.object);
      if (k == "oldObject") return object(v, depth, raw_.old);
      return validate(v, depth);
    });
  }

  bool object(od::value v, std::size_t depth, ObjScan& s) {
    return object_of(v, depth, s.state, s.type, [&](od::object& o) { return node(o, depth + 1, kRoot, s); });
  }

  bool node(od::object& o, std::size_t depth, Node n, ObjScan& s) {
    s.specs[n].present = true;
    return members(o, depth, [&](std::string_view k, od::value v) {
      for (int i = 0; i < 3; ++i)
        if (k == kLists[i]) return list(v, depth, s.specs[n].lists[i], kListKinds[i]);
      if (Node c = child(n, k); c != kOther) {
        od::json_type t;
        if (auto e = v.type().get(t)) return fail(e);
        if (t != od::json_type::object) return validate(v, depth);
        if (depth >= kMaxDepth) return fail("nested deeper than 128 levels");
        od::object co;
        if (auto e = v.get_object().get(co)) return fail(e);
        return node(co, depth + 1, c, s);
      }
      if (n == kRoot && k == "kind") return string_of(v, depth, s.kind);
      if (n == kRoot && k == "apiVersion") return string_of(v, depth, s.api);
      return validate(v, depth);
    });
  }

  bool list(od::value v, std::size_t depth, ListScan& l, ContainerKind kind) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail(e);
    if (t != od::json_type::array) {
      l.state = t == od::json_type::null ? ListScan::kAbsent : ListScan::kWrong;
      l.type = type_name(t);
      return validate(v, depth);
    }
    if (depth >= kMaxDepth) return fail("nested deeper than 128 levels");
    l.state = ListScan::kArray;
    od::array arr;
    if (auto e = v.get_array().get(arr)) return fail(e);
    for (auto er : arr) {
      od::value el;
      if (auto e = std::move(er).get(el)) return fail(e);
      od::json_type et;
      if (auto e = el.type().get(et)) return fail(e);
      if (et != od::json_type::object) {
        if (!*l.type) l.type = type_name(et);
        if (!validate(el, depth + 1)) return false;
        continue;
      }
      if (depth + 1 >= kMaxDepth) return fail("nested deeper than 128 levels");
      od::object c;
      if (auto e = el.get_object().get(c)) return fail(e);
      Str name, image;
      if (!members(c, depth + 2, [&](std::string_view k, od::value m) {
            if (k == "image") return string_of(m, depth + 2, image);
            if (k == "name") return string_of(m, depth + 2, name);
            return validate(m, depth + 2);
          }))
        return false;
      if (image.state == Str::kString)
        l.images.push_back(ContainerImage{name.state == Str::kString ? std::string(name.s) : std::string(),
                                          std::string(image.s), kind});
    }
    return true;
  }

  // --- the decisions of parse_admission_review, on what the walk kept ---

  static Result<std::string> str(const Str& s, const std::string& where, const char* key) {
    if (s.state == Str::kWrong) return bad(where + "." + key + " must be a string, got " + s.type);
    return std::string(s.state == Str::kString ? s.s : std::string_view());
  }

  static Node spec_node(PodSpecPath p) {
    switch (p) {
      case PodSpecPath::kSpec: return kSpec;
      case PodSpecPath::kTemplate: return kSpecTemplateSpec;
      case PodSpecPath::kJobTemplate: return kSpecJobTemplateSpecTemplateSpec;
      case PodSpecPath::kPodTemplate: return kTemplateSpec;
      case PodSpecPath::kNone: break;
    }
    return kOther;
  }

  static Result<void> collect(const ObjScan& o, Node n, bool ephemeral_only, const std::string& where,
                              std::vector<ContainerImage>& out) {
    if (n == kOther || !o.specs[n].present) return Ok();
    for (int i = 0; i < 3; ++i) {
      if (ephemeral_only && i != 2) continue;
      const ListScan& l = o.specs[n].lists[i];
      if (l.state == ListScan::kAbsent) continue;
      if (l.state == ListScan::kWrong) return bad(where + "." + kLists[i] + " must be an array, got " + l.type);
      if (*l.type) return bad(where + "." + kLists[i] + " entries must be objects, got " + l.type);
      out.insert(out.end(), l.images.begin(), l.images.end());
    }
    return Ok();
  }

  static Result<void> images(const ObjScan& o, PodSpecPath path, bool ephemeral_sub, const std::string& where,
                             std::vector<ContainerImage>& out) {
    if (o.state != ObjScan::kObject) return Ok();
    if (ephemeral_sub) {
      if (o.kind.state == Str::kString && o.kind.s == "EphemeralContainers") return collect(o, kRoot, true, where, out);
      return collect(o, kSpec, true, where + ".spec", out);
    }
    return collect(o, spec_node(path), false, where + " pod spec", out);
  }

  Result<AdmissionRequest> finish() {
    AdmissionRequest out;
    auto kind = str(raw_.kind, "AdmissionReview", "kind");
    if (!kind) return kind.error();
    if (*kind != "AdmissionReview")
      return bad("not an AdmissionReview: kind is \"" + *kind +
                 "\"; the webhook accepts kind AdmissionReview (admission.k8s.io/v1 or v1beta1)");
    auto api = str(raw_.api, "AdmissionReview", "apiVersion");
    if (!api) return api.error();
    if (*api != "admission.k8s.io/v1" && *api != "admission.k8s.io/v1beta1")
      return bad("unsupported AdmissionReview apiVersion \"" + *api +
                 "\"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    out.api_version = std::move(*api);
    if (raw_.request.state == Group::kWrong)
      return bad(std::string("AdmissionReview.request must be an object, got ") + raw_.request.type);
    if (raw_.request.state == Group::kAbsent) return bad("AdmissionReview has no request object");
    auto uid = str(raw_.uid, "request", "uid");
    if (!uid) return uid.error();
    if (uid->empty()) return bad("AdmissionReview request has no uid");
    out.uid = std::move(*uid);
    auto op = str(raw_.op, "request", "operation");
    if (!op) return op.error();
    if (op->empty()) return bad("AdmissionReview request has no operation");
    out.operation = std::move(*op);
    auto ns = str(raw_.ns, "request", "namespace");
    if (!ns) return ns.error();
    out.namespace_ = std::move(*ns);
    auto name = str(raw_.name, "request", "name");
    if (!name) return name.error();
    out.name = std::move(*name);
    auto sub = str(raw_.sub, "request", "subResource");
    if (!sub) return sub.error();
    out.sub_resource = std::move(*sub);
    if (raw_.dry_state == Raw::kWrong)
      return bad(std::string("request.dryRun must be a boolean, got ") + raw_.dry_type);
    out.dry_run = raw_.dry_state == Raw::kBool && raw_.dry;
    if (raw_.user.state == Group::kWrong)
      return bad(std::string("request.userInfo must be an object, got ") + raw_.user.type);
    if (raw_.user.state == Group::kObject) {
      UserInfo u;
      auto un = str(raw_.user.a, "request.userInfo", "username");
      if (!un) return un.error();
      auto uu = str(raw_.user.b, "request.userInfo", "uid");
      if (!uu) return uu.error();
      u.username = std::move(*un);
      u.uid = std::move(*uu);
      for (auto g : raw_.user.groups) u.groups.emplace_back(g);
      out.user = std::move(u);
    }
    if (raw_.resource.state == Group::kWrong)
      return bad(std::string("request.resource must be an object, got ") + raw_.resource.type);
    if (raw_.resource.state == Group::kObject) {
      auto g = str(raw_.resource.a, "request.resource", "group");
      if (!g) return g.error();
      auto v = str(raw_.resource.b, "request.resource", "version");
      if (!v) return v.error();
      auto r = str(raw_.resource.c, "request.resource", "resource");
      if (!r) return r.error();
      out.resource = {std::move(*g), std::move(*v), std::move(*r)};
    }
    if (raw_.object.state == ObjScan::kWrong)
      return bad(std::string("request.object must be an object, got ") + raw_.object.type);
    if (raw_.old.state == ObjScan::kWrong)
      return bad(std::string("request.oldObject must be an object, got ") + raw_.old.type);
    if (raw_.gvk.state == Group::kWrong)
      return bad(std::string("request.kind must be an object, got ") + raw_.gvk.type);
    if (raw_.gvk.state == Group::kObject) {
      auto g = str(raw_.gvk.a, "request.kind", "group");
      if (!g) return g.error();
      auto v = str(raw_.gvk.b, "request.kind", "version");
      if (!v) return v.error();
      auto k = str(raw_.gvk.c, "request.kind", "kind");
      if (!k) return k.error();
      out.kind = {std::move(*g), std::move(*v), std::move(*k)};
    }
    if (out.kind.kind.empty() && raw_.object.state == ObjScan::kObject) {
      auto ok = str(raw_.object.kind, "request.object", "kind");
      if (!ok) return ok.error();
      auto oa = str(raw_.object.api, "request.object", "apiVersion");
      if (!oa) return oa.error();
      out.kind.kind = std::move(*ok);
      if (auto slash = oa->find('/'); slash == std::string::npos) {
        out.kind.group.clear();
        out.kind.version = *oa;
      } else {
        out.kind.group = oa->substr(0, slash);
        out.kind.version = oa->substr(slash + 1);
      }
    }
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
    std::vector<ContainerImage> imgs;
    if (auto r = images(raw_.object, path, ephemeral_sub, "request.object", imgs); !r) return r.error();
    if (out.operation == "UPDATE" && raw_.old.state == ObjScan::kObject) {
      std::vector<ContainerImage> old;
      if (auto r = images(raw_.old, path, ephemeral_sub, "request.oldObject", old); !r) return r.error();
      std::erase_if(imgs, [&](const ContainerImage& c) {
        return std::any_of(old.begin(), old.end(), [&](const ContainerImage& o) { return o.image == c.image; });
      });
      if (imgs.empty() && !old.empty()) out.not_gated_reason = "no new images on UPDATE";
    }
    out.images = std::move(imgs);
    return out;
  }

  od::parser parser_;
  Raw raw_;
  std::string error_;
  std::vector<std::vector<std::string_view>> keys_ = std::vector<std::vector<std::string_view>>(kMaxDepth + 2);
};
#endif  // SCANGATE_HAVE_SIMDJSON

// CPU time of this thread in ms: the machine is shared, and wall time would count the time
// other processes hold the core.
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Runs f for about `ms` milliseconds of CPU time; returns CPU ns per call.
double time_ns(const std::function<void()>& f, double ms) {
  std::size_t n = 1;
  for (;;) {  // calibrate: at least 1/10 of the time per batch
    double t0 = cpu_ms();
    for (std::size_t i = 0; i < n; ++i) f();
    if (cpu_ms() - t0 >= ms / 10) break;
    n *= 2;
  }
  std::size_t total = 0;
  double t0 = cpu_ms(), el = 0;
  while (el < ms) {
    for (std::size_t i = 0; i < n; ++i) f();
    total += n;
    el = cpu_ms() - t0;
  }
  return el * 1e6 / static_cast<double>(total);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string deployment_path, pod_path;
  std::filesystem::path tmp;
  if (argc == 3) {
    deployment_path = argv[1];
    pod_path = argv[2];
  } else if (argc == 1) {
    const char* td = std::getenv("SCANGATE_TESTDATA");
    std::string testdata = td ? td : SCANGATE_SOURCE_DIR "/../shared/testdata";
    tmp = std::filesystem::temp_directory_path() / ("admission-json-bench." + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp);
    // The same image names as webhook_bench.sh on a loopback registry.
    std::string cmd = "python3 " SCANGATE_SOURCE_DIR "/tests/bench/webhook/make_bodies.py '" + tmp.string() + "' '" +
                      testdata + "' 127.0.0.1:5000/alpine:3.15.11 127.0.0.1:5000/python:3.6.15-alpine3.15 >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "make_bodies.py failed: %s\n", cmd.c_str());
      return 1;
    }
    deployment_path = (tmp / "deployment.json").string();
    pod_path = (tmp / "pod.json").string();
  } else {
    std::fprintf(stderr, "usage: %s [DEPLOYMENT.json POD.json]\n", argv[0]);
    return 2;
  }
  const int reps = std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 9;
  const double ms = std::getenv("BENCH_MS") ? std::atof(std::getenv("BENCH_MS")) : 200;

  struct Body {
    const char* name;
    std::string text;
  };
  std::vector<Body> bodies = {{"deployment.json", slurp(deployment_path)},
                              {"pod.json", slurp(pod_path)},
                              {"pod.json compact", compact(slurp(pod_path))}};
  if (!tmp.empty()) std::filesystem::remove_all(tmp);
  if (const char* only = std::getenv("BENCH_BODY"))  // run only the bodies whose name contains it
    std::erase_if(bodies, [&](const Body& b) { return std::string(b.name).find(only) == std::string::npos; });

#if SCANGATE_HAVE_SIMDJSON
  SimdDecoder simd;
  std::printf("simdjson %d.%d.%d, implementation %s (%s)\n", int(simdjson::SIMDJSON_VERSION_MAJOR),
              int(simdjson::SIMDJSON_VERSION_MINOR), int(simdjson::SIMDJSON_VERSION_REVISION),
              simdjson::get_active_implementation()->name().c_str(),
              simdjson::get_active_implementation()->description().c_str());
#else
  std::printf("simdjson: not found at configure time (libsimdjson-dev); json_tape only\n");
#endif
#if SCANGATE_HAVE_SIMDJSON
  // Validation parity on malformed documents (the invalid cases of json_tape_test.cpp), alone
  // and placed inside a review's request.object, where the decoder must walk past them.
  if (std::getenv("BENCH_VALIDATION")) {
    const char* invalid[] = {"{",
                             "[",
                             "[1,]",
                             "{\"a\":1,}",
                             "{\"a\" 1}",
                             "{a:1}",
                             "[01]",
                             "[1.]",
                             "[.5]",
                             "[1e]",
                             "[+1]",
                             "[-]",
                             "[tru]",
                             "[nul]",
                             "[True]",
                             "\"abc",
                             "\"a\nb\"",
                             "\"\\x\"",
                             "\"\\u12\"",
                             "\"\\uZZZZ\"",
                             "\"\\ud800\"",
                             "\"\\udc00\"",
                             "\"\\ud800\\u0041\"",
                             "[1] [2]",
                             "{}x",
                             "[1 2]",
                             "\"\xFF\"",
                             "\"\xC0\xAF\"",
                             "\"\xED\xA0\x80\"",
                             "\"\xF4\x90\x80\x80\"",
                             "\"\xE2\x82\"",
                             "[NaN]",
                             "[Infinity]",
                             "/* c */ {}",
                             "{\"a\":1]",
                             "[1}",
                             "{\"a\":[1}}",
                             "[1]]",
                             "{\"a\":1}}"};
    int both = 0, total = 0;
    for (const char* doc : invalid) {
      for (int placed = 0; placed < 2; ++placed) {
        std::string body = placed ? std::string(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                                                R"("request":{"uid":"u","operation":"CREATE","object":{"x":)") +
                                        doc + "}}}"
                                  : std::string(doc);
        simdjson::padded_string p(body);
        bool tape_rejects = !parse_admission_review(body).ok();
        auto r = simd.decode(p);
        ++total;
        both += tape_rejects && !r.ok();
        if (tape_rejects && r.ok())
          std::printf("simdjson decoder ACCEPTS malformed %s: %s\n", placed ? "object" : "body", body.c_str());
      }
    }
    std::printf("malformed documents rejected by both: %d of %d\n", both, total);
    return 0;
  }
#endif
  std::printf("%d repetitions of %.0f ms (thread CPU time) per parser and body, interleaved; medians (min-max)\n\n",
              reps, ms);
  std::printf("%-18s %-34s %10s %10s %16s\n", "body", "parser", "ns/op", "MB/s", "ns/op min-max");

  for (auto& b : bodies) {
    auto ref = parse_admission_review(b.text);
    if (!ref) {
      std::fprintf(stderr, "%s: json_tape rejects it: %s\n", b.name, ref.error().message.c_str());
      return 1;
    }
    std::vector<std::pair<std::string, std::function<void()>>> runs;
    runs.emplace_back("json_tape (parse_admission_review)", [&] {
      auto r = parse_admission_review(b.text);
      if (!r || r->images.empty()) std::abort();
    });
#if SCANGATE_HAVE_SIMDJSON
    simdjson::padded_string padded(b.text);
    auto alt = simd.decode(padded);
    if (!alt) {
      std::fprintf(stderr, "%s: simdjson decoder rejects it: %s\n", b.name, alt.error().message.c_str());
      return 1;
    }
    if (!same(*ref, *alt)) {
      std::fprintf(stderr, "%s: the two decoders disagree\n", b.name);
      return 1;
    }
    runs.emplace_back("simdjson On-Demand (same decode)", [&] {
      auto r = simd.decode(padded);
      if (!r || r->images.empty()) std::abort();
    });
    runs.emplace_back("  incl. copy into padded_string", [&] {
      simdjson::padded_string p(b.text);
      auto r = simd.decode(p);
      if (!r || r->images.empty()) std::abort();
    });
    simdjson::ondemand::parser floor_parser;
    runs.emplace_back("simdjson stage 1 only (floor)", [&] {
      auto d = floor_parser.iterate(padded);
      if (d.error()) std::abort();
    });
#endif
    std::printf("%-18s images: ", (std::string(b.name) + " (" + std::to_string(b.text.size()) + " B)").c_str());
    for (const auto& c : ref->images) std::printf("%s=%s ", c.container.c_str(), c.image.c_str());
    std::printf("(identical from both decoders)\n");
    if (const char* only = std::getenv("BENCH_ONLY"))  // a substring of the parser names to run
      std::erase_if(runs, [&](const auto& r) { return r.first.find(only) == std::string::npos; });
    if (const char* calls = std::getenv("BENCH_CALLS")) {  // fixed call counts, for valgrind --tool=callgrind
      for (auto& r : runs)
        for (long i = 0, n = std::atol(calls); i < n; ++i) r.second();
      continue;
    }
    std::vector<std::vector<double>> ns(runs.size());
    for (int r = 0; r < reps; ++r)
      for (std::size_t i = 0; i < runs.size(); ++i) ns[i].push_back(time_ns(runs[i].second, ms));
    for (std::size_t i = 0; i < runs.size(); ++i) {
      double m = median(ns[i]);
      double mbps = static_cast<double>(b.text.size()) / m * 1e3;  // bytes per ns = GB/s; *1e3 -> MB/s
      char range[40];
      std::snprintf(range, sizeof range, "%.0f-%.0f", *std::min_element(ns[i].begin(), ns[i].end()),
                    *std::max_element(ns[i].begin(), ns[i].end()));
      std::printf("%-18s %-34s %10.0f %10.0f %16s\n", "", runs[i].first.c_str(), m, mbps, range);
    }
    // The two decoders ran back to back in each repetition: their ratio drifts less than either.
    if (runs.size() >= 2 && runs[0].first.starts_with("json_tape") && runs[1].first.starts_with("simdjson On")) {
      std::vector<double> ratio;
      for (int r = 0; r < reps; ++r) ratio.push_back(ns[0][r] / ns[1][r]);
      std::printf("%-18s json_tape / simdjson time, per repetition: median %.2f (%.2f-%.2f)\n", "", median(ratio),
                  *std::min_element(ratio.begin(), ratio.end()), *std::max_element(ratio.begin(), ratio.end()));
    }
  }
  return 0;
}
