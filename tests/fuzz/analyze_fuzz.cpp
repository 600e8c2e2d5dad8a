// libFuzzer targets: the package-database and release-file analyzers (scanner/analyze), one
// binary per format, chosen at build time (CMakeLists.txt defines SCANGATE_FUZZ_ANALYZER_<x>):
//   analyze_apk_fuzz         lib/apk/db/installed
//   analyze_dpkg_fuzz        var/lib/dpkg/status and a distroless var/lib/dpkg/status.d/ file
//   analyze_python_fuzz      METADATA (*.dist-info), PKG-INFO (*.egg-info, EGG-INFO) and a
//                            distutils *.egg-info file: one parser, so one target feeds all three
//   analyze_npm_fuzz         node_modules/[@scope/]NAME/package.json
//   analyze_os_release_fuzz  etc/os-release, usr/lib/os-release, etc/alpine-release,
//                            etc/debian_version, and merge_os() over what they give
//
// Properties: a failure is kFormat and names the file; each package found has the analyzer's
// purl type, a name, a version, a source name and version, and the file it came from; where the
// path only names the file (apk, python, npm: not dpkg, whose status.d/ files may omit Status),
// the same bytes under each of the analyzer's paths give the same packages.
#include <optional>

#include "scanner/analyze/analyzer.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

#if defined(SCANGATE_FUZZ_ANALYZER_apk)
constexpr std::string_view kName = "analyze_apk_fuzz";
constexpr std::string_view kType = "apk";
constexpr bool kSamePaths = true;
const char* const kPaths[] = {"lib/apk/db/installed"};
std::unique_ptr<Analyzer> make() { return make_apk_analyzer(); }
#elif defined(SCANGATE_FUZZ_ANALYZER_dpkg)
constexpr std::string_view kName = "analyze_dpkg_fuzz";
constexpr std::string_view kType = "deb";
constexpr bool kSamePaths = false;
const char* const kPaths[] = {"var/lib/dpkg/status", "var/lib/dpkg/status.d/base"};
std::unique_ptr<Analyzer> make() { return make_dpkg_analyzer(); }
#elif defined(SCANGATE_FUZZ_ANALYZER_python)
constexpr std::string_view kName = "analyze_python_fuzz";
constexpr std::string_view kType = "pypi";
constexpr bool kSamePaths = true;
const char* const kPaths[] = {"usr/lib/python3/site-packages/pip-21.2.4.dist-info/METADATA",
                              "usr/lib/python3/site-packages/pip.egg-info/PKG-INFO",
                              "usr/lib/python3/site-packages/x.egg/EGG-INFO/PKG-INFO",
                              "usr/lib/python3/site-packages/pip-21.2.4.egg-info"};
std::unique_ptr<Analyzer> make() { return make_python_analyzer(); }
#elif defined(SCANGATE_FUZZ_ANALYZER_npm)
constexpr std::string_view kName = "analyze_npm_fuzz";
constexpr std::string_view kType = "npm";
constexpr bool kSamePaths = true;
const char* const kPaths[] = {"app/node_modules/left-pad/package.json", "node_modules/@types/node/package.json"};
std::unique_ptr<Analyzer> make() { return make_npm_analyzer(); }
#elif defined(SCANGATE_FUZZ_ANALYZER_os_release)
constexpr std::string_view kName = "analyze_os_release_fuzz";
constexpr std::string_view kType = "";
constexpr bool kSamePaths = false;
const char* const kPaths[] = {"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version"};
std::unique_ptr<Analyzer> make() { return make_os_release_analyzer(); }
#else
#error "define SCANGATE_FUZZ_ANALYZER_<apk|dpkg|python|npm|os_release>"
#endif

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail(kName, what, in); }

std::string describe(const std::vector<Package>& pkgs) {
  std::string s;
  for (const auto& p : pkgs) {
    s += p.type + "/" + p.name + "@" + p.version + " src=" + p.src_name + "@" + p.src_version + " arch=" + p.arch +
         " lic=";
    for (const auto& l : p.licenses) s += l + ",";
    s += "; ";
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<Analyzer> analyzer = make();
  const std::string_view in = fuzz::as_text(data, size);
  std::optional<std::string> first;  // the packages (or error) under the first path
  std::vector<OSFinding> found;
  for (const char* path : kPaths) {
    if (!analyzer->required(path)) fail(std::string("the analyzer does not want ") + path, in);
    auto r = analyzer->analyze({path, in});
    std::string outcome;
    if (!r.ok()) {
      if (r.error().kind != ErrorKind::kFormat) fail("failed with another kind: " + r.error().message, in);
      if (r.error().message.find(path) == std::string::npos)
        fail(std::string("the error does not name ") + path + ": " + r.error().message, in);
      outcome = "error";
    } else {
      for (const auto& p : r->packages) {
        if (p.type != kType) fail("a package of type " + p.type, in);
        if (p.name.empty() || p.version.empty() || p.src_name.empty() || p.src_version.empty())
          fail("a package without name or version: " + describe(r->packages), in);
        if (p.file_path != path) fail("a package's file_path is " + p.file_path, in);
      }
      if (r->os) found.push_back({path, *r->os});
      outcome = describe(r->packages);
    }
    if (!first) {
      first = outcome;
    } else if (kSamePaths && outcome != *first) {
      fail(std::string("another outcome under ") + path + ": " + outcome + " / " + *first, in);
    }
  }
  if (!found.empty()) {
    const OSInfo os = merge_os(found);
    bool known = false;
    for (const auto& f : found) known = known || f.os.family == os.family;
    if (!known) fail("merge_os gave a family no file named: " + os.family, in);
  }
  return 0;
}
