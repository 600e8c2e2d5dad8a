#include "scanner/vulndb/release.h"

#include <array>
#include <cctype>
#include <utility>

namespace scangate::vulndb {

std::optional<std::string> debian_release_for_codename(std::string_view codename) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kCodenames{{
      {"jessie", "8"},
      {"stretch", "9"},
      {"buster", "10"},
      {"bullseye", "11"},
      {"bookworm", "12"},
      {"trixie", "13"},
      {"forky", "14"},
      {"duke", "15"},
      {"sid", "unstable"},
  }};
  for (const auto& [name, release] : kCodenames)
    if (name == codename) return std::string(release);
  return std::nullopt;
}

std::string debian_release_for_version(std::string_view version_id) {
  auto dot = version_id.find('.');
  return std::string(version_id.substr(0, dot));
}

std::optional<std::string> alpine_release(std::string_view version) {
  if (version == "edge") return std::string("edge");
  if (!version.empty() && version.front() == 'v') version.remove_prefix(1);
  // major.minor[.patch...]; both numeric.
  auto first = version.find('.');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  auto second = version.find('.', first + 1);
  std::string_view major = version.substr(0, first);
  std::string_view minor = version.substr(first + 1, second == std::string_view::npos ? second : second - first - 1);
  if (minor.empty()) return std::nullopt;
  for (std::string_view part : {major, minor})
    for (char c : part)
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::string(major) + "." + std::string(minor);
}

std::string normalize_package_name(std::string_view ecosystem, std::string_view name) {
  if (ecosystem != "pypi") return std::string(name);
  std::string out;
  out.reserve(name.size());
  bool in_sep = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!in_sep) out.push_back('-');
      in_sep = true;
    } else {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      in_sep = false;
    }
  }
  return out;
}

}  // namespace scangate::vulndb
