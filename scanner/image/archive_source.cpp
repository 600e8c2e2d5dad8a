#include "scanner/image/archive_source.h"

#include <map>
#include <nlohmann/json.hpp>

#include "scanner/image/archive_fs.h"
#include "scanner/image/digest.h"
#include "scanner/image/manifest.h"
#include "scanner/image/reference.h"

namespace scangate {
namespace {

using nlohmann::json;

struct LayerFile {
  std::string path;
  std::string verify_digest;  // empty: not verifiable at the blob level
  int64_t size = -1;
};

std::string blob_path(const std::string& digest) {
  auto colon = digest.find(':');
  return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

// "blobs/sha256/<hex>" -> "sha256:<hex>", else "".
std::string digest_from_blob_path(const std::string& path) {
  auto clean = clean_member_name(path);
  if (!clean.ok()) return {};
  const std::string& p = *clean;
  if (p.rfind("blobs/", 0) != 0) return {};
  auto slash = p.find('/', 6);
  if (slash == std::string::npos) return {};
  std::string d = p.substr(6, slash - 6) + ":" + p.substr(slash + 1);
  return validate_digest(d).ok() ? d : std::string();
}

std::string normalized_or_empty(const std::string& name) {
  auto r = parse_reference(name);
  return r.ok() ? r->normalized() : std::string();
}

class ArchiveSource : public ImageSource {
 public:
  ArchiveSource(std::unique_ptr<ArchiveFs> fsys, ArchiveSourceOptions o, bool oci)
      : fs_(std::move(fsys)), opts_(std::move(o)), oci_(oci) {}

  Result<ResolvedImage> resolve() override {
    layers_.clear();
    return oci_ ? resolve_oci() : resolve_docker_save();
  }

  Result<std::unique_ptr<BlobStream>> open_layer(const LayerDescriptor& layer) override {
    auto it = layers_.find(layer.digest);
    if (it == layers_.end())
      return Error(ErrorKind::kNotFound,
                   "layer " + layer.digest + " is not part of " + fs_->location() + " (call resolve() first)");
    auto raw = fs_->open(it->second.path);
    if (!raw.ok()) return raw.error();
    if (it->second.verify_digest.empty()) return raw;
    return make_verified_stream(std::move(raw).value(), it->second.verify_digest, it->second.size);
  }

 private:
  void warn(const std::string& m) const {
    if (opts_.warn) opts_.warn(m);
  }

  Result<std::string> read_blob(const std::string& digest, int64_t size, const std::string& what) {
    SG_TRY(validate_digest(digest));
    auto data = fs_->read_file(blob_path(digest), opts_.max_json_bytes);
    if (!data.ok()) return data.error().wrap(what);
    auto v = DigestVerifier::create(digest, size, what + " (" + blob_path(digest) + ")");
    if (!v.ok()) return v.error();
    SG_TRY(v->update(data->data(), data->size()));
    SG_TRY(v->finish());
    return data;
  }

  Result<int> sniff_compressed(const std::string& path) {
    auto s = fs_->open(path);
    if (!s.ok()) return s.error();
    unsigned char m[4] = {};
    size_t have = 0;
    while (have < sizeof m) {
      auto r = (*s)->read(reinterpret_cast<char*>(m) + have, sizeof m - have);
      if (!r.ok()) return r.error();
      if (*r == 0) break;
      have += *r;
    }
    if (have >= 2 && m[0] == 0x1f && m[1] == 0x8b) return 1;
    if (have >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return 2;
    return 0;
  }

  // ---- OCI image layout ----
  Result<ResolvedImage> resolve_oci() {
    const std::string where = fs_->location();
    auto layout = fs_->read_file("oci-layout", 1u << 16);
    if (!layout.ok()) return layout.error();
    auto lj = json::parse(*layout, nullptr, false);
    if (lj.is_discarded() || !lj.is_object() || !lj.contains("imageLayoutVersion"))
      return Error(ErrorKind::kFormat, where + ": oci-layout is not a valid OCI layout marker");
    auto index_text = fs_->read_file("index.json", opts_.max_json_bytes);
    if (!index_text.ok()) return index_text.error();
    auto parsed = parse_manifest(*index_text, media_type::kOciIndex, where + ": index.json");
    if (!parsed.ok()) return parsed.error();
    if (!parsed->is_index) return Error(ErrorKind::kFormat, where + ": index.json is not an image index");

    // Choose among the top-level entries: by name when asked, else the only one, else by platform.
    std::vector<Descriptor> candidates;
    std::string want = opts_.reference.empty() ? std::string() : normalized_or_empty(opts_.reference);
    std::string names;
    for (const auto& d : parsed->index.manifests) {
      std::string full =
          d.annotations.count("io.containerd.image.name") ? d.annotations.at("io.containerd.image.name") : "";
      std::string short_name = d.annotations.count("org.opencontainers.image.ref.name")
                                   ? d.annotations.at("org.opencontainers.image.ref.name")
                                   : "";
      if (!full.empty() || !short_name.empty())
        names += (names.empty() ? "" : ", ") + (full.empty() ? short_name : full);
      if (opts_.reference.empty()) {
        candidates.push_back(d);
        continue;
      }
      if ((!full.empty() && normalized_or_empty(full) == want) || short_name == opts_.reference ||
          (!want.empty() && !short_name.empty() && normalized_or_empty(short_name) == want))
        candidates.push_back(d);
    }
    if (candidates.empty())
      return Error(ErrorKind::kNotFound, where + " has no image named \"" + opts_.reference + "\"" +
                                             (names.empty() ? std::string() : " (it contains: " + names + ")"));
    Descriptor chosen;
    if (candidates.size() == 1) {
      chosen = candidates[0];
    } else {
      ImageIndex sub;
      sub.manifests = candidates;
      bool any_platform = false;
      for (const auto& c : candidates) any_platform |= c.platform.has_value();
      if (any_platform) {
        auto d = select_platform(sub, opts_.platform, where + ": index.json");
        if (!d.ok()) return d.error();
        chosen = *d;
      } else {
        chosen = candidates[0];
        warn(where + " contains " + std::to_string(candidates.size()) +
             " images; scanning the first. Name one with the image reference to choose.");
      }
    }
    std::string top_digest = chosen.digest;
    std::string image_name =
        chosen.annotations.count("io.containerd.image.name") ? chosen.annotations.at("io.containerd.image.name") : "";

    ImageManifest manifest;
    std::string manifest_digest;
    Descriptor cur = chosen;
    for (int depth = 0;; ++depth) {
      if (depth > 3) return Error(ErrorKind::kFormat, where + ": image indexes are nested too deeply");
      auto body = read_blob(cur.digest, cur.size, "manifest " + cur.digest);
      if (!body.ok()) return body.error().wrap(where);
      auto p = parse_manifest(*body, cur.media_type, where + ": manifest " + cur.digest);
      if (!p.ok()) return p.error();
      if (!p->is_index) {
        manifest = p->image;
        manifest_digest = cur.digest;
        break;
      }
      auto d = select_platform(p->index, opts_.platform, where + ": index " + cur.digest);
      if (!d.ok()) return d.error();
      cur = *d;
    }
    auto config_json = read_blob(manifest.config.digest, manifest.config.size, "config " + manifest.config.digest);
    if (!config_json.ok()) return config_json.error().wrap(where);
    auto config = parse_image_config(*config_json, where + ": config " + manifest.config.digest);
    if (!config.ok()) return config.error();
    auto layers = assemble_layers(manifest, *config, opts_.warn);
    if (!layers.ok()) return layers.error().wrap(where);
    for (const auto& l : *layers) layers_[l.digest] = LayerFile{blob_path(l.digest), l.digest, l.size};

    ResolvedImage out;
    out.meta.reference = opts_.reference.empty() ? where : opts_.reference;
    std::string norm = image_name.empty() ? std::string() : normalized_or_empty(image_name);
    if (norm.empty() && !opts_.reference.empty()) norm = normalized_or_empty(opts_.reference);
    out.meta.normalized = norm;
    if (!norm.empty()) {
      out.meta.repo_tags.push_back(norm);
      auto r = parse_reference(norm);
      if (r.ok()) out.meta.repo_digest = r->name() + "@" + top_digest;
    }
    out.meta.manifest_digest = manifest_digest;
    out.meta.config_digest = manifest.config.digest;
    fill_config_metadata(out.meta, *config, *config_json, *layers);
    out.layers = std::move(layers).value();
    return out;
  }

  // ---- docker save ----
  Result<ResolvedImage> resolve_docker_save() {
    const std::string where = fs_->location();
    auto text = fs_->read_file("manifest.json", opts_.max_json_bytes);
    if (!text.ok()) return text.error();
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty())
      return Error(ErrorKind::kFormat, where + ": manifest.json must be a non-empty JSON array (docker save format)");
    const json* entry = nullptr;
    std::string want = opts_.reference.empty() ? std::string() : normalized_or_empty(opts_.reference);
    std::string all_tags;
    std::string chosen_tag;
    for (const auto& e : j) {
      if (!e.is_object()) return Error(ErrorKind::kFormat, where + ": manifest.json entries must be objects");
      if (auto t = e.find("RepoTags"); t != e.end() && t->is_array()) {
        for (const auto& tag : *t) {
          if (!tag.is_string()) continue;
          all_tags += (all_tags.empty() ? "" : ", ") + tag.get<std::string>();
          if (!entry && !want.empty() && normalized_or_empty(tag.get<std::string>()) == want) {
            entry = &e;
            chosen_tag = tag.get<std::string>();
          }
        }
      }
    }
    if (!opts_.reference.empty() && !entry)
      return Error(ErrorKind::kNotFound, where + " has no image tagged \"" + opts_.reference + "\"" +
                                             (all_tags.empty() ? std::string() : " (it contains: " + all_tags + ")"));
    if (!entry) {
      entry = &j[0];
      if (j.size() > 1)
        warn(where + " contains " + std::to_string(j.size()) +
             " images; scanning the first. Name one with the image reference to choose.");
    }
    const json& e = *entry;
    auto cfg = e.find("Config");
    if (cfg == e.end() || !cfg->is_string())
      return Error(ErrorKind::kFormat, where + ": manifest.json entry has no \"Config\" file name");
    std::string config_path = cfg->get<std::string>();
    auto config_json = fs_->read_file(config_path, opts_.max_json_bytes);
    if (!config_json.ok()) return config_json.error().wrap(where);
    std::string config_digest = sha256_digest(*config_json);
    if (std::string d = digest_from_blob_path(config_path); !d.empty() && d != config_digest) {
      auto got = compute_digest_like(d, *config_json);
      if (!got.ok() || *got != d)
        return Error(ErrorKind::kIntegrity, where + ": config " + config_path + " digest mismatch (got " +
                                                (got.ok() ? *got : config_digest) + ")");
      config_digest = d;
    }
    auto config = parse_image_config(*config_json, where + ": " + config_path);
    if (!config.ok()) return config.error();
    auto lay = e.find("Layers");
    if (lay == e.end() || !lay->is_array())
      return Error(ErrorKind::kFormat, where + ": manifest.json entry has no \"Layers\" array");
    if (lay->size() != config->diff_ids.size())
      return Error(ErrorKind::kFormat, where + ": manifest.json lists " + std::to_string(lay->size()) +
                                           " layers but the config's rootfs.diff_ids has " +
                                           std::to_string(config->diff_ids.size()) + "; the archive is corrupt");
    ResolvedImage out;
    size_t i = 0;
    for (const auto& l : *lay) {
      if (!l.is_string())
        return Error(ErrorKind::kFormat, where + ": manifest.json Layers[" + std::to_string(i) + "] is not a string");
      std::string path = l.get<std::string>();
      auto clean = clean_member_name(path);
      if (!clean.ok()) return clean.error().wrap(where);
      if (!fs_->exists(path)) return Error(ErrorKind::kNotFound, where + " has no layer file \"" + path + "\"");
      auto compression = sniff_compressed(path);
      if (!compression.ok()) return compression.error();
      LayerDescriptor d;
      d.diff_id = config->diff_ids[i];
      std::string blob_digest = digest_from_blob_path(path);
      LayerFile file{path, "", -1};
      if (!blob_digest.empty()) {
        d.digest = blob_digest;  // content-addressed: verify against the file name
        file.verify_digest = blob_digest;
      } else {
        d.digest = d.diff_id;  // legacy <id>/layer.tar: the file is the uncompressed diff
        if (*compression == 0) file.verify_digest = d.diff_id;
      }
      d.media_type = *compression == 1   ? std::string(media_type::kDockerLayerGzip)
                     : *compression == 2 ? std::string("application/vnd.oci.image.layer.v1.tar+zstd")
                                         : std::string(media_type::kDockerLayerTar);
      layers_[d.digest] = file;
      out.layers.push_back(std::move(d));
      ++i;
    }
    ImageMetadata& meta = out.meta;
    meta.reference = opts_.reference.empty() ? where : opts_.reference;
    if (auto t = e.find("RepoTags"); t != e.end() && t->is_array())
      for (const auto& tag : *t)
        if (tag.is_string()) meta.repo_tags.push_back(tag.get<std::string>());
    if (chosen_tag.empty() && !meta.repo_tags.empty()) chosen_tag = meta.repo_tags[0];
    meta.normalized = chosen_tag.empty() ? std::string() : normalized_or_empty(chosen_tag);
    meta.config_digest = config_digest;
    fill_config_metadata(meta, *config, *config_json, out.layers);
    return out;
  }

  std::unique_ptr<ArchiveFs> fs_;
  ArchiveSourceOptions opts_;
  bool oci_;
  std::map<std::string, LayerFile> layers_;
};

}  // namespace

Result<std::unique_ptr<ImageSource>> open_archive_source(const ArchiveSourceOptions& options) {
  auto fsys = open_archive_fs(options.path);
  if (!fsys.ok()) return fsys.error();
  bool oci = (*fsys)->exists("oci-layout") && (*fsys)->exists("index.json");
  if (!oci && !(*fsys)->exists("manifest.json"))
    return Error(ErrorKind::kFormat, options.path +
                                         " is neither a docker save archive (no manifest.json) nor an "
                                         "OCI image layout (no oci-layout and index.json)");
  return std::unique_ptr<ImageSource>(std::make_unique<ArchiveSource>(std::move(fsys).value(), options, oci));
}

}  // namespace scangate
