// The built-in secret rules and allow rules.
//
// Rule ids, categories, severities, titles and keywords follow Trivy's built-in rules
// (pkg/fanal/secret/builtin-rules.go, as listed in shared/testdata/secrets/
// RULES-reference.tsv), so CSPM backends group scangate's findings with Trivy's. One
// rule is scangate's own: docker-config-auth (credentials in a Docker config.json).
//
// Built-in allow rules (ids usable in disable-allow-rules): Trivy's tests, examples,
// vendor, usr-dirs, locale-dir, markdown, node.js, golang, python, rubygems, wordpress,
// anaconda-log; plus scangate's package-metadata (lock files and package databases) and
// documentation (reStructuredText, AsciiDoc and other doc formats).
//
// Paths are matched both as given ("usr/share/doc/x") and with a leading '/'
// ("/usr/share/doc/x"), so rules written for either form apply.
#pragma once

#include <vector>

#include "scanner/secret/secret_config.h"

namespace scangate {

// The rules with their final regexes (word-boundary wrappers applied).
std::vector<SecretRuleSpec> builtin_secret_rules();
std::vector<SecretAllowRuleSpec> builtin_secret_allow_rules();

}  // namespace scangate
