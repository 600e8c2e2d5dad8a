#include "scanner/image/manifest.h"

#include <nlohmann/json.hpp>

#include "scanner/core/json_depth.h"
#include "scanner/image/digest.h"

namespace scangate {
namespace {

using nlohmann::json;

std::string str_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Result<Descriptor> parse_descriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return Error(ErrorKind::kFormat, where + " is not a JSON object");
  Descriptor d;
  d.media_type = str_field(j, "mediaType");
  d.digest = str_field(j, "digest");
  auto v = validate_digest(d.digest);
  if (!v.ok()) return v.error().wrap(where);
  if (auto it = j.find("size"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return Error(ErrorKind::kFormat, where + ": \"size\" must be a non-negative integer");
    d.size = it->get<int64_t>();
  }
  if (auto it = j.find("platform"); it != j.end() && it->is_object()) {
    Platform p;
    p.os = str_field(*it, "os");
    p.architecture = str_field(*it, "architecture");
    p.variant = str_field(*it, "variant");
    d.platform = p;
  }
  if (auto it = j.find("annotations"); it != j.end() && it->is_object()) {
    for (const auto& [k, val] : it->items())
      if (val.is_string()) d.annotations[k] = val.get<std::string>();
  }
  return d;
}

bool is_schema1(std::string_view mt) {
  return mt == media_type::kDockerSchema1 || mt == media_type::kDockerSchema1Signed;
}

std::string strip_params(std::string_view ct) {
  auto semi = ct.find(';');
  std::string out(ct.substr(0, semi));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(media_type::kOciIndex) + ", " + std::string(media_type::kOciManifest) + ", " +
         std::string(media_type::kDockerManifestList) + ", " + std::string(media_type::kDockerManifest);
}

Result<ParsedManifest> parse_manifest(std::string_view body, std::string_view content_type, const std::string& what) {
  if (json_nesting(body, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting)
    return Error(ErrorKind::kFormat,
                 what + " nests deeper than " + std::to_string(kMaxRegistryJsonNesting) + " levels; refused");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, what + " is not a JSON object");
  std::string mt = str_field(j, "mediaType");
  if (mt.empty()) mt = strip_params(content_type);
  int schema = 0;
  if (auto it = j.find("schemaVersion"); it != j.end() && it->is_number_integer()) schema = it->get<int>();
  if (schema == 1 || is_schema1(mt))
    return Error(ErrorKind::kFormat, what +
                                         " uses Docker image manifest schema 1, which is deprecated and not "
                                         "supported; re-push the image with a current Docker or convert it "
                                         "with `skopeo copy --format v2s2`");
  if (schema != 2)
    return Error(ErrorKind::kFormat, what + ": unsupported schemaVersion " + std::to_string(schema) + " (expected 2)");
  bool has_manifests = j.contains("manifests");
  bool index = mt == media_type::kOciIndex || mt == media_type::kDockerManifestList ||
               ((mt.empty() || mt == "application/json" || mt == "application/octet-stream") && has_manifests);
  ParsedManifest out;
  if (index) {
    out.is_index = true;
    out.index.media_type = mt.empty() ? std::string(media_type::kOciIndex) : mt;
    auto it = j.find("manifests");
    if (it == j.end() || !it->is_array()) return Error(ErrorKind::kFormat, what + ": index has no \"manifests\" array");
    size_t i = 0;
    for (const auto& m : *it) {
      auto d = parse_descriptor(m, what + ": manifests[" + std::to_string(i++) + "]");
      if (!d.ok()) return d.error();
      out.index.manifests.push_back(std::move(d).value());
    }
    return out;
  }
  bool manifest =
      mt == media_type::kOciManifest || mt == media_type::kDockerManifest ||
      ((mt.empty() || mt == "application/json" || mt == "application/octet-stream") && j.contains("config"));
  if (!manifest)
    return Error(ErrorKind::kFormat, what + " has media type \"" + mt + "\", which is not an image manifest or index");
  out.image.media_type = mt.empty() ? std::string(media_type::kOciManifest) : mt;
  auto cfg = j.find("config");
  if (cfg == j.end()) return Error(ErrorKind::kFormat, what + " has no \"config\" descriptor");
  auto c = parse_descriptor(*cfg, what + ": config");
  if (!c.ok()) return c.error();
  out.image.config = std::move(c).value();
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) return Error(ErrorKind::kFormat, what + " has no \"layers\" array");
  size_t i = 0;
  for (const auto& l : *layers) {
    auto d = parse_descriptor(l, what + ": layers[" + std::to_string(i++) + "]");
    if (!d.ok()) return d.error();
    out.image.layers.push_back(std::move(d).value());
  }
  return out;
}

Result<Descriptor> select_platform(const ImageIndex& index, const Platform& wanted, const std::string& what) {
  const Descriptor* exact = nullptr;
  const Descriptor* loose = nullptr;
  Platform want_norm = normalize_platform(wanted);
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (p.os == "unknown" || p.architecture == "unknown") continue;  // attestations
    // An annotation does not hide an entry that names a platform: runtimes select by platform alone.
    offered += (offered.empty() ? "" : ", ") + p.to_string();
    if (!platform_matches(wanted, p)) continue;
    if (!exact && normalize_platform(p).variant == want_norm.variant) exact = &d;
    if (!loose) loose = &d;
  }
  if (exact) return *exact;
  if (loose) return *loose;
  if (index.manifests.size() == 1 && !index.manifests[0].platform) return index.manifests[0];
  return Error(ErrorKind::kNotFound, what + " has no image for platform " + wanted.to_string() +
                                         (offered.empty() ? std::string(" (the index lists no platforms)")
                                                          : " (available: " + offered + ")") +
                                         "; choose one with --platform");
}

