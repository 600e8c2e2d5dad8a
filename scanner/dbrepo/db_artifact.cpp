#include "scanner/dbrepo/db_artifact.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "scanner/core/fs_util.h"
#include "scanner/core/json_depth.h"
#include "scanner/core/sha256.h"
#include "scanner/core/time_util.h"
#include "scanner/image/digest.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_push.h"
#include "scanner/vulndb/vuln_db.h"

namespace scangate::dbrepo {
namespace {

using json = nlohmann::json;

constexpr const char* kAnnRevision = "io.scangate.db.revision";
constexpr const char* kAnnSchema = "io.scangate.db.schema";
constexpr const char* kAnnBuilt = "io.scangate.db.built";
constexpr const char* kAnnSize = "io.scangate.db.size";
constexpr const char* kAnnSha256 = "io.scangate.db.sha256";
constexpr size_t kBuf = 1u << 20;
// A scangate DB compresses some 10 times; a layer declaring a DB a thousand times its size is a
// decompression bomb, refused before anything is downloaded.
constexpr uint64_t kMaxRatio = 1000;
// A DB artifact's manifest is four levels deep. Parsed, each level of nesting costs ~80 bytes of
// heap: a 4 MiB manifest of '[' would cost 300 MiB before it could be refused.
constexpr size_t kMaxManifestDepth = 32;

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  return buf;
}

// A file descriptor closed (and optionally its file removed) at scope exit.
struct TempFile {
  int fd = -1;
  std::string path;
  bool keep = false;
  TempFile() = default;
  TempFile(TempFile&& o) noexcept : fd(o.fd), path(std::move(o.path)), keep(o.keep) {
    o.fd = -1;
    o.path.clear();
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

Result<void> write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorKind::kIo, "cannot write " + path + ": " + fs::errno_text(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Ok();
}

struct Compressed {
  std::string digest;     // of the compressed bytes
  uint64_t size = 0;      // compressed
  std::string db_sha256;  // of the DB's bytes
  uint64_t db_size = 0;
};

// zstd-compresses `src` into `out` (an open descriptor), hashing both sides.
Result<Compressed> compress_file(const std::string& src, TempFile& out, const Deadline& deadline) {
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(src.c_str(), "rb"), &std::fclose);
  if (!in) return Error(ErrorKind::kIo, "cannot open " + src + ": " + fs::errno_text(errno));
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) return Error(ErrorKind::kInternal, "zstd: out of memory");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 9);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  // Uses the cores where libzstd was built with threads; a single-threaded build ignores it.
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers,
                         static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  Sha256 raw, packed;
  Compressed c;
  std::vector<char> ibuf(kBuf), obuf(ZSTD_CStreamOutSize());
  for (;;) {
    if (deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed while compressing " + src);
    size_t n = std::fread(ibuf.data(), 1, ibuf.size(), in.get());
    if (n == 0 && std::ferror(in.get())) return Error(ErrorKind::kIo, "cannot read " + src);
    raw.update(ibuf.data(), n);
    c.db_size += n;
    const bool last = n < ibuf.size();
    ZSTD_inBuffer ib{ibuf.data(), n, 0};
    for (;;) {
      ZSTD_outBuffer ob{obuf.data(), obuf.size(), 0};
      size_t rest = ZSTD_compressStream2(cctx.get(), &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(rest)) return Error(ErrorKind::kInternal, std::string("zstd: ") + ZSTD_getErrorName(rest));
      packed.update(obuf.data(), ob.pos);
      c.size += ob.pos;
      SG_TRY(write_all(out.fd, obuf.data(), ob.pos, out.path));
      if (last ? rest == 0 : ib.pos == ib.size) break;
    }
    if (last) break;
  }
  c.digest = packed.finish_digest();
  c.db_sha256 = raw.finish_digest();
  return c;
}

Result<TempFile> temp_in_tmpdir(const std::string& what) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/scangate-" + what + "-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  TempFile t;
  t.fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (t.fd < 0)
    return Error(ErrorKind::kIo, "cannot create a temporary file in " + tmpl + ": " + fs::errno_text(errno));
  t.path = name.data();
  return t;
}

