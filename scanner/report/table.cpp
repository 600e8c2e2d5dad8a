// The report for people: per target a heading, the totals per severity and a table of
// findings with the version that fixes each one, and per package the upgrade that fixes
// them all ("Fixes to apply"); then the secrets, per file. No colour.
//
// All text that comes from feeds or files is sanitised before it reaches a terminal:
// control characters (including ESC, so no ANSI sequences) become spaces and invalid
// UTF-8 bytes become '?'.
#include <algorithm>
#include <array>
#include <map>
#include <sstream>
#include <tuple>

#include "scanner/report/report.h"
#include "scanner/version/version.h"

namespace scangate {

namespace {

constexpr std::size_t kTitleWidth = 50;
constexpr std::size_t kMatchWidth = 60;

// Length of the UTF-8 sequence that starts with `c`, 0 when `c` cannot start one.
std::size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0 && c >= 0xC2) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Splits `s` into printable code points (each a string), replacing what a terminal
// must not see.
std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_len(c);
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out.emplace_back("?");
      ++i;
      continue;
    }
    if (n == 1) {
      out.emplace_back(1, (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c));
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      out.emplace_back(" ");  // C1 control characters (U+0080..U+009F)
    } else {
      out.push_back(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

// Sanitised cell text, cut to `max` code points (with "...") when max > 0.
std::string cell(const std::string& s, std::size_t max = 0) {
  auto cps = code_points(s);
  std::string out;
  if (max > 3 && cps.size() > max) {
    for (std::size_t i = 0; i + 3 < max; ++i) out += cps[i];
    return out + "...";
  }
  for (const auto& cp : cps) out += cp;
  return out;
}

std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

std::string repeat(const std::string& unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// A box-drawn table; a rule is drawn before each row whose index is in `rules_before`.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> row, bool rule_before = false) {
    if (rule_before && !rows_.empty()) rules_before_.push_back(rows_.size());
    rows_.push_back(std::move(row));
  }
  std::string render() const {
    std::vector<std::size_t> w(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) {
      w[c] = width(headers_[c]);
      for (const auto& r : rows_) w[c] = std::max(w[c], width(r[c]));
    }
    auto rule = [&](const char* l, const char* m, const char* r) {
      std::string s = l;
      for (std::size_t c = 0; c < w.size(); ++c) s += repeat("─", w[c] + 2) + (c + 1 < w.size() ? m : r);
      return s + "\n";
    };
    auto line = [&](const std::vector<std::string>& cells, bool centre) {
      std::string s = "│";
      for (std::size_t c = 0; c < w.size(); ++c) {
        std::size_t pad = w[c] - width(cells[c]);
        std::size_t left = centre ? pad / 2 : 0;
        s += " " + std::string(left, ' ') + cells[c] + std::string(pad - left, ' ') + " │";
      }
      return s + "\n";
    };
    std::string out = rule("┌", "┬", "┐");
    out += line(headers_, true);
    out += rule("├", "┼", "┤");
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (std::find(rules_before_.begin(), rules_before_.end(), i) != rules_before_.end()) out += rule("├", "┼", "┤");
      out += line(rows_[i], false);
    }
    out += rule("└", "┴", "┘");
    return out;
  }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> rules_before_;
};

std::string heading(const std::string& title) {
  std::string t = cell(title);
  return t + "\n" + std::string(width(t), '=') + "\n";
}

std::string totals(const std::array<int, 5>& n) {
  int total = n[0] + n[1] + n[2] + n[3] + n[4];
  std::ostringstream s;
  s << "Total: " << total << " (UNKNOWN: " << n[0] << ", LOW: " << n[1] << ", MEDIUM: " << n[2] << ", HIGH: " << n[3]
    << ", CRITICAL: " << n[4] << ")\n";
  return s.str();
}

std::string target_title(const ScanTarget& t) {
  // OS targets already read "image (alpine 3.20.3)"; language targets get their type.
  if (t.klass == "os-pkgs" || t.type.empty()) return t.target;
  return t.target + " (" + t.type + ")";
}

version::Scheme scheme_for_type(const std::string& type) {
  if (type == "apk") return version::Scheme::kApk;
  if (type == "deb") return version::Scheme::kDeb;
  if (type == "pypi") return version::Scheme::kPep440;
  if (type == "npm") return version::Scheme::kSemver;
  return version::Scheme::kGeneric;
}

