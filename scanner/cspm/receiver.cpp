#include "scanner/cspm/receiver.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "scanner/core/time_util.h"
#include "scanner/core/fs_util.h"

namespace scangate::cspm {

namespace {

constexpr const char* kReceived = "File received successfully";
constexpr const char* kPath = "/api/v1/artifact/";

using Json = nlohmann::json;

std::string dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string hex(const unsigned char* d, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

// Equal-length digests compared in constant time: neither the token's length nor its prefix leaks.
bool token_matches(const std::string& presented, const std::string& expected) {
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int la = 0, lb = 0;
  EVP_Digest(presented.data(), presented.size(), a, &la, EVP_sha256(), nullptr);
  EVP_Digest(expected.data(), expected.size(), b, &lb, EVP_sha256(), nullptr);
  return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool valid_report_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return id.find("..") == std::string::npos && id[0] != '.';
}

void reply(httplib::Response& res, int status, const std::string& detail) {
  res.status = status;
  res.set_content(Json{{"detail", detail}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

}  // namespace

struct Receiver::Impl {
  ReceiverOptions options;
  std::unique_ptr<httplib::Server> server;
  bool tls = false;
  std::string host = "127.0.0.1";
  int port = 0;
  bool bound = false;

  std::mutex store_mu;  // sequence numbers, the id index and the files
  uint64_t next_seq = 1;
  std::set<std::string> seen_ids;
  size_t stored = 0;

  std::mutex run_mu;
  bool serving = false;
  bool stop_requested = false;
  std::atomic<bool> serve_done{false};
  std::thread thread;

  Result<void> index_dir() {
    SG_TRY(fs::make_dirs(options.dir));
    SG_TRY(fs::make_dirs(options.dir + "/.tmp"));
    auto tmp = fs::list_dir(options.dir + "/.tmp");
    if (!tmp.ok()) return tmp.error();
    for (const auto& n : *tmp) SG_TRY(fs::remove_file(options.dir + "/.tmp/" + n));
    auto names = fs::list_dir(options.dir);
    if (!names.ok()) return names.error();
    for (const auto& n : *names) {
      if (!ends_with(n, ".json") || ends_with(n, ".meta.json")) continue;
      auto dash = n.find('-');
      if (dash == std::string::npos || dash == 0) continue;
      std::string seq = n.substr(0, dash);
      if (seq.find_first_not_of("0123456789") != std::string::npos || seq.size() > 18) continue;
      next_seq = std::max<uint64_t>(next_seq, std::stoull(seq) + 1);
      seen_ids.insert(n.substr(dash + 1, n.size() - dash - 1 - 5));
      ++stored;
    }
    return Ok();
  }

  void handle_upload(const httplib::Request& req, httplib::Response& res) {
    // 1. Who is asking.
    std::string auth = req.get_header_value("Authorization");
    if (auth.empty()) return reply(res, 401, "Authentication credentials were not provided.");
    if (auth.rfind("Bearer ", 0) != 0 || !token_matches(auth.substr(7), options.token)) {
      options.log.warn("refused an upload: invalid token", {{"remote_addr", req.remote_addr}});
      return reply(res, 401, "Invalid token.");
    }
    // 2. For which tenant.
    std::string q_tenant = req.get_param_value("tenant_id");
    std::string h_tenant = req.get_header_value("Tenant-Id");
    if (!q_tenant.empty() && !h_tenant.empty() && q_tenant != h_tenant)
      return reply(res, 400, "the Tenant-Id header and the tenant_id query parameter differ");
    std::string tenant = q_tenant.empty() ? h_tenant : q_tenant;
    if (!options.tenant_id.empty() && tenant != options.tenant_id) return reply(res, 403, "unknown tenant");
    if (req.get_param_value("data_type").empty()) return reply(res, 400, "the data_type query parameter is required");
    // 3. What.
    if (!req.is_multipart_form_data() || !req.has_file("file"))
      return reply(res, 400, "the multipart form field 'file' is required");
    httplib::MultipartFormData file = req.get_file_value("file");
    if (!Json::accept(file.content)) return reply(res, 400, "the file is not a JSON document");
    std::string id = req.get_header_value("X-Scangate-Report-Id");
    if (id.empty()) id = req.get_header_value("Idempotency-Key");
    if (!id.empty() && !valid_report_id(id))
      return reply(res, 400, "X-Scangate-Report-Id must be 1-128 characters of A-Z a-z 0-9 . _ -");
    bool generated = id.empty();

    Json meta;
    meta["received_at"] = utc_now_rfc3339();
    meta["size"] = file.content.size();
    meta["sha256"] = sha256_hex(file.content);
    meta["filename"] = file.filename;
    meta["content_type"] = file.content_type;
    meta["remote_addr"] = req.remote_addr;
    Json query = Json::object();
    for (const auto& [k, v] : req.params) query[k] = v;
    meta["query"] = query;
    Json headers = Json::object();
    for (const auto& [k, v] : req.headers) {
      if (iequals(k, "Authorization") || iequals(k, "Cookie")) continue;
      headers[k] = v;
    }
    meta["headers"] = headers;

    std::lock_guard<std::mutex> lock(store_mu);
    if (generated) {
      std::random_device rd;
      char buf[32];
      std::snprintf(buf, sizeof buf, "noid-%08x%08x", static_cast<unsigned>(rd()), static_cast<unsigned>(rd()));
      id = buf;
    } else if (seen_ids.count(id)) {
      options.log.info("report " + id + " was stored before; not storing it again", {{"report", id}});
      res.set_header("X-Scangate-Duplicate", "true");
      return reply(res, 200, kReceived);
    }
    meta["report_id"] = id;
    char seqbuf[32];
    std::snprintf(seqbuf, sizeof seqbuf, "%06llu", static_cast<unsigned long long>(next_seq));
    std::string base = std::string(seqbuf) + "-" + id;
    std::string tmp = options.dir + "/.tmp/" + base;
    auto m = fs::write_file_atomic(tmp + ".meta.json", options.dir + "/" + base + ".meta.json", dump(meta));
    auto f = m.ok() ? fs::write_file_atomic(tmp + ".json", options.dir + "/" + base + ".json", file.content) : m;
    if (!f.ok()) {
      (void)fs::remove_file(options.dir + "/" + base + ".meta.json");
      options.log.error("cannot store report " + id, {{"report", id}, {"error", f.error().message}});
      return reply(res, 500, "the receiver could not store the file");
    }
    ++next_seq;
    ++stored;
    seen_ids.insert(id);
    // What the client chose (tenant, data type) goes into fields: escaped, it can never start a line.
    log::Fields fields = {
        {"file", base + ".json"}, {"bytes", file.content.size()}, {"data_type", req.get_param_value("data_type")}};
    if (!tenant.empty()) fields.emplace_back("tenant", tenant);
    options.log.info("stored " + base + ".json", fields);
    reply(res, 200, kReceived);
  }
};

Receiver::Receiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Receiver::~Receiver() { stop(); }

Result<std::unique_ptr<Receiver>> Receiver::create(ReceiverOptions options) {
  if (options.dir.empty()) return Error(ErrorKind::kInvalidArgument, "the receiver needs a directory (--dir)");
  if (options.token.empty())
    return Error(ErrorKind::kInvalidArgument, "the receiver needs the token it accepts (--token-file or --token)");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Error(ErrorKind::kInvalidArgument, "give both --tls-cert-file and --tls-private-key-file, or neither");
  log::add_secret(options.token);
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  auto& o = impl->options;
  if (!o.tls_cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!ssl->is_valid())
      return Error(ErrorKind::kInvalidArgument, "cannot load the TLS certificate " + o.tls_cert_file + " and key " +
                                                    o.tls_key_file + " (PEM, and the key must match)");
    impl->server = std::move(ssl);
    impl->tls = true;
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  auto index = impl->index_dir();
  if (!index.ok()) return index.error().wrap("preparing the receiver directory " + o.dir);

  Impl* self = impl.get();
  auto& svr = *impl->server;
  svr.set_payload_max_length(o.max_body_bytes);
  svr.set_read_timeout(std::chrono::seconds(30));
  svr.set_write_timeout(std::chrono::seconds(30));
  svr.Post(kPath, [self](const httplib::Request& req, httplib::Response& res) { self->handle_upload(req, res); });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string detail = res.status == 413   ? "the request body is too large"
                         : res.status == 404 ? "not found"
                                             : "request failed";
    reply(res, res.status, detail);
  });
  svr.set_exception_handler([self](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    self->options.log.error("a request handler failed unexpectedly");
    reply(res, 500, "internal error");
  });
  return std::unique_ptr<Receiver>(new Receiver(std::move(impl)));
}

Result<int> Receiver::bind(const std::string& host, int port) {
  if (impl_->bound) return Error(ErrorKind::kInvalidArgument, "the receiver is bound already");
  int p = port == 0 ? impl_->server->bind_to_any_port(host) : (impl_->server->bind_to_port(host, port) ? port : -1);
  if (p <= 0)
    return Error(ErrorKind::kNetwork, "cannot listen on " + host + ":" + std::to_string(port) +
                                          " (address in use, or not an address of this machine)");
  impl_->host = host;
  impl_->port = p;
  impl_->bound = true;
  return p;
}

Result<void> Receiver::serve() {
  if (!impl_->bound) return Error(ErrorKind::kInvalidArgument, "bind the receiver before serving");
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    if (impl_->stop_requested || impl_->serving) {
      impl_->serve_done = true;
      return Ok();
    }
    impl_->serving = true;
  }
  bool ok = impl_->server->listen_after_bind();
  impl_->serve_done = true;
  std::lock_guard<std::mutex> lock(impl_->run_mu);
  if (!ok && !impl_->stop_requested) return Error(ErrorKind::kNetwork, "the receiver stopped accepting connections");
  return Ok();
}

Result<void> Receiver::start() {
  if (!impl_->bound) return Error(ErrorKind::kInvalidArgument, "bind the receiver before starting it");
  if (impl_->thread.joinable()) return Ok();
  impl_->thread = std::thread([this] {
    auto r = serve();
    if (!r.ok()) impl_->options.log.error(r.error().message);
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!impl_->server->is_running()) {
    if (impl_->serve_done || std::chrono::steady_clock::now() > until)
      return Error(ErrorKind::kNetwork, "the receiver did not start listening");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Ok();
}

void Receiver::stop() {
  bool serving;
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    impl_->stop_requested = true;
    serving = impl_->serving;
  }
  if (serving) {
    // httplib ignores stop() until its accept loop runs: wait for that (or for a failed start).
    while (!impl_->server->is_running() && !impl_->serve_done)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->server->stop();
  }
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
}

bool Receiver::running() const {
  std::lock_guard<std::mutex> lock(impl_->run_mu);
  return impl_->serving && !impl_->serve_done;
}

int Receiver::port() const { return impl_->port; }

std::string Receiver::url() const {
  std::string host = impl_->host.find(':') != std::string::npos ? "[" + impl_->host + "]" : impl_->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

size_t Receiver::stored_count() const {
  std::lock_guard<std::mutex> lock(impl_->store_mu);
  return impl_->stored;
}

}  // namespace scangate::cspm
