// How the policy names an image: the normalised repository (for globs), the reference as the
// user or the pod spec wrote it (for messages), and the manifest digest (for exact pins).
#pragma once

#include <string>
#include <string_view>

namespace scangate::policy {

struct ImageIdentity {
  std::string repository;  // normalised, without tag or digest: "docker.io/library/python"
  std::string reference;   // as given: "python:3.6-alpine"
  std::string digest;      // manifest digest "sha256:<hex>"; empty when unknown
  bool operator==(const ImageIdentity&) const = default;
};

// Docker's normalisation of the repository part of a reference, without validation:
//   "python:3.6-alpine"              -> "docker.io/library/python"
//   "team/app@sha256:..."            -> "docker.io/team/app"
//   "registry:5000/team/app:1.2"     -> "registry:5000/team/app"
//   "index.docker.io/library/alpine" -> "docker.io/library/alpine"
// The first path component is a registry when it has a '.' or a ':' or is "localhost".
std::string normalize_repository(std::string_view reference);

// "sha256:409b6e4e…" (the algorithm and the first 8 hex digits); the input when it is shorter.
std::string short_digest(std::string_view digest);

// True when `s` is "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view s);

// An image pattern of the policy: a digest ("sha256:<64 hex>") matches that digest exactly;
// anything else is a glob on the normalised repository.
bool image_matches(std::string_view pattern, const ImageIdentity& image);

}  // namespace scangate::policy