std::string str_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct LayerInfo {
  std::string digest;
  int64_t size = 0;
  uint64_t db_size = 0;
  std::string db_sha256;
  std::string revision;
  std::string built;
};

// Checks that `body` is a scangate DB artifact and returns its DB layer.
Result<LayerInfo> parse_artifact(const std::string& body, const std::string& content_type, const std::string& shown,
                                 uint64_t max_db_bytes) {
  const std::string what = shown + " is not a scangate DB artifact: ";
  if (json_nesting(body, kMaxManifestDepth) > kMaxManifestDepth)
    return Error(ErrorKind::kFormat,
                 what + "its manifest is nested deeper than " + std::to_string(kMaxManifestDepth) + " levels");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, what + "its manifest is not a JSON object");
  std::string mt = str_at(j, "mediaType");
  if (mt.empty()) mt = content_type.substr(0, content_type.find(';'));
  if (mt != kOciManifestMediaType)
    return Error(ErrorKind::kFormat, what + "its manifest is " +
                                         (mt.empty() ? std::string("of no media type") : "a " + mt.substr(0, 100)) +
                                         " (an image index or an image? push one with `scangate db push`)");
  std::string type = str_at(j, "artifactType");
  if (type.empty() && j.contains("config") && j["config"].is_object()) type = str_at(j["config"], "mediaType");
  if (type == "application/vnd.oci.image.config.v1+json")
    return Error(ErrorKind::kFormat, what + "it is a container image");
  if (type != kArtifactType)
    return Error(ErrorKind::kFormat,
                 what + "its artifact type is \"" + type.substr(0, 100) + "\", not " + kArtifactType);
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) return Error(ErrorKind::kFormat, what + "its manifest has no layers");
  const json* found = nullptr;
  for (const auto& l : *layers) {
    if (!l.is_object() || str_at(l, "mediaType") != kLayerMediaType) continue;
    if (found) return Error(ErrorKind::kFormat, what + "it has more than one DB layer");
    found = &l;
  }
  if (!found) return Error(ErrorKind::kFormat, what + "it has no " + kLayerMediaType + " layer");
  LayerInfo out;
  out.digest = str_at(*found, "digest");
  SG_TRY(validate_digest(out.digest));
  auto size = found->find("size");
  if (size == found->end() || !size->is_number_integer() || size->get<int64_t>() <= 0)
    return Error(ErrorKind::kFormat, what + "its DB layer has no size");
  out.size = size->get<int64_t>();
  if (auto ann = found->find("annotations"); ann != found->end() && ann->is_object()) {
    out.db_sha256 = str_at(*ann, kAnnSha256);
    out.revision = str_at(*ann, kAnnRevision);
    out.built = str_at(*ann, kAnnBuilt);
    const std::string s = str_at(*ann, kAnnSize);
    if (!s.empty()) {
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (errno != 0 || end == s.c_str() || *end != '\0')
        return Error(ErrorKind::kFormat, what + "its " + kAnnSize + " annotation is not a number");
      out.db_size = v;
    }
  }
  // Without the DB's size nothing bounds the decompression but the limit (a zstd bomb fills the
  // disk up to it), and the sha256 checks the DB end to end. `db push` writes both.
  if (out.db_size == 0) return Error(ErrorKind::kFormat, what + "its DB layer has no " + kAnnSize + " annotation");
  if (out.db_sha256.empty())
    return Error(ErrorKind::kFormat, what + "its DB layer has no " + kAnnSha256 + " annotation");
  if (out.db_size > max_db_bytes || static_cast<uint64_t>(out.size) > max_db_bytes)
    return Error(ErrorKind::kLimit, shown + " declares a DB larger than the limit of " + human_bytes(max_db_bytes));
  if (out.db_size / kMaxRatio > static_cast<uint64_t>(out.size))
    return Error(ErrorKind::kLimit, shown + " declares a DB of " + human_bytes(out.db_size) + " in a layer of " +
                                        human_bytes(static_cast<uint64_t>(out.size)) + ": more than " +
                                        std::to_string(kMaxRatio) + " times its size (a decompression bomb?)");
  return out;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_built_at(const std::string& rfc3339) {
  std::tm tm{};
  const char* end = ::strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || (*end != 'Z' && *end != '\0')) return std::nullopt;
  const time_t t = ::timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

