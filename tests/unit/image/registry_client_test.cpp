// The registry client against a fake registry on loopback. The image is built from the
// real Alpine 3.20.3 minirootfs; its expected digests were computed with coreutils:
//   sha256sum alpine-minirootfs-3.20.3-x86_64.tar.gz             -> d4e6fd67...
//   gunzip -c alpine-minirootfs-3.20.3-x86_64.tar.gz | sha256sum -> 1bccf10a...
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "fake_registry.h"
#include "scanner/image/manifest.h"
#include "scanner/image/open_source.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_client.h"
#include "support/test_support.h"
#include "unit/net/net_test_util.h"

using namespace scangate;
using scangate::test::FakeRegistry;
using scangate::test::sha256_of;
using std::chrono::milliseconds;

namespace {

const std::string kLayerDigest = "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c";
const std::string kDiffId = "sha256:1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419";

struct Sleeps {
  std::mutex mu;
  std::vector<milliseconds> v;
  Sleeper sleeper() {
    return [this](milliseconds d) {
      std::lock_guard<std::mutex> l(mu);
      v.push_back(d);
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return v.size();
  }
};

struct Image {
  std::string layer, config_amd64, config_arm64, manifest_amd64, manifest_arm64, index;
};

std::string config_json(const std::string& arch, const std::string& variant) {
  return R"({"architecture":")" + arch + "\"" + (variant.empty() ? "" : R"(,"variant":")" + variant + "\"") +
         R"(,"config":{"Cmd":["/bin/sh"]},"created":"2024-09-06T12:05:36Z","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
         kDiffId + R"("]}})";
}

std::string manifest_json(const std::string& config, const std::string& layer) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         sha256_of(config) + R"(","size":)" + std::to_string(config.size()) +
         R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + sha256_of(layer) +
         R"(","size":)" + std::to_string(layer.size()) + "}]}";
}

Image build_image(FakeRegistry& reg, const std::string& repo = "team/app") {
  Image img;
  img.layer = test::read_file(test::testdata("rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz"));
  img.config_amd64 = config_json("amd64", "");
  img.config_arm64 = config_json("arm64", "v8");
  img.manifest_amd64 = manifest_json(img.config_amd64, img.layer);
  img.manifest_arm64 = manifest_json(img.config_arm64, img.layer);
  img.index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
              R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
              sha256_of(img.manifest_amd64) + R"(","size":)" + std::to_string(img.manifest_amd64.size()) +
              R"(,"platform":{"architecture":"amd64","os":"linux"}},)"
              R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
              sha256_of(img.manifest_arm64) + R"(","size":)" + std::to_string(img.manifest_arm64.size()) +
              R"(,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]})";
  const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";
  reg.add_manifest(repo, "1.0", oci_manifest, img.manifest_amd64);
  reg.add_manifest(repo, sha256_of(img.manifest_amd64), oci_manifest, img.manifest_amd64);
  reg.add_manifest(repo, sha256_of(img.manifest_arm64), oci_manifest, img.manifest_arm64);
  reg.add_manifest(repo, "multi", "application/vnd.oci.image.index.v1+json", img.index);
  reg.add_blob(sha256_of(img.layer), img.layer);
  reg.add_blob(sha256_of(img.config_amd64), img.config_amd64);
  reg.add_blob(sha256_of(img.config_arm64), img.config_arm64);
  return img;
}

SourceOptions options(FakeRegistry& reg, const std::string& ref, Sleeps* sleeps = nullptr) {
  SourceOptions o;
  o.reference = reg.host() + "/" + ref;
  o.credential_sources = CredentialSources{"", "", ""};  // no config.json from the machine
  o.retry.max_attempts = 3;
  if (sleeps)
    o.sleeper = sleeps->sleeper();
  else
    o.sleeper = [](milliseconds) {};
  o.connect_timeout = milliseconds(5000);
  o.read_timeout = milliseconds(10000);
  return o;
}

RegistryClientOptions client_options(Sleeps* sleeps = nullptr) {
  RegistryClientOptions o;
  o.retry.max_attempts = 3;
  o.sleeper = sleeps ? sleeps->sleeper() : Sleeper([](milliseconds) {});
  o.connect_timeout = milliseconds(5000);
  o.read_timeout = milliseconds(10000);
  return o;
}

