// Reading a CycloneDX JSON SBOM back into what the matcher needs: the image's metadata, its OS and
// its packages. The webhook receives such BOMs inside signed attestations (the `predicate` of an
// in-toto statement) and matches them again against its own vulnerability DB
// (`pipeline::run_from_inventory`), so the input is untrusted: every bound is in SbomLimits, and a
// malformed BOM is an Error that names where ("components[12].version: not a string"), never a crash.
//
// Two producers are understood: scangate's own `write_cyclonedx` (properties "scangate:*") and
// Trivy's `--format cyclonedx` (properties "aquasecurity:trivy:*", see the .cpp for the mapping).
// Components may be nested (`components` inside a component, CycloneDX's assemblies) up to
// SbomLimits::max_depth; Trivy itself writes a flat list linked by `dependencies`, which is not read.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"

namespace scangate {

struct SbomLimits {
  std::size_t max_bytes = std::size_t{256} << 20;  // the JSON text (the text overloads only)
  std::size_t max_components = 200'000;            // every component at every depth
  std::size_t max_depth = 32;                      // a top-level component is depth 1
  std::size_t max_string_bytes = 64 * 1024;        // one string the reader uses (name, purl, property value)
  std::size_t max_properties = 4096;               // per component
  std::size_t max_licenses = 256;                  // per component
  std::size_t max_warnings = 1000;                 // warnings kept; the last one counts the rest
};

// What a BOM says about one image. `inventory.secrets` is always empty (CycloneDX carries none);
// `meta.normalized`, `meta.config_json` and the OS's pretty name and codename are not in a BOM.
struct SbomImage {
  ImageMetadata meta;
  Inventory inventory;
  std::vector<std::string> warnings;
  // Components skipped because they are no package scangate matches (a package type it does not
  // know, no purl and no type, no name): each has a warning, within SbomLimits::max_warnings.
  std::size_t skipped = 0;
};

// Errors: kFormat (not JSON, not CycloneDX, a wrong type, a malformed digest, a duplicate bom-ref,
// two different operating systems, a version its purl contradicts) or kLimit (a bound of `limits`),
// each naming the place. The message starts with "CycloneDX SBOM: ".
Result<SbomImage> read_cyclonedx(std::string_view json, const SbomLimits& limits = {});
// An already parsed BOM (an in-toto statement's predicate). Its JSON nesting is the parser's
// business: parse untrusted text with a bound (scanner/core/json_depth.h) or use the text overload.
Result<SbomImage> read_cyclonedx(const nlohmann::json& bom, const SbomLimits& limits = {});

// Exact matches, so that a std::string or a literal is never ambiguous between the two above
// (nlohmann::json converts implicitly from both).
inline Result<SbomImage> read_cyclonedx(const std::string& json, const SbomLimits& limits = {}) {
  return read_cyclonedx(std::string_view(json), limits);
}
inline Result<SbomImage> read_cyclonedx(const char* json, const SbomLimits& limits = {}) {
  return read_cyclonedx(std::string_view(json), limits);
}

}  // namespace scangate
