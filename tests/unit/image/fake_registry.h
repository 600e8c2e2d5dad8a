// A tiny OCI Distribution registry on 127.0.0.1 (httplib::Server, port 0) for the
// registry-client tests: anonymous / bearer / basic auth, a token endpoint, blob
// redirects to a second "storage" server (on 127.0.0.1 or another loopback address), and
// switches for failures (503s, corrupt blobs, dropped connections). It records which TCP
// connections carried the requests.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace scangate::test {

inline std::string sha256_of(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

inline std::string b64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class FakeRegistry {
 public:
  enum class Auth { kNone, kBearer, kBasic };

  explicit FakeRegistry(std::string storage_address = "127.0.0.1") : storage_address_(std::move(storage_address)) {
    routes();
    svr_.set_keep_alive_max_count(1000);
    svr_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard<std::mutex> l(mu_);
      connections_.insert(req.remote_addr + ":" + std::to_string(req.remote_port));
      return httplib::Server::HandlerResponse::Unhandled;
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    storage_port_ = storage_.bind_to_any_port(storage_address_);
    th_ = std::thread([this] { svr_.listen_after_bind(); });
    sth_ = std::thread([this] { storage_.listen_after_bind(); });
    while (!svr_.is_running() || !storage_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeRegistry() {
    svr_.stop();
    storage_.stop();
    th_.join();
    sth_.join();
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // TCP connections the registry (not the storage server) was asked over.
  size_t connections() {
    std::lock_guard<std::mutex> l(mu_);
    return connections_.size();
  }

  void add_manifest(const std::string& repo, const std::string& ref, const std::string& media_type,
                    const std::string& body) {
    std::lock_guard<std::mutex> l(mu_);
    manifests_[repo + "|" + ref] = {media_type, body};
  }
  void add_blob(const std::string& digest, const std::string& bytes) {
    std::lock_guard<std::mutex> l(mu_);
    blobs_[digest] = bytes;
  }

  // Configuration (set before requests are made).
  Auth auth = Auth::kNone;
  std::string user = "alice", password = "s3cret";
  bool token_requires_credentials = false;
  std::set<std::string> corrupt_blobs;   // served with one byte flipped
  std::set<std::string> redirect_blobs;  // served by the storage server through a 307
  std::set<std::string> flaky_blobs;     // first request drops the connection half-way
  std::atomic<int> manifest_503s{0};     // answer this many manifest requests with 503 first

  // Observations.
  std::atomic<int> token_requests{0};
  std::atomic<int> manifest_requests{0};
  std::atomic<int> blob_requests{0};
  std::atomic<bool> token_saw_basic{false};
  std::atomic<bool> storage_saw_authorization{false};
  std::atomic<bool> storage_saw_cookie{false};
  std::atomic<int> storage_requests{0};

 private:
  bool authorized(const httplib::Request& req, const std::string& repo, httplib::Response& res) {
    std::string got = req.get_header_value("Authorization");
    if (auth == Auth::kNone) return true;
    if (auth == Auth::kBasic) {
      if (got == "Basic " + b64(user + ":" + password)) return true;
      res.status = 401;
      res.set_header("WWW-Authenticate", R"(Basic realm="Registry Realm")");
      res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                      "application/json");
      return false;
    }
    if (got == "Bearer tok-repository:" + repo + ":pull") return true;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"http://" + host() +
                                           "/token\",service=\"fake-registry\",scope=\"repository:" + repo + ":pull\"");
    res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})", "application/json");
    return false;
  }

  void routes() {
    svr_.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++token_requests;
      std::string a = req.get_header_value("Authorization");
      if (!a.empty()) token_saw_basic = true;
      bool creds_ok = a == "Basic " + b64(user + ":" + password);
      if ((token_requires_credentials || !a.empty()) && !creds_ok) {
        res.status = 401;
        res.set_content(R"({"details":"incorrect username or password"})", "application/json");
        return;
      }
      if (req.get_param_value("service") != "fake-registry") {
        res.status = 400;
        return;
      }
      res.set_content("{\"token\":\"tok-" + req.get_param_value("scope") + "\",\"expires_in\":300}",
                      "application/json");
    });
    svr_.Get(R"(/v2/(.+)/manifests/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++manifest_requests;
      std::string repo = req.matches[1], ref = req.matches[2];
      if (!authorized(req, repo, res)) return;
      if (manifest_503s > 0) {
        --manifest_503s;
        res.status = 503;
        res.set_header("Retry-After", "1");
        return;
      }
      std::lock_guard<std::mutex> l(mu_);
      auto it = manifests_.find(repo + "|" + ref);
      if (it == manifests_.end()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":")" +
                            ref + R"("}}]})",
                        "application/json");
        return;
      }
      res.set_header("Docker-Content-Digest", sha256_of(it->second.second));
      res.set_content(it->second.second, it->second.first);
    });
    svr_.Get(R"(/v2/(.+)/blobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++blob_requests;
      std::string repo = req.matches[1], digest = req.matches[2];
      if (!authorized(req, repo, res)) return;
      std::string bytes;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = blobs_.find(digest);
        if (it == blobs_.end()) {
          res.status = 404;
          res.set_content(R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]})",
                          "application/json");
          return;
        }
        bytes = it->second;
      }
      if (redirect_blobs.count(digest)) {
        res.status = 307;
        res.set_header("Location", "http://" + storage_address_ + ":" + std::to_string(storage_port_) + "/storage/" +
                                       digest + "?sig=x");
        return;
      }
      if (corrupt_blobs.count(digest)) bytes[bytes.size() / 2] ^= 0x01;
      bool drop = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (flaky_blobs.count(digest) && !dropped_.count(digest)) {
          dropped_.insert(digest);
          drop = true;
        }
      }
      auto shared = std::make_shared<std::string>(std::move(bytes));
      res.set_content_provider(shared->size(), "application/octet-stream",
                               [shared, drop](size_t offset, size_t length, httplib::DataSink& sink) {
                                 if (drop && offset >= shared->size() / 2) return false;  // drop the connection
                                 size_t n = std::min<size_t>(length, 16384);
                                 if (drop) n = std::min(n, shared->size() / 2 - offset + 1);
                                 sink.write(shared->data() + offset, n);
                                 return true;
                               });
    });
    storage_.Get(R"(/storage/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++storage_requests;
      if (req.has_header("Authorization")) storage_saw_authorization = true;
      if (req.has_header("Cookie")) storage_saw_cookie = true;
      std::lock_guard<std::mutex> l(mu_);
      auto it = blobs_.find(req.matches[1]);
      if (it == blobs_.end() || req.get_param_value("sig") != "x") {
        res.status = 403;
        return;
      }
      res.set_content(it->second, "application/octet-stream");
    });
  }

  std::string storage_address_;
  httplib::Server svr_, storage_;
  int port_ = 0, storage_port_ = 0;
  std::set<std::string> connections_;
  std::thread th_, sth_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> manifests_;
  std::map<std::string, std::string> blobs_;
  std::set<std::string> dropped_;
};

}  // namespace scangate::test