Result<std::string> read_all(BlobStream& s) {
  std::string out;
  std::vector<char> buf(100000);
  while (true) {
    auto r = s.read(buf.data(), buf.size());
    if (!r.ok()) return r.error();
    if (*r == 0) return out;
    out.append(buf.data(), *r);
  }
}

}  // namespace

TEST_CASE("loopback registry: anonymous pull of a real Alpine layer", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  auto src = open_image_source(options(reg, "team/app:1.0"));
  REQUIRE(src.ok());
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  const ImageMetadata& m = resolved->meta;
  CHECK(m.reference == reg.host() + "/team/app:1.0");
  CHECK(m.normalized == reg.host() + "/team/app:1.0");
  CHECK(m.manifest_digest == sha256_of(img.manifest_amd64));
  CHECK(m.repo_digest == reg.host() + "/team/app@" + sha256_of(img.manifest_amd64));
  CHECK(m.config_digest == sha256_of(img.config_amd64));
  CHECK(m.repo_tags == std::vector<std::string>{reg.host() + "/team/app:1.0"});
  CHECK(m.diff_ids == std::vector<std::string>{kDiffId});
  CHECK(m.layer_digests == std::vector<std::string>{kLayerDigest});
  CHECK(m.os == "linux");
  CHECK(m.architecture == "amd64");
  CHECK(m.created == "2024-09-06T12:05:36Z");
  CHECK(m.config_json == img.config_amd64);
  REQUIRE(resolved->layers.size() == 1);
  CHECK(resolved->layers[0].digest == kLayerDigest);
  CHECK(resolved->layers[0].diff_id == kDiffId);
  CHECK(resolved->layers[0].size == 3490290);

  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE(bytes.ok());
  CHECK(bytes->size() == 3490290);
  CHECK(*bytes == img.layer);
}

TEST_CASE("loopback registry: small stream buffer, streamed without holding the blob", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  auto opts = client_options();
  opts.max_buffered_blob_bytes = 4096;
  auto client = make_http_registry_client(opts);
  auto ref = parse_reference(reg.host() + "/team/app:1.0");
  auto blob = client->open_blob(*ref, kLayerDigest, 3490290);
  REQUIRE(blob.ok());
  std::string out;
  char buf[777];
  bool ok = true;
  while (true) {
    auto r = (*blob)->read(buf, sizeof buf);
    if (!r.ok()) {
      ok = false;
      break;
    }
    if (*r == 0) break;
    out.append(buf, *r);
  }
  CHECK(ok);
  CHECK(out == img.layer);
}

TEST_CASE("loopback registry: bearer token flow with a cached token", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearer;
  Image img = build_image(reg);
  auto src = open_image_source(options(reg, "team/app:1.0"));
  REQUIRE(src.ok());
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);
  CHECK(reg.token_requests == 1);    // manifest, config and layer share one token
  CHECK_FALSE(reg.token_saw_basic);  // anonymous
}

TEST_CASE("loopback registry: bearer token with credentials, wrong password is a clear kAuth", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearer;
  reg.token_requires_credentials = true;
  build_image(reg);

  auto good = options(reg, "team/app:1.0");
  good.credential = Credential{"alice", "s3cret", ""};
  auto src = open_image_source(good);
  REQUIRE(src.ok());
  REQUIRE((*src)->resolve().ok());
  CHECK(reg.token_saw_basic);

  auto bad = options(reg, "team/app:1.0");
  bad.credential = Credential{"alice", "wrong", ""};
  auto src2 = open_image_source(bad);
  REQUIRE(src2.ok());
  auto r = (*src2)->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kAuth);
  CHECK(r.error().message.find("authentication to " + reg.host() + " failed") != std::string::npos);
  CHECK(r.error().message.find("alice") != std::string::npos);
  CHECK(r.error().message.find("--username/--password-stdin or the registry config") != std::string::npos);
  CHECK(r.error().message.find("wrong") == std::string::npos);  // never print secrets

  auto anon = options(reg, "team/app:1.0");
  auto r3 = (*open_image_source(anon))->resolve();
  REQUIRE_FALSE(r3.ok());
  CHECK(r3.error().kind == ErrorKind::kAuth);
  CHECK(r3.error().message.find("anonymous") != std::string::npos);
}

