#include "scanner/vulndb/nvd.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <optional>
#include <system_error>

#include "scanner/vulndb/gzip.h"
#include "scanner/vulndb/json_util.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

Result<double> number_at(const Json& obj, const char* key, std::string_view name, const std::string& path) {
  const Json* v = detail::member(obj, key);
  if (!v) return Error(ErrorKind::kFormat, std::string(name) + ": " + detail::join_path(path, key) + ": missing");
  if (!v->is_number()) return detail::type_error(name, detail::join_path(path, key), "number", *v);
  return v->get<double>();
}

Result<std::vector<CvssMetric>> parse_metrics(const Json& metrics, const char* key, std::string_view name,
                                              const std::string& path) {
  std::vector<CvssMetric> out;
  auto arr = detail::opt_array(metrics, key, name, path);
  if (!arr) return arr.error();
  if (!arr.value()) return out;
  std::string base = detail::join_path(path, key);
  const bool v2 = std::string_view(key) == "cvssMetricV2";
  for (std::size_t i = 0; i < arr.value()->size(); ++i) {
    const Json& m = (*arr.value())[i];
    std::string p = detail::index_path(base, i);
    if (!m.is_object()) return detail::type_error(name, p, "object", m);
    CvssMetric cm;
    auto source = detail::opt_string(m, "source", name, p);
    if (!source) return source.error();
    auto type = detail::opt_string(m, "type", name, p);
    if (!type) return type.error();
    const Json* data = detail::member(m, "cvssData");
    if (!data) return Error(ErrorKind::kFormat, std::string(name) + ": " + p + ".cvssData: missing");
    std::string dp = p + ".cvssData";
    if (!data->is_object()) return detail::type_error(name, dp, "object", *data);
    auto version = detail::opt_string(*data, "version", name, dp);
    if (!version) return version.error();
    auto vec = detail::opt_string(*data, "vectorString", name, dp);
    if (!vec) return vec.error();
    auto score = number_at(*data, "baseScore", name, dp);
    if (!score) return score.error();
    auto sev =
        v2 ? detail::opt_string(m, "baseSeverity", name, p) : detail::opt_string(*data, "baseSeverity", name, dp);
    if (!sev) return sev.error();
    cm.source = source.value();
    cm.type = type.value();
    cm.version = version.value();
    cm.vector = vec.value();
    cm.score = score.value();
    cm.base_severity = sev.value();
    out.push_back(std::move(cm));
  }
  return out;
}

std::string english(const std::vector<std::pair<std::string, std::string>>& descs) {
  for (const auto& [lang, value] : descs)
    if (lang == "en") return value;
  return descs.empty() ? std::string() : descs.front().second;
}

