// Release and package-name keys, shared by the importers and the matcher so both sides agree.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scangate::vulndb {

// Debian codename -> release key: jessie 8, stretch 9, buster 10, bullseye 11, bookworm 12,
// trixie 13, forky 14, duke 15, sid "unstable". Unknown codename -> nullopt.
std::optional<std::string> debian_release_for_codename(std::string_view codename);
// os-release VERSION_ID of Debian -> release key: "12.5" -> "12", "12" -> "12".
std::string debian_release_for_version(std::string_view version_id);
// Alpine secdb distroversion or os-release VERSION_ID -> "major.minor":
// "v3.20" -> "3.20", "3.20.3" -> "3.20", "edge" -> "edge". nullopt when it is neither.
std::optional<std::string> alpine_release(std::string_view version);

// Package names as the DB keys them: PEP 503 for "pypi" (lower case, runs of -_. become -),
// unchanged for the others.
std::string normalize_package_name(std::string_view ecosystem, std::string_view name);

}  // namespace scangate::vulndb
