#include "scanner/cli/args.h"

#include <algorithm>
#include <sstream>

#include "scanner/core/log.h"

namespace scangate::cli {

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Args::get_or(const std::string& name, const std::string& def) const {
  auto v = get(name);
  return v ? *v : def;
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<Args> parse_args(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs) {
  Args out;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-' || a == "-") {
      out.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      inline_value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == body; });
    if (spec == specs.end()) {
      std::string known;
      for (const auto& s : specs) known += (known.empty() ? "--" : ", --") + s.name;
      return Error(ErrorKind::kInvalidArgument, "unknown flag " + a + " (known flags: " + known + ")");
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return Error(ErrorKind::kInvalidArgument, "flag --" + spec->name + " needs a value" +
                                                      (spec->value_name.empty() ? "" : " (" + spec->value_name + ")"));
      }
    } else if (inline_value) {
      if (*inline_value == "true" || *inline_value == "1") {
        value = "true";
      } else if (*inline_value == "false" || *inline_value == "0") {
        continue;
      } else {
        return Error(ErrorKind::kInvalidArgument,
                     "flag --" + spec->name + " takes no value (got '" + *inline_value + "')");
      }
    } else {
      value = "true";
    }
    auto& slot = out.values_[spec->name];
    if (!slot.empty() && !spec->repeatable && spec->takes_value) {
      return Error(ErrorKind::kInvalidArgument, "flag --" + spec->name + " given more than once");
    }
    slot.push_back(value);
  }
  return out;
}

std::string render_help(const std::string& usage, const std::string& summary, const std::vector<FlagSpec>& specs) {
  std::ostringstream os;
  os << "Usage: " << usage << "\n\n" << summary << "\n\nFlags:\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.takes_value ? " " + (s.value_name.empty() ? "VALUE" : s.value_name) : "");
    os << left;
    if (left.size() < 32)
      os << std::string(32 - left.size(), ' ');
    else
      os << "\n" << std::string(32, ' ');
    os << s.help;
    if (s.repeatable) os << " (repeatable)";
    if (!s.default_text.empty()) os << " [default: " << s.default_text << "]";
    os << "\n";
  }
  os << "\nGlobal flags (every command):\n" << log::flags_help();
  return os.str();
}

}  // namespace scangate::cli
