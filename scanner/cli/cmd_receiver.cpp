// `scangate cspm-receiver`: the local artifact endpoint (see scanner/cspm/receiver.h), served until
// SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <iostream>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/receiver.h"

namespace scangate::cli {

namespace {

const char* kReceiverUsage = "scangate cspm-receiver --dir DIR (--token-file FILE | --token TOKEN) [flags]";
const char* kReceiverSummary =
    "Serves POST /api/v1/artifact/ like the AccuKnox CSPM endpoint: checks the bearer token and the\n"
    "tenant, stores each uploaded file with its metadata in DIR, and answers\n"
    "{\"detail\":\"File received successfully\"}. Reports resent with the same X-Scangate-Report-Id are\n"
    "stored once. GET /healthz answers ok. Runs until SIGTERM or SIGINT.";

std::vector<FlagSpec> receiver_flags() {
  return {
      {"listen", true, false, "HOST:PORT", "address to listen on (port 0: any free port)", "127.0.0.1:8080"},
      {"dir", true, false, "DIR", "where received files are stored"},
      {"token-file", true, false, "FILE", "file holding the token uploads must present"},
      {"token", true, false, "TOKEN", "the token itself (visible to other local users; prefer --token-file)"},
      {"tenant-id", true, false, "ID", "accept only this tenant"},
      {"tls-cert-file", true, false, "FILE", "serve HTTPS with this certificate chain (PEM)"},
      {"tls-private-key-file", true, false, "FILE", "the certificate's private key (PEM)"},
      {"max-body-mb", true, false, "N", "largest accepted request", "64"},
      {"quiet", false, false, "", "log only errors (as --log-level error)"},
  };
}

struct HostPort {
  std::string host;
  int port = 0;
};

Result<HostPort> parse_listen(const std::string& s) {
  HostPort hp;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find("]:");
    if (close == std::string::npos)
      return Error(ErrorKind::kInvalidArgument, "--listen '" + s + "': expected [IPV6]:PORT");
    hp.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos)
      return Error(ErrorKind::kInvalidArgument, "--listen '" + s + "': expected HOST:PORT");
    hp.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  if (ec != std::errc() || p != port.data() + port.size() || hp.port < 0 || hp.port > 65535)
    return Error(ErrorKind::kInvalidArgument, "--listen '" + s + "': the port must be 0-65535");
  return hp;
}

}  // namespace

int cmd_cspm_receiver(const std::vector<std::string>& argv, Io io) {
  for (const auto& a : argv) {
    if (a == "--help" || a == "-h") {
      io.out << render_help(kReceiverUsage, kReceiverSummary, receiver_flags());
      return kExitOk;
    }
  }
  auto args = parse_args(argv, receiver_flags());
  auto usage_error = [&](const std::string& msg) {
    io.err << "scangate cspm-receiver: " << msg << "\n\nUsage: " << kReceiverUsage << "\n";
    return kExitError;
  };
  if (!args.ok()) return usage_error(args.error().message);
  if (!args->positional().empty()) return usage_error("unexpected argument '" + args->positional()[0] + "'");
  auto listen = parse_listen(args->get_or("listen", "127.0.0.1:8080"));
  if (!listen.ok()) return usage_error(listen.error().message);

  cspm::ReceiverOptions o;
  o.dir = args->get_or("dir", "");
  if (o.dir.empty()) return usage_error("--dir DIR is required");
  if (args->has("token") && args->has("token-file")) return usage_error("give --token or --token-file, not both");
  if (auto tf = args->get("token-file")) {
    auto t = cspm::read_token_file(*tf);
    if (!t.ok()) return usage_error(t.error().message);
    o.token = *t;
  } else {
    o.token = args->get_or("token", "");
  }
  if (o.token.empty())
    return usage_error("the receiver needs the token it accepts: --token-file FILE or --token TOKEN");
  o.tenant_id = args->get_or("tenant-id", "");
  o.tls_cert_file = args->get_or("tls-cert-file", "");
  o.tls_key_file = args->get_or("tls-private-key-file", "");
  if (auto mb = args->get("max-body-mb")) {
    int n = 0;
    auto [p, ec] = std::from_chars(mb->data(), mb->data() + mb->size(), n);
    if (ec != std::errc() || p != mb->data() + mb->size() || n <= 0 || n > 4096)
      return usage_error("--max-body-mb must be 1-4096");
    o.max_body_bytes = static_cast<size_t>(n) << 20;
  }
  // Handlers log from the server's worker threads through the core logger: whole lines, escaped
  // (a client's tenant id cannot start a line of its own), and never the token (registered as a
  // secret when it was read, and by Receiver::create).
  log::add_secret(o.token);
  o.log = log::Logger("receiver").at_least(args->has("quiet") ? log::Level::kError : log::Level::kDebug);
  const log::Logger& log = o.log;

  auto receiver = cspm::Receiver::create(o);
  if (!receiver.ok()) {
    log.error(receiver.error().message);
    return kExitError;
  }
  auto bound = (*receiver)->bind(listen->host, listen->port);
  if (!bound.ok()) {
    log.error(bound.error().message);
    return kExitError;
  }

  // SIGTERM/SIGINT are taken synchronously by this thread; the server's threads inherit the mask.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  auto started = (*receiver)->start();
  if (!started.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    log.error(started.error().message);
    return kExitError;
  }
  // On standard output, for scripts (and tests) that wait for the address.
  io.out << "listening on " << (*receiver)->url() << std::endl;
  log.info("listening", {{"url", (*receiver)->url()}, {"dir", o.dir}});
  int code = kExitOk;
  for (;;) {
    timespec tick{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      log.info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
      break;
    }
    if (!(*receiver)->running()) {
      log.error("the server stopped unexpectedly");
      code = kExitError;
      break;
    }
  }
  (*receiver)->stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  log.info("stopped; " + std::to_string((*receiver)->stored_count()) + " file(s) in " + o.dir,
           {{"stored", (*receiver)->stored_count()}});
  return code;
}

}  // namespace scangate::cli