// API 2.0 `cve` object.
Result<bool> import_cve(const Json& cve, std::string_view name, const std::string& path, FeedSink& sink) {
  if (!cve.is_object()) return detail::type_error(name, path, "object", cve);
  VulnerabilityRecord rec;
  rec.origin = VulnerabilityRecord::Origin::kNvd;
  auto id = detail::req_string(cve, "id", name, path);
  if (!id) return id.error();
  auto status = detail::opt_string(cve, "vulnStatus", name, path);
  if (!status) return status.error();
  if (status.value() == "Rejected") return false;
  rec.vuln_id = id.value();
  rec.cve_id = id.value();
  auto published = detail::opt_string(cve, "published", name, path);
  if (!published) return published.error();
  auto modified = detail::opt_string(cve, "lastModified", name, path);
  if (!modified) return modified.error();
  rec.published = published.value();
  rec.last_modified = modified.value();

  auto descs = detail::opt_array(cve, "descriptions", name, path);
  if (!descs) return descs.error();
  if (descs.value()) {
    std::vector<std::pair<std::string, std::string>> list;
    for (std::size_t i = 0; i < descs.value()->size(); ++i) {
      const Json& d = (*descs.value())[i];
      std::string p = detail::index_path(detail::join_path(path, "descriptions"), i);
      if (!d.is_object()) return detail::type_error(name, p, "object", d);
      auto lang = detail::opt_string(d, "lang", name, p);
      if (!lang) return lang.error();
      auto value = detail::opt_string(d, "value", name, p);
      if (!value) return value.error();
      list.emplace_back(lang.value(), value.value());
    }
    rec.description = english(list);
  }
  auto refs = detail::opt_array(cve, "references", name, path);
  if (!refs) return refs.error();
  if (refs.value()) {
    for (std::size_t i = 0; i < refs.value()->size(); ++i) {
      const Json& r = (*refs.value())[i];
      std::string p = detail::index_path(detail::join_path(path, "references"), i);
      if (!r.is_object()) return detail::type_error(name, p, "object", r);
      auto url = detail::opt_string(r, "url", name, p);
      if (!url) return url.error();
      auto source = detail::opt_string(r, "source", name, p);
      if (!source) return source.error();
      if (!url.value().empty()) rec.references.push_back({url.value(), source.value()});
    }
  }
  auto metrics = detail::opt_object(cve, "metrics", name, path);
  if (!metrics) return metrics.error();
  if (metrics.value()) {
    std::string mp = detail::join_path(path, "metrics");
    auto v31 = parse_metrics(*metrics.value(), "cvssMetricV31", name, mp);
    if (!v31) return v31.error();
    auto v30 = parse_metrics(*metrics.value(), "cvssMetricV30", name, mp);
    if (!v30) return v30.error();
    auto v2 = parse_metrics(*metrics.value(), "cvssMetricV2", name, mp);
    if (!v2) return v2.error();
    rec.metrics.v31 = std::move(v31.value());
    rec.metrics.v30 = std::move(v30.value());
    rec.metrics.v2 = std::move(v2.value());
  }
  SG_TRY(sink.add_vulnerability(rec));
  return true;
}

// The retired NVD JSON 1.1 item ({"cve":{"CVE_data_meta":...},"impact":...}), still what
// vuln-list keeps for older years.
Result<bool> import_legacy_item(const Json& item, std::string_view name, const std::string& path, FeedSink& sink) {
  VulnerabilityRecord rec;
  rec.origin = VulnerabilityRecord::Origin::kNvd;
  const Json& cve = item["cve"];
  std::string cp = detail::join_path(path, "cve");
  auto meta = detail::opt_object(cve, "CVE_data_meta", name, cp);
  if (!meta) return meta.error();
  auto id = detail::req_string(*meta.value(), "ID", name, cp + ".CVE_data_meta");
  if (!id) return id.error();
  rec.vuln_id = rec.cve_id = id.value();
  auto published = detail::opt_string(item, "publishedDate", name, path);
  if (!published) return published.error();
  auto modified = detail::opt_string(item, "lastModifiedDate", name, path);
  if (!modified) return modified.error();
  rec.published = published.value();
  rec.last_modified = modified.value();
  if (const Json* d = detail::member(cve, "description"); d && d->is_object())
    if (const Json* dd = detail::member(*d, "description_data"); dd && dd->is_array()) {
      std::vector<std::pair<std::string, std::string>> list;
      for (const Json& e : *dd)
        if (e.is_object() && e.value("value", Json()).is_string())
          list.emplace_back(e.value("lang", Json("")).is_string() ? e.value("lang", std::string()) : std::string(),
                            e["value"].get<std::string>());
      rec.description = english(list);
    }
  if (const Json* r = detail::member(cve, "references"); r && r->is_object())
    if (const Json* rd = detail::member(*r, "reference_data"); rd && rd->is_array())
      for (const Json& e : *rd)
        if (e.is_object() && e.value("url", Json()).is_string()) {
          std::string src = e.value("refsource", Json()).is_string() ? e["refsource"].get<std::string>() : "";
          rec.references.push_back({e["url"].get<std::string>(), src});
        }
  auto impact = detail::opt_object(item, "impact", name, path);
  if (!impact) return impact.error();
  if (impact.value()) {
    std::string ip = detail::join_path(path, "impact");
    auto add = [&](const char* metric_key, const char* data_key, bool v2) -> Result<void> {
      auto bm = detail::opt_object(*impact.value(), metric_key, name, ip);
      if (!bm) return bm.error();
      if (!bm.value()) return Ok();
      std::string bp = detail::join_path(ip, metric_key);
      auto data = detail::opt_object(*bm.value(), data_key, name, bp);
      if (!data) return data.error();
      if (!data.value()) return Ok();
      std::string dp = detail::join_path(bp, data_key);
      CvssMetric m;
      m.source = "nvd@nist.gov";
      m.type = "Primary";
      auto version = detail::opt_string(*data.value(), "version", name, dp);
      if (!version) return version.error();
      auto vec = detail::opt_string(*data.value(), "vectorString", name, dp);
      if (!vec) return vec.error();
      auto score = number_at(*data.value(), "baseScore", name, dp);
      if (!score) return score.error();
      auto sev = v2 ? detail::opt_string(*bm.value(), "severity", name, bp)
                    : detail::opt_string(*data.value(), "baseSeverity", name, dp);
      if (!sev) return sev.error();
      m.version = version.value();
      m.vector = vec.value();
      m.score = score.value();
      m.base_severity = sev.value();
      if (v2)
        rec.metrics.v2.push_back(std::move(m));
      else if (m.version == "3.0")
        rec.metrics.v30.push_back(std::move(m));
      else
        rec.metrics.v31.push_back(std::move(m));
      return Ok();
    };
    SG_TRY(add("baseMetricV3", "cvssV3", false));
    SG_TRY(add("baseMetricV2", "cvssV2", true));
  }
  SG_TRY(sink.add_vulnerability(rec));
  return true;
}

