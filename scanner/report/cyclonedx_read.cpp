// CycloneDX JSON -> ImageMetadata + Inventory (see cyclonedx_read.h).
//
// Where each field comes from (scangate's property / Trivy's property / standard field):
//   package type   scangate:PkgType (apk, deb, pypi, npm) / aquasecurity:trivy:PkgType (mapped below),
//                  else the purl's type; when a property and the purl disagree the property wins
//                  and a warning says so
//   name           `name` (Trivy splits an npm scope into `group`: "@scope" + "/" + name), else the purl's
//   version        `version`, else the purl's (with a deb purl's `epoch` qualifier); the two must agree
//   src_name       scangate:SrcName / aquasecurity:trivy:SrcName, else the name
//   src_version    scangate:SrcVersion, else Trivy's [SrcEpoch:]SrcVersion[-SrcRelease], else the version
//   arch           the purl's `arch` qualifier
//   licenses       licenses[].license.id | .license.name | .expression
//   file_path      scangate:FilePath / aquasecurity:trivy:FilePath
//   layer          scangate:LayerDigest, LayerDiffID / aquasecurity:trivy:LayerDigest, LayerDiffID; the
//                  index is the diffID's position among the image's DiffIDs
//   OS             the `operating-system` component: family = name, name = version
//   image          metadata.component: name (the reference), purl pkg:oci (manifest digest, arch),
//                  properties ImageID, DiffID, RepoDigest, RepoTag (both namespaces),
//                  OS, Architecture ("arm64/v8"), Created (scangate's only)
// Trivy's property names and values were read off its encoder (pkg/sbom/io/encode.go, the
// `aquasecurity:trivy:` namespace of pkg/sbom/cyclonedx) and its published example
// (docs/guide/supply-chain/sbom.md); its PkgType is the result's type: an OS family for OS packages,
// a language type (pkg/fanal/types/const.go) for the others.
#include "scanner/report/cyclonedx_read.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "scanner/core/json_depth.h"
#include "scanner/core/text_safe.h"