TEST_CASE("loopback registry: credentials from a config.json", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBasic;
  build_image(reg);
  std::string dir = test::make_temp_dir("sg-regcfg");
  {
    std::ofstream(dir + "/config.json") << R"({"auths":{")" << reg.host() << R"(":{"auth":")"
                                        << test::b64("alice:s3cret") << R"("}}})";
  }
  auto o = options(reg, "team/app:1.0");
  o.credential_sources = CredentialSources{dir + "/config.json", "", ""};
  auto src = open_image_source(o);
  REQUIRE(src.ok());
  CHECK((*src)->resolve().ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("loopback registry: basic auth accepted and rejected", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBasic;
  Image img = build_image(reg);

  auto good = options(reg, "team/app:1.0");
  good.credential = Credential{"alice", "s3cret", ""};
  auto src = open_image_source(good);
  REQUIRE(src.ok());
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto bytes = read_all(**(*src)->open_layer(resolved->layers[0]));
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);

  auto bad = options(reg, "team/app:1.0");
  bad.credential = Credential{"alice", "nope", ""};
  auto r = (*open_image_source(bad))->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kAuth);
  CHECK(r.error().message.find("authentication to " + reg.host() +
                               " failed: the registry rejected the credentials for user \"alice\"") !=
        std::string::npos);
  CHECK(r.error().message.find("check --username/--password-stdin or the registry config") != std::string::npos);

  auto none = options(reg, "team/app:1.0");
  auto r2 = (*open_image_source(none))->resolve();
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kAuth);
  CHECK(r2.error().message.find("--username/--password-stdin") != std::string::npos);
}

TEST_CASE("loopback registry: a corrupted blob is an integrity error naming the blob", "[registry]") {
  FakeRegistry reg;
  build_image(reg);
  reg.corrupt_blobs.insert(kLayerDigest);
  auto src = open_image_source(options(reg, "team/app:1.0"));
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.error().kind == ErrorKind::kIntegrity);
  CHECK(bytes.error().message.find("blob " + kLayerDigest + " digest mismatch (got sha256:") != std::string::npos);
}

TEST_CASE("loopback registry: a corrupted config blob fails resolve", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  reg.corrupt_blobs.insert(sha256_of(img.config_amd64));
  auto r = (*open_image_source(options(reg, "team/app:1.0")))->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kIntegrity);
  CHECK(r.error().message.find(sha256_of(img.config_amd64) + " digest mismatch") != std::string::npos);
}

TEST_CASE("loopback registry: 503 then success is retried with Retry-After", "[registry]") {
  FakeRegistry reg;
  build_image(reg);
  reg.manifest_503s = 2;
  Sleeps sleeps;
  auto src = open_image_source(options(reg, "team/app:1.0", &sleeps));
  auto r = (*src)->resolve();
  REQUIRE(r.ok());
  REQUIRE(sleeps.size() == 2);
  CHECK(sleeps.v[0] == milliseconds(1000));  // the server's Retry-After: 1
  CHECK(sleeps.v[1] == milliseconds(1000));
}

TEST_CASE("loopback registry: persistent 503 gives up after the configured attempts", "[registry]") {
  FakeRegistry reg;
  build_image(reg);
  reg.manifest_503s = 100;
  Sleeps sleeps;
  auto r = (*open_image_source(options(reg, "team/app:1.0", &sleeps)))->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(r.error().message.find("HTTP 503") != std::string::npos);
  CHECK(r.error().message.find("after 3 attempts") != std::string::npos);
  CHECK(sleeps.size() == 2);
  CHECK(reg.manifest_requests == 3);
}

TEST_CASE("loopback registry: connection refused is retried with backoff, then reported", "[registry]") {
  int port = scangate::test::net::unused_port();  // bound and closed: nothing listens
  Sleeps sleeps;
  auto opts = client_options(&sleeps);
  opts.retry.jitter = 0;
  opts.retry.initial_delay = milliseconds(100);
  auto client = make_http_registry_client(opts);
  auto ref = parse_reference("127.0.0.1:" + std::to_string(port) + "/x/y:1");
  auto r = client->get_manifest(*ref, "1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kNetwork);
  REQUIRE(sleeps.size() == 2);
  CHECK(sleeps.v[0] == milliseconds(100));
  CHECK(sleeps.v[1] == milliseconds(200));
}

TEST_CASE("loopback registry: a dropped connection mid-blob is retried and the bytes stay exact", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  reg.flaky_blobs.insert(kLayerDigest);
  auto src = open_image_source(options(reg, "team/app:1.0"));
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);
  CHECK(reg.blob_requests >= 3);  // config + two layer attempts
}

