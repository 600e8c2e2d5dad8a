#include "scanner/image/registry_client.h"

#include <algorithm>
#include <cctype>

#include "scanner/image/digest.h"
#include "scanner/image/manifest.h"
#include "scanner/image/producer_stream.h"
#include "scanner/image/registry_transport.h"

namespace scangate {
namespace {

bool looks_like_digest(std::string_view s) { return s.find(':') != std::string_view::npos; }

// A query parameter value, percent-encoded (RFC 3986 unreserved characters kept).
std::string url_escape_query(std::string_view v) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The OCI Distribution API (manifests, digests, blobs) over the RegistryTransport.
class HttpRegistryClient final : public RegistryClient, public std::enable_shared_from_this<HttpRegistryClient> {
 public:
  explicit HttpRegistryClient(RegistryClientOptions o) : opts_(std::move(o)), transport_(opts_) {
    for (const auto& w : opts_.credentials.warnings) warn(w);
  }

  Result<ManifestResponse> get_manifest(const Reference& repo, const std::string& ref,
                                        const Deadline& deadline) override {
    std::string shown = repo.name() + (looks_like_digest(ref) ? "@" : ":") + ref;
    if (looks_like_digest(ref)) SG_TRY(validate_digest(ref));
    RegistryRequest rq;
    rq.path = "/v2/" + repo.repository + "/manifests/" + ref;
    rq.headers.emplace_back("Accept", manifest_accept_header());
    rq.max_body = opts_.max_manifest_bytes;
    rq.what = "manifest " + shown;
    auto r = transport_.request(repo, rq, deadline);
    if (!r.ok()) return r.error();
    if (r->truncated)
      return Error(ErrorKind::kLimit,
                   "manifest " + shown + " is larger than " + std::to_string(opts_.max_manifest_bytes) + " bytes");
    if (r->status == 404)
      return Error(ErrorKind::kNotFound,
                   with_registry_detail("image " + shown + " not found in " + repo.registry, r->body) +
                       "; check the repository name and tag");
    if (r->status != 200)
      return Error(ErrorKind::kNetwork, with_registry_detail("registry " + repo.registry + " returned HTTP " +
                                                                 std::to_string(r->status) + " for manifest " + shown,
                                                             r->body));
    ManifestResponse out;
    out.body = std::move(r->body);
    out.media_type = r->header("Content-Type");
    out.digest = sha256_digest(out.body);
    std::string claimed = r->header("Docker-Content-Digest");
    if (!claimed.empty() && validate_digest(claimed).ok()) {
      auto got = compute_digest_like(claimed, out.body);
      if (got.ok() && *got != claimed)
        return Error(ErrorKind::kIntegrity, "manifest " + shown + " digest mismatch: the registry says " + claimed +
                                                " but the content is " + *got);
    }
    if (looks_like_digest(ref)) {
      auto got = compute_digest_like(ref, out.body);
      if (!got.ok()) return got.error();
      if (*got != ref) return Error(ErrorKind::kIntegrity, "manifest " + shown + " digest mismatch (got " + *got + ")");
      out.digest = ref;
    }
    return out;
  }

  Result<std::string> resolve_digest(const Reference& ref, const Deadline& deadline) override {
    if (!ref.digest.empty()) return ref.digest;
    std::string tag = ref.effective_tag();
    RegistryRequest rq;
    rq.method = "HEAD";
    rq.path = "/v2/" + ref.repository + "/manifests/" + tag;
    rq.headers.emplace_back("Accept", manifest_accept_header());
    rq.what = "manifest " + ref.normalized();
    auto r = transport_.request(ref, rq, deadline);
    if (!r.ok()) return r.error();
    if (r->status == 404)
      return Error(ErrorKind::kNotFound, "image " + ref.normalized() + " not found in " + ref.registry +
                                             "; check the repository name and tag");
    if (r->status == 200) {
      std::string d = r->header("Docker-Content-Digest");
      if (!d.empty() && validate_digest(d).ok()) return d;
    }
    // No usable HEAD answer: fetch the manifest and hash it.
    auto m = get_manifest(ref, tag, deadline);
    if (!m.ok()) return m.error();
    return m->digest;
  }