Result<ImageConfig> parse_image_config(std::string_view text, const std::string& what) {
  if (json_nesting(text, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting)
    return Error(ErrorKind::kFormat,
                 what + " nests deeper than " + std::to_string(kMaxRegistryJsonNesting) + " levels; refused");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, what + " is not a JSON object");
  ImageConfig c;
  c.os = str_field(j, "os");
  c.architecture = str_field(j, "architecture");
  c.variant = str_field(j, "variant");
  c.created = str_field(j, "created");
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) return Error(ErrorKind::kFormat, what + " has no \"rootfs\" object");
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array())
    return Error(ErrorKind::kFormat, what + ": rootfs has no \"diff_ids\" array");
  size_t i = 0;
  for (const auto& id : *ids) {
    if (!id.is_string())
      return Error(ErrorKind::kFormat, what + ": rootfs.diff_ids[" + std::to_string(i) + "] is not a string");
    auto v = validate_digest(id.get<std::string>());
    if (!v.ok()) return v.error().wrap(what + ": rootfs.diff_ids[" + std::to_string(i) + "]");
    c.diff_ids.push_back(id.get<std::string>());
    ++i;
  }
  return c;
}

LayerKind classify_layer(std::string_view mt) {
  static constexpr std::string_view kFs[] = {
      media_type::kOciLayerTar,
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      media_type::kDockerLayerTar,
      media_type::kDockerLayerGzip,
      "application/vnd.docker.image.rootfs.diff.tar.zstd",
  };
  static constexpr std::string_view kForeign[] = {
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  };
  for (auto f : kFs)
    if (mt == f) return LayerKind::kFilesystem;
  for (auto f : kForeign)
    if (mt == f) return LayerKind::kForeign;
  return LayerKind::kUnsupported;
}

Result<std::vector<LayerDescriptor>> assemble_layers(const ImageManifest& manifest, const ImageConfig& config,
                                                     const std::function<void(const std::string&)>& warn) {
  const std::string& cmt = manifest.config.media_type;
  if (!cmt.empty() && cmt != media_type::kOciConfig && cmt != media_type::kDockerConfig)
    return Error(ErrorKind::kFormat, "not a container image: the config media type is \"" + cmt +
                                         "\" (an OCI artifact such as a Helm chart or signature?)");
  if (manifest.layers.size() != config.diff_ids.size())
    return Error(ErrorKind::kFormat, "the manifest lists " + std::to_string(manifest.layers.size()) +
                                         " layers but the config's rootfs.diff_ids has " +
                                         std::to_string(config.diff_ids.size()) + "; the image is corrupt");
  std::vector<LayerDescriptor> out;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& d = manifest.layers[i];
    switch (classify_layer(d.media_type)) {
      case LayerKind::kFilesystem: break;
      case LayerKind::kForeign:
        if (warn)
          warn("skipping foreign layer " + d.digest + " (" + d.media_type +
               "): its content is not "
               "distributed by the registry, so it is not scanned");
        continue;
      case LayerKind::kUnsupported:
        return Error(ErrorKind::kFormat, "layer " + std::to_string(i) + " (" + d.digest + ") has media type \"" +
                                             d.media_type +
                                             "\", which is not a container filesystem layer "
                                             "(tar, tar+gzip or tar+zstd)");
    }
    LayerDescriptor l;
    l.digest = d.digest;
    l.media_type = d.media_type;
    l.diff_id = config.diff_ids[i];
    l.size = d.size;
    out.push_back(std::move(l));
  }
  return out;
}

void fill_config_metadata(ImageMetadata& meta, const ImageConfig& config, const std::string& config_json,
                          const std::vector<LayerDescriptor>& layers) {
  meta.os = config.os;
  meta.architecture = config.architecture;
  meta.variant = config.variant;
  meta.created = config.created;
  meta.diff_ids = config.diff_ids;
  meta.layer_digests.clear();
  for (const auto& l : layers) meta.layer_digests.push_back(l.digest);
  meta.config_json = config_json;
}

}  // namespace scangate
