// The one pattern language of the policy file: `*` matches any run of characters (including
// '/', so "registry.k8s.io/*" covers every repository below it), `?` matches exactly one
// character, everything else matches itself (case-sensitive). No character classes, no escapes.
#pragma once

#include <string_view>

namespace scangate::policy {

bool glob_match(std::string_view pattern, std::string_view text);

// True when the pattern has a `*` or `?` (and so is not an exact id or name).
bool is_glob(std::string_view pattern);

}  // namespace scangate::policy