// "Fixes to apply": per package, the lowest version that fixes all its fixable findings
// (the highest fixed version). When fixed versions do not compare (a feed's range list),
// all of them are shown.
std::string fixes_section(const std::vector<const Finding*>& rows) {
  struct Fix {
    const Package* pkg = nullptr;
    std::vector<std::string> versions;
    int fixed = 0, unfixed = 0;
  };
  std::vector<Fix> fixes;
  for (const Finding* f : rows) {  // rows are grouped by package
    if (fixes.empty() || fixes.back().pkg->name != f->pkg.name || fixes.back().pkg->version != f->pkg.version ||
        fixes.back().pkg->file_path != f->pkg.file_path) {
      fixes.push_back({&f->pkg, {}, 0, 0});
    }
    Fix& fx = fixes.back();
    if (f->fixed_version.empty()) {
      ++fx.unfixed;
      continue;
    }
    ++fx.fixed;
    if (std::find(fx.versions.begin(), fx.versions.end(), f->fixed_version) == fx.versions.end()) {
      fx.versions.push_back(f->fixed_version);
    }
  }
  std::string out;
  std::vector<std::string> unfixed;
  for (const auto& fx : fixes) {
    if (fx.unfixed > 0) unfixed.push_back(cell(fx.pkg->name) + " (" + std::to_string(fx.unfixed) + ")");
    if (fx.versions.empty()) continue;
    auto scheme = scheme_for_type(fx.pkg->type);
    std::string best = fx.versions.front();
    bool comparable = true;
    for (const auto& v : fx.versions) {
      auto c = version::compare(scheme, v, best);
      if (!c) {
        comparable = false;
        break;
      }
      if (*c > 0) best = v;
    }
    std::string target = best;
    if (!comparable) {
      target.clear();
      for (const auto& v : fx.versions) target += (target.empty() ? "" : " / ") + v;
    }
    out += "  " + cell(fx.pkg->name) + " " + cell(fx.pkg->version) + " -> " + cell(target) + " (fixes " +
           std::to_string(fx.fixed) + ")\n";
  }
  if (out.empty() && unfixed.empty()) return "";
  std::string s = "Fixes to apply:\n" + out;
  if (!unfixed.empty()) {
    s += "  no fix available yet:";
    for (std::size_t i = 0; i < unfixed.size(); ++i) s += (i ? ", " : " ") + unfixed[i];
    s += "\n";
  }
  return s + "\n";
}

std::string vulnerabilities_section(const ScanTarget& t) {
  std::array<int, 5> count{};
  std::vector<const Finding*> rows;
  for (const auto& f : t.findings) {
    ++count[static_cast<std::size_t>(f.severity)];
    rows.push_back(&f);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Finding* a, const Finding* b) {
    int sa = -static_cast<int>(a->severity), sb = -static_cast<int>(b->severity);
    return std::tie(a->pkg.name, a->pkg.version, a->pkg.file_path, sa, a->vuln_id) <
           std::tie(b->pkg.name, b->pkg.version, b->pkg.file_path, sb, b->vuln_id);
  });
  std::string out = heading(target_title(t)) + totals(count) + "\n";
  if (rows.empty()) return out;
  TextTable table({"Library", "Vulnerability", "Severity", "Status", "Installed Version", "Fixed Version", "Title"});
  const Package* prev = nullptr;
  for (const Finding* f : rows) {
    bool same =
        prev && prev->name == f->pkg.name && prev->version == f->pkg.version && prev->file_path == f->pkg.file_path;
    std::string title = f->title.empty() ? cell(f->primary_url) : cell(f->title, kTitleWidth);
    table.add_row({same ? "" : cell(f->pkg.name), cell(f->vuln_id), to_string(f->severity), cell(f->status),
                   cell(f->pkg.version), cell(f->fixed_version), title},
                  /*rule_before=*/!same);
    prev = &f->pkg;
  }
  return out + table.render() + "\n" + fixes_section(rows);
}

std::string secrets_section(const std::string& path, std::vector<const SecretFinding*> secrets) {
  std::array<int, 5> count{};
  for (const auto* s : secrets) {
    ++count[static_cast<std::size_t>(parse_severity(s->severity).value_or(Severity::kUnknown))];
  }
  std::stable_sort(secrets.begin(), secrets.end(), [](const SecretFinding* a, const SecretFinding* b) {
    return std::tie(a->start_line, a->end_line, a->rule_id) < std::tie(b->start_line, b->end_line, b->rule_id);
  });
  std::string out = heading(path + " (secrets)") + totals(count) + "\n";
  TextTable table({"Category", "Rule ID", "Severity", "Lines", "Title", "Match (masked)"});
  for (const auto* s : secrets) {
    std::string lines = std::to_string(s->start_line);
    if (s->end_line > s->start_line) lines += "-" + std::to_string(s->end_line);
    table.add_row({cell(s->category), cell(s->rule_id),
                   to_string(parse_severity(s->severity).value_or(Severity::kUnknown)), lines,
                   cell(s->title, kTitleWidth), cell(s->match, kMatchWidth)});
  }
  return out + table.render() + "\n";
}

}  // namespace

std::string write_table(const ReportInput& in) {
  std::string out;
  for (const auto& t : in.targets) out += vulnerabilities_section(t);
  std::map<std::string, std::vector<const SecretFinding*>> by_file;
  for (const auto& s : in.inventory.secrets) by_file[s.file_path].push_back(&s);
  for (const auto& [path, secrets] : by_file) out += secrets_section(path, secrets);
  return out;
}

}  // namespace scangate