namespace scangate {

namespace {

using nlohmann::json;

constexpr std::string_view kScangateNs = "scangate:";
constexpr std::string_view kTrivyNs = "aquasecurity:trivy:";

// CycloneDX has a JSON format from 1.2 on.
constexpr std::string_view kSpecVersions[] = {"1.2", "1.3", "1.4", "1.5", "1.6", "1.7"};

Error format_error(const std::string& msg) { return Error(ErrorKind::kFormat, "CycloneDX SBOM: " + msg); }
Error limit_error(const std::string& msg) { return Error(ErrorKind::kLimit, "CycloneDX SBOM: " + msg); }

std::string shown(std::string_view s) { return "'" + printable(s, 200) + "'"; }

std::string type_name(const json& j) { return j.type_name(); }

// ---- purl --------------------------------------------------------------------------------------

bool hex_value(char c, int& v) {
  if (c >= '0' && c <= '9') {
    v = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    v = c - 'a' + 10;
  } else if (c >= 'A' && c <= 'F') {
    v = c - 'A' + 10;
  } else {
    return false;
  }
  return true;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = 0, lo = 0;
    if (i + 2 >= s.size() || !hex_value(s[i + 1], hi) || !hex_value(s[i + 2], lo)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

struct Purl {
  std::string type;  // lowercase
  std::string ns;    // decoded, segments joined by '/'
  std::string name;
  std::string version;
  std::vector<std::pair<std::string, std::string>> qualifiers;  // keys lowercase, values decoded

  std::string qualifier(std::string_view key) const {
    for (const auto& [k, v] : qualifiers)
      if (k == key) return v;
    return "";
  }
};

// pkg:type/namespace/name@version?qualifiers#subpath (https://github.com/package-url/purl-spec).
std::optional<Purl> parse_purl(std::string_view s) {
  if (s.size() < 4 || ascii_lower(s.substr(0, 4)) != "pkg:") return std::nullopt;
  s.remove_prefix(4);
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  Purl p;
  if (auto q = s.find('?'); q != std::string_view::npos) {
    std::string_view qs = s.substr(q + 1);
    s = s.substr(0, q);
    while (!qs.empty()) {
      auto amp = qs.find('&');
      std::string_view kv = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
      if (kv.empty()) continue;
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) return std::nullopt;
      auto value = percent_decode(kv.substr(eq + 1));
      if (!value) return std::nullopt;
      p.qualifiers.emplace_back(ascii_lower(kv.substr(0, eq)), std::move(*value));
    }
  }
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  p.type = ascii_lower(s.substr(0, slash));
  s = s.substr(slash + 1);
  if (auto at = s.rfind('@'); at != std::string_view::npos && s.find('/', at) == std::string_view::npos) {
    auto version = percent_decode(s.substr(at + 1));
    if (!version) return std::nullopt;
    p.version = std::move(*version);
    s = s.substr(0, at);
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  auto last = s.rfind('/');
  std::string_view name = last == std::string_view::npos ? s : s.substr(last + 1);
  std::string_view ns = last == std::string_view::npos ? std::string_view() : s.substr(0, last);
  auto dname = percent_decode(name);
  auto dns = percent_decode(ns);
  if (!dname || !dns || dname->empty()) return std::nullopt;
  p.name = std::move(*dname);
  p.ns = std::move(*dns);
  return p;
}

// ---- package types -----------------------------------------------------------------------------

std::optional<std::string> type_from_scangate(std::string_view v) {
  if (v == "apk" || v == "deb" || v == "pypi" || v == "npm") return std::string(v);
  return std::nullopt;
}

// Trivy's PkgType: the OS family of OS packages, the language type of the others.
std::optional<std::string> type_from_trivy(std::string_view v) {
  if (v == "alpine" || v == "wolfi" || v == "chainguard") return "apk";
  if (v == "debian" || v == "ubuntu") return "deb";
  if (v == "python-pkg" || v == "pip" || v == "pipenv" || v == "poetry" || v == "uv") return "pypi";
  if (v == "node-pkg" || v == "npm" || v == "yarn" || v == "pnpm" || v == "bun") return "npm";
  return std::nullopt;
}

std::optional<std::string> type_from_purl(std::string_view t) {
  if (t == "apk" || t == "deb" || t == "pypi" || t == "npm") return std::string(t);
  return std::nullopt;
}

// ---- digests -----------------------------------------------------------------------------------

bool valid_digest(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view alg = d.substr(0, colon), hex = d.substr(colon + 1);
  size_t want = alg == "sha256" ? 64 : alg == "sha512" ? 128 : 0;
  if (want == 0 || hex.size() != want) return false;
  return std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---- properties --------------------------------------------------------------------------------

struct Prop {
  bool scangate = false;  // else Trivy's
  std::string key;        // without the namespace
  std::string value;
  std::string where;  // "components[3].properties[2]"
};

class Props {
 public:
  explicit Props(std::vector<Prop> p) : props_(std::move(p)) {}

  // The one value of a single-valued property in one namespace ("" when absent); two different
  // values are an error.
  Result<std::string> one(bool scangate, std::string_view key) const {
    const Prop* first = nullptr;
    for (const auto& p : props_) {
      if (p.scangate != scangate || p.key != key) continue;
      if (!first) {
        first = &p;
      } else if (p.value != first->value) {
        return format_error(p.where + ": " + ns(scangate) + std::string(key) + " " + shown(p.value) + " contradicts " +
                            shown(first->value) + " of " + first->where);
      }
    }
    return first ? first->value : std::string();
  }
  bool has(bool scangate, std::string_view key) const {
    return std::any_of(props_.begin(), props_.end(),
                       [&](const Prop& p) { return p.scangate == scangate && p.key == key; });
  }
  // scangate's value when it has one, else Trivy's.
  Result<std::string> either(std::string_view key) const {
    if (has(true, key)) return one(true, key);
    return one(false, key);
  }
  // Every value of a repeated property: scangate's when it has any, else Trivy's.
  std::vector<std::string> all(std::string_view key) const {
    bool scangate = has(true, key);
    std::vector<std::string> out;
    for (const auto& p : props_)
      if (p.scangate == scangate && p.key == key) out.push_back(p.value);
    return out;
  }

  static std::string ns(bool scangate) { return std::string(scangate ? kScangateNs : kTrivyNs); }

 private:
  std::vector<Prop> props_;
};

// ---- the reader --------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(const SbomLimits& limits) : limits_(limits) {}

  Result<SbomImage> read(const json& bom) {
    if (!bom.is_object()) return format_error("not a JSON object but " + type_name(bom));
    std::string format, spec;
    bool has_format = false, has_spec = false;
    SG_TRY(get_string(bom, "bomFormat", "bomFormat", format, &has_format));
    if (!has_format) return format_error("bomFormat: missing (a CycloneDX BOM says \"CycloneDX\")");
    if (format != "CycloneDX") return format_error("bomFormat: " + shown(format) + ", not \"CycloneDX\"");
    SG_TRY(get_string(bom, "specVersion", "specVersion", spec, &has_spec));
    if (!has_spec) return format_error("specVersion: missing");
    if (std::find(std::begin(kSpecVersions), std::end(kSpecVersions), spec) == std::end(kSpecVersions))
      return format_error("specVersion: " + shown(spec) +
                          " is not a CycloneDX JSON version scangate reads (1.2 to 1.7)");

    if (auto it = bom.find("metadata"); it != bom.end() && !it->is_null()) SG_TRY(metadata(*it));
    if (auto it = bom.find("components"); it != bom.end() && !it->is_null()) SG_TRY(walk(*it, "components", 1));
    if (meta_components_) SG_TRY(walk(*meta_components_, "metadata.component.components", 1));

    finish();
    return std::move(out_);
  }

 private:
  const SbomLimits& limits_;
  SbomImage out_;
  std::unordered_map<std::string, std::string> refs_;  // bom-ref -> where it was first seen
  size_t components_ = 0;
  size_t dropped_warnings_ = 0;
  std::string os_where_;                   // the operating-system component taken, if any
  const json* meta_components_ = nullptr;  // metadata.component.components, walked after the others

  void warn(std::string w) {
    if (out_.warnings.size() < limits_.max_warnings) {
      out_.warnings.push_back(std::move(w));
    } else {
      ++dropped_warnings_;
    }
  }

  void skip(const std::string& where, std::string_view name, const std::string& reason) {
    ++out_.skipped;
    warn(where + (name.empty() ? "" : " (" + shown(name) + ")") + ": " + reason + "; skipped");
  }

  // obj[key] as a string into `out`; absent or null leaves `out` as it is. Not a string, or longer
  // than max_string_bytes, is an error.
  Result<void> get_string(const json& obj, const char* key, const std::string& where, std::string& out,
                          bool* present = nullptr) {
    if (present) *present = false;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Ok();
    if (!it->is_string()) return format_error(where + ": not a string but " + type_name(*it));
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > limits_.max_string_bytes)
      return limit_error(where + ": " + std::to_string(s.size()) + " bytes, over the limit of " +
                         std::to_string(limits_.max_string_bytes));
    out = s;
    if (present) *present = true;
    return Ok();
  }

  Result<void> bom_ref(const json& c, const std::string& where) {
    std::string ref;
    bool present = false;
    SG_TRY(get_string(c, "bom-ref", where + ".bom-ref", ref, &present));
    if (!present) return Ok();
    auto [it, inserted] = refs_.emplace(ref, where);
    if (!inserted)
      return format_error(where + ".bom-ref: " + shown(ref) + " is also the bom-ref of " + it->second +
                          " (bom-refs are unique in a BOM)");
    return Ok();
  }

  // The properties of the two namespaces scangate reads; others are ignored (but counted).
  Result<Props> properties(const json& c, const std::string& where) {
    std::vector<Prop> out;
    auto it = c.find("properties");
    if (it == c.end() || it->is_null()) return Props(std::move(out));
    if (!it->is_array()) return format_error(where + ".properties: not an array but " + type_name(*it));
    if (it->size() > limits_.max_properties)
      return limit_error(where + ".properties: " + std::to_string(it->size()) + " properties, over the limit of " +
                         std::to_string(limits_.max_properties));
    for (size_t i = 0; i < it->size(); ++i) {
      const json& p = (*it)[i];
      std::string at = where + ".properties[" + std::to_string(i) + "]";
      if (!p.is_object()) return format_error(at + ": not an object but " + type_name(p));
      std::string name, value;
      bool has_name = false;
      SG_TRY(get_string(p, "name", at + ".name", name, &has_name));
      if (!has_name) return format_error(at + ".name: missing");
      bool scangate = name.compare(0, kScangateNs.size(), kScangateNs) == 0;
      bool trivy = !scangate && name.compare(0, kTrivyNs.size(), kTrivyNs) == 0;
      if (!scangate && !trivy) continue;
      SG_TRY(get_string(p, "value", at + ".value", value));
      out.push_back(Prop{scangate, name.substr(scangate ? kScangateNs.size() : kTrivyNs.size()), std::move(value), at});
    }
    return Props(std::move(out));
  }

  Result<void> metadata(const json& md) {
    if (!md.is_object()) return format_error("metadata: not an object but " + type_name(md));
    auto it = md.find("component");
    if (it == md.end() || it->is_null()) return Ok();
    const json& c = *it;
    const std::string where = "metadata.component";
    if (!c.is_object()) return format_error(where + ": not an object but " + type_name(c));
    SG_TRY(bom_ref(c, where));
    ImageMetadata& m = out_.meta;
    SG_TRY(get_string(c, "name", where + ".name", m.reference));

    auto props = properties(c, where);
    if (!props.ok()) return props.error();
    auto image_id = props->either("ImageID");
    if (!image_id.ok()) return image_id.error();
    if (!image_id->empty()) {
      if (!valid_digest(*image_id)) return format_error(where + ": ImageID " + shown(*image_id) + " is not a digest");
      m.config_digest = *image_id;
    }
    for (auto& d : props->all("DiffID")) {
      if (!valid_digest(d)) return format_error(where + ": DiffID " + shown(d) + " is not a digest");
      m.diff_ids.push_back(std::move(d));
    }
    auto repo_digests = props->all("RepoDigest");
    if (!repo_digests.empty()) m.repo_digest = repo_digests.front();
    if (repo_digests.size() > 1)
      warn(where + ": " + std::to_string(repo_digests.size()) + " RepoDigests; the first, " +
           shown(repo_digests.front()) + ", is kept");
    m.repo_tags = props->all("RepoTag");
    auto os = props->one(true, "OS");
    if (!os.ok()) return os.error();
    m.os = *os;
    auto arch = props->one(true, "Architecture");
    if (!arch.ok()) return arch.error();
    if (auto slash = arch->find('/'); slash != std::string::npos) {
      m.architecture = arch->substr(0, slash);
      m.variant = arch->substr(slash + 1);
    } else {
      m.architecture = *arch;
    }
    auto created = props->one(true, "Created");
    if (!created.ok()) return created.error();
    m.created = *created;

    std::string purl_text;
    bool has_purl = false;
    SG_TRY(get_string(c, "purl", where + ".purl", purl_text, &has_purl));
    if (has_purl) {
      auto purl = parse_purl(purl_text);
      if (!purl) return format_error(where + ".purl: " + shown(purl_text) + " is not a package URL");
      if (purl->type == "oci") {
        if (!valid_digest(purl->version))
          return format_error(where + ".purl: the version " + shown(purl->version) + " is not a manifest digest");
        m.manifest_digest = purl->version;
        if (m.architecture.empty()) m.architecture = purl->qualifier("arch");
      } else {
        warn(where + ".purl: a " + shown(purl->type) + " purl, not an image's (pkg:oci); ignored");
      }
    }
    // The RepoDigest is kept as written: for an image index it names the index, while the purl
    // names the platform's manifest.
    if (auto nested = c.find("components"); nested != c.end() && !nested->is_null()) meta_components_ = &*nested;
    return Ok();
  }

  Result<void> walk(const json& arr, const std::string& where, size_t depth) {
    if (!arr.is_array()) return format_error(where + ": not an array but " + type_name(arr));
    if (depth > limits_.max_depth)
      return limit_error(where + ": components nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (arr.size() > limits_.max_components - std::min(components_, limits_.max_components))
      return limit_error(where + ": more than " + std::to_string(limits_.max_components) + " components");
    for (size_t i = 0; i < arr.size(); ++i) SG_TRY(component(arr[i], where + "[" + std::to_string(i) + "]", depth));
    return Ok();
  }

  Result<void> component(const json& c, const std::string& where, size_t depth) {
    if (!c.is_object()) return format_error(where + ": not an object but " + type_name(c));
    if (++components_ > limits_.max_components)
      return limit_error(where + ": more than " + std::to_string(limits_.max_components) + " components");
    std::string type;
    bool has_type = false;
    SG_TRY(get_string(c, "type", where + ".type", type, &has_type));
    if (!has_type) return format_error(where + ".type: missing");
    SG_TRY(bom_ref(c, where));
    if (type == "operating-system") {
      SG_TRY(os_component(c, where));
    } else {
      SG_TRY(package_component(c, where, type));
    }
    if (auto it = c.find("components"); it != c.end() && !it->is_null())
      SG_TRY(walk(*it, where + ".components", depth + 1));
    return Ok();
  }

  Result<void> os_component(const json& c, const std::string& where) {
    OSInfo os;
    SG_TRY(get_string(c, "name", where + ".name", os.family));
    SG_TRY(get_string(c, "version", where + ".version", os.name));
    if (os.family.empty()) {
      warn(where + ": an operating-system component without a name; ignored");
      return Ok();
    }
    OSInfo& have = out_.inventory.os;
    if (!os_where_.empty()) {
      if (have.family == os.family && have.name == os.name) return Ok();
      return format_error(where + ": a second operating system, " + shown(os.family + " " + os.name) + ", besides " +
                          shown(have.family + " " + have.name) + " of " + os_where_ +
                          " (an image has one; which one to match against?)");
    }
    have = os;
    os_where_ = where;
    return Ok();
  }

  Result<void> licenses(const json& c, const std::string& where, std::vector<std::string>& out) {
    auto it = c.find("licenses");
    if (it == c.end() || it->is_null()) return Ok();
    std::string at = where + ".licenses";
    if (!it->is_array()) return format_error(at + ": not an array but " + type_name(*it));
    if (it->size() > limits_.max_licenses)
      return limit_error(at + ": " + std::to_string(it->size()) + " licenses, over the limit of " +
                         std::to_string(limits_.max_licenses));
    for (size_t i = 0; i < it->size(); ++i) {
      const json& l = (*it)[i];
      std::string li = at + "[" + std::to_string(i) + "]";
      if (!l.is_object()) return format_error(li + ": not an object but " + type_name(l));
      std::string value;
      if (auto lic = l.find("license"); lic != l.end() && !lic->is_null()) {
        if (!lic->is_object()) return format_error(li + ".license: not an object but " + type_name(*lic));
        SG_TRY(license_string(*lic, "name", li + ".license.name", value));
        SG_TRY(license_string(*lic, "id", li + ".license.id", value));  // an SPDX id, when given, wins
      } else {
        SG_TRY(license_string(l, "expression", li + ".expression", value));
      }
      if (!value.empty()) out.push_back(std::move(value));
    }
    return Ok();
  }

  // A license longer than max_string_bytes (a whole license text) is dropped with a warning: it
  // plays no part in matching.
  Result<void> license_string(const json& obj, const char* key, const std::string& where, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Ok();
    if (!it->is_string()) return format_error(where + ": not a string but " + type_name(*it));
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > limits_.max_string_bytes) {
      warn(where + ": " + std::to_string(s.size()) + " bytes, over the limit of " +
           std::to_string(limits_.max_string_bytes) + "; license dropped");
      return Ok();
    }
    if (!s.empty()) out = s;
    return Ok();
  }

  Result<void> layer_digest(const Props& props, std::string_view key, const std::string& where, std::string& out) {
    auto v = props.either(key);
    if (!v.ok()) return v.error();
    if (v->empty()) return Ok();
    if (!valid_digest(*v)) return format_error(where + ": " + std::string(key) + " " + shown(*v) + " is not a digest");
    out = *v;
    return Ok();
  }

  Result<void> package_component(const json& c, const std::string& where, const std::string& cdx_type) {
    auto props_r = properties(c, where);
    if (!props_r.ok()) return props_r.error();
    const Props& props = *props_r;

    std::string purl_text;
    bool has_purl = false;
    SG_TRY(get_string(c, "purl", where + ".purl", purl_text, &has_purl));
    std::optional<Purl> purl;
    if (has_purl) {
      purl = parse_purl(purl_text);
      if (!purl) warn(where + ".purl: " + shown(purl_text) + " is not a package URL; ignored");
    }
    std::string name, group, version;
    SG_TRY(get_string(c, "name", where + ".name", name));
    SG_TRY(get_string(c, "group", where + ".group", group));
    bool has_version = false;
    SG_TRY(get_string(c, "version", where + ".version", version, &has_version));

    // The type: the producer's own property, else the purl's.
    bool scangate_type = props.has(true, "PkgType");
    bool trivy_type = !scangate_type && props.has(false, "PkgType");
    std::optional<std::string> purl_type = purl ? type_from_purl(purl->type) : std::nullopt;
    std::string type;
    if (scangate_type || trivy_type) {
      auto v = props.one(scangate_type, "PkgType");
      if (!v.ok()) return v.error();
      auto mapped = scangate_type ? type_from_scangate(*v) : type_from_trivy(*v);
      std::string prop_name = Props::ns(scangate_type) + "PkgType";
      if (!mapped) {
        skip(where, name, "package type " + shown(*v) + " (" + prop_name + ") is not one scangate matches");
        return Ok();
      }
      type = *mapped;
      if (purl && purl_type != mapped)
        warn(where + ": " + prop_name + " " + shown(*v) + " says " + type + " but the purl is of type " +
             shown(purl->type) + "; the property wins");
    } else if (purl) {
      if (!purl_type) {
        skip(where, name, "purl type " + shown(purl->type) + " is not one scangate matches");
        return Ok();
      }
      type = *purl_type;
    } else {
      if (cdx_type == "library") skip(where, name, "a library with neither a purl nor a package type");
      return Ok();  // an application, container, file...: only its nested components can be packages
    }

    Package p;
    p.type = type;
    bool purl_agrees = purl && purl_type == type;
    // A purl's namespace is part of the name only for npm (the scope); apk's and deb's is the distro.
    if (name.empty() && purl_agrees)
      name = type == "npm" && !purl->ns.empty() ? purl->ns + "/" + purl->name : purl->name;
    // Trivy writes an npm scope as the group: {"group": "@babel", "name": "core"}.
    if (type == "npm" && !group.empty() && !name.empty() && name.front() != '@') name = group + "/" + name;
    if (name.empty()) {
      skip(where, "", "a package without a name");
      return Ok();
    }
    p.name = name;

    if (purl_agrees && !purl->version.empty()) {
      std::string from_purl = purl->version;
      std::string epoch = purl->qualifier("epoch");
      if (type == "deb" && !epoch.empty() && epoch != "0" && from_purl.find(':') == std::string::npos)
        from_purl = epoch + ":" + from_purl;
      if (!has_version || version.empty()) {
        version = from_purl;
      } else if (version != from_purl) {
        return format_error(where + ": version " + shown(version) + " and the purl's version " + shown(from_purl) +
                            " disagree");
      }
    }
    p.version = version;
    if (p.version.empty()) warn(where + " (" + shown(p.name) + "): a package without a version cannot be matched");
    if (purl_agrees) p.arch = purl->qualifier("arch");

    auto src_name = props.either("SrcName");
    if (!src_name.ok()) return src_name.error();
    p.src_name = src_name->empty() ? p.name : *src_name;

    auto src_version = props.one(true, "SrcVersion");
    if (!src_version.ok()) return src_version.error();
    p.src_version = *src_version;
    if (p.src_version.empty()) {
      auto trivy_src = trivy_src_version(props, where);
      if (!trivy_src.ok()) return trivy_src.error();
      p.src_version = *trivy_src;
    }
    if (p.src_version.empty()) p.src_version = p.version;

    auto file_path = props.either("FilePath");
    if (!file_path.ok()) return file_path.error();
    p.file_path = *file_path;

    SG_TRY(layer_digest(props, "LayerDigest", where, p.layer.digest));
    SG_TRY(layer_digest(props, "LayerDiffID", where, p.layer.diff_id));
    SG_TRY(licenses(c, where, p.licenses));
    out_.inventory.packages.push_back(std::move(p));
    return Ok();
  }

  // Trivy splits a source version as its analyzers do: SrcEpoch, SrcVersion, SrcRelease (dpkg's
  // "1:2.31.1-0.4ubuntu3.1" is 1, 2.31.1, 0.4ubuntu3.1; apk's is all SrcVersion).
  Result<std::string> trivy_src_version(const Props& props, const std::string& where) {
    auto version = props.one(false, "SrcVersion");
    if (!version.ok()) return version.error();
    if (version->empty()) return std::string();
    auto release = props.one(false, "SrcRelease");
    if (!release.ok()) return release.error();
    auto epoch = props.one(false, "SrcEpoch");
    if (!epoch.ok()) return epoch.error();
    if (!epoch->empty() && (epoch->size() > 9 ||
                            !std::all_of(epoch->begin(), epoch->end(), [](char ch) { return ch >= '0' && ch <= '9'; })))
      return format_error(where + ": aquasecurity:trivy:SrcEpoch " + shown(*epoch) + " is not a number");
    std::string out = *version;
    if (!release->empty()) out += "-" + *release;
    if (!epoch->empty() && *epoch != "0") out = *epoch + ":" + out;
    return out;
  }

  void finish() {
    ImageMetadata& m = out_.meta;
    Inventory& inv = out_.inventory;
    std::map<std::string, int> index_of;
    for (size_t i = 0; i < m.diff_ids.size(); ++i) index_of.emplace(m.diff_ids[i], static_cast<int>(i));
    // Each layer's blob digest, when the packages name one for every layer of the image.
    std::vector<std::string> digests(m.diff_ids.size());
    bool consistent = true;
    bool any_os_pkg = false;
    for (auto& p : inv.packages) {
      any_os_pkg = any_os_pkg || p.type == "apk" || p.type == "deb";
      auto it = p.layer.diff_id.empty() ? index_of.end() : index_of.find(p.layer.diff_id);
      if (it == index_of.end()) continue;
      p.layer.index = it->second;
      if (p.layer.digest.empty()) continue;
      std::string& d = digests[static_cast<size_t>(it->second)];
      if (d.empty()) {
        d = p.layer.digest;
      } else if (d != p.layer.digest) {
        consistent = false;
      }
    }
    if (m.layer_digests.empty() && consistent && !digests.empty() &&
        std::none_of(digests.begin(), digests.end(), [](const std::string& d) { return d.empty(); }))
      m.layer_digests = std::move(digests);

    if (inv.packages.empty() && inv.os.empty()) warn("the BOM lists no packages and no operating system");
    if (any_os_pkg && inv.os.empty())
      warn("the BOM lists OS packages but no operating-system component: they cannot be matched");
    if (dropped_warnings_ > 0)
      out_.warnings.push_back("... and " + std::to_string(dropped_warnings_) + " more warnings");
  }
};

}  // namespace

Result<SbomImage> read_cyclonedx(const nlohmann::json& bom, const SbomLimits& limits) {
  return Reader(limits).read(bom);
}

Result<SbomImage> read_cyclonedx(std::string_view text, const SbomLimits& limits) {
  if (text.size() > limits.max_bytes)
    return limit_error(std::to_string(text.size()) + " bytes, over the limit of " + std::to_string(limits.max_bytes));
  // Two JSON levels per level of components, and room for what a component holds (properties,
  // licenses, hashes, evidence, pedigree).
  const size_t max_nesting = 2 * limits.max_depth + 32;
  if (json_nesting(text, max_nesting) > max_nesting)
    return limit_error("JSON nested deeper than " + std::to_string(max_nesting) + " levels");
  json bom;
  try {
    bom = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) { return format_error(std::string("not JSON (") + e.what() + ")"); }
  return read_cyclonedx(bom, limits);
}

}  // namespace scangate