size_t remove_stale_temps(const std::string& output, std::chrono::seconds min_age) {
  const auto slash = output.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : output.substr(0, slash));
  const std::string prefix = (slash == std::string::npos ? output : output.substr(slash + 1)) + ".tmp-";
  auto names = fs::list_dir(dir);
  if (!names.ok()) return 0;
  const time_t now = ::time(nullptr);
  size_t removed = 0;
  for (const auto& name : *names) {
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now - st.st_mtime < min_age.count()) continue;
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

Result<vulndb::DbInfo> verify_db_file(const std::string& path, const Deadline& deadline,
                                      const std::function<bool()>& cancelled) {
  auto db = vulndb::VulnDb::open(path);
  if (!db.ok()) return db.error();
  vulndb::DbInfo info = (*db)->info();
  db->reset();
  // Immutable, as the reader opens it: a file in WAL mode gets no -wal and -shm beside it (a
  // pull's temporary name would leave them behind). Defensive, and no functions from the schema.
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
      uri.push_back(static_cast<char>(c));
    } else {
      static const char* kHex = "0123456789ABCDEF";
      uri += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  uri += "?immutable=1";
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(uri.c_str(), &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    std::string msg = h ? sqlite3_errmsg(h) : "out of memory";
    sqlite3_close(h);
    return Error(ErrorKind::kFormat, "cannot open the DB " + path + ": " + msg);
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(h, &sqlite3_close);
  sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // quick_check of a large file takes a while: the deadline and a shutdown still hold.
  struct Stop {
    const Deadline& deadline;
    const std::function<bool()>& cancelled;
  } stop{deadline, cancelled};
  sqlite3_progress_handler(
      h, 100000,
      [](void* p) -> int {
        auto* s = static_cast<Stop*>(p);
        return s->deadline.expired() || (s->cancelled && s->cancelled()) ? 1 : 0;
      },
      &stop);
  auto interrupted = [&]() -> std::optional<Error> {
    if (deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed while checking the DB " + path);
    if (cancelled && cancelled()) return Error(ErrorKind::kInternal, "the check of the DB " + path + " was cancelled");
    return std::nullopt;
  };

  // Each row of rows(sql) as text columns; an error names `what`.
  auto rows = [&](const char* sql, const std::string& what) -> Result<std::vector<std::vector<std::string>>> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) != SQLITE_OK)
      return Error(ErrorKind::kFormat, "the DB " + path + " cannot be checked (" + what + "): " + sqlite3_errmsg(h));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> sg(st, &sqlite3_finalize);
    std::vector<std::vector<std::string>> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      if (auto e = interrupted()) return *e;
      return Error(ErrorKind::kFormat, "the DB " + path + " is damaged (" + what + "): " + sqlite3_errmsg(h));
    }
    return out;
  };

  // The tables the reader queries must be tables: a view (or a virtual table) of the same name
  // could answer every look-up with nothing, and a trigger has no place in a read-only DB.
  auto schema = rows("SELECT type, name, COALESCE(sql, '') FROM sqlite_master", "its schema");
  if (!schema.ok()) return schema.error();
  std::set<std::string> tables;
  for (const auto& r : *schema) {
    const std::string& type = r[0];
    const std::string& name = r[1];
    std::string sql = r[2].substr(0, 32);
    for (char& c : sql) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (type == "view" || type == "trigger")
      return Error(ErrorKind::kFormat,
                   "the DB " + path + " is not a scangate DB: it has a " + type + " (" + name.substr(0, 100) + ")");
    if (type == "table" && sql.rfind("CREATE VIRTUAL", 0) == 0)
      return Error(ErrorKind::kFormat,
                   "the DB " + path + " is not a scangate DB: " + name.substr(0, 100) + " is a virtual table");
    if (type == "table") tables.insert(name);
  }
  for (const char* t : {"meta", "advisory", "vulnerability"})
    if (!tables.count(t))
      return Error(ErrorKind::kFormat, "the DB " + path + " is not a scangate DB: it has no table " + t);

  auto check = rows("PRAGMA quick_check(1)", "quick_check");
  if (!check.ok()) return check.error();
  std::string verdict = check->empty() || check->front().empty() ? "no answer" : check->front().front();
  if (verdict != "ok") return Error(ErrorKind::kFormat, "the DB " + path + " is damaged: " + verdict.substr(0, 300));

  // A DB without a single advisory matches nothing: every image would pass the gate.
  auto any = rows("SELECT 1 FROM advisory LIMIT 1", "its advisories");
  if (!any.ok()) return any.error();
  if (any->empty())
    return Error(ErrorKind::kFormat, "the DB " + path +
                                         " has no advisories: every image would pass with it (did the feeds fail "
                                         "to download when it was built?)");
  return info;
}