Result<bool> import_item(const Json& item, std::string_view name, const std::string& path, FeedSink& sink) {
  if (!item.is_object()) return detail::type_error(name, path, "object", item);
  const Json* cve = detail::member(item, "cve");
  if (!cve) return Error(ErrorKind::kFormat, std::string(name) + ": " + detail::join_path(path, "cve") + ": missing");
  if (!cve->is_object()) return detail::type_error(name, detail::join_path(path, "cve"), "object", *cve);
  if (detail::member(*cve, "CVE_data_meta")) return import_legacy_item(item, name, path, sink);
  return import_cve(*cve, name, detail::join_path(path, "cve"), sink);
}

std::size_t size_field(const Json& root, const char* key) {
  const Json* v = detail::member(root, key);
  return v && v->is_number_unsigned() ? v->get<std::size_t>() : 0;
}

}  // namespace

Result<NvdPageInfo> import_nvd_text(std::string_view text, std::string_view name, FeedSink& sink, ImportStats* stats) {
  auto parsed = detail::parse_json(text, name);
  if (!parsed) return parsed.error();
  const Json& root = parsed.value();
  if (!root.is_object()) return detail::type_error(name, "", "object", root);
  ImportStats local;
  local.files = 1;
  NvdPageInfo info;
  auto count = [&](const Result<bool>& r) {
    if (r.value())
      ++local.vulnerabilities;
    else
      ++local.skipped;
  };
  const char* list_key = detail::member(root, "vulnerabilities") ? "vulnerabilities"
                         : detail::member(root, "CVE_Items")     ? "CVE_Items"
                                                                 : nullptr;
  if (list_key) {
    const Json& list = root[list_key];
    if (!list.is_array()) return detail::type_error(name, list_key, "array", list);
    info.is_page = true;
    info.start_index = size_field(root, "startIndex");
    info.results_per_page = size_field(root, "resultsPerPage");
    info.total_results = size_field(root, "totalResults");
    info.records = list.size();
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto r = import_item(list[i], name, detail::index_path(list_key, i), sink);
      if (!r) return r.error();
      count(r);
    }
  } else if (detail::member(root, "cve")) {
    auto r = import_item(root, name, "", sink);
    if (!r) return r.error();
    count(r);
    info.records = 1;
  } else if (detail::member(root, "id")) {  // a bare API 2.0 cve object
    auto r = import_cve(root, name, "", sink);
    if (!r) return r.error();
    count(r);
    info.records = 1;
  } else {
    return Error(ErrorKind::kFormat, std::string(name) +
                                         ": not an NVD CVE API 2.0 page (no \"vulnerabilities\"), item (\"cve\") "
                                         "or record (\"id\")");
  }
  if (stats) *stats += local;
  return info;
}

