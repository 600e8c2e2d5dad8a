// dpkg's database: var/lib/dpkg/status (every package, with a Status: field) and
// var/lib/dpkg/status.d/NAME (one file per package, as distroless images write them,
// usually without Status:). deb822 stanzas: "Field: value" lines, continuation lines
// starting with a space or tab, stanzas separated by blank lines; field names are
// case-insensitive (deb-control(5), deb822(5)).
//
// Which stanzas become packages: those whose files are on disk. Status is
// "want flag state" (dpkg(1)); we keep every state but "not-installed" and "config-files"
// (only conffiles left), whatever the want flag says: "deinstall ok installed" still has
// its binaries on disk, so a security scan reports it. A stanza in the status file without
// Status: is skipped with a warning; in status.d a missing Status: means installed.
// A stanza without Package: or Version:, or with a version that is not a Debian version,
// is skipped with a warning.
#include "scanner/analyze/analyzer.h"
#include "scanner/analyze/text.h"

namespace scangate {
namespace {

constexpr std::string_view kStatus = "var/lib/dpkg/status";
constexpr std::string_view kStatusDir = "var/lib/dpkg/status.d/";

struct Stanza {
  size_t first_line = 0;
  bool any = false;
  std::string package, version, status, source, arch;
  bool has_status = false;
};

// Debian version syntax (deb-version(7)): [epoch:]upstream[-revision], epoch digits,
// characters from [A-Za-z0-9.+~:-] only, upstream non-empty.
bool valid_deb_version(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' ||
              c == '~' || c == ':' || c == '-';
    if (!ok) return false;
  }
  size_t colon = v.find(':');
  std::string_view rest = v;
  if (colon != std::string_view::npos) {
    std::string_view epoch = v.substr(0, colon);
    if (epoch.empty()) return false;
    for (char c : epoch)
      if (c < '0' || c > '9') return false;
    rest = v.substr(colon + 1);
  }
  size_t dash = rest.rfind('-');
  std::string_view upstream = dash == std::string_view::npos ? rest : rest.substr(0, dash);
  if (upstream.empty()) return false;
  if (dash != std::string_view::npos && dash + 1 == rest.size()) return false;  // empty revision
  return true;
}

bool state_has_files(std::string_view status) {
  // "want flag state": the last word is the state.
  std::string_view s = text::trim(status);
  size_t sp = s.find_last_of(" \t");
  std::string_view state = sp == std::string_view::npos ? s : s.substr(sp + 1);
  return !state.empty() && state != "not-installed" && state != "config-files";
}

class DpkgAnalyzer : public Analyzer {
 public:
  std::string_view type() const override { return "dpkg"; }
  int version() const override { return 1; }
  bool essential() const override { return true; }
  bool required(std::string_view path) const override {
    if (path == kStatus) return true;
    if (!text::starts_with(path, kStatusDir)) return false;
    std::string_view name = path.substr(kStatusDir.size());
    return !name.empty() && name.find('/') == std::string_view::npos && !text::ends_with(name, ".md5sums");
  }

  Result<AnalysisResult> analyze(const AnalysisInput& in) const override {
    AnalysisResult r;
    const bool status_d = in.path != kStatus;
    Stanza st;
    auto flush = [&]() {
      if (st.any) emit(in, st, status_d, r);
      st = Stanza{};
    };
    auto ls = text::lines(in.content);
    for (size_t i = 0; i < ls.size(); ++i) {
      std::string_view line = ls[i];
      if (text::trim(line).empty()) {
        flush();
        continue;
      }
      if (line.front() == ' ' || line.front() == '\t') {
        if (!st.any) {
          return Error(ErrorKind::kFormat, text::where(in.path, i + 1) +
                                               ": a continuation line with no field before it; the dpkg database "
                                               "is corrupt");
        }
        continue;  // continuation of Description, Conffiles...: not needed
      }
      if (line.front() == '#') continue;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return Error(ErrorKind::kFormat, text::where(in.path, i + 1) + ": expected 'Field: value', got '" +
                                             std::string(line.substr(0, 40)) + "'; the dpkg database is corrupt");
      }
      if (!st.any) st.first_line = i + 1;
      st.any = true;
      std::string key = text::lower(text::trim(line.substr(0, colon)));
      std::string value(text::trim(line.substr(colon + 1)));
      if (key == "package") {
        st.package = value;
      } else if (key == "version") {
        st.version = value;
      } else if (key == "status") {
        st.status = value;
        st.has_status = true;
      } else if (key == "source") {
        st.source = value;
      } else if (key == "architecture") {
        st.arch = value;
      }
    }
    flush();
    return r;
  }

 private:
  static void emit(const AnalysisInput& in, const Stanza& st, bool status_d, AnalysisResult& r) {
    const std::string at = text::where(in.path, st.first_line);
    if (st.package.empty()) {
      r.warnings.push_back("stanza at " + at + " has no Package: field; skipped");
      return;
    }
    if (st.has_status ? !state_has_files(st.status) : !status_d) {
      if (!st.has_status)
        r.warnings.push_back("package '" + st.package + "' at " + at + " has no Status: field; skipped");
      return;  // not installed: quietly skipped
    }
    if (st.version.empty()) {
      r.warnings.push_back("package '" + st.package + "' at " + at + " has no Version: field; skipped");
      return;
    }
    if (!valid_deb_version(st.version)) {
      r.warnings.push_back("package '" + st.package + "' at " + at + " has an invalid version '" + st.version +
                           "'; skipped");
      return;
    }
    Package p;
    p.type = "deb";
    p.name = st.package;
    p.version = st.version;
    p.arch = st.arch;
    p.src_name = st.package;
    p.src_version = st.version;
    if (!st.source.empty()) {
      // "name" or "name (version)" (a binNMU or a binary built at another version).
      size_t paren = st.source.find('(');
      std::string_view name = text::trim(std::string_view(st.source).substr(0, paren));
      if (!name.empty()) p.src_name = std::string(name);
      if (paren != std::string::npos) {
        size_t close = st.source.find(')', paren);
        std::string_view v = text::trim(std::string_view(st.source).substr(
            paren + 1, close == std::string::npos ? std::string::npos : close - paren - 1));
        if (!v.empty()) p.src_version = std::string(v);
      }
    }
    p.file_path = in.path;
    r.packages.push_back(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Analyzer> make_dpkg_analyzer() { return std::make_unique<DpkgAnalyzer>(); }

}  // namespace scangate
