// libFuzzer target: image manifests, indexes and configs (scanner/image/manifest.h), as a
// registry or an image archive serves them, and what is decided from them (platform choice, the
// layers paired with the config's diff_ids).
//
// The bytes are read as a manifest under three Content-Types (none, an index's, a manifest's with
// a parameter) and as a config; a JSON document can be both (the keys do not overlap), so the
// layers are assembled when it is. Properties: refusals are kFormat (kInvalidArgument for a
// malformed digest: validate_digest's kind, which no caller tells apart); every descriptor kept has a
// valid digest and a size of -1 or more; a platform chosen from an index is one of its entries
// and never an attestation (unknown/unknown); platforms_to_check() gives ascending positions,
// each once, of entries that are no attestations; assembled layers are filesystem layers, each
// with a diff_id of the config.
#include "scanner/image/digest.h"
#include "scanner/image/manifest.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("manifest_fuzz", what, in); }

bool refusal(const Error& e) { return e.kind == ErrorKind::kFormat || e.kind == ErrorKind::kInvalidArgument; }

bool same(const std::optional<Platform>& a, const std::optional<Platform>& b) {
  if (!a || !b) return !a && !b;
  return a->os == b->os && a->architecture == b->architecture && a->variant == b->variant;
}

void check_descriptor(const Descriptor& d, const char* where, std::string_view in) {
  if (!validate_digest(d.digest).ok()) fail(std::string(where) + " digest \"" + d.digest + "\" is invalid", in);
  if (d.size < -1) fail(std::string(where) + " size " + std::to_string(d.size), in);
}

void check_index(const ImageIndex& index, std::string_view in) {
  for (const auto& d : index.manifests) check_descriptor(d, "index entry", in);
  static const Platform kWanted[] = {
      {"linux", "amd64", ""}, {"linux", "arm64", "v8"}, {"linux", "arm", ""}, {"windows", "amd64", ""}};
  for (const auto& want : kWanted) {
    auto d = select_platform(index, want, "fuzz index");
    if (!d.ok()) {
      if (d.error().kind != ErrorKind::kNotFound) fail("select_platform: " + d.error().message, in);
      continue;
    }
    bool listed = false;
    for (const auto& m : index.manifests) listed = listed || (m.digest == d->digest && same(m.platform, d->platform));
    if (!listed) fail("select_platform chose an entry the index does not list", in);
    if (d->platform && (d->platform->os == "unknown" || d->platform->architecture == "unknown"))
      fail("select_platform chose an attestation entry", in);
  }
  std::vector<Platform> offered;
  for (const auto& m : index.manifests) offered.push_back(m.platform ? *m.platform : Platform{"", "", ""});
  for (const auto& wanted : {std::vector<Platform>{}, std::vector<Platform>{kWanted[0], kWanted[2]}}) {
    const auto picks = platforms_to_check(offered, wanted);
    for (std::size_t i = 0; i < picks.size(); ++i) {
      if (picks[i] >= offered.size() || (i > 0 && picks[i] <= picks[i - 1]))
        fail("platforms_to_check gave positions out of order or out of range", in);
      const Platform& p = offered[picks[i]];
      if (p.os == "unknown" || p.architecture == "unknown") fail("platforms_to_check chose an attestation", in);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  std::optional<ParsedManifest> image;
  for (std::string_view content_type :
       {std::string_view(), media_type::kOciIndex,
        std::string_view("application/vnd.docker.distribution.manifest.v2+json; x=y")}) {
    auto m = parse_manifest(in, content_type, "fuzz manifest");
    if (!m.ok()) {
      if (!refusal(m.error())) fail("parse_manifest: " + m.error().message, in);
      continue;
    }
    if (m->is_index) {
      check_index(m->index, in);
    } else {
      check_descriptor(m->image.config, "config", in);
      for (const auto& l : m->image.layers) check_descriptor(l, "layer", in);
      if (!image) image = std::move(m).value();
    }
  }
  auto config = parse_image_config(in, "fuzz config");
  if (!config.ok()) {
    if (!refusal(config.error())) fail("parse_image_config: " + config.error().message, in);
    return 0;
  }
  for (const auto& id : config->diff_ids)
    if (!validate_digest(id).ok()) fail("diff_id \"" + id + "\" is invalid", in);
  if (!image) return 0;
  std::size_t warnings = 0;
  auto layers = assemble_layers(image->image, *config, [&](const std::string&) { ++warnings; });
  if (!layers.ok()) return 0;
  if (layers->size() + warnings != image->image.layers.size()) fail("layers lost without a warning", in);
  for (const auto& l : *layers) {
    if (classify_layer(l.media_type) != LayerKind::kFilesystem) fail("a layer of type " + l.media_type + " kept", in);
    bool known = false;
    for (const auto& id : config->diff_ids) known = known || id == l.diff_id;
    if (!known) fail("a layer's diff_id is not the config's", in);
  }
  ImageMetadata meta;
  fill_config_metadata(meta, *config, std::string(in), *layers);
  if (meta.layer_digests.size() != layers->size()) fail("fill_config_metadata lost layers", in);
  return 0;
}
