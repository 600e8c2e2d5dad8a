#include "scanner/image/registry_source.h"

#include "scanner/image/manifest.h"

namespace scangate {
namespace {

class RegistrySource : public ImageSource {
 public:
  RegistrySource(std::shared_ptr<RegistryClient> client, Reference ref, RegistrySourceOptions o)
      : client_(std::move(client)), ref_(std::move(ref)), opts_(std::move(o)) {}

  Result<ResolvedImage> resolve() override {
    const std::string shown = ref_.normalized();
    auto top = client_->get_manifest(ref_, ref_.manifest_reference(), opts_.deadline);
    if (!top.ok()) return top.error();
    auto parsed = parse_manifest(top->body, top->media_type, "manifest of " + shown);
    if (!parsed.ok()) return parsed.error();
    std::string manifest_digest = top->digest;
    ParsedManifest image = std::move(parsed).value();
    for (int depth = 0; image.is_index; ++depth) {
      if (depth >= 2) return Error(ErrorKind::kFormat, "image index of " + shown + " is nested too deeply");
      auto desc = select_platform(image.index, opts_.platform, "image index " + shown);
      if (!desc.ok()) return desc.error();
      auto m = client_->get_manifest(ref_, desc->digest, opts_.deadline);
      if (!m.ok()) return m.error().wrap("platform " + opts_.platform.to_string() + " of " + shown);
      auto p = parse_manifest(m->body, m->media_type, "manifest " + desc->digest + " of " + shown);
      if (!p.ok()) return p.error();
      manifest_digest = m->digest;
      image = std::move(p).value();
    }
    const Descriptor& cfg = image.image.config;
    auto config_json = client_->get_blob(ref_, cfg.digest, opts_.max_config_bytes, opts_.deadline);
    if (!config_json.ok()) return config_json.error().wrap("reading the config of " + shown);
    auto config = parse_image_config(*config_json, "config " + cfg.digest + " of " + shown);
    if (!config.ok()) return config.error();
    if (opts_.platform_explicit &&
        !platform_matches(opts_.platform, Platform{config->os, config->architecture, config->variant}) && opts_.warn)
      opts_.warn(shown + " is a single-platform image for " + config->os + "/" + config->architecture +
                 ", not the requested " + opts_.platform.to_string());
    auto layers = assemble_layers(image.image, *config, opts_.warn);
    if (!layers.ok()) return layers.error().wrap(shown);

    ResolvedImage out;
    ImageMetadata& meta = out.meta;
    meta.reference = opts_.input_reference.empty() ? ref_.familiar() : opts_.input_reference;
    meta.normalized = shown;
    meta.repo_digest = ref_.name() + "@" + top->digest;
    meta.manifest_digest = manifest_digest;
    meta.config_digest = cfg.digest;
    if (!ref_.tag.empty() || ref_.digest.empty()) meta.repo_tags.push_back(ref_.name() + ":" + ref_.effective_tag());
    fill_config_metadata(meta, *config, *config_json, *layers);
    out.layers = std::move(layers).value();
    return out;
  }

  Result<std::unique_ptr<BlobStream>> open_layer(const LayerDescriptor& layer) override {
    return client_->open_blob(ref_, layer.digest, layer.size, opts_.deadline);
  }

 private:
  std::shared_ptr<RegistryClient> client_;
  Reference ref_;
  RegistrySourceOptions opts_;
};

}  // namespace

std::unique_ptr<ImageSource> make_registry_source(std::shared_ptr<RegistryClient> client, Reference ref,
                                                  RegistrySourceOptions options) {
  return std::make_unique<RegistrySource>(std::move(client), std::move(ref), std::move(options));
}

}  // namespace scangate
