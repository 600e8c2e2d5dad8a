// Analyzers are small registered units, one per file type (after Trivy's fanal
// analyzers): a type, a version (part of any cache key), a cheap `required` filter on
// paths, and `analyze` on the bytes. They depend on nothing but the inventory types.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"

namespace scangate {

struct AnalysisInput {
  std::string path;          // normalised, relative to the image root ("lib/apk/db/installed")
  std::string_view content;
};

struct AnalysisResult {
  std::optional<OSInfo> os;             // os analyzers
  std::vector<Package> packages;        // package analyzers (layer filled by the caller)
  std::vector<std::string> warnings;    // skipped entries, parse problems that were survivable
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual std::string_view type() const = 0;   // "apk", "dpkg", "os-release", ...
  virtual int version() const = 0;
  virtual bool required(std::string_view path) const = 0;
  // A malformed file is an Error (kFormat) naming the file and the line; never a crash.
  virtual Result<AnalysisResult> analyze(const AnalysisInput& in) const = 0;
};

class AnalyzerRegistry {
 public:
  // A duplicate type is an error.
  Result<void> add(std::unique_ptr<Analyzer> a);
  const std::vector<std::unique_ptr<Analyzer>>& all() const { return analyzers_; }
  bool any_required(std::string_view path) const;
  // "apk:1,dpkg:1,..." for cache keys.
  std::string versions_key() const;

  // The built-in analyzers: os, apk, dpkg, python, npm.
  static AnalyzerRegistry builtin();

 private:
  std::vector<std::unique_ptr<Analyzer>> analyzers_;
};

}  // namespace scangate