TEST_CASE("loopback registry: blob redirect to another host does not forward Authorization", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearer;
  Image img = build_image(reg);
  reg.redirect_blobs.insert(kLayerDigest);
  auto src = open_image_source(options(reg, "team/app:1.0"));
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);
  CHECK(reg.storage_requests == 1);
  CHECK_FALSE(reg.storage_saw_authorization);
}

TEST_CASE("loopback registry: unknown tag and unknown repository are kNotFound", "[registry]") {
  FakeRegistry reg;
  build_image(reg);
  auto r = (*open_image_source(options(reg, "team/app:nope")))->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kNotFound);
  CHECK(r.error().message.find("image " + reg.host() + "/team/app:nope not found in " + reg.host()) !=
        std::string::npos);
  CHECK(r.error().message.find("MANIFEST_UNKNOWN") != std::string::npos);

  auto r2 = (*open_image_source(options(reg, "other/thing")))->resolve();
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kNotFound);

  auto client = make_http_registry_client(client_options());
  auto ref = parse_reference(reg.host() + "/team/app:1.0");
  auto blob = client->open_blob(*ref, "sha256:" + std::string(64, '0'), -1);
  REQUIRE_FALSE(blob.ok());
  CHECK(blob.error().kind == ErrorKind::kNotFound);
  CHECK(blob.error().message.find("BLOB_UNKNOWN") != std::string::npos);
}

TEST_CASE("loopback registry: platform selection and digest resolution", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  auto def = (*open_image_source(options(reg, "team/app:multi")))->resolve();
  REQUIRE(def.ok());
  CHECK(def->meta.architecture == "amd64");
  CHECK(def->meta.manifest_digest == sha256_of(img.manifest_amd64));
  CHECK(def->meta.repo_digest == reg.host() + "/team/app@" + sha256_of(img.index));

  auto arm = options(reg, "team/app:multi");
  arm.platform = "linux/arm64";
  auto a = (*open_image_source(arm))->resolve();
  REQUIRE(a.ok());
  CHECK(a->meta.architecture == "arm64");
  CHECK(a->meta.variant == "v8");
  CHECK(a->meta.manifest_digest == sha256_of(img.manifest_arm64));

  auto s390 = options(reg, "team/app:multi");
  s390.platform = "linux/s390x";
  auto s = (*open_image_source(s390))->resolve();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::kNotFound);
  CHECK(s.error().message.find("linux/arm64/v8") != std::string::npos);

  auto client = make_http_registry_client(client_options());
  CHECK(*client->resolve_digest(*parse_reference(reg.host() + "/team/app:multi")) == sha256_of(img.index));
  CHECK(*client->resolve_digest(*parse_reference(reg.host() + "/team/app:1.0")) == sha256_of(img.manifest_amd64));
  auto missing = client->resolve_digest(*parse_reference(reg.host() + "/team/app:nope"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
}

TEST_CASE("loopback registry: pinned digests are verified", "[registry]") {
  FakeRegistry reg;
  Image img = build_image(reg);
  auto ok = (*open_image_source(options(reg, "team/app@" + sha256_of(img.manifest_amd64))))->resolve();
  REQUIRE(ok.ok());
  CHECK(ok->meta.repo_tags.empty());
  CHECK(ok->meta.normalized == reg.host() + "/team/app@" + sha256_of(img.manifest_amd64));

  // A registry that answers a digest request with other bytes is caught.
  std::string wrong = "sha256:" + std::string(64, 'a');
  reg.add_manifest("team/app", wrong, "application/vnd.oci.image.manifest.v1+json", img.manifest_amd64);
  auto bad = (*open_image_source(options(reg, "team/app@" + wrong)))->resolve();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::kIntegrity);
}

TEST_CASE("loopback registry: schema 1 manifests are rejected clearly", "[registry]") {
  FakeRegistry reg;
  reg.add_manifest(
      "old/img", "1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
      R"({"schemaVersion":1,"name":"old/img","tag":"1","architecture":"amd64","fsLayers":[],"history":[]})");
  auto r = (*open_image_source(options(reg, "old/img:1")))->resolve();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("schema 1") != std::string::npos);
}

