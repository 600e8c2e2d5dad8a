// OS identification: os-release(5) (etc/os-release, usr/lib/os-release), Alpine's
// etc/alpine-release and Debian's etc/debian_version. merge_os() says which wins.
#include <map>

#include "scanner/analyze/analyzer.h"
#include "scanner/analyze/text.h"

namespace scangate {
namespace {

constexpr std::string_view kEtcOsRelease = "etc/os-release";
constexpr std::string_view kUsrOsRelease = "usr/lib/os-release";
constexpr std::string_view kAlpineRelease = "etc/alpine-release";
constexpr std::string_view kDebianVersion = "etc/debian_version";

// A value as os-release(5) writes it: unquoted, or in "..." (with \" \\ \$ \` escapes)
// or '...'. Returns false for an unterminated quote.
bool unquote(std::string_view v, std::string& out) {
  out.clear();
  if (v.empty()) return true;
  char q = v.front();
  if (q != '"' && q != '\'') {
    out.assign(v);
    return true;
  }
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == q) return true;  // anything after the closing quote is ignored
    if (q == '"' && c == '\\' && i + 1 < v.size()) {
      char n = v[i + 1];
      if (n == '"' || n == '\\' || n == '$' || n == '`') {
        out.push_back(n);
        ++i;
        continue;
      }
    }
    out.push_back(c);
  }
  return false;
}

class OsReleaseAnalyzer : public Analyzer {
 public:
  std::string_view type() const override { return "os-release"; }
  int version() const override { return 1; }
  bool essential() const override { return true; }
  bool required(std::string_view path) const override {
    return path == kEtcOsRelease || path == kUsrOsRelease || path == kAlpineRelease || path == kDebianVersion;
  }

  Result<AnalysisResult> analyze(const AnalysisInput& in) const override {
    if (in.path == kAlpineRelease || in.path == kDebianVersion) return release_file(in);
    return os_release(in);
  }

 private:
  static Result<AnalysisResult> release_file(const AnalysisInput& in) {
    AnalysisResult r;
    auto ls = text::lines(in.content);
    std::string_view first = ls.empty() ? std::string_view() : text::trim(ls.front());
    if (first.empty()) {
      r.warnings.push_back(in.path + " is empty; no OS version from it");
      return r;
    }
    OSInfo os;
    os.family = in.path == kAlpineRelease ? "alpine" : "debian";
    os.name = std::string(first);
    r.os = os;
    return r;
  }

  static Result<AnalysisResult> os_release(const AnalysisInput& in) {
    AnalysisResult r;
    std::map<std::string, std::string> kv;
    auto ls = text::lines(in.content);
    for (size_t i = 0; i < ls.size(); ++i) {
      std::string_view line = text::trim(ls[i]);
      if (line.empty() || line.front() == '#') continue;
      size_t eq = line.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        r.warnings.push_back(text::where(in.path, i + 1) + ": not a KEY=VALUE line; ignored");
        continue;
      }
      std::string value;
      if (!unquote(text::trim(line.substr(eq + 1)), value)) {
        r.warnings.push_back(text::where(in.path, i + 1) + ": unterminated quote; value taken to the line end");
      }
      kv[std::string(text::trim(line.substr(0, eq)))] = value;
    }
    auto get = [&](const char* k) {
      auto it = kv.find(k);
      return it == kv.end() ? std::string() : it->second;
    };
    OSInfo os;
    os.family = text::lower(get("ID"));
    os.name = get("VERSION_ID");
    os.pretty_name = get("PRETTY_NAME");
    os.codename = get("VERSION_CODENAME");
    if (os.codename.empty()) os.codename = get("UBUNTU_CODENAME");
    if (os.family.empty()) {
      r.warnings.push_back(in.path + " has no ID=; the OS family is unknown from it");
      return r;
    }
    r.os = os;
    return r;
  }
};

const OSInfo* pick(const std::vector<OSFinding>& found, std::string_view path) {
  for (const auto& f : found)
    if (f.path == path && !f.os.family.empty()) return &f.os;
  return nullptr;
}

}  // namespace

std::unique_ptr<Analyzer> make_os_release_analyzer() { return std::make_unique<OsReleaseAnalyzer>(); }

OSInfo merge_os(const std::vector<OSFinding>& found) {
  const OSInfo* rel = pick(found, kEtcOsRelease);
  if (rel == nullptr) rel = pick(found, kUsrOsRelease);
  const std::string_view precise_files[] = {kAlpineRelease, kDebianVersion};
  if (rel == nullptr) {
    for (auto p : precise_files)
      if (const OSInfo* os = pick(found, p)) return *os;
    return {};
  }
  OSInfo out = *rel;
  for (auto p : precise_files) {
    const OSInfo* os = pick(found, p);
    if (os == nullptr || os->family != out.family || os->name.empty()) continue;
    if (out.name.empty() || text::starts_with(os->name, out.name + ".")) out.name = os->name;
  }
  return out;
}

}  // namespace scangate
