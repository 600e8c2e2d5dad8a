// Analyzers are small registered units, one per file type (after Trivy's fanal
// analyzers): a type, a version (part of any cache key), a cheap `required` filter on
// paths, and `analyze` on the bytes. They depend on nothing but the inventory types.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"

namespace scangate {

struct AnalysisInput {
  std::string path;  // normalised, relative to the image root ("lib/apk/db/installed")
  std::string_view content;
};

struct AnalysisResult {
  std::optional<OSInfo> os;           // os analyzers
  std::vector<Package> packages;      // package analyzers (layer filled by the caller)
  std::vector<std::string> warnings;  // skipped entries, parse problems that were survivable
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual std::string_view type() const = 0;  // "apk", "dpkg", "os-release", ...
  virtual int version() const = 0;
  virtual bool required(std::string_view path) const = 0;
  // A malformed file is an Error (kFormat) naming the file and the line; never a crash.
  virtual Result<AnalysisResult> analyze(const AnalysisInput& in) const = 0;
  // Whether a scan that could not read one of this analyzer's files whole, or could not parse
  // it, is incomplete and must fail (never pass a gate): true for the OS package databases (apk,
  // dpkg) and the OS release files, whose loss hides every OS package or leaves them unmatched.
  // False for one language package's manifest (python, npm): that file is skipped with a
  // warning naming it and the rest of the scan proceeds.
  virtual bool essential() const { return false; }
};

class AnalyzerRegistry {
 public:
  // A duplicate type is an error.
  Result<void> add(std::unique_ptr<Analyzer> a);
  const std::vector<std::unique_ptr<Analyzer>>& all() const { return analyzers_; }
  bool any_required(std::string_view path) const;
  // Whether an essential() analyzer requires path: a scan must read that file whole.
  bool any_essential(std::string_view path) const;
  // "apk:1,dpkg:1,..." for cache keys.
  std::string versions_key() const;

  // The built-in analyzers: os, apk, dpkg, python, npm.
  static AnalyzerRegistry builtin();

  // The analyzer registered under type, or nullptr.
  const Analyzer* find(std::string_view type) const;

 private:
  std::vector<std::unique_ptr<Analyzer>> analyzers_;
};

// The built-in analyzers (one per file; AnalyzerRegistry::builtin() registers all five).
// type()            files                                               Package.type
// "os-release"      etc/os-release, usr/lib/os-release,                  (OSInfo)
//                   etc/alpine-release, etc/debian_version
// "apk"             lib/apk/db/installed                                 "apk"
// "dpkg"            var/lib/dpkg/status, var/lib/dpkg/status.d/*          "deb"
// "python"          *.dist-info/METADATA, *.egg-info/PKG-INFO,            "pypi"
//                   *.egg-info (file), EGG-INFO/PKG-INFO
// "npm"             node_modules/[@scope/]NAME/package.json               "npm"
std::unique_ptr<Analyzer> make_os_release_analyzer();
std::unique_ptr<Analyzer> make_apk_analyzer();
std::unique_ptr<Analyzer> make_dpkg_analyzer();
std::unique_ptr<Analyzer> make_python_analyzer();
std::unique_ptr<Analyzer> make_npm_analyzer();

// One OS fact as found in one file (the path tells which file it came from).
struct OSFinding {
  std::string path;  // "etc/os-release", "usr/lib/os-release", "etc/alpine-release", ...
  OSInfo os;
};

// Merges OS facts found in several files. os-release wins: etc/os-release, else
// usr/lib/os-release, gives family (ID), name (VERSION_ID), pretty name and codename. The
// distro's own release file (etc/alpine-release, etc/debian_version) only refines the name
// when it has the same family and its version extends os-release's (Debian "12" -> "12.5")
// or os-release has no VERSION_ID (Debian testing); a different family (Ubuntu's
// debian_version "bookworm/sid") is ignored. Without os-release, the first release file
// with a family is used (alpine-release before debian_version).
OSInfo merge_os(const std::vector<OSFinding>& found);

}  // namespace scangate
