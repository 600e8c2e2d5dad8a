// The one pattern language of the policy file, path-aware like shell globs: `*` matches any run
// of characters except '/' ("registry.k8s.io/*" covers registry.k8s.io/pause but not
// registry.k8s.io/sig-storage/csi-provisioner), `**` matches any run including '/'
// ("registry.k8s.io/**" covers both), `?` matches exactly one character other than '/', and
// everything else matches itself (case-sensitive). No character classes, no escapes.
// (Before issue 12, `*` crossed '/', so a pattern meant for one level silently exempted the
// whole subtree.)
#pragma once

#include <string_view>

namespace scangate::policy {

bool glob_match(std::string_view pattern, std::string_view text);

// True when the pattern has a `*` or `?` (and so is not an exact id or name).
bool is_glob(std::string_view pattern);

}  // namespace scangate::policy
