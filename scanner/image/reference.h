// Image references in Docker's grammar, normalised the way Docker does:
//   alpine                      -> docker.io/library/alpine:latest
//   registry:5000/team/app:1.2  -> registry:5000/team/app:1.2
//   app:tag@sha256:<64 hex>     -> docker.io/library/app:tag@sha256:...
#pragma once

#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate {

inline constexpr std::string_view kDockerHubDomain = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "registry.example.com:5000", "[::1]:5000"
  std::string repository;  // "library/alpine"
  std::string tag;         // empty when the user gave none
  std::string digest;      // "sha256:<hex>" or empty

  // registry/repository
  std::string name() const;
  // registry/repository[:tag][@digest]; ":latest" is added when neither tag nor digest is set.
  std::string normalized() const;
  // The short form Docker prints: "alpine:3.20", "team/app", "ghcr.io/o/app@sha256:...".
  std::string familiar() const;
  // What to ask the registry's manifest endpoint for: the digest when pinned, else the tag
  // (or "latest").
  std::string manifest_reference() const;
  // The tag, or "latest" when no tag and no digest was given; empty for digest-only refs.
  std::string effective_tag() const;
};

// Parses and normalises. An invalid reference is an Error of kind kInvalidArgument whose
// message quotes the input and says which part is wrong.
Result<Reference> parse_reference(std::string_view input);

}  // namespace scangate
