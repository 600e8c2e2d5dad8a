// libFuzzer target: the CycloneDX reader (scanner/report/cyclonedx_read.h), which reads the SBOM
// of a signed attestation back into an inventory the webhook matches against its own DB.
//
// The text is read under small SbomLimits (the reader's own bounds, not the defaults). Properties:
//   - refusals are kFormat or kLimit and start with "CycloneDX SBOM: ";
//   - the text overload and the parsed one (an in-toto predicate) read the same, when nlohmann
//     parses the text;
//   - at most max_components packages, at most max_warnings + 1 warnings, and every package has
//     a type and a name (one without a version is kept with a warning: it cannot be matched);
//   - what scangate writes of what was read (write_cyclonedx) reads back as the same OS, packages
//     (type, name, version, source name and version, arch, licenses, file, layer) and image
//     fields: the pipeline attests an SBOM and the webhook must match the packages it listed.
#include <nlohmann/json.hpp>

#include "scanner/report/cyclonedx_read.h"
#include "scanner/report/report.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("cyclonedx_fuzz", what, in); }

SbomLimits small() {
  SbomLimits l;
  l.max_bytes = 1u << 20;
  l.max_components = 500;
  l.max_depth = 32;
  l.max_string_bytes = 4096;
  l.max_properties = 64;
  l.max_licenses = 16;
  l.max_warnings = 20;
  return l;
}

std::string describe(const SbomImage& s) {
  std::string out = "os=" + s.inventory.os.family + "@" + s.inventory.os.name + " diff_ids=";
  for (const auto& d : s.meta.diff_ids) out += d + ",";
  // The platform as scangate:Architecture writes it ("arm64/v8"): an architecture read from a purl's
  // arch qualifier may itself hold a '/', which the property splits on when read back.
  out += " config=" + s.meta.config_digest + " repo_digest=" + s.meta.repo_digest + " arch=" + s.meta.architecture +
         (s.meta.variant.empty() ? "" : "/" + s.meta.variant) + " tags=";
  for (const auto& t : s.meta.repo_tags) out += t + ",";
  out += "\n";
  for (const auto& p : s.inventory.packages) {
    out += "  " + p.type + " " + p.name + " " + p.version + " src=" + p.src_name + " " + p.src_version +
           " arch=" + p.arch + " file=" + p.file_path + " layer=" + p.layer.digest + "/" + p.layer.diff_id + "/" +
           std::to_string(p.layer.index) + " lic=";
    for (const auto& l : p.licenses) out += l + ",";
    out += "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  static const SbomLimits limits = small();
  auto got = read_cyclonedx(in, limits);

  const auto doc = nlohmann::json::parse(in, nullptr, false);
  if (!doc.is_discarded()) {
    auto parsed = read_cyclonedx(doc, limits);
    const std::string a = got.ok() ? describe(*got) : got.error().message;
    const std::string b = parsed.ok() ? describe(*parsed) : parsed.error().message;
    // Depth is the text overload's business (json_depth before parsing): only compare below it.
    if (got.ok() && a != b) fail("the parsed overload reads otherwise:\n" + a + "---\n" + b, in);
  }

  if (!got.ok()) {
    const Error& e = got.error();
    if (e.kind != ErrorKind::kFormat && e.kind != ErrorKind::kLimit)
      fail("refused with another kind: " + e.message, in);
    if (e.message.rfind("CycloneDX SBOM: ", 0) != 0) fail("the message does not say what: " + e.message, in);
    return 0;
  }
  if (got->inventory.packages.size() > limits.max_components) fail("more packages than max_components", in);
  if (got->warnings.size() > limits.max_warnings + 1) fail("more warnings than max_warnings + 1", in);
  // A package without a version is kept, with a warning that it cannot be matched (by design).
  for (const auto& p : got->inventory.packages)
    if (p.type.empty() || p.name.empty()) fail("a package without a type or a name", in);

  ReportInput report;
  report.meta = got->meta;
  report.inventory = got->inventory;
  report.include_vulnerabilities = false;
  report.created_at = "2025-01-01T00:00:00Z";
  const std::string written = write_cyclonedx(report);
  auto back = read_cyclonedx(written);
  if (!back.ok()) fail("scangate's BOM of what was read is refused: " + back.error().message + "\n" + written, in);
  if (describe(*back) != describe(*got))
    fail("scangate's BOM of what was read reads otherwise:\n" + describe(*got) + "---\n" + describe(*back), in);
  return 0;
}
