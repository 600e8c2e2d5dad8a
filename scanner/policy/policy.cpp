#include "scanner/policy/policy.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "scanner/policy/ignore_file.h"
#include "scanner/policy/image_name.h"

namespace scangate::policy {

const char* to_string(Mode m) {
  switch (m) {
    case Mode::kEnforce: return "enforce";
    case Mode::kWarn: return "warn";
    case Mode::kAudit: return "audit";
  }
  return "enforce";
}

const char* to_string(SecretAction a) {
  switch (a) {
    case SecretAction::kDeny: return "deny";
    case SecretAction::kWarn: return "warn";
    case SecretAction::kIgnore: return "ignore";
  }
  return "deny";
}

const char* to_string(ScanFailureAction a) { return a == ScanFailureAction::kAllow ? "allow" : "deny"; }

bool Limits::empty() const {
  for (const auto& l : by_severity)
    if (l) return false;
  return true;
}

void Limits::merge(const Limits& other) {
  for (size_t i = 0; i < by_severity.size(); ++i)
    if (other.by_severity[i]) by_severity[i] = other.by_severity[i];
}

Limits Policy::critical_zero() {
  Limits l;
  l.set(Severity::kCritical, 0);
  return l;
}

Policy Policy::default_policy() {
  Policy p;
  p.revision = policy_revision(p);
  return p;
}

// ---- durations ----

namespace {
constexpr int64_t kMaxDurationSeconds = int64_t{10} * 365 * 86400;
}

Result<int64_t> parse_duration(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::kInvalidArgument,
                 "'" + std::string(s) + "' is not a duration (" + why + "); write e.g. 24h, 30m, 90s, 7d or 1h30m");
  };
  if (s.empty()) return bad("empty");
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return bad("expected a number at '" + std::string(s.substr(start)) + "'");
    if (i - start > 9) return bad("number too large");
    int64_t n = std::stoll(std::string(s.substr(start, i - start)));
    if (i == s.size()) return bad("missing unit after " + std::to_string(n) + "; units are s, m, h, d");
    int64_t mul = 0;
    switch (s[i]) {
      case 's': mul = 1; break;
      case 'm': mul = 60; break;
      case 'h': mul = 3600; break;
      case 'd': mul = 86400; break;
      default: return bad(std::string("unknown unit '") + s[i] + "'; units are s, m, h, d");
    }
    ++i;
    total += n * mul;
    if (total > kMaxDurationSeconds) return bad("more than 10 years");
  }
  if (total <= 0) return bad("must be more than zero");
  return total;
}

std::string format_duration(int64_t seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  const std::pair<int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, unit] : units) {
    if (seconds >= size) {
      out += std::to_string(seconds / size) + unit;
      seconds %= size;
    }
  }
  return out;
}

// ---- the parser ----

