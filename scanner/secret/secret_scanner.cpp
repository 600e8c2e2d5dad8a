#include "scanner/secret/secret_scanner.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "scanner/secret/builtin_rules.h"
#include "scanner/secret/keyword_index.h"
#include "scanner/secret/location.h"
#include "scanner/secret/regex.h"
#include "scanner/secret/text_kind.h"

namespace scangate {

using secret::Regex;
using secret::Span;

namespace {

struct CompiledAllow {
  std::string id;
  std::optional<Regex> regex;  // against the whole match
  std::optional<Regex> path;
};

struct CompiledRule {
  std::string id, category, title, severity;
  std::optional<Regex> regex;
  bool whole_match = true;         // no secret-group-name: the whole match is the secret
  std::vector<int> secret_groups;  // else the groups of that name (several when repeated)
  std::optional<Regex> path;       // the rule applies only to matching paths
  std::vector<CompiledAllow> allow;
  std::vector<Regex> exclude;
};

// Directories never scanned (as Trivy) and extensions of formats that hold no text.
constexpr std::string_view kSkipDirs[] = {".git", "node_modules"};
constexpr std::string_view kSkipExts[] = {
    // Trivy's list.
    ".jpg", ".png", ".gif", ".doc", ".pdf", ".bin", ".svg", ".socket", ".deb", ".rpm", ".zip", ".gz", ".gzip", ".tar",
    ".pyc",
    // More binary formats common in images.
    ".jpeg", ".ico", ".webp", ".bmp", ".tif", ".tiff", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mo", ".xz", ".bz2",
    ".zst", ".lz4", ".7z", ".rar", ".tgz", ".jar", ".war", ".ear", ".class", ".whl", ".egg", ".so", ".a", ".o", ".pyo",
    ".wasm", ".exe", ".dll", ".mp3", ".mp4", ".ogg", ".wav", ".apk", ".db", ".sqlite", ".sqlite3"};

// Repeats of a found value are masked too when it is at least this long (shorter values,
// which only custom rules produce, would blot out ordinary text), for up to this many
// distinct values per file (bounding the work on a file full of secrets).
constexpr std::size_t kMinRepeatMask = 4;
constexpr std::size_t kMaxRepeatMaskValues = 256;

std::string_view relative(std::string_view p) {
  for (;;) {
    if (p.substr(0, 2) == "./") {
      p.remove_prefix(2);
    } else if (!p.empty() && p.front() == '/') {
      p.remove_prefix(1);
    } else {
      return p;
    }
  }
}

// Matches both "usr/share/x" and "/usr/share/x": Trivy's built-in paths assume the
// former, Trivy's own image scans (and so users' configs) the latter.
bool path_matches(const Regex& re, std::string_view rel) {
  auto a = re.search(rel);
  if (a.ok() && *a) return true;
  auto b = re.search("/" + std::string(rel));
  return b.ok() && *b;
}

bool any_path_allowed(const std::vector<CompiledAllow>& rules, std::string_view rel) {
  for (const auto& a : rules) {
    if (a.path && path_matches(*a.path, rel)) return true;
  }
  return false;
}

// A failing allow regex (a limit hit) allows nothing: better a finding too many.
bool any_match_allowed(const std::vector<CompiledAllow>& rules, std::string_view match) {
  for (const auto& a : rules) {
    if (!a.regex) continue;
    auto r = a.regex->search(match);
    if (r.ok() && *r) return true;
  }
  return false;
}

std::string normalize_severity(const std::string& s, const std::string& rule_id, std::vector<std::string>& warnings) {
  std::string up;
  for (char c : s) up.push_back(static_cast<char>((c >= 'a' && c <= 'z') ? c - 32 : c));
  if (up == "LOW" || up == "MEDIUM" || up == "HIGH" || up == "CRITICAL" || up == "UNKNOWN") return up;
  if (s.empty()) {
    warnings.push_back("secret rule \"" + rule_id + "\" has no severity; using UNKNOWN");
  } else {
    warnings.push_back("secret rule \"" + rule_id + "\": severity \"" + s +
                       "\" is not one of LOW, MEDIUM, HIGH, CRITICAL, UNKNOWN; using UNKNOWN");
  }
  return "UNKNOWN";
}

struct Blocks {
  bool done = false;
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  bool covers(std::size_t b, std::size_t e) const {
    for (const auto& [s, t] : spans) {
      if (s <= b && e <= t) return true;
    }
    return false;
  }
};

}  // namespace

struct SecretScanner::Impl {
  std::vector<CompiledRule> rules;
  std::vector<CompiledAllow> allow;
  std::vector<Regex> exclude;
  secret::KeywordIndex keywords;
  SecretScanOptions options;
  std::vector<std::string> warnings;