namespace {

// A registry that serves every blob as 1 GiB: 64 KiB at once, then nothing for up to 20 s, then
// 64 KiB every 20 ms. It records, per blob connection, how many body bytes it sent and when it
// saw the client close the connection.
class HugeBlobServer {
 public:
  static constexpr uint64_t kSize = 1ull << 30;
  static constexpr size_t kFirst = 64u << 10;

  HugeBlobServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~HugeBlobServer() {
    stop_ = true;
    accept_thread_.join();
    for (auto& t : conn_threads_) t.join();
    ::close(listen_fd_);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  struct BlobConn {
    uint64_t sent = 0;
    bool closed_by_client = false;
    std::chrono::steady_clock::time_point closed_at;
  };
  std::vector<BlobConn> blob_conns() {
    std::lock_guard<std::mutex> l(mu_);
    return blobs_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      conn_threads_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }
  // Waits up to `ms` for the client to close (EOF or reset); true when it did.
  static bool client_closed(int fd, int ms) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char b[4096];
    ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN);
  }
  void serve(int fd) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (stop_ || ::poll(&p, 1, 50) < 0) return;
      if (!(p.revents & POLLIN)) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.find("/blobs/") == std::string::npos) {  // e.g. the /v2/ ping
      const std::string r =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
          "Connection: close\r\n\r\n{}";
      (void)::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
      return;
    }
    size_t index;
    {
      std::lock_guard<std::mutex> l(mu_);
      index = blobs_.size();
      blobs_.push_back({});
    }
    auto closed = [&] {
      std::lock_guard<std::mutex> l(mu_);
      blobs_[index].closed_by_client = true;
      blobs_[index].closed_at = std::chrono::steady_clock::now();
    };
    auto sent = [&](size_t n) {
      std::lock_guard<std::mutex> l(mu_);
      blobs_[index].sent += n;
    };
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(kSize) +
        "\r\n\r\n";
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) return;
    const std::string chunk(kFirst, 'z');
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(chunk.size())) return;
    sent(chunk.size());
    for (int i = 0; i < 400 && !stop_; ++i)  // the stall: 20 s
      if (client_closed(fd, 50)) return closed();
    for (uint64_t total = kFirst; total < kSize && !stop_; total += chunk.size()) {
      if (client_closed(fd, 20)) return closed();
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) return closed();
      sent(chunk.size());
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
  std::mutex mu_;
  std::vector<BlobConn> blobs_;
};

}  // namespace

// The stream's consumer stops after 1 KiB of a 1 GiB blob. Destroying the stream must close the
// download at once: whether the producer is blocked handing data over (small buffer) or waiting
// for the network (large buffer, the server stalls), the destructor returns promptly, the server
// sees the connection closed, and it sent only a sliver of the blob.
TEST_CASE("loopback registry: destroying a stream early cancels the download", "[registry]") {
  for (size_t buffered : {size_t{8192}, size_t{4u << 20}}) {
    INFO("max_buffered_blob_bytes " << buffered);
    HugeBlobServer srv;
    auto opts = client_options();
    opts.max_buffered_blob_bytes = buffered;
    opts.read_timeout = milliseconds(30000);  // longer than the stall: only cancellation ends it
    auto client = make_http_registry_client(opts);
    auto ref = parse_reference(srv.host() + "/team/app:1.0");
    REQUIRE(ref.ok());
    std::chrono::steady_clock::time_point destroyed;
    double destroy_seconds = 0;
    {
      auto blob = client->open_blob(*ref, kLayerDigest, static_cast<int64_t>(HugeBlobServer::kSize));
      REQUIRE(blob.ok());
      char buf[1024];
      auto r = (*blob)->read(buf, sizeof buf);
      REQUIRE(r.ok());
      CHECK(*r > 0);
      std::this_thread::sleep_for(milliseconds(300));  // the producer is now blocked, one way or the other
      auto t0 = std::chrono::steady_clock::now();
      blob->reset();
      destroyed = std::chrono::steady_clock::now();
      destroy_seconds = std::chrono::duration<double>(destroyed - t0).count();
    }
    CHECK(destroy_seconds < 1.0);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto conns = srv.blob_conns();
    while ((conns.empty() || !conns.back().closed_by_client) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(20));
      conns = srv.blob_conns();
    }
    REQUIRE(conns.size() == 1);
    CHECK(conns[0].closed_by_client);
    CHECK(std::chrono::duration<double>(conns[0].closed_at - destroyed).count() < 1.0);
    CHECK(conns[0].sent <= HugeBlobServer::kFirst);  // nothing after the stall: far below 1 GiB
  }
}

