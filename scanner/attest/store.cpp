#include "scanner/attest/store.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "scanner/core/json_depth.h"
#include "scanner/core/sha256.h"

namespace scangate::attest {
namespace {

using nlohmann::json;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kOciEmpty = "application/vnd.oci.empty.v1+json";
constexpr const char* kPredicateAnnotation = "predicateType";
constexpr const char* kCosignSignatureAnnotation = "dev.cosignproject.cosign/signature";

Result<json> parse_small(const std::string& body, const std::string& what) {
  if (json_nesting(body, kMaxRegistryJsonNesting) > kMaxRegistryJsonNesting)
    return Error(ErrorKind::kFormat, what + " nests deeper than any manifest does");
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, what + " is not a JSON object");
  return j;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool wanted(const FetchLimits& limits, const std::string& predicate_type) {
  if (limits.predicate_types.empty() || predicate_type.empty()) return true;
  return std::find(limits.predicate_types.begin(), limits.predicate_types.end(), predicate_type) !=
         limits.predicate_types.end();
}

// The DSSE layers of one manifest, read into `out` within the limits.
Result<void> read_layers(RegistryClient& client, const Reference& repo, const json& manifest, const std::string& where,
                         const FetchLimits& limits, std::set<std::string>& seen, FetchResult& out,
                         const Deadline& deadline) {
  auto layers = manifest.find("layers");
  if (layers == manifest.end() || !layers->is_array()) {
    out.notes.push_back(where + " has no layers");
    return Ok();
  }
  for (const auto& l : *layers) {
    if (!l.is_object() || text(l, "mediaType") != kDsseMediaType) continue;
    const std::string digest = text(l, "digest");
    std::string type;
    if (auto a = l.find("annotations"); a != l.end() && a->is_object()) type = text(*a, kPredicateAnnotation);
    if (!wanted(limits, type) || digest.empty() || !seen.insert(digest).second) continue;
    if (out.envelopes.size() >= limits.max_envelopes) {
      out.notes.push_back("more than " + std::to_string(limits.max_envelopes) +
                          " attestations; the rest were not read");
      return Ok();
    }
    size_t held = 0;
    for (const auto& e : out.envelopes) held += e.bytes.size();
    if (held >= limits.max_total_bytes) {
      out.notes.push_back("the attestations hold more than " + std::to_string(limits.max_total_bytes) +
                          " bytes; the rest were not read");
      return Ok();
    }
    const size_t room = std::min(limits.max_envelope_bytes, limits.max_total_bytes - held);
    auto size = l.find("size");
    if (size != l.end() && size->is_number_unsigned() && size->get<uint64_t>() > room) {
      out.notes.push_back("an attestation in " + where + " is larger than " + std::to_string(room) +
                          " bytes; not read");
      continue;
    }
    auto blob = client.get_blob(repo, digest, room, deadline);
    if (!blob.ok()) {
      if (blob.error().kind == ErrorKind::kLimit || blob.error().kind == ErrorKind::kIntegrity ||
          blob.error().kind == ErrorKind::kNotFound) {
        out.notes.push_back(blob.error().message);
        continue;
      }
      return blob.error();
    }
    out.envelopes.push_back({type, digest, std::move(blob).value(), where});
  }
  return Ok();
}

json descriptor(const std::string& media_type, const std::string& bytes) {
  return {{"mediaType", media_type}, {"digest", Sha256::digest(bytes)}, {"size", bytes.size()}};
}

}  // namespace

std::string att_tag(const std::string& digest) {
  std::string t = digest;
  std::replace(t.begin(), t.end(), ':', '-');
  return t + ".att";
}

Result<FetchResult> fetch_attestations(RegistryClient& client, const Reference& repo, const std::string& digest,
                                       const Deadline& deadline, const FetchLimits& limits) {
  FetchResult out;
  std::set<std::string> seen;
  const std::string tag = att_tag(digest);
  auto m = client.get_manifest(repo, tag, deadline);
  if (m.ok()) {
    auto j = parse_small(m->body, "attestation manifest " + tag);
    if (!j.ok()) {
      out.notes.push_back(j.error().message);
    } else {
      SG_TRY(read_layers(client, repo, *j, "tag " + tag, limits, seen, out, deadline));
    }
  } else if (m.error().kind != ErrorKind::kNotFound) {
    return m.error();
  }
  if (!out.envelopes.empty()) return out;

  auto refs = client.get_referrers(repo, digest, std::string(kDsseMediaType), deadline);
  if (!refs.ok()) return refs.error();
  if (!refs->has_value()) return out;
  auto index = parse_small(**refs, "the referrers index of " + digest);
  if (!index.ok()) {
    out.notes.push_back(index.error().message);
    return out;
  }
  auto manifests = index->find("manifests");
  if (manifests == index->end() || !manifests->is_array()) return out;
  size_t read = 0;
  for (const auto& d : *manifests) {
    if (!d.is_object()) continue;
    // A registry that does not filter lists every referrer: signatures, SBOMs of other formats...
    const std::string at = text(d, "artifactType");
    if (!at.empty() && at != kDsseMediaType) continue;
    if (++read > limits.max_referrers) {
      out.notes.push_back("more than " + std::to_string(limits.max_referrers) + " referrers; the rest were not read");
      break;
    }
    const std::string rd = text(d, "digest");
    auto rm = client.get_manifest(repo, rd, deadline);
    if (!rm.ok()) {
      if (rm.error().kind == ErrorKind::kNotFound || rm.error().kind == ErrorKind::kIntegrity ||
          rm.error().kind == ErrorKind::kInvalidArgument) {
        out.notes.push_back(rm.error().message);
        continue;
      }
      return rm.error();
    }
    auto j = parse_small(rm->body, "referrer " + rd);
    if (!j.ok()) {
      out.notes.push_back(j.error().message);
      continue;
    }
    SG_TRY(read_layers(client, repo, *j, "referrer " + rd, limits, seen, out, deadline));
    if (out.envelopes.size() >= limits.max_envelopes) break;
  }
  return out;
}

Result<AttachResult> attach_attestations(RegistryPusher& pusher, RegistryClient& reader, const Reference& repo,
                                         const std::string& digest, const std::vector<NewAttestation>& attestations,
                                         const Deadline& deadline) {
  AttachResult out;
  std::set<std::string> replaced;
  for (const auto& a : attestations) replaced.insert(a.predicate_type);

  // Earlier attestations of other types stay (a provenance next to our records, say).
  json layers = json::array();
  const std::string tag = att_tag(digest);
  auto existing = reader.get_manifest(repo, tag, deadline);
  if (existing.ok()) {
    auto j = parse_small(existing->body, "attestation manifest " + tag);
    if (j.ok())
      if (auto l = j->find("layers"); l != j->end() && l->is_array())
        for (const auto& layer : *l) {
          std::string type;
          if (auto an = layer.find("annotations"); an != layer.end() && an->is_object())
            type = text(*an, kPredicateAnnotation);
          if (layer.is_object() && !replaced.count(type)) {
            layers.push_back(layer);
            ++out.kept_layers;
          }
        }
  } else if (existing.error().kind != ErrorKind::kNotFound) {
    return existing.error().wrap("reading the attestations already attached");
  }

  for (const auto& a : attestations) {
    SG_TRY(pusher.push_blob(repo, a.envelope, deadline));
    json layer = descriptor(std::string(kDsseMediaType), a.envelope);
    layer["annotations"] = {{kCosignSignatureAnnotation, ""}, {kPredicateAnnotation, a.predicate_type}};
    layers.push_back(layer);
  }
  json diff_ids = json::array();
  for (const auto& l : layers) diff_ids.push_back(text(l, "digest"));
  json config = {{"architecture", ""},
                 {"created", "0001-01-01T00:00:00Z"},
                 {"history", json::array({{{"created", "0001-01-01T00:00:00Z"}}})},
                 {"os", ""},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                 {"config", json::object()}};
  const std::string config_bytes = config.dump();
  SG_TRY(pusher.push_blob(repo, config_bytes, deadline));
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifest},
                   {"config", descriptor(kOciConfig, config_bytes)},
                   {"layers", layers}};
  auto put = pusher.put_manifest(repo, tag, kOciManifest, manifest.dump(), deadline);
  if (!put.ok()) return put.error();
  out.att_manifest_digest = std::move(put).value();

  // OCI 1.1 referrers, where the registry serves the referrers API.
  auto probe = reader.get_referrers(repo, digest, "", deadline);
  if (!probe.ok() || !probe->has_value()) return out;
  out.referrers_api = true;
  auto image = reader.get_manifest(repo, digest, deadline);
  if (!image.ok()) return image.error().wrap("reading the image manifest for the referrers' subject");
  std::string image_type = image->media_type;
  if (auto j = parse_small(image->body, "image manifest"); j.ok() && !text(*j, "mediaType").empty())
    image_type = text(*j, "mediaType");
  const std::string empty = "{}";
  SG_TRY(pusher.push_blob(repo, empty, deadline));
  for (const auto& a : attestations) {
    json layer = descriptor(std::string(kDsseMediaType), a.envelope);
    layer["annotations"] = {{kPredicateAnnotation, a.predicate_type}};
    json m = {{"schemaVersion", 2},
              {"mediaType", kOciManifest},
              {"artifactType", kDsseMediaType},
              {"config", descriptor(kOciEmpty, empty)},
              {"layers", json::array({layer})},
              {"subject", {{"mediaType", image_type}, {"digest", digest}, {"size", image->body.size()}}},
              {"annotations", {{kPredicateAnnotation, a.predicate_type}}}};
    const std::string body = m.dump();
    auto r = pusher.put_manifest(repo, Sha256::digest(body), kOciManifest, body, deadline);
    if (!r.ok()) return r.error().wrap("pushing the referrer for " + a.predicate_type);
    out.referrer_digests.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace scangate::attest
