// The inventory: what an image contains and which layer put it there.
// Analyzers produce these types and depend on nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scangate {

// A layer of the image, as the registry (digest) and the config (diffID) name it.
struct LayerRef {
  std::string digest;   // "sha256:..." of the blob as stored (compressed); empty for rootfs scans
  std::string diff_id;  // "sha256:..." of the uncompressed tar
  int index = -1;       // position in the image, 0 = base
};

struct OSInfo {
  std::string family;  // "alpine", "debian", "ubuntu", ... ; empty when unknown
  std::string name;    // version as the distro prints it: "3.20.3", "12.5", "12"
  std::string pretty_name;
  std::string codename;  // "bookworm" where known
  bool empty() const { return family.empty(); }
};

// Package type as in purl: "apk", "deb", "pypi", "npm".
struct Package {
  std::string type;
  std::string name;
  std::string version;      // exactly as the package manager prints it (dpkg keeps epoch)
  std::string src_name;     // apk origin, dpkg Source name; equals name when absent
  std::string src_version;  // dpkg Source version; equals version when absent
  std::string arch;
  std::vector<std::string> licenses;
  std::string file_path;  // where it was found: "lib/apk/db/installed", ".../METADATA"
  LayerRef layer;         // the layer that introduced it
  // Set by the analyzer: an identifier that is stable across layers (type/name/version/path).
  std::string key() const { return type + "\x1f" + name + "\x1f" + version + "\x1f" + file_path; }
};

// A secret found in a file (filled by the secret analyzer; issue 4).
struct SecretFinding {
  std::string rule_id, category, severity, title;
  std::string file_path;
  int start_line = 0, end_line = 0;
  std::string match;                                    // masked
  std::vector<std::pair<int, std::string>> code_lines;  // masked
  LayerRef layer;
  // Byte offset of the secret in the scanned file (after CR removal), as Trivy's
  // "Offset". A code line is a cause line (Trivy's IsCause) when its number lies in
  // [start_line, end_line]; FirstCause/LastCause are start_line/end_line.
  std::uint64_t offset = 0;
};

struct Inventory {
  OSInfo os;
  std::vector<Package> packages;
  std::vector<SecretFinding> secrets;
};

// What reports need to know about the image itself.
struct ImageMetadata {
  std::string reference;        // as the user typed it
  std::string normalized;       // docker.io/library/alpine:3.20
  std::string repo_digest;      // docker.io/library/alpine@sha256:... (manifest digest)
  std::string manifest_digest;  // sha256:...
  std::string config_digest;    // sha256:... (the ImageID)
  std::vector<std::string> repo_tags;
  std::vector<std::string> diff_ids;
  std::vector<std::string> layer_digests;
  std::string os;            // "linux"
  std::string architecture;  // "amd64"
  std::string variant;
  std::string created;      // RFC 3339 from the config
  std::string config_json;  // the raw image config, for ImageConfig in reports
};

}  // namespace scangate
