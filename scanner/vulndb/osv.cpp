#include "scanner/vulndb/osv.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/release.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

constexpr std::size_t kMaxRecordBytes = 64u << 20;  // one OSV record; real ones are < 1 MiB

// Ecosystems the OSV schema defines that scangate does not match yet: skipped, not an error.
constexpr std::array<std::string_view, 40> kOtherOsvEcosystems{
    "AlmaLinux",   "Android",    "Bioconductor",
    "Bitnami",     "Chainguard", "CRAN",
    "crates.io",   "GHC",        "GitHub Actions",
    "Go",          "Hackage",    "Hex",
    "Linux",       "Mageia",     "Maven",
    "MinimOS",     "NuGet",      "openEuler",
    "openSUSE",    "OSS-Fuzz",   "Packagist",
    "Photon OS",   "Pub",        "Red Hat",
    "Rocky Linux", "RubyGems",   "SUSE",
    "SwiftURL",    "Ubuntu",     "Wolfi",
    "ConanCenter", "CleanStart", "Echo",
    "Azure Linux", "Haskell",    "Julia",
    "opam",        "Kubernetes", "BellSoft Hardened Containers",
    "VSCode"};

struct EcoKey {
  std::string ecosystem, release;
};

// nullopt + no error: a known ecosystem we skip.
Result<std::optional<EcoKey>> map_ecosystem(const std::string& eco, std::string_view name, const std::string& path) {
  auto colon = eco.find(':');
  std::string base = eco.substr(0, colon);
  std::string suffix = colon == std::string::npos ? std::string() : eco.substr(colon + 1);
  if (base == "PyPI") return std::optional<EcoKey>(EcoKey{"pypi", ""});
  if (base == "npm") return std::optional<EcoKey>(EcoKey{"npm", ""});
  if (base == "Alpine") {
    auto rel = alpine_release(suffix);
    if (!rel) return std::optional<EcoKey>();  // "Alpine" without a release cannot be matched
    return std::optional<EcoKey>(EcoKey{"alpine", *rel});
  }
  if (base == "Debian") {
    if (suffix.empty()) return std::optional<EcoKey>();
    auto by_name = debian_release_for_codename(suffix);
    return std::optional<EcoKey>(EcoKey{"debian", by_name ? *by_name : debian_release_for_version(suffix)});
  }
  if (std::find(kOtherOsvEcosystems.begin(), kOtherOsvEcosystems.end(), base) != kOtherOsvEcosystems.end())
    return std::optional<EcoKey>();
  return Error(ErrorKind::kFormat, std::string(name) + ": " + path + ": unknown OSV ecosystem \"" + eco + "\"");
}

std::string find_cve(const std::string& id, const std::vector<std::string>& aliases,
                     const std::vector<std::string>& upstream) {
  auto is_cve = [](std::string_view s) { return s.size() > 4 && s.substr(0, 4) == "CVE-"; };
  if (is_cve(id)) return id;
  for (const auto& a : aliases)
    if (is_cve(a)) return a;
  for (const auto& a : upstream)
    if (is_cve(a)) return a;
  auto pos = id.find("-CVE-");  // ALPINE-CVE-2021-36159, DEBIAN-CVE-2024-1234
  if (pos != std::string::npos) return id.substr(pos + 1);
  return {};
}

