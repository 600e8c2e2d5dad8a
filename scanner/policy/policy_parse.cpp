// The policy file's grammar, on scanner/core/yaml_schema.h: every key of scanner/policy/README.md
// with its type, what it requires, and the checks the schema types do not know (dates, digests,
// an override that changes nothing). Errors read "policy.yaml:7: key 'scan.maxAge': ...".
#include <algorithm>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>

#include "scanner/core/yaml_schema.h"
#include "scanner/policy/ignore_file.h"
#include "scanner/policy/image_name.h"
#include "scanner/policy/policy.h"

namespace scangate::policy {

namespace {

namespace ys = yaml_schema;

// In the order messages list them; kSeverities[i] is the severity of kSeverityNames[i].
const std::vector<std::string> kSeverityNames = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"};
constexpr Severity kSeverities[] = {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow,
                                    Severity::kUnknown};

std::optional<Severity> severity_name(std::string_view s) {
  std::string u(s);
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i)
    if (u == kSeverityNames[i]) return kSeverities[i];
  return std::nullopt;
}

ys::Type severity(std::function<void(Severity)> set) {
  return ys::one_of(kSeverityNames, [set = std::move(set)](std::size_t i) { set(kSeverities[i]); },
                    {.ignore_case = true, .rejection = "is not a severity"});
}

// One of an enum's values, by the names to_string() gives them (the enums count from 0).
template <class E>
ys::Type enum_of(std::initializer_list<E> values, std::function<void(E)> set) {
  std::vector<std::string> names;
  for (E v : values) names.push_back(to_string(v));
  return ys::one_of(std::move(names), [set = std::move(set)](std::size_t i) { set(static_cast<E>(i)); });
}

ys::Type mode(std::function<void(Mode)> set) {
  return enum_of({Mode::kEnforce, Mode::kWarn, Mode::kAudit}, std::move(set));
}

ys::Type secret_action(std::function<void(SecretAction)> set) {
  return enum_of({SecretAction::kDeny, SecretAction::kWarn, SecretAction::kIgnore}, std::move(set));
}

ys::Type scan_action(ScanFailureAction& out) {
  return enum_of<ScanFailureAction>({ScanFailureAction::kDeny, ScanFailureAction::kAllow},
                                    [&out](ScanFailureAction a) { out = a; });
}

std::optional<std::string> check_image_pattern(const std::string& s) {
  if (s.rfind("sha256:", 0) == 0 && !is_sha256_digest(s))
    return ys::quote(s) + " is not a digest; write sha256: and 64 lowercase hex digits, or a repository glob";
  if (s.find('@') != std::string::npos)
    return ys::quote(s) + " has an '@'; write the digest alone (sha256:...) or a repository glob";
  return std::nullopt;
}

std::optional<std::string> check_date(const std::string& s) {
  if (is_iso_date(s)) return std::nullopt;
  return ys::quote(s) + " is not a date; write a real date as YYYY-MM-DD";
}

// A list of non-empty names or globs; `check` may reject one.
ys::Type names(std::vector<std::string>& out,
               std::function<std::optional<std::string>(const std::string&)> check = nullptr) {
  return ys::list(ys::string([&out](std::string s) { out.push_back(std::move(s)); },
                             {.if_empty = "remove it or write a name or pattern", .check = std::move(check)}),
                  {.hint = "write [a, b] or one `- item` per line"});
}

// Replaces `out` when the key is given: without it the default {CRITICAL: 0} holds, and
// `limits: {}` means no limit at all.
ys::Type limits(Limits& out) {
  auto seen = std::make_shared<std::set<Severity>>();
  ys::Type severities = ys::free_map(
      [seen](const std::string& key) -> std::optional<std::string> {
        auto sev = severity_name(key);
        if (!sev) return "unknown severity; allowed: " + ys::join(kSeverityNames);
        if (!seen->insert(*sev).second) return "names a severity given already; give each severity once";
        return std::nullopt;
      },
      [&out](const std::string& key) {
        const Severity sev = *severity_name(key);
        return ys::integer(0, 1000000, [&out, sev](std::int64_t n) { out.set(sev, static_cast<int>(n)); });
      });
  return ys::Type{ys::Shape::kMap, severities.expected,
                  [&out, seen, severities](const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
                    out = Limits{};
                    seen->clear();
                    severities(n, w, c);
                  }};
}

ys::Type secrets(std::function<void(SecretAction)> action, std::function<void(Severity)> min) {
  return ys::mapping({{"action", secret_action(std::move(action))}, {"minSeverity", severity(std::move(min))}});
}

const ys::ListRules kItems{.hint = "start each item with `- `"};

constexpr std::int64_t kMaxAgeLimit = std::int64_t{10} * 365 * 86400;

// maxAge is counted in whole seconds, from one second to ten years.
std::optional<std::string> check_max_age(std::chrono::nanoseconds d, const std::string& text) {
  if (d < std::chrono::seconds(1) || d > std::chrono::seconds(kMaxAgeLimit) || d % std::chrono::seconds(1) != d.zero())
    return ys::quote(text) + " is not allowed; expected whole seconds from 1s to 3650d (10 years)";
  return std::nullopt;
}

void read_exception(Exception& x, const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
  x.line = w.line;
  auto set = [](std::string& field) { return [&field](std::string s) { field = std::move(s); }; };
  ys::mapping({
      {"id", ys::string(set(x.id), {.if_empty = "write a vulnerability id, a secret rule id or a glob such as GHSA-*"}),
       true, "every exception needs the id (or glob) it accepts"},
      {"images", names(x.images, check_image_pattern)},
      {"namespaces", names(x.namespaces)},
      {"expires", ys::string(set(x.expires), {.check = check_date}), true,
       "every exception needs an expiry date (YYYY-MM-DD)"},
      {"reason", ys::string(set(x.reason), {.if_empty = "say why the finding is accepted (e.g. a ticket)"}), true,
       "every exception needs a reason (e.g. a ticket)"},
  })(n, w, c);
}

void read_override(Override& o, const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
  o.line = w.line;
  ys::Type namespaces = names(o.namespaces);
  ys::Type at_least_one{ys::Shape::kList, namespaces.expected,
                        [namespaces](const YAML::Node& v, const ys::Where& vw, ys::Checker& vc) {
                          namespaces(v, vw, vc);
                          if (v.IsSequence() && v.size() == 0)
                            vc.value_error(vw, "is empty; name at least one namespace or glob");
                        }};
  const std::vector<std::string> changes = {"mode", "limits", "ignoreUnfixed", "minCVSS", "secrets", "scan"};
  ys::mapping({
      {"namespaces", at_least_one, true, "an override needs the namespaces it applies to"},
      {changes[0], mode([&o](Mode m) { o.mode = m; })},
      {changes[1], limits(o.limits)},
      {changes[2], ys::boolean([&o](bool b) { o.ignore_unfixed = b; })},
      {changes[3], ys::number(0, 10, [&o](double d) { o.min_cvss = d; })},
      {changes[4],
       secrets([&o](SecretAction a) { o.secrets_action = a; }, [&o](Severity s) { o.secrets_min_severity = s; })},
      {changes[5], ys::mapping({
                       {"requireAttestation", ys::boolean([&o](bool b) { o.require_attestation = b; })},
                   })},
  })(n, w, c);
  if (!n.IsMap()) return;
  for (const auto& kv : n)
    if (kv.first.IsScalar() && std::find(changes.begin(), changes.end(), kv.first.Scalar()) != changes.end()) return;
  c.value_error(w, "changes nothing; give at least one of " + ys::join(changes));
}

ys::Type policy_schema(Policy& p) {
  const std::string api(kApiVersion), kind(kKind);
  auto nothing = [](std::size_t) {};
  return ys::mapping({
      {"apiVersion", ys::one_of({api}, nothing, {.rejection = "is not supported"}), true,
       "the first line should be apiVersion: " + api},
      {"kind", ys::one_of({kind}, nothing), true, "write kind: " + kind},
      {"mode", mode([&p](Mode m) { p.mode = m; })},
      {"limits", limits(p.limits)},
      {"ignoreUnfixed", ys::boolean([&p](bool b) { p.ignore_unfixed = b; })},
      {"minCVSS", ys::number(0, 10, [&p](double d) { p.min_cvss = d; })},
      {"secrets",
       secrets([&p](SecretAction a) { p.secrets.action = a; }, [&p](Severity s) { p.secrets.min_severity = s; })},
      {"scan", ys::mapping({
                   {"onPending", scan_action(p.scan.on_pending)},
                   {"onError", scan_action(p.scan.on_error)},
                   {"maxAge", ys::duration(
                                  [&p](std::chrono::nanoseconds d) {
                                    p.scan.max_age_seconds =
                                        std::chrono::duration_cast<std::chrono::seconds>(d).count();
                                  },
                                  {.check = check_max_age})},
                   {"requireAttestation", ys::boolean([&p](bool b) { p.scan.require_attestation = b; })},
               })},
      {"exemptNamespaces", names(p.exempt_namespaces)},
      {"exemptImages", names(p.exempt_images, check_image_pattern)},
      {"exceptions", ys::list_into<Exception>(p.exceptions, read_exception, kItems)},
      {"overrides", ys::list_into<Override>(p.overrides, read_override, kItems)},
  });
}

// "policy.yaml:7: key 'scan.maxAge': <what>"
std::string render(const std::string& name, const ys::Problem& p) {
  std::string out = name + (p.line > 0 ? ":" + std::to_string(p.line) : "") + ": ";
  if (p.kind == ys::ProblemKind::kSyntax) {
    out += "not valid YAML: " + p.message;
    if (p.column > 0) out += " (column " + std::to_string(p.column) + ")";
    return out;
  }
  if (!p.path.empty()) out += "key '" + p.path + "': ";
  return out + ys::describe(p);
}

int line_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 1;
}

}  // namespace