namespace {

constexpr const char* kSeverityNames = "CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN";

std::optional<Severity> severity_name(std::string_view s) {
  std::string u(s);
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "CRITICAL") return Severity::kCritical;
  if (u == "HIGH") return Severity::kHigh;
  if (u == "MEDIUM") return Severity::kMedium;
  if (u == "LOW") return Severity::kLow;
  if (u == "UNKNOWN") return Severity::kUnknown;
  return std::nullopt;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "no value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (s.size() > 80) out += "…";
  return out + "'";
}

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  Result<Policy> run(std::string_view text);

 private:
  struct Entry {
    std::string key;   // as written
    std::string path;  // "scan.maxAge"
    YAML::Node value;
    int line;  // the key's line
  };

  std::string name_;
  std::vector<std::string> errors_;

  static int line_of(const YAML::Node& n, int fallback) {
    YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : fallback;
  }
  static std::string child(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  void fail(int line, const std::string& path, const std::string& msg) {
    std::string e = name_ + ":" + std::to_string(line) + ": ";
    if (!path.empty()) e += "key '" + path + "': ";
    errors_.push_back(e + msg);
  }

  // The entries of a map, in order. Reports a value that is not a map, keys that are not plain
  // strings, duplicates, and keys outside `allowed` (when `allowed` is non-empty).
  std::vector<Entry> entries(const YAML::Node& map, const std::string& path, int line,
                             const std::vector<std::string>& allowed, const std::string& allowed_text = "") {
    std::vector<Entry> out;
    if (!map.IsMap()) {
      fail(line, path, std::string("expected a map of keys, got ") + kind_of(map));
      return out;
    }
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      int kline = line_of(it->first, line);
      if (!it->first.IsScalar()) {
        fail(kline, path, "a key must be a plain name, not " + std::string(kind_of(it->first)));
        continue;
      }
      std::string key = it->first.Scalar();
      std::string kpath = child(path, key);
      if (!seen.insert(key).second) {
        fail(kline, kpath, "appears twice; give each key once");
        continue;
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        fail(kline, kpath, "unknown key; allowed: " + (allowed_text.empty() ? join(allowed, ", ") : allowed_text));
        continue;
      }
      out.push_back({key, kpath, it->second, kline});
    }
    return out;
  }

  std::optional<std::string> str(const Entry& e) { return str(e.value, e.path, e.line); }
  std::optional<std::string> str(const YAML::Node& v, const std::string& path, int line) {
    if (!v.IsScalar()) {
      fail(line, path, std::string("expected a single value, got ") + kind_of(v));
      return std::nullopt;
    }
    return v.Scalar();
  }

  std::optional<std::string> nonempty_str(const Entry& e, const std::string& what) {
    auto s = str(e);
    if (s && s->empty()) {
      fail(e.line, e.path, "is empty; " + what);
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const Entry& e) {
    auto s = str(e);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "True" || *s == "TRUE") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE") return false;
    fail(e.line, e.path, quote(*s) + " is not a boolean; allowed: true, false");
    return std::nullopt;
  }

  std::optional<int> integer(const YAML::Node& v, const std::string& path, int line, int lo, int hi) {
    auto s = str(v, path, line);
    if (!s) return std::nullopt;
    int n = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (s->empty() || ec != std::errc() || ptr != s->data() + s->size() || n < lo || n > hi) {
      fail(line, path,
           quote(*s) + " is not allowed; expected a whole number from " + std::to_string(lo) + " to " +
               std::to_string(hi));
      return std::nullopt;
    }
    return n;
  }

  std::optional<double> number(const Entry& e, double lo, double hi) {
    auto s = str(e);
    if (!s) return std::nullopt;
    double d = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
    if (s->empty() || ec != std::errc() || ptr != s->data() + s->size() || !std::isfinite(d) || d < lo || d > hi) {
      std::ostringstream range;
      range << lo << " to " << hi;
      fail(e.line, e.path, quote(*s) + " is not allowed; expected a number from " + range.str());
      return std::nullopt;
    }
    return d;
  }

  // Index into `allowed`, or nullopt after reporting.
  std::optional<size_t> choice(const Entry& e, const std::vector<std::string>& allowed) {
    auto s = str(e);
    if (!s) return std::nullopt;
    for (size_t i = 0; i < allowed.size(); ++i)
      if (*s == allowed[i]) return i;
    fail(e.line, e.path, quote(*s) + " is not allowed; allowed: " + join(allowed, ", "));
    return std::nullopt;
  }

  std::optional<Mode> mode(const Entry& e) {
    auto i = choice(e, {"enforce", "warn", "audit"});
    if (!i) return std::nullopt;
    return static_cast<Mode>(*i);
  }

  std::optional<SecretAction> secret_action(const Entry& e) {
    auto i = choice(e, {"deny", "warn", "ignore"});
    if (!i) return std::nullopt;
    return static_cast<SecretAction>(*i);
  }

  std::optional<ScanFailureAction> scan_action(const Entry& e) {
    auto i = choice(e, {"deny", "allow"});
    if (!i) return std::nullopt;
    return *i == 0 ? ScanFailureAction::kDeny : ScanFailureAction::kAllow;
  }

  std::optional<Severity> severity(const Entry& e) {
    auto s = str(e);
    if (!s) return std::nullopt;
    auto sev = severity_name(*s);
    if (!sev) fail(e.line, e.path, quote(*s) + " is not a severity; allowed: " + kSeverityNames);
    return sev;
  }

  // A list of non-empty strings; `check` may reject an item with a message.
  std::optional<std::vector<std::string>> string_list(
      const Entry& e, const std::function<std::optional<std::string>(const std::string&)>& check = {}) {
    if (!e.value.IsSequence()) {
      fail(e.line, e.path,
           std::string("expected a list, got ") + kind_of(e.value) + "; write [a, b] or one `- item` per line");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < e.value.size(); ++i) {
      const YAML::Node& item = e.value[i];
      std::string ipath = e.path + "[" + std::to_string(i) + "]";
      int iline = line_of(item, e.line);
      auto s = str(item, ipath, iline);
      if (!s) {
        ok = false;
        continue;
      }
      if (s->empty()) {
        fail(iline, ipath, "is empty; remove it or write a name or pattern");
        ok = false;
        continue;
      }
      if (check) {
        if (auto why = check(*s)) {
          fail(iline, ipath, *why);
          ok = false;
          continue;
        }
      }
      out.push_back(*s);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  static std::optional<std::string> check_image_pattern(const std::string& s) {
    if (s.rfind("sha256:", 0) == 0 && !is_sha256_digest(s))
      return quote(s) + " is not a digest; write sha256: and 64 lowercase hex digits, or a repository glob";
    if (s.find('@') != std::string::npos)
      return quote(s) + " has an '@'; write the digest alone (sha256:...) or a repository glob";
    return std::nullopt;
  }

  std::optional<Limits> limits(const Entry& e) {
    Limits l;
    bool ok = true;
    auto es = entries(e.value, e.path, e.line, {});
    if (!e.value.IsMap()) return std::nullopt;
    std::set<Severity> seen;
    for (const auto& le : es) {
      auto sev = severity_name(le.key);
      if (!sev) {
        fail(le.line, le.path, "unknown severity; allowed: " + std::string(kSeverityNames));
        ok = false;
        continue;
      }
      if (!seen.insert(*sev).second) {
        fail(le.line, le.path, "names a severity given already; give each severity once");
        ok = false;
        continue;
      }
      auto n = integer(le.value, le.path, le.line, 0, 1000000);
      if (!n) {
        ok = false;
        continue;
      }
      l.set(*sev, *n);
    }
    if (!ok) return std::nullopt;
    return l;
  }

  void parse_secrets(const Entry& e, std::optional<SecretAction>& action, std::optional<Severity>& min) {
    for (const auto& se : entries(e.value, e.path, e.line, {"action", "minSeverity"})) {
      if (se.key == "action")
        action = secret_action(se);
      else
        min = severity(se);
    }
  }

  void parse_scan(const Entry& e, ScanRule& scan) {
    for (const auto& se : entries(e.value, e.path, e.line, {"onPending", "onError", "maxAge"})) {
      if (se.key == "onPending") {
        if (auto a = scan_action(se)) scan.on_pending = *a;
      } else if (se.key == "onError") {
        if (auto a = scan_action(se)) scan.on_error = *a;
      } else {
        auto s = str(se);
        if (!s) continue;
        auto d = parse_duration(*s);
        if (!d.ok())
          fail(se.line, se.path, d.error().message);
        else
          scan.max_age_seconds = *d;
      }
    }
  }

  std::optional<Exception> exception(const YAML::Node& node, const std::string& path, int line) {
    Exception x;
    x.line = line;
    bool has_id = false, has_expires = false, has_reason = false;
    size_t errors_before = errors_.size();
    for (const auto& e : entries(node, path, line, {"id", "images", "namespaces", "expires", "reason"})) {
      if (e.key == "id") {
        has_id = true;
        if (auto s = nonempty_str(e, "write a vulnerability id, a secret rule id or a glob such as GHSA-*")) x.id = *s;
      } else if (e.key == "images") {
        if (auto l = string_list(e, check_image_pattern)) x.images = *l;
      } else if (e.key == "namespaces") {
        if (auto l = string_list(e)) x.namespaces = *l;
      } else if (e.key == "expires") {
        auto s = str(e);
        has_expires = true;
        if (!s) continue;
        if (!is_iso_date(*s))
          fail(e.line, e.path, quote(*s) + " is not a date; write a real date as YYYY-MM-DD");
        else
          x.expires = *s;
      } else {
        has_reason = true;
        if (auto s = nonempty_str(e, "say why the finding is accepted (e.g. a ticket)")) x.reason = *s;
      }
    }
    if (node.IsMap()) {
      if (!has_id) fail(line, child(path, "id"), "missing; every exception needs the id (or glob) it accepts");
      if (!has_expires)
        fail(line, child(path, "expires"), "missing; every exception needs an expiry date (YYYY-MM-DD)");
      if (!has_reason) fail(line, child(path, "reason"), "missing; every exception needs a reason (e.g. a ticket)");
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return x;
  }

  std::optional<Override> override_entry(const YAML::Node& node, const std::string& path, int line) {
    Override o;
    o.line = line;
    size_t errors_before = errors_.size();
    bool has_ns = false, changes = false;
    for (const auto& e :
         entries(node, path, line, {"namespaces", "mode", "limits", "ignoreUnfixed", "minCVSS", "secrets"})) {
      if (e.key == "namespaces") {
        has_ns = true;
        if (auto l = string_list(e)) {
          if (l->empty()) fail(e.line, e.path, "is empty; name at least one namespace or glob");
          o.namespaces = *l;
        }
        continue;
      }
      changes = true;
      if (e.key == "mode")
        o.mode = mode(e);
      else if (e.key == "limits") {
        if (auto l = limits(e)) o.limits = *l;
      } else if (e.key == "ignoreUnfixed")
        o.ignore_unfixed = boolean(e);
      else if (e.key == "minCVSS")
        o.min_cvss = number(e, 0, 10);
      else
        parse_secrets(e, o.secrets_action, o.secrets_min_severity);
    }
    if (node.IsMap()) {
      if (!has_ns) fail(line, child(path, "namespaces"), "missing; an override needs the namespaces it applies to");
      if (!changes)
        fail(line, path, "changes nothing; give at least one of mode, limits, ignoreUnfixed, minCVSS, secrets");
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return o;
  }

  template <class T, class F>
  std::vector<T> list_of_maps(const Entry& e, F parse_one) {
    std::vector<T> out;
    if (!e.value.IsSequence()) {
      fail(e.line, e.path, std::string("expected a list, got ") + kind_of(e.value) + "; start each item with `- `");
      return out;
    }
    for (size_t i = 0; i < e.value.size(); ++i) {
      const YAML::Node& item = e.value[i];
      if (auto v = (this->*parse_one)(item, e.path + "[" + std::to_string(i) + "]", line_of(item, e.line)))
        out.push_back(std::move(*v));
    }
    return out;
  }

  void top(const YAML::Node& root, Policy& p) {
    bool has_api = false, has_kind = false;
    const std::vector<std::string> allowed = {"apiVersion",       "kind",         "mode",       "limits",
                                              "ignoreUnfixed",    "minCVSS",      "secrets",    "scan",
                                              "exemptNamespaces", "exemptImages", "exceptions", "overrides"};
    for (const auto& e : entries(root, "", 1, allowed)) {
      if (e.key == "apiVersion") {
        has_api = true;
        auto s = str(e);
        if (s && *s != kApiVersion)
          fail(e.line, e.path, quote(*s) + " is not supported; allowed: " + std::string(kApiVersion));
      } else if (e.key == "kind") {
        has_kind = true;
        auto s = str(e);
        if (s && *s != kKind) fail(e.line, e.path, quote(*s) + " is not allowed; allowed: " + std::string(kKind));
      } else if (e.key == "mode") {
        if (auto m = mode(e)) p.mode = *m;
      } else if (e.key == "limits") {
        if (auto l = limits(e)) p.limits = *l;
      } else if (e.key == "ignoreUnfixed") {
        if (auto b = boolean(e)) p.ignore_unfixed = *b;
      } else if (e.key == "minCVSS") {
        if (auto d = number(e, 0, 10)) p.min_cvss = *d;
      } else if (e.key == "secrets") {
        std::optional<SecretAction> action;
        std::optional<Severity> min;
        parse_secrets(e, action, min);
        if (action) p.secrets.action = *action;
        if (min) p.secrets.min_severity = *min;
      } else if (e.key == "scan") {
        parse_scan(e, p.scan);
      } else if (e.key == "exemptNamespaces") {
        if (auto l = string_list(e)) p.exempt_namespaces = *l;
      } else if (e.key == "exemptImages") {
        if (auto l = string_list(e, check_image_pattern)) p.exempt_images = *l;
      } else if (e.key == "exceptions") {
        p.exceptions = list_of_maps<Exception>(e, &Parser::exception);
      } else {
        p.overrides = list_of_maps<Override>(e, &Parser::override_entry);
      }
    }
    if (root.IsMap()) {
      if (!has_api) fail(1, "apiVersion", "missing; the first line should be apiVersion: " + std::string(kApiVersion));
      if (!has_kind) fail(1, "kind", "missing; write kind: Policy");
    }
  }
};

Result<Policy> Parser::run(std::string_view text) {
  if (text.size() > kMaxPolicyBytes)
    return Error(ErrorKind::kLimit, name_ + ": the policy is " + std::to_string(text.size()) + " bytes; at most " +
                                        std::to_string(kMaxPolicyBytes) + " are read");
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    std::string where = e.mark.column >= 0 ? " (column " + std::to_string(e.mark.column + 1) + ")" : "";
    return Error(ErrorKind::kFormat, name_ + ":" + std::to_string(line) + ": not valid YAML: " + e.msg + where);
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, name_ + ": not valid YAML: " + e.what()); }
  if (docs.empty() || docs[0].IsNull())
    return Error(ErrorKind::kFormat, name_ + ":1: the policy is empty; start with apiVersion: " +
                                         std::string(kApiVersion) + " and kind: Policy");
  if (docs.size() > 1)
    return Error(ErrorKind::kFormat, name_ + ":" + std::to_string(line_of(docs[1], 1)) +
                                         ": a second YAML document starts here; put one policy in a file");
  Policy p;
  p.name = name_;
  try {
    if (!docs[0].IsMap()) {
      fail(line_of(docs[0], 1), "", std::string("the policy must be a map of keys, got ") + kind_of(docs[0]));
    } else {
      top(docs[0], p);
    }
  } catch (const std::exception& e) {  // yaml-cpp conversions should not throw here; never crash
    fail(1, "", std::string("cannot read the policy: ") + e.what());
  }
  if (!errors_.empty()) return Error(ErrorKind::kFormat, join(errors_, "\n"));
  p.revision = policy_revision(p);
  return p;
}

}  // namespace

