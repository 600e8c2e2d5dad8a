#include "scanner/image/platform.h"

#include "scanner/core/text_safe.h"

#include <algorithm>
#include <optional>
#include <cctype>
#include <vector>

namespace scangate {

std::string Platform::to_string() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform normalize_platform(Platform p) {
  p.os = ascii_lower(p.os);
  p.architecture = ascii_lower(p.architecture);
  p.variant = ascii_lower(p.variant);
  if (p.architecture == "x86_64" || p.architecture == "x86-64") p.architecture = "amd64";
  if (p.architecture == "i386" || p.architecture == "i686") p.architecture = "386";
  if (p.architecture == "aarch64") p.architecture = "arm64";
  if (p.architecture == "armhf") {
    p.architecture = "arm";
    p.variant = "v7";
  }
  if (p.architecture == "armel") {
    p.architecture = "arm";
    p.variant = "v6";
  }
  if (p.architecture == "arm64" && (p.variant == "v8" || p.variant == "8")) p.variant.clear();
  if (p.architecture == "amd64" && p.variant == "v1") p.variant.clear();
  if (p.architecture == "arm" && p.variant.empty()) p.variant = "v7";
  if (p.architecture == "arm" && p.variant.size() == 1 && std::isdigit(static_cast<unsigned char>(p.variant[0])))
    p.variant = "v" + p.variant;
  return p;
}

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 4) {
    auto slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  bool bad = parts.size() < 2 || parts.size() > 3;
  for (const auto& part : parts) {
    if (part.empty()) bad = true;
    for (char c : part)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') bad = true;
  }
  if (bad)
    return Error(ErrorKind::kInvalidArgument, "invalid platform \"" + std::string(text.substr(0, 100)) +
                                                  "\": use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8");
  Platform p{parts[0], parts[1], parts.size() == 3 ? parts[2] : std::string()};
  Platform norm = normalize_platform(p);
  if (parts.size() == 2 && norm.architecture == "arm") norm.variant.clear();  // any arm variant, v7 preferred
  return norm;
}

bool platform_matches(const Platform& wanted, const Platform& candidate) {
  Platform w = normalize_platform(wanted);
  Platform c = normalize_platform(candidate);
  if (w.os != c.os || w.architecture != c.architecture) return false;
  if (wanted.variant.empty()) return true;
  return w.variant == c.variant;
}

namespace {
// "v3" -> 3; anything else -> -1.
int variant_number(const std::string& v) {
  if (v.size() < 2 || v[0] != 'v') return -1;
  int n = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(v[i])) || n > 1000) return -1;
    n = n * 10 + (v[i] - '0');
  }
  return n;
}
}  // namespace

bool platform_may_run(const Platform& wanted, const Platform& candidate) {
  const Platform w = normalize_platform(wanted);
  const Platform c = normalize_platform(candidate);
  if (!c.os.empty() && c.os != w.os) return false;  // no os: the runtime takes it for its own
  if (c.architecture.empty()) return true;          // no architecture: decided by the config
  if (c.architecture == w.architecture) {
    if (wanted.variant.empty() || w.variant.empty() || c.variant == w.variant) return true;
    if (w.architecture == "amd64" || w.architecture == "arm") {
      // A CPU of level vN runs images built for any lower level (amd64 without a variant is v1).
      const int have = variant_number(w.variant);
      const int need = c.variant.empty() ? 1 : variant_number(c.variant);
      return have >= 0 && need >= 0 && need <= have;
    }
    return false;
  }
  // containerd's fallbacks: amd64 nodes run 386 images, arm64 nodes run 32-bit arm images.
  return (w.architecture == "amd64" && c.architecture == "386") ||
         (w.architecture == "arm64" && c.architecture == "arm");
}

std::vector<size_t> platforms_to_check(const std::vector<Platform>& offered, const std::vector<Platform>& wanted) {
  auto attestation = [](const Platform& p) { return p.os == "unknown" || p.architecture == "unknown"; };
  std::vector<size_t> out;
  for (size_t i = 0; i < offered.size(); ++i) {
    if (attestation(offered[i])) continue;
    if (wanted.empty()) {
      // An entry without an os is taken by a runtime for its own os (containerd), so for linux.
      const std::string os = normalize_platform(offered[i]).os;
      if (os == "linux" || os.empty()) out.push_back(i);
      continue;
    }
    // Every entry a wanted platform's node may run, not one best match: the runtime picks among
    // variants by what the CPU supports and falls back to 386 / 32-bit arm images, so judging
    // fewer could leave out the one a node pulls.
    for (const auto& w : wanted)
      if (platform_may_run(w, offered[i])) {
        out.push_back(i);
        break;
      }
  }
  return out;
}

}  // namespace scangate