  // Finds exclude-block spans; a failing regex excludes nothing (and says so).
  void find_blocks(const std::vector<Regex>& regexes, std::string_view text, std::string_view path,
                   const std::string& owner, Blocks& out, std::vector<std::string>& warn) const {
    out.done = true;
    for (const auto& re : regexes) {
      auto r = re.for_each_match(text, [&](std::span<const Span> g) { out.spans.emplace_back(g[0].begin, g[0].end); });
      if (!r.ok()) warn.push_back(owner + " exclude-block on " + std::string(path) + ": " + r.error().message);
    }
  }
};

namespace {

Result<Regex> compile_for(const std::string& pattern, const std::string& where) {
  auto re = Regex::compile(pattern);
  if (!re.ok()) return Error(ErrorKind::kInvalidArgument, where + ": " + re.error().message);
  return re;
}

Result<CompiledAllow> compile_allow(const SecretAllowRuleSpec& a, const std::string& where) {
  CompiledAllow c;
  c.id = a.id;
  const std::string w = where + " allow rule \"" + a.id + "\"";
  if (!a.regex.empty()) {
    auto re = compile_for(a.regex, w + " regex");
    if (!re.ok()) return re.error();
    c.regex = std::move(*re);
  }
  if (!a.path.empty()) {
    auto re = compile_for(a.path, w + " path");
    if (!re.ok()) return re.error();
    c.path = std::move(*re);
  }
  return c;
}

}  // namespace

Result<SecretScanner> SecretScanner::create(const SecretConfig& config, const SecretScanOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  const std::string where = config.source.empty() ? "secret config" : "secret config " + config.source;

  // Rules: the enabled built-ins, then the custom rules, minus the disabled ids.
  const std::vector<SecretRuleSpec> builtins = builtin_secret_rules();
  std::set<std::string> builtin_ids, custom_ids;
  for (const auto& r : builtins) builtin_ids.insert(r.id);
  for (const auto& r : config.rules) custom_ids.insert(r.id);
  for (const auto& id : config.enable_builtin_rules) {
    if (!builtin_ids.count(id)) {
      impl->warnings.push_back(where + ": enable-builtin-rules: \"" + id + "\" is no built-in rule");
    }
  }
  for (const auto& id : config.disable_rules) {
    if (!builtin_ids.count(id) && !custom_ids.count(id)) {
      impl->warnings.push_back(where + ": disable-rules: \"" + id + "\" names no rule");
    }
  }
  const std::set<std::string> enabled(config.enable_builtin_rules.begin(), config.enable_builtin_rules.end());
  const std::set<std::string> disabled(config.disable_rules.begin(), config.disable_rules.end());

  std::vector<std::pair<const SecretRuleSpec*, bool>> specs;  // (rule, custom)
  for (const auto& r : builtins) {
    if (!enabled.empty() && !enabled.count(r.id)) continue;
    if (disabled.count(r.id)) continue;
    specs.emplace_back(&r, false);
  }
  for (const auto& r : config.rules) {
    if (disabled.count(r.id)) continue;
    specs.emplace_back(&r, true);
  }

  std::vector<std::vector<std::string>> keywords;
  for (const auto& [spec, custom] : specs) {
    const std::string w = where + ": rule \"" + spec->id + "\"";
    if (spec->id.empty()) return Error(ErrorKind::kInvalidArgument, where + ": a rule has no id");
    if (spec->regex.empty()) return Error(ErrorKind::kInvalidArgument, w + " has no regex");
    CompiledRule c;
    c.id = spec->id;
    c.category = spec->category;
    c.title = spec->title;
    c.severity = custom ? normalize_severity(spec->severity, spec->id, impl->warnings)
                        : (spec->severity.empty() ? "UNKNOWN" : spec->severity);
    // Built-in rules may use the faster guarded form (see Regex::compile_guarded); a
    // custom rule's rest might start with a non-word character, so it runs as written.
    auto re = custom ? Regex::compile(spec->regex) : Regex::compile_guarded(spec->regex);
    if (!re.ok()) return Error(ErrorKind::kInvalidArgument, w + " regex: " + re.error().message);
    c.regex = std::move(*re);
    if (!spec->secret_group_name.empty()) {
      c.whole_match = false;
      c.secret_groups = c.regex->groups_named(spec->secret_group_name);
      if (c.secret_groups.empty()) {
        return Error(ErrorKind::kInvalidArgument, w + ": secret-group-name \"" + spec->secret_group_name +
                                                      "\" names no group of the regex; add (?P<" +
                                                      spec->secret_group_name + ">...) to it");
      }
    }
    if (!spec->path.empty()) {
      auto p = compile_for(spec->path, w + " path");
      if (!p.ok()) return p.error();
      c.path = std::move(*p);
    }
    for (const auto& a : spec->allow_rules) {
      auto ca = compile_allow(a, w);
      if (!ca.ok()) return ca.error();
      c.allow.push_back(std::move(*ca));
    }
    for (std::size_t i = 0; i < spec->exclude_block.regexes.size(); ++i) {
      auto x = compile_for(spec->exclude_block.regexes[i], w + " exclude-block regexes[" + std::to_string(i) + "]");
      if (!x.ok()) return x.error();
      c.exclude.push_back(std::move(*x));
    }
    keywords.push_back(spec->keywords);
    impl->rules.push_back(std::move(c));
  }

  // Allow rules: built-in and custom, minus the disabled ids.
  const std::set<std::string> disabled_allow(config.disable_allow_rules.begin(), config.disable_allow_rules.end());
  std::vector<SecretAllowRuleSpec> allow = builtin_secret_allow_rules();
  allow.insert(allow.end(), config.allow_rules.begin(), config.allow_rules.end());
  std::set<std::string> allow_ids;
  for (const auto& a : allow) allow_ids.insert(a.id);
  for (const auto& id : config.disable_allow_rules) {
    if (!allow_ids.count(id)) {
      impl->warnings.push_back(where + ": disable-allow-rules: \"" + id + "\" names no allow rule");
    }
  }
  for (const auto& a : allow) {
    if (!a.id.empty() && disabled_allow.count(a.id)) continue;
    auto ca = compile_allow(a, where);
    if (!ca.ok()) return ca.error();
    impl->allow.push_back(std::move(*ca));
  }
  for (std::size_t i = 0; i < config.exclude_block.regexes.size(); ++i) {
    auto x = compile_for(config.exclude_block.regexes[i], where + ": exclude-block regexes[" + std::to_string(i) + "]");
    if (!x.ok()) return x.error();
    impl->exclude.push_back(std::move(*x));
  }

  impl->keywords = secret::KeywordIndex(keywords);
  return SecretScanner(std::move(impl));
}

const std::vector<std::string>& SecretScanner::warnings() const { return impl_->warnings; }

std::vector<std::string> SecretScanner::rule_ids() const {
  std::vector<std::string> ids;
  for (const auto& r : impl_->rules) ids.push_back(r.id);
  return ids;
}

bool SecretScanner::wants(std::string_view path, std::uint64_t size) const {
  if (size < impl_->options.min_file_size || size > impl_->options.max_file_size) return false;
  const std::string_view rel = relative(path);
  const std::size_t slash = rel.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  if (slash != std::string_view::npos) {
    std::string_view dirs = rel.substr(0, slash);
    while (!dirs.empty()) {
      const std::size_t s = dirs.find('/');
      const std::string_view d = dirs.substr(0, s);
      for (auto skip : kSkipDirs) {
        if (d == skip) return false;
      }
      if (s == std::string_view::npos) break;
      dirs.remove_prefix(s + 1);
    }
  }
  if (const std::size_t dot = name.rfind('.'); dot != std::string_view::npos) {
    std::string ext;
    for (char c : name.substr(dot)) ext.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c));
    for (auto skip : kSkipExts) {
      if (ext == skip) return false;
    }
  }
  return !any_path_allowed(impl_->allow, rel);
}

