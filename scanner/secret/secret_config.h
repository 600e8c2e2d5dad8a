// The secret-scanning configuration: Trivy's secret config format (trivy-secret.yaml),
// so existing configs carry over unchanged.
//
//   rules:                      # custom rules, added to the built-in ones
//     - id: rule1               # required
//       category: general
//       title: Generic Rule
//       severity: HIGH          # LOW|MEDIUM|HIGH|CRITICAL|UNKNOWN, any case; else UNKNOWN + warning
//       regex: (?i)secret=(?P<secret>\w+)      # required, Go RE2 syntax
//       secret-group-name: secret              # the group that is the secret (else the whole match)
//       keywords: [secret]      # prefilter: the regex runs only when one occurs (any case)
//       path: \.env$            # the rule applies only to matching paths
//       allow-rules: [{id, description, regex, path}]   # regex: against the whole match
//       exclude-block: {description, regexes: [...]}   # secrets inside these blocks are skipped
//   enable-builtin-rules: [github-pat]   # only these built-in rules (custom rules always run)
//   disable-rules: [aws-access-key-id]   # built-in or custom rule ids
//   disable-allow-rules: [tests]         # built-in allow rule ids (see builtin_rules.h)
//   allow-rules: [...]                   # global: a path or a whole-match regex
//   exclude-block: {...}                 # global
//
// Loading checks structure (types, unknown keys, keys given twice, required keys) on
// scanner/core/yaml_schema.h and reports every problem with its line and column;
// SecretScanner::create compiles the regexes and reports the rule id.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate {

struct SecretAllowRuleSpec {
  std::string id;
  std::string description;
  std::string regex;  // matched against the whole regex match (not only the secret group)
  std::string path;   // matched against the file path
};

struct SecretExcludeBlockSpec {
  std::string description;
  std::vector<std::string> regexes;
};

struct SecretRuleSpec {
  std::string id;
  std::string category;
  std::string title;
  std::string severity;  // as written; normalised by SecretScanner::create
  std::string regex;
  std::vector<std::string> keywords;
  std::string path;
  std::vector<SecretAllowRuleSpec> allow_rules;
  SecretExcludeBlockSpec exclude_block;
  std::string secret_group_name;
};

struct SecretConfig {
  std::vector<std::string> enable_builtin_rules;
  std::vector<std::string> disable_rules;
  std::vector<std::string> disable_allow_rules;
  std::vector<SecretRuleSpec> rules;
  std::vector<SecretAllowRuleSpec> allow_rules;
  SecretExcludeBlockSpec exclude_block;
  std::string source;  // where it came from, for messages ("" when built in code)
};

// Reads and parses a secret config file. A missing file is kNotFound (the caller decides
// whether a default path may be absent), a malformed one kFormat naming line and column.
Result<SecretConfig> load_secret_config(const std::string& path);

// Parses config text; source names it in messages.
Result<SecretConfig> parse_secret_config(std::string_view yaml, const std::string& source);

}  // namespace scangate
