#include "scanner/secret/secret_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace scangate {

namespace {

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "no value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

// Walks the YAML tree; the first problem found becomes the Error.
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Result<SecretConfig> run(const YAML::Node& root) {
    SecretConfig cfg;
    cfg.source = source_;
    if (root.IsNull()) return cfg;  // an empty file: built-in rules only
    if (!root.IsMap()) return fail(root, "the top level", std::string("must be a map, found ") + kind_of(root));
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "rules") {
        if (!list(v, key)) return error_;
        for (std::size_t i = 0; i < v.size(); ++i) {
          SecretRuleSpec r;
          if (!rule(v[i], "rules[" + std::to_string(i) + "]", r)) return error_;
          cfg.rules.push_back(std::move(r));
        }
      } else if (key == "allow-rules") {
        if (!allow_rules(v, key, cfg.allow_rules)) return error_;
      } else if (key == "exclude-block") {
        if (!exclude_block(v, key, cfg.exclude_block)) return error_;
      } else if (key == "enable-builtin-rules") {
        if (!strings(v, key, cfg.enable_builtin_rules)) return error_;
      } else if (key == "disable-rules") {
        if (!strings(v, key, cfg.disable_rules)) return error_;
      } else if (key == "disable-allow-rules") {
        if (!strings(v, key, cfg.disable_allow_rules)) return error_;
      } else {
        return fail(kv.first, "key \"" + key + "\"",
                    "is not a secret config key (expected rules, allow-rules, exclude-block, "
                    "enable-builtin-rules, disable-rules, disable-allow-rules)");
      }
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < cfg.rules.size(); ++i) {
      if (!seen.insert(cfg.rules[i].id).second) {
        return Error(ErrorKind::kFormat, "secret config " + source_ + ": rules[" + std::to_string(i) + "]: rule id \"" +
                                             cfg.rules[i].id + "\" is used twice; give each custom rule its own id");
      }
    }
    return cfg;
  }

  Error fail(const YAML::Node& at, const std::string& what, const std::string& why) {
    std::string where;
    const YAML::Mark m = at.Mark();
    if (m.line >= 0) where = " line " + std::to_string(m.line + 1) + " column " + std::to_string(m.column + 1);
    error_ = Error(ErrorKind::kFormat, "secret config " + source_ + where + ": " + what + " " + why);
    return error_;
  }

 private:
  bool list(const YAML::Node& v, const std::string& path) {
    if (v.IsNull() || v.IsSequence()) return true;
    fail(v, path, std::string("must be a list, found ") + kind_of(v));
    return false;
  }

  bool scalar(const YAML::Node& v, const std::string& path, std::string& out) {
    if (v.IsNull()) {
      out.clear();
      return true;
    }
    if (!v.IsScalar()) {
      fail(v, path, std::string("must be a single value, found ") + kind_of(v));
      return false;
    }
    out = v.Scalar();
    return true;
  }

  bool strings(const YAML::Node& v, const std::string& path, std::vector<std::string>& out) {
    if (!list(v, path)) return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string s;
      if (!scalar(v[i], path + "[" + std::to_string(i) + "]", s)) return false;
      out.push_back(std::move(s));
    }
    return true;
  }

  bool map(const YAML::Node& v, const std::string& path) {
    if (v.IsMap()) return true;
    fail(v, path, std::string("must be a map, found ") + kind_of(v));
    return false;
  }

  bool allow_rule(const YAML::Node& v, const std::string& path, SecretAllowRuleSpec& out) {
    if (!map(v, path)) return false;
    for (const auto& kv : v) {
      const std::string key = kv.first.as<std::string>();
      const std::string p = path + "." + key;
      bool ok = true;
      if (key == "id")
        ok = scalar(kv.second, p, out.id);
      else if (key == "description")
        ok = scalar(kv.second, p, out.description);
      else if (key == "regex")
        ok = scalar(kv.second, p, out.regex);
      else if (key == "path")
        ok = scalar(kv.second, p, out.path);
      else {
        fail(kv.first, "key \"" + p + "\"", "is not an allow-rule key (expected id, description, regex, path)");
        return false;
      }
      if (!ok) return false;
    }
    if (out.regex.empty() && out.path.empty()) {
      fail(v, path, "needs a regex or a path, or it allows nothing");
      return false;
    }
    return true;
  }

  bool allow_rules(const YAML::Node& v, const std::string& path, std::vector<SecretAllowRuleSpec>& out) {
    if (!list(v, path)) return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      SecretAllowRuleSpec a;
      if (!allow_rule(v[i], path + "[" + std::to_string(i) + "]", a)) return false;
      out.push_back(std::move(a));
    }
    return true;
  }

  bool exclude_block(const YAML::Node& v, const std::string& path, SecretExcludeBlockSpec& out) {
    if (v.IsNull()) return true;
    if (!map(v, path)) return false;
    for (const auto& kv : v) {
      const std::string key = kv.first.as<std::string>();
      const std::string p = path + "." + key;
      bool ok = true;
      if (key == "description")
        ok = scalar(kv.second, p, out.description);
      else if (key == "regexes")
        ok = strings(kv.second, p, out.regexes);
      else {
        fail(kv.first, "key \"" + p + "\"", "is not an exclude-block key (expected description, regexes)");
        return false;
      }
      if (!ok) return false;
    }
    return true;
  }

  bool rule(const YAML::Node& v, const std::string& path, SecretRuleSpec& out) {
    if (!map(v, path)) return false;
    for (const auto& kv : v) {
      const std::string key = kv.first.as<std::string>();
      const std::string p = path + "." + key;
      bool ok = true;
      if (key == "id")
        ok = scalar(kv.second, p, out.id);
      else if (key == "category")
        ok = scalar(kv.second, p, out.category);
      else if (key == "title")
        ok = scalar(kv.second, p, out.title);
      else if (key == "severity")
        ok = scalar(kv.second, p, out.severity);
      else if (key == "regex")
        ok = scalar(kv.second, p, out.regex);
      else if (key == "keywords")
        ok = strings(kv.second, p, out.keywords);
      else if (key == "path")
        ok = scalar(kv.second, p, out.path);
      else if (key == "allow-rules")
        ok = allow_rules(kv.second, p, out.allow_rules);
      else if (key == "exclude-block")
        ok = exclude_block(kv.second, p, out.exclude_block);
      else if (key == "secret-group-name")
        ok = scalar(kv.second, p, out.secret_group_name);
      else {
        fail(kv.first, "key \"" + p + "\"",
             "is not a rule key (expected id, category, title, severity, regex, keywords, path, "
             "allow-rules, exclude-block, secret-group-name)");
        return false;
      }
      if (!ok) return false;
    }
    if (out.id.empty()) {
      fail(v, path, "has no id; every rule needs one (findings and disable-rules use it)");
      return false;
    }
    if (out.regex.empty()) {
      fail(v, path, "(rule \"" + out.id + "\") has no regex; a rule without one finds nothing");
      return false;
    }
    return true;
  }

  std::string source_;
  Error error_;
};

}  // namespace

Result<SecretConfig> parse_secret_config(std::string_view yaml, const std::string& source) {
  Parser parser(source);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return parser.run(root);
  } catch (const YAML::Exception& e) {
    std::string where;
    if (e.mark.line >= 0) {
      where = " line " + std::to_string(e.mark.line + 1) + " column " + std::to_string(e.mark.column + 1);
    }
    return Error(ErrorKind::kFormat, "secret config " + source + where + ": not valid YAML: " + e.msg);
  }
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
