#include "scanner/secret/secret_config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "scanner/core/yaml_schema.h"

namespace scangate {

namespace {

namespace ys = yaml_schema;

// Trivy's format reads `key:` with no value as empty, for strings, lists and maps alike.
ys::Type text(std::string& out) {
  return ys::string([&out](std::string s) { out = std::move(s); }, {.null_is_empty = true});
}

ys::Type texts(std::vector<std::string>& out) {
  return ys::list(ys::string([&out](std::string s) { out.push_back(std::move(s)); }, {.null_is_empty = true}),
                  {.null_is_empty = true});
}

ys::Type exclude_block(SecretExcludeBlockSpec& out) {
  return ys::mapping({{"description", text(out.description)}, {"regexes", texts(out.regexes)}},
                     {.null_is_empty = true});
}

void read_allow_rule(SecretAllowRuleSpec& a, const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
  ys::mapping(
      {{"id", text(a.id)}, {"description", text(a.description)}, {"regex", text(a.regex)}, {"path", text(a.path)}})(
      n, w, c);
  if (n.IsMap() && a.regex.empty() && a.path.empty()) c.value_error(w, "needs a regex or a path, or it allows nothing");
}

ys::Type allow_rules(std::vector<SecretAllowRuleSpec>& out) {
  return ys::list_into<SecretAllowRuleSpec>(out, read_allow_rule, {.null_is_empty = true});
}

void read_rule(SecretRuleSpec& r, const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
  ys::mapping({
      {"id", text(r.id)},
      {"category", text(r.category)},
      {"title", text(r.title)},
      {"severity", text(r.severity)},
      {"regex", text(r.regex)},
      {"keywords", texts(r.keywords)},
      {"path", text(r.path)},
      {"allow-rules", allow_rules(r.allow_rules)},
      {"exclude-block", exclude_block(r.exclude_block)},
      {"secret-group-name", text(r.secret_group_name)},
  })(n, w, c);
  if (!n.IsMap()) return;
  if (r.id.empty())
    c.value_error(w, "has no id; every rule needs one (findings and disable-rules use it)");
  else if (r.regex.empty())
    c.value_error(w, "rule \"" + r.id + "\" has no regex; a rule without one finds nothing");
}

ys::Type schema(SecretConfig& cfg, std::set<std::string>& rule_ids) {
  auto read_unique_rule = [&rule_ids](SecretRuleSpec& r, const YAML::Node& n, const ys::Where& w, ys::Checker& c) {
    const std::size_t before = c.count();
    read_rule(r, n, w, c);
    if (c.count() == before && !rule_ids.insert(r.id).second)
      c.value_error(w, "rule id \"" + r.id + "\" is used twice; give each custom rule its own id");
  };
  return ys::mapping({
      {"rules", ys::list_into<SecretRuleSpec>(cfg.rules, read_unique_rule, {.null_is_empty = true})},
      {"allow-rules", allow_rules(cfg.allow_rules)},
      {"exclude-block", exclude_block(cfg.exclude_block)},
      {"enable-builtin-rules", texts(cfg.enable_builtin_rules)},
      {"disable-rules", texts(cfg.disable_rules)},
      {"disable-allow-rules", texts(cfg.disable_allow_rules)},
  });
}

// "secret config t.yaml line 4 column 5: rules[0].keywords must be a list, found a single value"
std::string render(const std::string& source, const ys::Problem& p) {
  std::string out = "secret config " + source;
  if (p.line > 0) out += " line " + std::to_string(p.line);
  if (p.line > 0 && p.column > 0) out += " column " + std::to_string(p.column);
  out += ": ";
  if (p.kind == ys::ProblemKind::kSyntax) return out + "not valid YAML: " + p.message;
  const std::string subject = p.path.empty() ? "the top level" : p.path;
  if (p.kind == ys::ProblemKind::kType) return out + subject + " must be " + p.expected + ", found " + p.found;
  return out + subject + ": " + ys::describe(p);
}

}  // namespace

Result<SecretConfig> parse_secret_config(std::string_view yaml, const std::string& source) {
  SecretConfig cfg;
  cfg.source = source;
  ys::Checker c;
  auto docs = ys::load_all(yaml, c);
  if (docs && !docs->empty() && !(*docs)[0].IsNull()) {  // an empty file: built-in rules only
    std::set<std::string> rule_ids;
    ys::check((*docs)[0], schema(cfg, rule_ids), c);
  }
  if (!c.ok()) return Error(ErrorKind::kFormat, c.render([&](const ys::Problem& p) { return render(source, p); }));
  return cfg;
}

Result<SecretConfig> load_secret_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Error(ErrorKind::kNotFound,
                 "secret config " + path + " does not exist; check the path given for the secret config");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kIo, "secret config " + path + " cannot be read; check its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(ErrorKind::kIo, "secret config " + path + ": read error");
  return parse_secret_config(ss.str(), path);
}

}  // namespace scangate
