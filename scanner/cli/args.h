// A small, strict command-line parser: declared flags only, `--flag value` or
// `--flag=value`, repeatable flags, and errors that name the flag and list the known ones.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::cli {

struct FlagSpec {
  std::string name;  // without dashes: "output"
  bool takes_value = true;
  bool repeatable = false;
  std::string value_name;  // "FILE"
  std::string help;
  std::string default_text;  // for --help
};

class Args {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& def) const;
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

Result<Args> parse_args(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs);
std::string render_help(const std::string& usage, const std::string& summary, const std::vector<FlagSpec>& specs);

}  // namespace scangate::cli
