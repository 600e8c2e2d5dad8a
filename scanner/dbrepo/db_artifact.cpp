#include "scanner/dbrepo/db_artifact.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "scanner/core/fs_util.h"
#include "scanner/core/sha256.h"
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
  std::string digest;      // of the compressed bytes
  uint64_t size = 0;       // compressed
  std::string db_sha256;   // of the DB's bytes
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
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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
  if (t.fd < 0) return Error(ErrorKind::kIo, "cannot create a temporary file in " + tmpl + ": " + fs::errno_text(errno));
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
};

// Checks that `body` is a scangate DB artifact and returns its DB layer.
Result<LayerInfo> parse_artifact(const std::string& body, const std::string& content_type, const std::string& shown,
                                 uint64_t max_db_bytes) {
  const std::string what = shown + " is not a scangate DB artifact: ";
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorKind::kFormat, what + "its manifest is not a JSON object");
  std::string mt = str_at(j, "mediaType");
  if (mt.empty()) mt = content_type.substr(0, content_type.find(';'));
  if (mt != kOciManifestMediaType)
    return Error(ErrorKind::kFormat,
                 what + "its manifest is " + (mt.empty() ? std::string("of no media type") : "a " + mt.substr(0, 100)) +
                     " (an image index or an image? push one with `scangate db push`)");
  std::string type = str_at(j, "artifactType");
  if (type.empty() && j.contains("config") && j["config"].is_object()) type = str_at(j["config"], "mediaType");
  if (type == "application/vnd.oci.image.config.v1+json")
    return Error(ErrorKind::kFormat, what + "it is a container image");
  if (type != kArtifactType)
    return Error(ErrorKind::kFormat, what + "its artifact type is \"" + type.substr(0, 100) + "\", not " + kArtifactType);
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array())
    return Error(ErrorKind::kFormat, what + "its manifest has no layers");
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
  if (out.db_size > max_db_bytes || static_cast<uint64_t>(out.size) > max_db_bytes)
    return Error(ErrorKind::kLimit, shown + " declares a DB larger than the limit of " + human_bytes(max_db_bytes));
  return out;
}

}  // namespace

Result<vulndb::DbInfo> verify_db_file(const std::string& path) {
  auto db = vulndb::VulnDb::open(path);
  if (!db.ok()) return db.error();
  vulndb::DbInfo info = (*db)->info();
  db->reset();
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string msg = h ? sqlite3_errmsg(h) : "out of memory";
    sqlite3_close(h);
    return Error(ErrorKind::kFormat, "cannot open the DB " + path + ": " + msg);
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(h, &sqlite3_close);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, nullptr) != SQLITE_OK)
    return Error(ErrorKind::kFormat, "the DB " + path + " cannot be checked: " + sqlite3_errmsg(h));
  std::string verdict;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    verdict = t ? reinterpret_cast<const char*>(t) : "";
  } else {
    verdict = sqlite3_errmsg(h);
  }
  sqlite3_finalize(st);
  if (verdict != "ok") return Error(ErrorKind::kFormat, "the DB " + path + " is damaged: " + verdict.substr(0, 300));
  return info;
}

Result<PushResult> push_db(const PushOptions& o) {
  auto ref = parse_reference(o.reference);
  if (!ref.ok()) return ref.error();
  if (!ref->digest.empty())
    return Error(ErrorKind::kInvalidArgument, "push to a tag, not a digest: " + o.reference);
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
  auto sent = pusher.push_blob_file(*ref, tmp->path, c->digest, c->size, o.deadline,
                                    [&](uint64_t done, uint64_t total) {
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
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifestMediaType},
                   {"artifactType", kArtifactType},
                   {"config", {{"mediaType", kEmptyConfigMediaType}, {"digest", Sha256::digest(empty)}, {"size", 2}}},
                   {"layers", json::array({layer})},
                   {"annotations",
                    {{"org.opencontainers.image.created", info->built_at}, {kAnnRevision, info->revision}}}};
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

  auto target = fs::resolve_output(o.output);
  if (!target.ok()) return target.error();
  if (target->kind == fs::OutputKind::kStream)
    return Error(ErrorKind::kInvalidArgument, "the DB must go to a file, not " + o.output);
  std::string tmpl = fs::output_temp_template(*target);
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  TempFile tmp;
  tmp.fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (tmp.fd < 0) return Error(ErrorKind::kIo, "cannot create a temporary file beside " + target->path + ": " +
                                                   fs::errno_text(errno));
  tmp.path = name.data();

  if (o.progress)
    o.progress("downloading " + shown + " (" + human_bytes(static_cast<uint64_t>(layer->size)) + ", " +
               m->digest.substr(0, 19) + ")");
  auto blob = client->open_blob(*ref, layer->digest, layer->size, o.deadline);
  if (!blob.ok()) return blob.error().wrap("pulling the DB " + shown);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!dctx) return Error(ErrorKind::kInternal, "zstd: out of memory");
  const uint64_t limit = layer->db_size > 0 ? layer->db_size : o.max_db_bytes;
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
        return Error(ErrorKind::kLimit, "the DB layer of " + shown + " inflates beyond " +
                                            (layer->db_size > 0 ? "the size its manifest declares"
                                                                : "the limit of " + human_bytes(o.max_db_bytes)));
      raw.update(obuf.data(), ob.pos);
      SG_TRY(write_all(tmp.fd, obuf.data(), ob.pos, tmp.path));
    }
    if (o.deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed while pulling the DB " + shown);
  }
  if (frame_rest != 0) return Error(ErrorKind::kFormat, "the DB layer of " + shown + " ends in the middle of a frame");
  const std::string got = raw.finish_digest();
  if (layer->db_size > 0 && produced != layer->db_size)
    return Error(ErrorKind::kIntegrity, "the DB of " + shown + " has " + std::to_string(produced) +
                                            " bytes, but its manifest says " + std::to_string(layer->db_size));
  if (!layer->db_sha256.empty() && got != layer->db_sha256)
    return Error(ErrorKind::kIntegrity,
                 "the DB of " + shown + " is " + got + ", but its manifest says " + layer->db_sha256);
  if (::fchmod(tmp.fd, 0644) != 0 || ::fsync(tmp.fd) != 0)
    return Error(ErrorKind::kIo, "cannot write " + tmp.path + ": " + fs::errno_text(errno));
  ::close(tmp.fd);
  tmp.fd = -1;

  auto info = verify_db_file(tmp.path);
  if (!info.ok()) return info.error().wrap("refusing the DB of " + shown);
  if (!layer->revision.empty() && layer->revision != info->revision)
    return Error(ErrorKind::kIntegrity, "refusing the DB of " + shown + ": its revision is " + info->revision +
                                            " but the manifest says " + layer->revision);
  if (target->kind == fs::OutputKind::kRegular) {
    // Keep the mode of the DB being replaced.
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