  Result<std::optional<std::string>> get_referrers(const Reference& repo, const std::string& digest,
                                                   const std::string& artifact_type,
                                                   const Deadline& deadline) override {
    SG_TRY(validate_digest(digest));
    RegistryRequest rq;
    rq.path = "/v2/" + repo.repository + "/referrers/" + digest;
    if (!artifact_type.empty()) rq.path += "?artifactType=" + url_escape_query(artifact_type);
    rq.headers.emplace_back("Accept", "application/vnd.oci.image.index.v1+json");
    rq.max_body = opts_.max_manifest_bytes;
    rq.what = "referrers of " + repo.name() + "@" + digest;
    auto r = transport_.request(repo, rq, deadline);
    if (!r.ok()) return r.error();
    if (r->status == 404) return std::optional<std::string>();  // no referrers API
    if (r->truncated)
      return Error(ErrorKind::kLimit, "the referrers of " + repo.name() + "@" + digest + " are larger than " +
                                          std::to_string(opts_.max_manifest_bytes) + " bytes");
    if (r->status != 200)
      return Error(ErrorKind::kNetwork,
                   with_registry_detail("registry " + repo.registry + " returned HTTP " + std::to_string(r->status) +
                                            " for the referrers of " + repo.name() + "@" + digest,
                                        r->body));
    return std::optional<std::string>(std::move(r->body));
  }

  Result<std::string> get_blob(const Reference& repo, const std::string& digest, size_t max_bytes,
                               const Deadline& deadline) override {
    auto v = DigestVerifier::create(digest, -1, "blob " + digest);
    if (!v.ok()) return v.error();
    RegistryRequest rq;
    rq.path = "/v2/" + repo.repository + "/blobs/" + digest;
    rq.max_body = max_bytes;
    rq.what = "blob " + digest;
    auto r = transport_.request(repo, rq, deadline);
    if (!r.ok()) return r.error();
    if (r->truncated)
      return Error(ErrorKind::kLimit,
                   "blob " + digest + " of " + repo.name() + " is larger than " + std::to_string(max_bytes) + " bytes");
    if (r->status == 404)
      return Error(ErrorKind::kNotFound,
                   with_registry_detail("blob " + digest + " not found in " + repo.name(), r->body));
    if (r->status != 200)
      return Error(ErrorKind::kNetwork, with_registry_detail("registry " + repo.registry + " returned HTTP " +
                                                                 std::to_string(r->status) + " for blob " + digest,
                                                             r->body));
    SG_TRY(v->update(r->body.data(), r->body.size()));
    SG_TRY(v->finish());
    return std::move(r->body);
  }

  Result<std::unique_ptr<BlobStream>> open_blob(const Reference& repo, const std::string& digest, int64_t size,
                                                const Deadline& deadline) override {
    SG_TRY(validate_digest(digest));
    auto self = shared_from_this();
    Producer produce = [self, repo, digest, deadline](ProducerSink& sink) -> Result<void> {
      // Destroying the stream interrupts the transfer; the hook is removed before `cancel` goes.
      net::Cancellation cancel;
      sink.set_interrupt([&cancel] { cancel.cancel(); });
      struct Unhook {
        ProducerSink& s;
        ~Unhook() { s.set_interrupt(nullptr); }
      } unhook{sink};
      if (sink.cancelled()) return Error(ErrorKind::kInternal, "download cancelled");

      uint64_t delivered = 0, skip = 0;
      RegistryRequest rq;
      rq.path = "/v2/" + repo.repository + "/blobs/" + digest;
      rq.what = "blob " + digest;
      rq.cancel = &cancel;
      rq.max_body = 64u << 10;  // error bodies
      // A retried request starts from byte 0 again: drop what was already delivered.
      rq.on_success = [&](int) {
        skip = delivered;
        sink.started();
      };
      rq.sink = [&](const char* d, size_t n) {
        if (skip > 0) {
          size_t k = static_cast<size_t>(std::min<uint64_t>(skip, n));
          skip -= k;
          d += k;
          n -= k;
          if (n == 0) return true;
        }
        if (!sink.write(d, n)) return false;
        delivered += n;
        return true;
      };
      auto r = self->transport_.request(repo, rq, deadline);
      if (!r.ok()) {
        if (sink.cancelled()) return Error(ErrorKind::kInternal, "download cancelled");
        return r.error();
      }
      if (r->status == 404)
        return Error(ErrorKind::kNotFound,
                     with_registry_detail("blob " + digest + " not found in " + repo.name(), r->body));
      if (r->status < 200 || r->status >= 300)
        return Error(ErrorKind::kNetwork, with_registry_detail("registry " + repo.registry + " returned HTTP " +
                                                                   std::to_string(r->status) + " for blob " + digest,
                                                               r->body));
      return Ok();
    };
    auto s = start_producer_stream(std::move(produce), opts_.max_buffered_blob_bytes);
    if (!s.ok()) return s.error();
    return make_verified_stream(std::move(s).value(), digest, size);
  }

 private:
  void warn(const std::string& msg) const {
    if (opts_.warn) opts_.warn(msg);
  }

  RegistryClientOptions opts_;
  RegistryTransport transport_;
};

}  // namespace

std::shared_ptr<RegistryClient> make_http_registry_client(RegistryClientOptions options) {
  return std::make_shared<HttpRegistryClient>(std::move(options));
}

}  // namespace scangate