Result<Policy> parse_policy(std::string_view yaml, const std::string& name) { return Parser(name).run(yaml); }

Result<Policy> load_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kNotFound, "cannot read policy file " + path + ": check the path and permissions");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxPolicyBytes)
      return Error(ErrorKind::kLimit, path + ": the policy file is larger than " + std::to_string(kMaxPolicyBytes) +
                                          " bytes; is it the right file?");
  }
  if (in.bad()) return Error(ErrorKind::kIo, "cannot read policy file " + path);
  return parse_policy(text, path);
}

// ---- canonical form and revision ----

namespace {

nlohmann::json limits_json(const Limits& l) {
  nlohmann::json o = nlohmann::json::object();
  for (int s = 0; s < 5; ++s)
    if (auto n = l.get(static_cast<Severity>(s))) o[vulndb::to_string(static_cast<Severity>(s))] = *n;
  return o;
}

}  // namespace

std::string canonical_json(const Policy& p) {
  nlohmann::json j;
  j["apiVersion"] = kApiVersion;
  j["kind"] = kKind;
  j["mode"] = to_string(p.mode);
  j["limits"] = limits_json(p.limits);
  j["ignoreUnfixed"] = p.ignore_unfixed;
  j["minCVSS"] = p.min_cvss;
  j["secrets"] = {{"action", to_string(p.secrets.action)}, {"minSeverity", vulndb::to_string(p.secrets.min_severity)}};
  j["scan"] = {{"onPending", to_string(p.scan.on_pending)},
               {"onError", to_string(p.scan.on_error)},
               {"maxAgeSeconds", p.scan.max_age_seconds}};
  j["exemptNamespaces"] = p.exempt_namespaces;
  j["exemptImages"] = p.exempt_images;
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& x : p.exceptions)
    ex.push_back({{"id", x.id},
                  {"images", x.images},
                  {"namespaces", x.namespaces},
                  {"expires", x.expires},
                  {"reason", x.reason}});
  j["exceptions"] = ex;
  nlohmann::json ov = nlohmann::json::array();
  for (const auto& o : p.overrides) {
    nlohmann::json oj = {{"namespaces", o.namespaces}};
    if (o.mode) oj["mode"] = to_string(*o.mode);
    if (!o.limits.empty()) oj["limits"] = limits_json(o.limits);
    if (o.ignore_unfixed) oj["ignoreUnfixed"] = *o.ignore_unfixed;
    if (o.min_cvss) oj["minCVSS"] = *o.min_cvss;
    if (o.secrets_action) oj["secretsAction"] = to_string(*o.secrets_action);
    if (o.secrets_min_severity) oj["secretsMinSeverity"] = vulndb::to_string(*o.secrets_min_severity);
    ov.push_back(std::move(oj));
  }
  j["overrides"] = ov;
  return j.dump();
}

std::string policy_revision(const Policy& p) {
  std::string c = canonical_json(p);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(c.data(), c.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

}  // namespace scangate::policy
