// The scan pipeline: image source -> layers (streamed once) -> analyzers -> inventory,
// with each package attributed to the layer that introduced it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "scanner/analyze/analyzer.h"
#include "scanner/core/deadline.h"
#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/image/source.h"
#include "scanner/layers/walker.h"
#include "scanner/secret/secret_scanner.h"

namespace scangate {

using ProgressFn = std::function<void(const std::string&)>;

struct ScanOptions {
  WalkLimits limits;
  ProgressFn progress;  // may be empty
  // Extra per-layer hook (the secret scanner): sees every kept file of every layer, including
  // files a later layer deletes. May be empty.
  std::function<bool(std::string_view path, uint64_t size)> extra_want;
  std::function<void(const LayerContents&, Inventory&)> per_layer;
  // Checked before each layer (and each directory of a root filesystem): past it, the scan stops
  // with an Error of kind kLimit.
  Deadline deadline = Deadline::never();
};

struct ScanOutput {
  ImageMetadata meta;
  Inventory inventory;
  std::vector<std::string> warnings;
};

// Adds secret scanning to a scan: the scanner sees every kept file of every layer, including
// files a later layer deletes (they still ship in the image). `warn` gets the scanner's
// per-file warnings (they hold no secret); may be empty.
void add_secret_scanning(ScanOptions& options, std::shared_ptr<const SecretScanner> scanner,
                         std::function<void(const std::string&)> warn = {});

Result<ScanOutput> scan_image(ImageSource& source, const AnalyzerRegistry& analyzers, const ScanOptions& options);

// Scans an unpacked filesystem. Links are recorded, never followed on the host.
Result<ScanOutput> scan_rootfs(const std::string& dir, const AnalyzerRegistry& analyzers, const ScanOptions& options);

// The analysis step alone, over already-walked layers (base first). Pure: no I/O.
// An essential file (AnalyzerRegistry::any_essential: the OS package databases, os-release) that
// the image holds but whose content was not kept (over max_file_bytes, named in the error) or that
// does not parse fails it: the inventory would be incomplete. Another analyzer's file that does not
// parse is skipped with a warning naming it.
Result<Inventory> analyze_layers(const std::vector<LayerContents>& layers, const AnalyzerRegistry& analyzers,
                                 std::vector<std::string>& warnings, uint64_t max_file_bytes = 0);

}  // namespace scangate
