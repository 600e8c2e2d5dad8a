// apk's installed database (lib/apk/db/installed): records of "K:value" lines separated by
// blank lines (apk-tools doc/apk-package.5 / the "installed" file format). We read
// P: name, V: version, A: architecture, L: licence, o: origin (the source package).
#include "scanner/analyze/analyzer.h"
#include "scanner/analyze/text.h"

namespace scangate {
namespace {

constexpr std::string_view kInstalled = "lib/apk/db/installed";

struct Record {
  size_t first_line = 0;
  std::string name, version, arch, license, origin;
  bool any = false;
};

class ApkAnalyzer : public Analyzer {
 public:
  std::string_view type() const override { return "apk"; }
  int version() const override { return 1; }
  bool essential() const override { return true; }
  bool required(std::string_view path) const override { return path == kInstalled; }

  Result<AnalysisResult> analyze(const AnalysisInput& in) const override {
    AnalysisResult r;
    Record rec;
    auto flush = [&]() {
      if (!rec.any) return;
      if (rec.name.empty()) {
        r.warnings.push_back("record at " + text::where(in.path, rec.first_line) + " has no P: name; skipped");
      } else if (rec.version.empty()) {
        r.warnings.push_back("package '" + rec.name + "' at " + text::where(in.path, rec.first_line) +
                             " has no V: version; skipped");
      } else {
        Package p;
        p.type = "apk";
        p.name = rec.name;
        p.version = rec.version;
        p.src_name = rec.origin.empty() ? rec.name : rec.origin;
        p.src_version = rec.version;
        p.arch = rec.arch;
        if (!rec.license.empty()) p.licenses.push_back(rec.license);
        p.file_path = in.path;
        r.packages.push_back(std::move(p));
      }
      rec = Record{};
    };

    auto ls = text::lines(in.content);
    for (size_t i = 0; i < ls.size(); ++i) {
      std::string_view line = ls[i];
      if (text::trim(line).empty()) {
        flush();
        continue;
      }
      if (line.size() < 2 || line[1] != ':') {
        return Error(ErrorKind::kFormat,
                     text::where(in.path, i + 1) + ": expected a 'K:value' line of the apk database, got '" +
                         std::string(line.substr(0, 40)) +
                         "'; the file is corrupt (reinstall apk-tools' database or rebuild the image)");
      }
      if (!rec.any) rec.first_line = i + 1;
      rec.any = true;
      std::string value(line.substr(2));
      switch (line[0]) {
        case 'P': rec.name = value; break;
        case 'V': rec.version = value; break;
        case 'A': rec.arch = value; break;
        case 'L': rec.license = value; break;
        case 'o': rec.origin = value; break;
        default: break;
      }
    }
    flush();
    return r;
  }
};

}  // namespace

std::unique_ptr<Analyzer> make_apk_analyzer() { return std::make_unique<ApkAnalyzer>(); }

}  // namespace scangate