Result<PushResult> push_db(const PushOptions& o) {
  auto ref = parse_reference(o.reference);
  if (!ref.ok()) return ref.error();
  if (!ref->digest.empty()) return Error(ErrorKind::kInvalidArgument, "push to a tag, not a digest: " + o.reference);
  auto info = verify_db_file(o.db);
  if (!info.ok()) return info.error().wrap("refusing to push " + o.db);

  auto tmp = temp_in_tmpdir("db-push");
  if (!tmp.ok()) return tmp.error();
  if (o.progress) o.progress("compressing " + o.db + " (revision " + info->revision.substr(0, 19) + ")");
  auto c = compress_file(o.db, *tmp, o.deadline);
  if (!c.ok()) return c.error();
  if (o.progress) o.progress("compressed " + human_bytes(c->db_size) + " to " + human_bytes(c->size));

  auto ro = registry_client_options(o.registry);
  if (!ro.ok()) return ro.error();
  RegistryPusher pusher(std::move(ro).value());
  const std::string empty = "{}";
  auto cfg = pusher.push_blob(*ref, empty, o.deadline);
  if (!cfg.ok()) return cfg.error().wrap("pushing to " + ref->name());
  uint64_t last_shown = 0;
  auto sent =
      pusher.push_blob_file(*ref, tmp->path, c->digest, c->size, o.deadline, [&](uint64_t done, uint64_t total) {
        if (!o.progress || (done - last_shown < (32u << 20) && done != total)) return;
        last_shown = done;
        o.progress("uploaded " + human_bytes(done) + " of " + human_bytes(total));
      });
  if (!sent.ok()) return sent.error().wrap("pushing to " + ref->name());
  if (!*sent && o.progress) o.progress("the registry has this DB layer already");

  json layer = {{"mediaType", kLayerMediaType},
                {"digest", c->digest},
                {"size", c->size},
                {"annotations",
                 {{"org.opencontainers.image.title", "scangate.db"},
                  {kAnnRevision, info->revision},
                  {kAnnSchema, std::to_string(info->schema_version)},
                  {kAnnBuilt, info->built_at},
                  {kAnnSize, std::to_string(c->db_size)},
                  {kAnnSha256, c->db_sha256}}}};
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"artifactType", kArtifactType},
      {"config", {{"mediaType", kEmptyConfigMediaType}, {"digest", Sha256::digest(empty)}, {"size", 2}}},
      {"layers", json::array({layer})},
      {"annotations", {{"org.opencontainers.image.created", info->built_at}, {kAnnRevision, info->revision}}}};
  const std::string tag = ref->tag.empty() ? "latest" : ref->tag;
  auto digest = pusher.put_manifest(*ref, tag, kOciManifestMediaType, manifest.dump(), o.deadline);
  if (!digest.ok()) return digest.error().wrap("pushing to " + ref->name());

  PushResult r;
  r.reference = ref->name() + ":" + tag;
  r.manifest_digest = *digest;
  r.layer_digest = c->digest;
  r.size = c->db_size;
  r.compressed_size = c->size;
  r.info = std::move(info).value();
  return r;
}

