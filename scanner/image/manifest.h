// Image manifests, indexes and configs (OCI and Docker schema 2): parsing, platform
// selection from an index, and pairing layers with the config's diff_ids.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/image/platform.h"
#include "scanner/image/source.h"

namespace scangate {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
}  // namespace media_type

// The Accept header for manifest requests: OCI and Docker manifests and indexes.
std::string manifest_accept_header();

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = -1;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageIndex {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

struct ParsedManifest {
  bool is_index = false;
  ImageManifest image;  // when !is_index
  ImageIndex index;     // when is_index
};

// `content_type` is the HTTP Content-Type (may be empty); the body's own mediaType wins.
// Schema 1 manifests are rejected with a message saying how to convert them. `what` names
// the manifest in errors ("manifest of docker.io/library/alpine:3.20").
Result<ParsedManifest> parse_manifest(std::string_view body, std::string_view content_type, const std::string& what);

// Picks the manifest for `wanted` from an index. Exact (normalised) matches win over
// variant-less ones; attestation entries ("unknown/unknown") are never chosen. No match is
// a kNotFound error listing the platforms the index offers.
Result<Descriptor> select_platform(const ImageIndex& index, const Platform& wanted, const std::string& what);

struct ImageConfig {
  std::string os, architecture, variant, created;
  std::vector<std::string> diff_ids;
};

Result<ImageConfig> parse_image_config(std::string_view json, const std::string& what);

enum class LayerKind { kFilesystem, kForeign, kUnsupported };
LayerKind classify_layer(std::string_view media_type);

// Pairs manifest layers with config diff_ids (counts must agree), skips foreign layers
// with a warning, and rejects layers that are not filesystem tars.
Result<std::vector<LayerDescriptor>> assemble_layers(const ImageManifest& manifest, const ImageConfig& config,
                                                     const std::function<void(const std::string&)>& warn);

// Fills the metadata fields that come from the config (os, arch, variant, created,
// diff_ids, layer digests, raw config).
void fill_config_metadata(ImageMetadata& meta, const ImageConfig& config, const std::string& config_json,
                          const std::vector<LayerDescriptor>& layers);

}  // namespace scangate