std::vector<SecretFinding> SecretScanner::scan(std::string_view path, std::string_view content) const {
  std::vector<std::string> ignored;
  return scan(path, content, ignored);
}

std::vector<SecretFinding> SecretScanner::scan(std::string_view path, std::string_view content,
                                               std::vector<std::string>& warnings) const {
  const Impl& s = *impl_;
  const std::string_view rel = relative(path);
  if (any_path_allowed(s.allow, rel)) return {};
  if (content.size() > s.options.max_file_size) {
    warnings.push_back("secret scan skipped " + std::string(path) + ": " + std::to_string(content.size()) +
                       " bytes is over the " + std::to_string(s.options.max_file_size) + "-byte limit");
    return {};
  }
  if (secret::looks_binary(content)) return {};

  // Windows line endings: drop every CR, as Trivy does, so lines and offsets agree with it.
  std::string without_cr;
  std::string_view text = content;
  if (content.find('\r') != std::string_view::npos) {
    without_cr.reserve(content.size());
    for (char c : content) {
      if (c != '\r') without_cr.push_back(c);
    }
    text = without_cr;
  }

  const std::vector<bool> hits = s.keywords.rules_hit(text);
  struct Found {
    std::size_t rule;
    std::size_t begin, end;
  };
  std::vector<Found> found;
  Blocks global_blocks;
  for (std::size_t i = 0; i < s.rules.size(); ++i) {
    const CompiledRule& rule = s.rules[i];
    if (!hits[i]) continue;
    if (rule.path && !path_matches(*rule.path, rel)) continue;
    if (any_path_allowed(rule.allow, rel)) continue;

    std::vector<std::pair<std::size_t, std::size_t>> locs;
    auto walked = rule.regex->for_each_match(text, [&](std::span<const Span> g) {
      const std::string_view whole = text.substr(g[0].begin, g[0].end - g[0].begin);
      if (any_match_allowed(s.allow, whole) || any_match_allowed(rule.allow, whole)) return;
      if (rule.whole_match) {
        if (g[0].end > g[0].begin) locs.emplace_back(g[0].begin, g[0].end);
        return;
      }
      for (int n : rule.secret_groups) {
        const Span& sp = g[static_cast<std::size_t>(n)];
        if (sp.set() && sp.end > sp.begin) locs.emplace_back(sp.begin, sp.end);
      }
    });
    if (!walked.ok()) {
      warnings.push_back("secret rule \"" + rule.id + "\" gave up on " + std::string(path) + ": " +
                         walked.error().message);
    }
    if (locs.empty()) continue;

    Blocks local_blocks;
    for (const auto& [b, e] : locs) {
      if (!s.exclude.empty()) {
        if (!global_blocks.done) s.find_blocks(s.exclude, text, path, "secret config", global_blocks, warnings);
        if (global_blocks.covers(b, e)) continue;
      }
      if (!rule.exclude.empty()) {
        if (!local_blocks.done) {
          s.find_blocks(rule.exclude, text, path, "secret rule \"" + rule.id + "\"", local_blocks, warnings);
        }
        if (local_blocks.covers(b, e)) continue;
      }
      found.push_back({i, b, e});
    }
  }
  if (found.empty()) return {};

  // Mask every secret before showing any line, so no line shows another rule's secret.
  std::string masked(text);
  for (const auto& f : found) {
    for (std::size_t k = f.begin; k < f.end; ++k) {
      if (masked[k] != '\n') masked[k] = '*';
    }
  }
  // Then every other occurrence of a found value (the same string where no rule matched
  // it, say inside a longer word), so that no shown line holds a found secret.
  std::vector<std::string_view> values;
  for (const auto& f : found) {
    if (f.end - f.begin >= kMinRepeatMask) values.push_back(text.substr(f.begin, f.end - f.begin));
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() > kMaxRepeatMaskValues) values.resize(kMaxRepeatMaskValues);
  for (const auto v : values) {
    for (std::size_t at = text.find(v); at != std::string_view::npos; at = text.find(v, at + 1)) {
      for (std::size_t k = at; k < at + v.size(); ++k) {
        if (masked[k] != '\n') masked[k] = '*';
      }
    }
  }
  const secret::LineIndex lines(masked);
  std::vector<SecretFinding> out;
  out.reserve(found.size());
  for (const auto& f : found) {
    const CompiledRule& rule = s.rules[f.rule];
    SecretFinding sf;
    sf.rule_id = rule.id;
    sf.category = rule.category;
    sf.severity = rule.severity;
    sf.title = rule.title;
    sf.file_path = std::string(path);
    secret::describe_location(masked, lines, f.begin, f.end, sf);
    out.push_back(std::move(sf));
  }
  std::vector<std::size_t> order(out.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&out](std::size_t x, std::size_t y) {
    const SecretFinding& a = out[x];
    const SecretFinding& b = out[y];
    if (int c = a.rule_id.compare(b.rule_id); c != 0) return c < 0;
    if (int c = a.match.compare(b.match); c != 0) return c < 0;
    return a.offset < b.offset;
  });
  std::vector<SecretFinding> sorted;
  sorted.reserve(out.size());
  for (std::size_t k : order) sorted.push_back(std::move(out[k]));
  return sorted;
}

}  // namespace scangate