TEST_CASE("transport rules: loopback and insecure registries", "[registry]") {
  for (const char* r : {"localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "[::1]"})
    CHECK(is_loopback_registry(r));
  for (const char* r :
       {"docker.io", "example.com:5000", "128.0.0.1", "127.0.0.1.nip.io", "10.0.0.1:5000", "localhost.example"})
    CHECK_FALSE(is_loopback_registry(r));
  std::vector<std::string> insecure = {"reg.internal", "10.0.0.5:5000", "http://other:8080/"};
  CHECK(is_insecure_registry("reg.internal:443", insecure));
  CHECK(is_insecure_registry("reg.internal", insecure));
  CHECK(is_insecure_registry("10.0.0.5:5000", insecure));
  CHECK_FALSE(is_insecure_registry("10.0.0.5:6000", insecure));
  CHECK(is_insecure_registry("other:8080", insecure));
  CHECK_FALSE(is_insecure_registry("docker.io", insecure));
  CHECK(registry_api_host("docker.io") == "registry-1.docker.io");
  CHECK(registry_api_host("ghcr.io") == "ghcr.io");
}

TEST_CASE("loopback registry: a blob redirect to a storage host on 127.0.0.2 gets no credentials", "[registry]") {
  FakeRegistry reg("127.0.0.2");
  reg.auth = FakeRegistry::Auth::kBasic;
  Image img = build_image(reg);
  reg.redirect_blobs.insert(kLayerDigest);
  auto o = options(reg, "team/app:1.0");
  o.credential = Credential{"alice", "s3cret", ""};
  auto src = open_image_source(o);
  REQUIRE(src.ok());
  auto resolved = (*src)->resolve();
  REQUIRE(resolved.ok());
  auto blob = (*src)->open_layer(resolved->layers[0]);
  REQUIRE(blob.ok());
  auto bytes = read_all(**blob);
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);
  CHECK(reg.storage_requests == 1);
  CHECK_FALSE(reg.storage_saw_authorization);
  CHECK_FALSE(reg.storage_saw_cookie);
}

TEST_CASE("loopback registry: one kept-alive connection for a whole pull", "[registry]") {
  FakeRegistry reg;
  reg.auth = FakeRegistry::Auth::kBearer;  // the token endpoint is on the registry too
  Image img = build_image(reg);
  auto src = open_image_source(options(reg, "team/app:multi"));
  REQUIRE(src.ok());
  auto resolved = (*src)->resolve();  // index, manifest, token, config
  REQUIRE(resolved.ok());
  auto bytes = read_all(**(*src)->open_layer(resolved->layers[0]));
  REQUIRE(bytes.ok());
  CHECK(*bytes == img.layer);
  CHECK(reg.token_requests == 1);
  CHECK(reg.manifest_requests >= 2);
  CHECK(reg.connections() == 1);  // was one connection (and TLS handshake) per request
}

namespace {

void check_deadline_error(const Error& e, std::chrono::steady_clock::time_point start) {
  CHECK(e.kind == ErrorKind::kNetwork);
  CHECK(e.message.find("deadline passed") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));  // 1 s deadline, generous slack
}

}  // namespace

