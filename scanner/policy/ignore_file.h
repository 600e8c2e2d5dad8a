// The .trivyignore format: one vulnerability id per line, `#` comments, and an optional
// `exp:YYYY-MM-DD` after the id; an entry stops applying after its expiry date.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate {

struct IgnoreEntry {
  std::string id;
  std::string expires;  // "YYYY-MM-DD" or empty
  int line = 0;
};

struct IgnoreList {
  std::vector<IgnoreEntry> entries;
  // True when `id` is ignored on `today` ("YYYY-MM-DD"); an entry expiring on `today` still applies.
  bool ignores(std::string_view id, std::string_view today) const;
  // Entries whose expiry date has passed.
  std::vector<IgnoreEntry> expired(std::string_view today) const;
};

// `name` names the file in errors ("FILE:LINE: ...").
Result<IgnoreList> parse_ignore_file(std::string_view text, const std::string& name);
Result<IgnoreList> load_ignore_file(const std::string& path);

// True when s is a real calendar date in YYYY-MM-DD form.
bool is_iso_date(std::string_view s);

}  // namespace scangate