Result<std::vector<std::string>> string_list(const Json& obj, const char* key, std::string_view name,
                                             const std::string& path) {
  std::vector<std::string> out;
  auto arr = detail::opt_array(obj, key, name, path);
  if (!arr) return arr.error();
  if (!arr.value()) return out;
  std::string p = detail::join_path(path, key);
  for (std::size_t i = 0; i < arr.value()->size(); ++i) {
    const Json& v = (*arr.value())[i];
    if (!v.is_string()) return detail::type_error(name, detail::index_path(p, i), "string", v);
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::optional<OsvRange>> parse_range(const Json& r, std::string_view name, const std::string& path) {
  if (!r.is_object()) return detail::type_error(name, path, "object", r);
  auto type = detail::req_string(r, "type", name, path);
  if (!type) return type.error();
  if (type.value() != "ECOSYSTEM" && type.value() != "SEMVER" && type.value() != "GIT")
    return Error(ErrorKind::kFormat, std::string(name) + ": " + path + ".type: unknown range type \"" + type.value() +
                                         "\" (expected ECOSYSTEM, SEMVER or GIT)");
  auto events = detail::opt_array(r, "events", name, path);
  if (!events) return events.error();
  if (type.value() == "GIT") return std::optional<OsvRange>();  // commits: not matchable on versions
  OsvRange out;
  out.type = type.value();
  if (!events.value()) return std::optional<OsvRange>(std::move(out));
  std::string ep = path + ".events";
  for (std::size_t i = 0; i < events.value()->size(); ++i) {
    const Json& e = (*events.value())[i];
    std::string p = detail::index_path(ep, i);
    if (!e.is_object()) return detail::type_error(name, p, "object", e);
    bool found = false;
    for (auto [key, t] :
         {std::pair{"introduced", OsvEvent::Type::kIntroduced}, std::pair{"fixed", OsvEvent::Type::kFixed},
          std::pair{"last_affected", OsvEvent::Type::kLastAffected}, std::pair{"limit", OsvEvent::Type::kLimit}}) {
      const Json* v = detail::member(e, key);
      if (!v) continue;
      if (!v->is_string()) return detail::type_error(name, detail::join_path(p, key), "string", *v);
      out.events.push_back(OsvEvent{t, v->get<std::string>()});
      found = true;
      break;
    }
    if (!found)
      return Error(ErrorKind::kFormat,
                   std::string(name) + ": " + p + ": expected one of introduced, fixed, last_affected, limit");
  }
  return std::optional<OsvRange>(std::move(out));
}

Result<ImportStats> import_record(const Json& rec, std::string_view name, FeedSink& sink) {
  ImportStats stats;
  if (!rec.is_object()) return detail::type_error(name, "", "object", rec);
  auto id = detail::req_string(rec, "id", name, "");
  if (!id) return id.error();
  auto withdrawn = detail::opt_string(rec, "withdrawn", name, "");
  if (!withdrawn) return withdrawn.error();
  if (!withdrawn.value().empty()) {
    ++stats.skipped;
    return stats;
  }
  auto aliases = string_list(rec, "aliases", name, "");
  if (!aliases) return aliases.error();
  auto upstream = string_list(rec, "upstream", name, "");
  if (!upstream) return upstream.error();
  auto summary = detail::opt_string(rec, "summary", name, "");
  if (!summary) return summary.error();
  auto details = detail::opt_string(rec, "details", name, "");
  if (!details) return details.error();
  auto published = detail::opt_string(rec, "published", name, "");
  if (!published) return published.error();
  auto modified = detail::opt_string(rec, "modified", name, "");
  if (!modified) return modified.error();

  // The record's own severity label (Ubuntu-style), and GHSA's database_specific.severity.
  std::optional<Severity> feed;
  auto sev = detail::opt_array(rec, "severity", name, "");
  if (!sev) return sev.error();
  if (sev.value()) {
    for (std::size_t i = 0; i < sev.value()->size(); ++i) {
      const Json& s = (*sev.value())[i];
      std::string p = detail::index_path("severity", i);
      if (!s.is_object()) return detail::type_error(name, p, "object", s);
      auto type = detail::opt_string(s, "type", name, p);
      if (!type) return type.error();
      auto score = detail::opt_string(s, "score", name, p);
      if (!score) return score.error();
      if (type.value() == "Ubuntu" && !feed) feed = parse_severity_label(score.value());
    }
  }
  std::optional<Severity> ghsa;
  auto dbs = detail::opt_object(rec, "database_specific", name, "");
  if (!dbs) return dbs.error();
  if (dbs.value())
    if (const Json* s = detail::member(*dbs.value(), "severity"); s && s->is_string()) {
      auto label = parse_severity_label(s->get<std::string>());
      if (id.value().rfind("GHSA-", 0) == 0)
        ghsa = label;
      else if (!feed)
        feed = label;
    }

  std::vector<VulnReference> refs;
  auto refs_json = detail::opt_array(rec, "references", name, "");
  if (!refs_json) return refs_json.error();
  if (refs_json.value()) {
    for (std::size_t i = 0; i < refs_json.value()->size(); ++i) {
      const Json& r = (*refs_json.value())[i];
      std::string p = detail::index_path("references", i);
      if (!r.is_object()) return detail::type_error(name, p, "object", r);
      auto url = detail::opt_string(r, "url", name, p);
      if (!url) return url.error();
      auto type = detail::opt_string(r, "type", name, p);
      if (!type) return type.error();
      if (!url.value().empty()) refs.push_back({url.value(), type.value()});
    }
  }
  std::string cve = find_cve(id.value(), aliases.value(), upstream.value());

  // affected[] grouped per (ecosystem, release, package), in first-seen order.
  struct Group {
    EcoKey key;
    std::string package;
    std::vector<OsvRange> ranges;
    std::vector<std::string> versions;
    std::optional<Severity> feed;
  };
  std::vector<Group> groups;
  auto affected = detail::opt_array(rec, "affected", name, "");
  if (!affected) return affected.error();
  if (affected.value()) {
    for (std::size_t i = 0; i < affected.value()->size(); ++i) {
      const Json& a = (*affected.value())[i];
      std::string p = detail::index_path("affected", i);
      if (!a.is_object()) return detail::type_error(name, p, "object", a);
      auto pkg = detail::opt_object(a, "package", name, p);
      if (!pkg) return pkg.error();
      if (!pkg.value()) {  // purl-less, package-less entries cannot be matched
        ++stats.skipped;
        continue;
      }
      std::string pp = p + ".package";
      auto eco = detail::req_string(*pkg.value(), "ecosystem", name, pp);
      if (!eco) return eco.error();
      auto pkg_name = detail::req_string(*pkg.value(), "name", name, pp);
      if (!pkg_name) return pkg_name.error();
      auto key = map_ecosystem(eco.value(), name, pp + ".ecosystem");
      if (!key) return key.error();
      if (!key.value()) {
        ++stats.skipped;
        continue;
      }
      std::vector<OsvRange> ranges;
      auto ranges_json = detail::opt_array(a, "ranges", name, p);
      if (!ranges_json) return ranges_json.error();
      if (ranges_json.value()) {
        for (std::size_t r = 0; r < ranges_json.value()->size(); ++r) {
          auto range = parse_range((*ranges_json.value())[r], name, detail::index_path(p + ".ranges", r));
          if (!range) return range.error();
          if (range.value()) ranges.push_back(std::move(*range.value()));
        }
      }
      auto versions = string_list(a, "versions", name, p);
      if (!versions) return versions.error();
      std::optional<Severity> aff_feed;
      auto eco_spec = detail::opt_object(a, "ecosystem_specific", name, p);
      if (!eco_spec) return eco_spec.error();
      if (eco_spec.value())
        if (const Json* s = detail::member(*eco_spec.value(), "severity"); s && s->is_string())
          aff_feed = parse_severity_label(s->get<std::string>());

      std::string package = normalize_package_name(key.value()->ecosystem, pkg_name.value());
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
        return g.key.ecosystem == key.value()->ecosystem && g.key.release == key.value()->release &&
               g.package == package;
      });
      if (it == groups.end()) {
        groups.push_back(Group{*key.value(), package, {}, {}, {}});
        it = std::prev(groups.end());
      }
      for (auto& r : ranges) it->ranges.push_back(std::move(r));
      for (auto& v : versions.value()) it->versions.push_back(std::move(v));
      if (!it->feed) it->feed = aff_feed;
    }
  }

  for (auto& g : groups) {
    if (g.ranges.empty() && g.versions.empty()) {
      ++stats.skipped;
      continue;
    }
    AdvisoryRecord ar;
    Advisory& adv = ar.advisory;
    adv.vuln_id = id.value();
    adv.ecosystem = g.key.ecosystem;
    adv.release = g.key.release;
    adv.package = g.package;
    adv.kind = AdvisoryKind::kOsv;
    adv.status = FixStatus::kFixed;
    adv.ranges = std::move(g.ranges);
    adv.versions = std::move(g.versions);
    adv.cve_id = cve;
    adv.vendor_severity = g.feed ? g.feed : feed;
    ar.feed_severity_source = "osv";
    ar.ghsa_severity = ghsa;
    SG_TRY(sink.add_advisory(ar));
    ++stats.advisories;
  }

  VulnerabilityRecord vr;
  vr.origin = VulnerabilityRecord::Origin::kOsv;
  vr.vuln_id = id.value();
  vr.cve_id = cve;
  vr.title = summary.value();
  vr.description = details.value();
  vr.references = std::move(refs);
  vr.aliases = aliases.value();
  vr.published = published.value();
  vr.last_modified = modified.value();
  vr.ghsa_severity = ghsa;
  vr.feed_severity = feed;
  vr.feed_severity_source = "osv";
  SG_TRY(sink.add_vulnerability(vr));
  ++stats.vulnerabilities;
  return stats;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// By content, so downloaded exports need no particular file name.
bool is_zip(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char magic[4] = {0, 0, 0, 0};
  std::size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && magic[0] == 'P' && magic[1] == 'K' &&
         ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

Result<ImportStats> import_zip(const std::string& path, const std::string& shown, FeedSink& sink,
                               const ProgressFn& progress) {
  std::unique_ptr<archive, ArchiveCloser> ar(archive_read_new());
  if (!ar) return Error(ErrorKind::kInternal, "libarchive: out of memory");
  archive_read_support_format_zip(ar.get());
  if (archive_read_open_filename(ar.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Error(ErrorKind::kFormat, shown + ": not a readable zip archive: " + archive_error_string(ar.get()));
  ImportStats stats;
  std::size_t records = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(ar.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return Error(ErrorKind::kFormat, shown + ": after " + std::to_string(records) +
                                           " records: corrupt zip: " + archive_error_string(ar.get()));
    const char* ename = archive_entry_pathname(entry);
    std::string entry_name = ename ? ename : "";
    if (archive_entry_filetype(entry) != AE_IFREG || !ends_with(entry_name, ".json")) continue;
    std::string name = shown + ":" + entry_name;
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > static_cast<la_int64_t>(kMaxRecordBytes))
      return Error(ErrorKind::kLimit, name + ": record larger than 64 MiB");
    std::string data;
    std::array<char, 65536> buf;
    for (;;) {
      la_ssize_t n = archive_read_data(ar.get(), buf.data(), buf.size());
      if (n < 0) return Error(ErrorKind::kFormat, name + ": corrupt zip entry: " + archive_error_string(ar.get()));
      if (n == 0) break;
      data.append(buf.data(), static_cast<std::size_t>(n));
      if (data.size() > kMaxRecordBytes) return Error(ErrorKind::kLimit, name + ": record larger than 64 MiB");
    }
    auto s = import_osv_record_text(data, name, sink);
    if (!s) return s.error();
    stats += s.value();
    if (progress && ++records % 5000 == 0) progress(shown + ": " + std::to_string(records) + " OSV records");
  }
  stats.files = 1;
  return stats;
}

Result<ImportStats> import_file(const std::string& path, const std::string& shown, FeedSink& sink) {
  auto text = detail::read_whole_file(path);
  if (!text) return text.error();
  auto s = import_osv_record_text(text.value(), shown, sink);
  if (!s) return s.error();
  s.value().files = 1;
  return s;
}

}  // namespace

Result<ImportStats> import_osv_record_text(std::string_view text, std::string_view name, FeedSink& sink) {
  auto parsed = detail::parse_json(text, name);
  if (!parsed) return parsed.error();
  return import_record(parsed.value(), name, sink);
}

Result<ImportStats> import_osv_path(const std::string& path, FeedSink& sink, const ProgressFn& progress,
                                    std::string_view display_name) {
  const std::string shown = display_name.empty() ? path : std::string(display_name);
  namespace fs = std::filesystem;
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error(ErrorKind::kNotFound, "OSV source " + path + " does not exist");
  ImportStats total;
  if (fs::is_directory(st)) {
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path().string());
    }
    if (ec) return Error(ErrorKind::kIo, "listing " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto s = import_file(f, f, sink);
      if (!s) return s.error();
      total += s.value();
    }
  } else if (is_zip(path)) {
    auto s = import_zip(path, shown, sink, progress);
    if (!s) return s.error();
    total += s.value();
  } else {
    auto s = import_file(path, shown, sink);
    if (!s) return s.error();
    total += s.value();
  }
  if (progress)
    progress(shown + ": OSV: " + std::to_string(total.vulnerabilities) + " records, " +
             std::to_string(total.advisories) + " advisories");
  return total;
}

}  // namespace scangate::vulndb
