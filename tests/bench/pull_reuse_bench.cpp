// Issue 15, connection reuse: the time to scan one image from a registry over TLS with basic
// auth, (a) with a registry client built for the scan (a new TLS handshake and a new 401 round
// for every scan, as before the webhook shared one HTTP client), and (b) on the webhook's shared
// client, as PullAccess builds them (the same credential's client, warm connections and cached
// Authorization reused from one scan to the next). Prints medians; asserts nothing.
//
//   pull_reuse_bench IMAGE --cacert CA.pem --db DB [--user U --password P] [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "scanner/image/open_source.h"
#include "scanner/image/reference.h"
#include "scanner/vulndb/vuln_db.h"
#include "webhook/verdict/pull_access.h"
#include "webhook/verdict/registry_scanner.h"

using namespace scangate;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string image, ca, user, password, db_path;
  int runs = 15;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--cacert")
      ca = next();
    else if (a == "--user")
      user = next();
    else if (a == "--db")
      db_path = next();
    else if (a == "--password")
      password = next();
    else if (a == "--runs")
      runs = std::max(1, std::atoi(next().c_str()));
    else
      image = a;
  }
  if (image.empty() || ca.empty() || db_path.empty()) {
    std::fprintf(stderr, "usage: pull_reuse_bench IMAGE --cacert CA.pem --db DB [--user U --password P] [--runs N]\n");
    return 2;
  }
  auto opened = vulndb::VulnDb::open(db_path);
  if (!opened.ok()) {
    std::fprintf(stderr, "pull_reuse_bench: %s\n", opened.error().message.c_str());
    return 1;
  }
  std::shared_ptr<const vulndb::VulnStore> db = std::move(opened).value();
  SourceOptions so;
  so.ca_file = ca;
  auto base = registry_client_options(so);
  if (!base.ok()) {
    std::fprintf(stderr, "pull_reuse_bench: %s\n", base.error().message.c_str());
    return 1;
  }
  Credential cred;
  cred.username = user;
  cred.password = password;
  auto ref = parse_reference(image);
  if (!ref.ok()) return 1;
  auto pin = [&](RegistryClient& c) -> std::string {
    auto d = c.resolve_digest(*ref, Deadline::after(std::chrono::seconds(60)));
    if (!d.ok()) {
      std::fprintf(stderr, "pull_reuse_bench: %s\n", d.error().message.c_str());
      std::exit(1);
    }
    return ref->name() + "@" + *d;
  };

  auto scan_once = [&](const std::shared_ptr<RegistryClient>& client, const std::string& pinned) {
    verdict::RegistryImageScanner scanner(client, db, nullptr);
    auto t0 = std::chrono::steady_clock::now();
    auto r = scanner.scan(pinned, Deadline::after(std::chrono::seconds(120)));
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      std::fprintf(stderr, "pull_reuse_bench: scan failed: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    return ms;
  };

  // (a) A client of its own per scan: a new connection pool, a new 401 round.
  std::vector<double> fresh;
  uint64_t fresh_tls = 0;
  std::string pinned;
  for (int i = 0; i < runs; ++i) {
    RegistryClientOptions o = *base;
    o.credential = cred;
    auto http = make_registry_http_client(o);
    o.http = http;
    auto client = make_http_registry_client(o);
    if (pinned.empty()) pinned = pin(*client);
    fresh.push_back(scan_once(client, pinned));
    fresh_tls += http->stats().tls_connections;
  }

  // (b) The webhook's way: PullAccess keeps one client per credential on one shared HTTP client.
  RegistryClientOptions shared_opts = *base;
  auto http = make_registry_http_client(shared_opts);
  shared_opts.http = http;
  RegistryClientOptions own_opts = shared_opts;
  own_opts.credential = cred;
  auto own = make_http_registry_client(own_opts);
  std::vector<double> warm;
  scan_once(own, pinned);  // the first scan opens the connection: not counted
  const auto before = http->stats();
  for (int i = 0; i < runs; ++i) warm.push_back(scan_once(own, pinned));
  const auto after = http->stats();

  std::printf("== issue 15: one scan of %s over TLS with basic auth (%d runs each)\n", image.c_str(), runs);
  std::printf("  client per scan (no reuse):      median %7.2f ms per image   TLS handshakes per scan: %.1f\n",
              median(fresh), static_cast<double>(fresh_tls) / runs);
  std::printf(
      "  shared client (connection reuse): median %7.2f ms per image   TLS handshakes per scan: %.1f   "
      "requests per scan: %.1f (reused %.1f)\n",
      median(warm), static_cast<double>(after.tls_connections - before.tls_connections) / runs,
      static_cast<double>(after.requests - before.requests) / runs,
      static_cast<double>(after.reused - before.reused) / runs);
  return 0;
}