Result<ImportStats> import_nvd_document(std::string_view text, std::string_view name, FeedSink& sink) {
  using Event = Json::parse_event_t;
  ImportStats local;
  local.files = 1;
  std::optional<Error> failed;
  bool key_is_list = false, in_list = false, saw_list = false;
  std::size_t index = 0;
  // Each element of the root's "vulnerabilities" array is imported as soon as it is parsed and
  // then dropped from the tree (returning false discards it).
  Json::parser_callback_t cb = [&](int depth, Event ev, Json& parsed) -> bool {
    if (depth == 1) {
      if (ev == Event::key) {
        key_is_list = parsed.is_string() && parsed.get_ref<const std::string&>() == "vulnerabilities";
        return true;
      }
      if (ev == Event::array_start && key_is_list) {
        in_list = saw_list = true;
      } else if (ev == Event::array_end) {
        in_list = false;
      }
      key_is_list = false;
      return true;
    }
    if (depth == 2 && in_list && (ev == Event::object_end || ev == Event::value || ev == Event::array_end)) {
      if (!failed) {
        auto r = import_item(parsed, name, detail::index_path("vulnerabilities", index), sink);
        if (!r)
          failed = r.error();
        else if (r.value())
          ++local.vulnerabilities;
        else
          ++local.skipped;
      }
      ++index;
      return false;
    }
    return true;
  };
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    std::string where = e.byte >= text.size() ? " (unexpected end of input: truncated file?)" : "";
    return Error(ErrorKind::kFormat, std::string(name) + ": byte " + std::to_string(e.byte) + ": " + what + where +
                                         "; re-download the feed");
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, std::string(name) + ": " + e.what()); }
  if (failed) return *failed;
  if (!saw_list) {  // a single record, or not NVD at all: the small documents' path says which
    ImportStats stats;
    auto r = import_nvd_text(text, name, sink, &stats);
    if (!r) return r.error();
    return stats;
  }
  return local;
}

Result<NvdFeedMeta> parse_nvd_feed_meta(std::string_view text, std::string_view name) {
  NvdFeedMeta meta;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return Error(ErrorKind::kFormat, std::string(name) + ": line " + std::to_string(line_no) +
                                           ": expected \"key:value\" (an NVD feed .meta file)");
    std::string_view key = line.substr(0, colon), value = line.substr(colon + 1);
    if (key == "lastModifiedDate") {
      meta.last_modified = std::string(value);
    } else if (key == "size") {
      std::uint64_t n = 0;
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return Error(ErrorKind::kFormat,
                     std::string(name) + ": line " + std::to_string(line_no) + ": size is not a number");
      for (char c : value) n = n * 10 + static_cast<std::uint64_t>(c - '0');
      meta.size = n;
    } else if (key == "sha256") {
      std::string hex(value);
      for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(c) != 0; }))
        return Error(ErrorKind::kFormat,
                     std::string(name) + ": line " + std::to_string(line_no) + ": sha256 is not 64 hex digits");
      meta.sha256 = hex;
    }
  }
  if (!meta.size && meta.sha256.empty())
    return Error(ErrorKind::kFormat, std::string(name) + ": no size or sha256 line (not an NVD feed .meta file)");
  return meta;
}

Result<void> check_nvd_feed_meta(const NvdFeedMeta& meta, std::uint64_t size, const std::string& sha256_hex,
                                 std::string_view name) {
  if (meta.size && *meta.size != size)
    return Error(ErrorKind::kFormat, std::string(name) + ": uncompressed size " + std::to_string(size) +
                                         " bytes, but its .meta says " + std::to_string(*meta.size) +
                                         " (a damaged or partial download, or a feed replaced since its .meta); "
                                         "run the update again");
  if (!meta.sha256.empty() && meta.sha256 != sha256_hex)
    return Error(ErrorKind::kFormat,
                 std::string(name) + ": sha256 " + sha256_hex + " of the uncompressed feed, but its .meta says " +
                     meta.sha256 + " (a damaged download, or a feed replaced since its .meta); run the update again");
  return Ok();
}

