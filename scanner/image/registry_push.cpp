#include "scanner/image/registry_push.h"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "scanner/core/fs_util.h"
#include "scanner/core/sha256.h"
#include "scanner/image/digest.h"
#include "scanner/image/registry_auth.h"
#include "scanner/image/registry_transport.h"

namespace scangate {
namespace {

// Points `rq` at an upload session's Location: a path on the registry, or an absolute URL.
Result<void> at_location(RegistryRequest& rq, const std::string& location, const std::string& registry) {
  if (location.empty())
    return Error(ErrorKind::kFormat, "registry " + registry + " opened an upload without a Location header");
  if (location.size() > 8192) return Error(ErrorKind::kFormat, "registry " + registry + " sent an overlong Location");
  if (location[0] == '/') {
    rq.path = location;
    rq.url.clear();
  } else if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
    rq.url = location;
  } else {
    return Error(ErrorKind::kFormat, "registry " + registry + " sent an unusable upload Location");
  }
  return Ok();
}

std::string with_query(const std::string& target, const std::string& kv) {
  return target + (target.find('?') == std::string::npos ? "?" : "&") + kv;
}

Error unexpected(const std::string& registry, const net::Response& r, const std::string& what) {
  return Error(r.status == 404 ? ErrorKind::kNotFound : ErrorKind::kNetwork,
               with_registry_detail(
                   "registry " + registry + " answered HTTP " + std::to_string(r.status) + " to " + what, r.body));
}

}  // namespace

RegistryPusher::RegistryPusher(RegistryClientOptions options)
    : transport_(std::make_unique<RegistryTransport>(options)) {}

RegistryPusher::~RegistryPusher() = default;

Result<bool> RegistryPusher::has_blob(const Reference& repo, const std::string& digest, const Deadline& deadline) {
  RegistryRequest rq;
  rq.method = "HEAD";
  rq.path = "/v2/" + repo.repository + "/blobs/" + digest;
  rq.push = true;
  rq.what = "blob " + digest;
  auto r = transport_->request(repo, rq, deadline);
  if (!r.ok()) return r.error();
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  return unexpected(repo.registry, *r, "HEAD of blob " + digest);
}

Result<void> RegistryPusher::upload(const Reference& repo, const std::string& digest, uint64_t size,
                                    const ChunkReader& read, const Deadline& deadline, const Progress& progress) {
  RegistryRequest start;
  start.method = "POST";
  start.path = "/v2/" + repo.repository + "/blobs/uploads/";
  start.push = true;
  start.what = "upload of " + digest;
  auto r = transport_->request(repo, start, deadline);
  if (!r.ok()) return r.error();
  if (r->status != 202) return unexpected(repo.registry, *r, "the start of an upload to " + repo.name());
  std::string location = r->header("Location");

  uint64_t sent = 0;
  while (sent < size) {
    auto chunk = read(sent, chunk_size);
    if (!chunk.ok()) return chunk.error();
    if (chunk->empty()) return Error(ErrorKind::kIo, "the blob " + digest + " ended before its size");
    RegistryRequest patch;
    patch.method = "PATCH";
    SG_TRY(at_location(patch, location, repo.registry));
    patch.push = true;
    patch.no_retry = true;  // a chunk sent twice would corrupt the upload
    patch.content_type = "application/octet-stream";
    patch.headers.emplace_back("Content-Range", std::to_string(sent) + "-" + std::to_string(sent + chunk->size() - 1));
    patch.body = std::move(*chunk);
    patch.what = "upload of " + digest;
    const uint64_t n = patch.body.size();
    auto p = transport_->request(repo, patch, deadline);
    if (!p.ok()) return p.error().wrap("uploading " + digest + " to " + repo.name());
    if (p->status != 202 && p->status != 204)
      return unexpected(repo.registry, *p, "a chunk of " + digest + " at offset " + std::to_string(sent));
    if (std::string next = p->header("Location"); !next.empty()) location = next;
    sent += n;
    if (progress) progress(sent, size);
  }

  RegistryRequest finish;
  finish.method = "PUT";
  SG_TRY(at_location(finish, location, repo.registry));
  if (finish.url.empty())
    finish.path = with_query(finish.path, "digest=" + digest);
  else
    finish.url = with_query(finish.url, "digest=" + digest);
  finish.push = true;
  finish.no_retry = true;
  finish.content_type = "application/octet-stream";
  finish.what = "upload of " + digest;
  auto f = transport_->request(repo, finish, deadline);
  if (!f.ok()) return f.error().wrap("closing the upload of " + digest + " to " + repo.name());
  if (f->status != 201 && f->status != 204)
    return unexpected(repo.registry, *f, "the end of the upload of " + digest + " (the registry checks the digest)");
  return Ok();
}

Result<bool> RegistryPusher::push_blob_file(const Reference& repo, const std::string& path, const std::string& digest,
                                            uint64_t size, const Deadline& deadline, const Progress& progress) {
  SG_TRY(validate_digest(digest));
  auto have = has_blob(repo, digest, deadline);
  if (!have.ok()) return have.error();
  if (*have) {
    if (progress) progress(size, size);
    return false;
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Error(ErrorKind::kIo, "cannot open " + path + ": " + fs::errno_text(errno));
  ChunkReader read = [&](uint64_t offset, size_t max) -> Result<std::string> {
    (void)offset;  // read in order
    std::string buf(max, '\0');
    size_t n = std::fread(buf.data(), 1, max, f.get());
    if (n == 0 && std::ferror(f.get())) return Error(ErrorKind::kIo, "cannot read " + path);
    buf.resize(n);
    return buf;
  };
  SG_TRY(upload(repo, digest, size, read, deadline, progress));
  return true;
}

Result<bool> RegistryPusher::push_blob(const Reference& repo, const std::string& bytes, const Deadline& deadline) {
  const std::string digest = Sha256::digest(bytes);
  auto have = has_blob(repo, digest, deadline);
  if (!have.ok()) return have.error();
  if (*have) return false;
  ChunkReader read = [&](uint64_t offset, size_t max) -> Result<std::string> {
    return bytes.substr(static_cast<size_t>(offset), max);
  };
  if (bytes.empty()) {
    // A zero-length blob: open the session and close it with the digest.
    read = [](uint64_t, size_t) -> Result<std::string> { return std::string(); };
  }
  SG_TRY(upload(repo, digest, bytes.size(), read, deadline, {}));
  return true;
}

Result<std::string> RegistryPusher::put_manifest(const Reference& repo, const std::string& tag,
                                                 const std::string& media_type, const std::string& body,
                                                 const Deadline& deadline) {
  RegistryRequest rq;
  rq.method = "PUT";
  rq.path = "/v2/" + repo.repository + "/manifests/" + tag;
  rq.push = true;
  rq.content_type = media_type;
  rq.body = body;
  rq.what = "manifest " + repo.name() + ":" + tag;
  auto r = transport_->request(repo, rq, deadline);
  if (!r.ok()) return r.error();
  if (r->status != 201 && r->status != 200)
    return unexpected(repo.registry, *r, "the manifest " + repo.name() + ":" + tag);
  const std::string digest = Sha256::digest(body);
  if (std::string claimed = r->header("Docker-Content-Digest"); !claimed.empty() && claimed != digest)
    return Error(ErrorKind::kIntegrity,
                 "registry " + repo.registry + " stored the manifest as " + claimed + " but its content is " + digest);
  return digest;
}

}  // namespace scangate