TEST_CASE("deadline: a registry that accepts and never answers fails every call soon after it", "[registry]") {
  scangate::test::net::SilentServer hung;  // accepts connections, never answers
  const std::string hung_host = "127.0.0.1:" + std::to_string(hung.port());
  auto opts = client_options();
  opts.read_timeout = milliseconds(120000);  // the deadline, not the timeout, must end the waits
  opts.connect_timeout = milliseconds(120000);
  auto client = make_http_registry_client(opts);
  auto ref = *parse_reference(hung_host + "/team/app:1.0");
  const std::string digest = "sha256:" + std::string(64, 'a');

  auto start = std::chrono::steady_clock::now();
  auto m = client->get_manifest(ref, "1.0", Deadline::after(milliseconds(1000)));
  REQUIRE_FALSE(m.ok());
  check_deadline_error(m.error(), start);

  start = std::chrono::steady_clock::now();
  auto d = client->resolve_digest(ref, Deadline::after(milliseconds(1000)));
  REQUIRE_FALSE(d.ok());
  check_deadline_error(d.error(), start);

  start = std::chrono::steady_clock::now();
  auto b = client->get_blob(ref, digest, 1000, Deadline::after(milliseconds(1000)));
  REQUIRE_FALSE(b.ok());
  check_deadline_error(b.error(), start);

  start = std::chrono::steady_clock::now();
  auto s = client->open_blob(ref, digest, -1, Deadline::after(milliseconds(1000)));
  REQUIRE_FALSE(s.ok());
  check_deadline_error(s.error(), start);

  start = std::chrono::steady_clock::now();
  SourceOptions o;
  o.reference = hung_host + "/team/app:1.0";
  o.credential_sources = CredentialSources{"", "", ""};
  o.sleeper = [](milliseconds) {};
  o.read_timeout = milliseconds(120000);
  o.deadline = Deadline::after(milliseconds(1000));
  auto src = open_image_source(o);
  REQUIRE(src.ok());
  auto r = (*src)->resolve();
  REQUIRE_FALSE(r.ok());
  check_deadline_error(r.error(), start);
}

TEST_CASE("deadline: a blob stream whose server stalls half-way fails once the deadline passes", "[registry]") {
  httplib::Server stalling;
  std::atomic<bool> stop{false};
  const std::string digest = "sha256:" + std::string(64, 'b');
  stalling.Get(R"(/v2/team/app/blobs/(.+))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(1000000, "application/octet-stream", [&](size_t offset, size_t, httplib::DataSink& sink) {
      if (offset == 0) return sink.write(std::string(1000, 'x').data(), 1000);
      while (!stop) std::this_thread::sleep_for(milliseconds(20));
      return false;
    });
  });
  int port = stalling.bind_to_any_port("127.0.0.1");
  std::thread th([&] { stalling.listen_after_bind(); });
  while (!stalling.is_running()) std::this_thread::sleep_for(milliseconds(1));

  auto opts = client_options();
  opts.read_timeout = milliseconds(120000);
  auto client = make_http_registry_client(opts);
  auto ref = *parse_reference("127.0.0.1:" + std::to_string(port) + "/team/app:1.0");
  auto start = std::chrono::steady_clock::now();
  auto blob = client->open_blob(ref, digest, 1000000, Deadline::after(milliseconds(1000)));
  REQUIRE(blob.ok());  // the head and the first bytes arrived in time
  auto bytes = read_all(**blob);
  REQUIRE_FALSE(bytes.ok());
  check_deadline_error(bytes.error(), start);
  blob->reset();
  stop = true;
  stalling.stop();
  th.join();
}

TEST_CASE("registry errors: the registry's own words reach the user without control characters", "[registry]") {
  // A hostile registry whose 404 error text would start a new log line, recolour the terminal and
  // (U+2028) break a line in some viewers.
  test::net::Server s;
  s.http().Get("/v2/team/app/manifests/1.0", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"no such tag\\nFAKE LOG LINE "
        "\\u001b[31mred\\u001b[0m \xE2\x80\xA8 end \xE2\x80\xAE evil\"}]}",
        "application/json");
  });
  s.start();
  auto client = make_http_registry_client(client_options());
  auto ref = parse_reference("127.0.0.1:" + std::to_string(s.port()) + "/team/app:1.0");
  REQUIRE(ref.ok());
  auto r = client->get_manifest(*ref, "1.0", Deadline::after(milliseconds(5000)));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kNotFound);
  const std::string& m = r.error().message;
  CHECK(m.find("MANIFEST_UNKNOWN") != std::string::npos);
  CHECK(m.find("no such tag") != std::string::npos);
  CHECK(m.find("FAKE LOG LINE") != std::string::npos);  // the text stays, made visible
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find('\x1b') == std::string::npos);
  CHECK(m.find("\xE2\x80\xA8") == std::string::npos);  // U+2028
  CHECK(m.find("\xE2\x80\xAE") == std::string::npos);  // U+202E
  CHECK(std::none_of(m.begin(), m.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }));
}