bool is_gzip_name(std::string_view name) {
  name = name.substr(0, name.find('?'));
  return name.size() > 3 && name.substr(name.size() - 3) == ".gz";
}

std::string nvd_meta_name_for(std::string_view gz_name) {
  std::string_view query;
  if (auto q = gz_name.find('?'); q != std::string_view::npos) {
    query = gz_name.substr(q);
    gz_name = gz_name.substr(0, q);
  }
  constexpr std::string_view kSuffix = ".json.gz";
  if (gz_name.size() <= kSuffix.size() || gz_name.substr(gz_name.size() - kSuffix.size()) != kSuffix) return "";
  return std::string(gz_name.substr(0, gz_name.size() - kSuffix.size())) + ".meta" + std::string(query);
}

int compare_nvd_timestamps(std::string_view a, std::string_view b) {
  // Year, month, day, hour, minute, second, nanoseconds; absent parts are 0. A zone suffix is
  // ignored: NVD writes every stamp in UTC (with "Z" or without a zone).
  auto fields = [](std::string_view t) {
    std::array<std::uint64_t, 7> f{};
    std::size_t i = 0, field = 0;
    while (i < t.size() && field < f.size()) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) {
        if (field >= 3 && (t[i] == 'Z' || t[i] == '+' || (t[i] == '-' && field >= 4))) break;
        ++i;
        continue;
      }
      bool fraction = field == 6 && i > 0 && t[i - 1] == '.';
      std::uint64_t v = 0;
      int digits = 0;
      for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i, ++digits)
        if (digits < 18) v = v * 10 + static_cast<std::uint64_t>(t[i] - '0');
      if (field == 6) {
        if (!fraction) break;
        for (; digits < 9; ++digits) v *= 10;
        for (; digits > 9; --digits) v /= 10;
      }
      f[field++] = v;
    }
    return f;
  };
  auto fa = fields(a), fb = fields(b);
  return fa < fb ? -1 : fb < fa ? 1 : 0;
}

Result<ImportStats> import_nvd_path(const std::string& path, FeedSink& sink, const ProgressFn& progress,
                                    std::uint64_t max_uncompressed) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error(ErrorKind::kNotFound, "NVD source " + path + " does not exist");
  std::vector<std::string> files;
  if (fs::is_directory(st)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      bool json =
          it->path().extension() == ".json" || (name.size() > 8 && name.compare(name.size() - 8, 8, ".json.gz") == 0);
      if (it->is_regular_file(ec) && json) files.push_back(it->path().string());
    }
    if (ec) return Error(ErrorKind::kIo, "listing " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  ImportStats stats;
  for (const auto& f : files) {
    if (is_gzip_name(f) || has_gzip_magic(f)) {
      auto text = gunzip_file(f, f, max_uncompressed);
      if (!text) return text.error();
      std::string meta_path = nvd_meta_name_for(f);
      if (!meta_path.empty() && fs::is_regular_file(meta_path, ec)) {
        auto meta_text = detail::read_whole_file(meta_path);
        if (!meta_text) return meta_text.error();
        auto meta = parse_nvd_feed_meta(meta_text.value(), meta_path);
        if (!meta) return meta.error();
        SG_TRY(check_nvd_feed_meta(meta.value(), text.value().text.size(), text.value().sha256_hex, f));
      }
      auto r = import_nvd_document(text.value().text, f, sink);
      if (!r) return r.error();
      stats += r.value();
      continue;
    }
    auto text = detail::read_whole_file(f);
    if (!text) return text.error();
    auto r = import_nvd_text(text.value(), f, sink, &stats);
    if (!r) return r.error();
  }
  if (progress) progress(path + ": NVD: " + std::to_string(stats.vulnerabilities) + " records");
  return stats;
}

}  // namespace scangate::vulndb