Result<int64_t> parse_duration(std::string_view s) {
  auto r = try_parse_duration(s);
  if (const auto* e = std::get_if<DurationError>(&r))
    return Error(ErrorKind::kInvalidArgument, ys::not_a_duration(s, *e));
  const auto d = std::get<std::chrono::nanoseconds>(r);
  if (auto why = check_max_age(d, std::string(s))) return Error(ErrorKind::kInvalidArgument, *why);
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

Result<Policy> parse_policy(std::string_view text, const std::string& name) {
  if (text.size() > kMaxPolicyBytes)
    return Error(ErrorKind::kLimit, name + ": the policy is " + std::to_string(text.size()) + " bytes; at most " +
                                        std::to_string(kMaxPolicyBytes) + " are read");
  ys::Checker c;
  auto failed = [&] {
    return Error(ErrorKind::kFormat, c.render([&](const ys::Problem& p) { return render(name, p); }));
  };
  auto docs = ys::load_all(text, c);
  if (!docs) return failed();
  if (docs->empty() || (*docs)[0].IsNull())
    return Error(ErrorKind::kFormat, name + ":1: the policy is empty; start with apiVersion: " +
                                         std::string(kApiVersion) + " and kind: " + std::string(kKind));
  if (docs->size() > 1)
    return Error(ErrorKind::kFormat, name + ":" + std::to_string(line_of((*docs)[1])) +
                                         ": a second YAML document starts here; put one policy in a file");
  const YAML::Node& root = (*docs)[0];
  if (!root.IsMap())
    return Error(ErrorKind::kFormat, name + ":" + std::to_string(line_of(root)) +
                                         ": the policy must be a map of keys, got " + ys::kind_of(root));
  Policy p;
  p.name = name;
  try {
    ys::check(root, policy_schema(p), c);
  } catch (const std::exception& e) {  // yaml-cpp conversions should not throw here; never crash
    c.value_error(ys::Where{}, std::string("cannot read the policy: ") + e.what());
  }
  if (!c.ok()) return failed();
  p.revision = policy_revision(p);
  return p;
}

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

}  // namespace scangate::policy