Result<PullResult> pull_db(const PullOptions& o) {
  auto ref = parse_reference(o.reference);
  if (!ref.ok()) return ref.error();
  const std::string shown = ref->normalized();
  std::shared_ptr<RegistryClient> client = o.client;
  if (!client) {
    auto c = make_registry_client(o.registry);
    if (!c.ok()) return c.error();
    client = *c;
  }
  auto m = client->get_manifest(*ref, ref->manifest_reference(), o.deadline);
  if (!m.ok()) return m.error().wrap("pulling the DB " + shown);
  PullResult out;
  out.manifest_digest = m->digest;
  if (!o.skip_if_digest.empty() && o.skip_if_digest == m->digest) return out;
  auto layer = parse_artifact(m->body, m->media_type, shown, o.max_db_bytes);
  if (!layer.ok()) return layer.error();
  if (!o.skip_if_revision.empty() && layer->revision == o.skip_if_revision) return out;
  auto older = [&](const std::string& built, const std::string& whose) -> std::optional<Error> {
    if (!o.not_built_before) return std::nullopt;
    auto t = parse_built_at(built);
    if (t && *t >= *o.not_built_before) return std::nullopt;
    return Error(ErrorKind::kIntegrity,
                 "refusing the DB of " + shown + ": " + whose + " built " +
                     (t ? "at " + built : std::string("at an unknown time")) + ", before " +
                     format_rfc3339(*o.not_built_before) +
                     ", the oldest this pull takes (the DB in use is newer, or --db-max-age is shorter)");
  };
  // The annotation spares the download of an older DB; the DB's own build time is checked below.
  if (!layer->built.empty())
    if (auto e = older(layer->built, "its manifest says it was")) return *e;
  auto stopped = [&]() -> std::optional<Error> {
    if (o.deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed while pulling the DB " + shown);
    if (o.cancelled && o.cancelled())
      return Error(ErrorKind::kInternal, "the pull of the DB " + shown + " was cancelled");
    return std::nullopt;
  };

  auto target = fs::resolve_output(o.output);
  if (!target.ok()) return target.error();
  if (target->kind == fs::OutputKind::kStream)
    return Error(ErrorKind::kInvalidArgument, "the DB must go to a file, not " + o.output);
  std::string tmpl = fs::output_temp_template(*target);
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  TempFile tmp;
  tmp.fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (tmp.fd < 0)
    return Error(ErrorKind::kIo,
                 "cannot create a temporary file beside " + target->path + ": " + fs::errno_text(errno));
  tmp.path = name.data();
  // Refused up front rather than after filling the volume the DB in use lives on.
  if (struct statvfs vfs{}; ::fstatvfs(tmp.fd, &vfs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (layer->db_size > free_bytes)
      return Error(ErrorKind::kIo, "the DB of " + shown + " takes " + human_bytes(layer->db_size) + ", but only " +
                                       human_bytes(free_bytes) + " are free beside " + target->path);
  }

  if (o.progress)
    o.progress("downloading " + shown + " (" + human_bytes(static_cast<uint64_t>(layer->size)) + ", " +
               m->digest.substr(0, 19) + ")");
  if (auto e = stopped()) return *e;
  auto blob = client->open_blob(*ref, layer->digest, layer->size, o.deadline);
  if (!blob.ok()) return blob.error().wrap("pulling the DB " + shown);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!dctx) return Error(ErrorKind::kInternal, "zstd: out of memory");
  const uint64_t limit = layer->db_size;
  Sha256 raw;
  uint64_t produced = 0;
  size_t frame_rest = 1;  // 0 once a frame ended exactly at the end of the input
  std::vector<char> ibuf(kBuf), obuf(ZSTD_DStreamOutSize());
  for (;;) {
    auto n = (*blob)->read(ibuf.data(), ibuf.size());
    if (!n.ok()) return n.error().wrap("pulling the DB " + shown);
    if (*n == 0) break;
    ZSTD_inBuffer ib{ibuf.data(), *n, 0};
    while (ib.pos < ib.size) {
      ZSTD_outBuffer ob{obuf.data(), obuf.size(), 0};
      frame_rest = ZSTD_decompressStream(dctx.get(), &ob, &ib);
      if (ZSTD_isError(frame_rest))
        return Error(ErrorKind::kFormat,
                     "the DB layer of " + shown + " is not valid zstd: " + ZSTD_getErrorName(frame_rest));
      produced += ob.pos;
      if (produced > limit)
        return Error(ErrorKind::kLimit, "the DB layer of " + shown + " inflates beyond the size its manifest declares");
      raw.update(obuf.data(), ob.pos);
      SG_TRY(write_all(tmp.fd, obuf.data(), ob.pos, tmp.path));
    }
    if (auto e = stopped()) return *e;
  }
  if (frame_rest != 0) return Error(ErrorKind::kFormat, "the DB layer of " + shown + " ends in the middle of a frame");
  const std::string got = raw.finish_digest();
  if (produced != layer->db_size)
    return Error(ErrorKind::kIntegrity, "the DB of " + shown + " has " + std::to_string(produced) +
                                            " bytes, but its manifest says " + std::to_string(layer->db_size));
  if (got != layer->db_sha256)
    return Error(ErrorKind::kIntegrity,
                 "the DB of " + shown + " is " + got + ", but its manifest says " + layer->db_sha256);
  if (::fchmod(tmp.fd, 0644) != 0 || ::fsync(tmp.fd) != 0)
    return Error(ErrorKind::kIo, "cannot write " + tmp.path + ": " + fs::errno_text(errno));
  ::close(tmp.fd);
  tmp.fd = -1;

  auto info = verify_db_file(tmp.path, o.deadline, o.cancelled);
  if (!info.ok()) return info.error().wrap("refusing the DB of " + shown);
  if (auto e = older(info->built_at, "it was")) return *e;
  if (auto e = stopped()) return *e;
  if (!layer->revision.empty() && layer->revision != info->revision)
    return Error(ErrorKind::kIntegrity, "refusing the DB of " + shown + ": its revision is " + info->revision +
                                            " but the manifest says " + layer->revision);
  if (target->kind == fs::OutputKind::kRegular) {
    // Keep the mode of the DB being replaced, and its owner when we may give it (root).
    if (::geteuid() == 0 && ::chown(tmp.path.c_str(), target->uid, target->gid) != 0)
      return Error(ErrorKind::kIo, "cannot set the owner of " + tmp.path + ": " + fs::errno_text(errno));
    if (::chmod(tmp.path.c_str(), target->mode) != 0)
      return Error(ErrorKind::kIo, "cannot set the mode of " + tmp.path + ": " + fs::errno_text(errno));
  }
  SG_TRY(fs::install_output(tmp.path, *target));
  tmp.keep = true;  // renamed away
  out.changed = true;
  info->path = o.output;
  out.info = std::move(info).value();
  return out;
}

}  // namespace scangate::dbrepo
