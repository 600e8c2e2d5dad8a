#include <iostream>

#include "scanner/cli/attest_flags.h"
#include "scanner/cli/commands.h"
#include "scanner/core/log.h"

namespace scangate::cli {

namespace {

const char* kUsage =
    "scangate: a container-image security gate\n"
    "\n"
    "Usage: scangate COMMAND [flags]\n"
    "\n"
    "Commands:\n"
    "  image IMAGE        pull and scan an image (or --input FILE|DIR); the pipeline gate\n"
    "  rootfs DIR         scan an unpacked root filesystem\n"
    "  db build|update|info   build, refresh or describe the vulnerability DB\n"
    "  policy check|explain   validate a policy file; print a policy's verdict for a saved report\n"
    "  attest verify IMAGE    list an image's signed scan attestations and verify them\n"
    "  upload FILE        upload a report to CSPM (spooled, retried); --drain sends the backlog\n"
    "  cspm-receiver      a local CSPM artifact endpoint (for tests and an embedded default)\n"
    "  version            print the version\n"
    "\n"
    "Run `scangate COMMAND --help` for a command's flags.\n"
    "\n"
    "Global flags (any command, anywhere before `--`):\n"
    "  --log-format text|json  log lines as logfmt text or as JSON objects, one per line (default text)\n"
    "  --log-level LEVEL       least severe level logged: debug, info, warn, error (default info)\n"
    "\n"
    "Exit codes: 0 pass, --exit-code N on findings, 2 error (never a pass), 4 upload failed.\n";

// While a command runs, log lines go to its error stream (one whole line per write, from any
// thread), in the format and from the level the global flags chose; all three come back after.
class LogScope {
 public:
  explicit LogScope(std::ostream& err) : format_(log::format()), level_(log::level()) {
    if (&err == &std::cerr) return;  // the default sink writes to file descriptor 2 directly
    previous_ = log::set_sink([&err](std::string_view line) {
      err.write(line.data(), static_cast<std::streamsize>(line.size()));
      err.flush();
    });
    installed_ = true;
  }
  ~LogScope() {
    if (installed_) log::set_sink(std::move(previous_));
    log::set_format(format_);
    log::set_level(level_);
  }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  log::Format format_;
  log::Level level_;
  log::Sink previous_;
  bool installed_ = false;
};

int dispatch(const std::vector<std::string>& argv, Io io);

}  // namespace

int run(const std::vector<std::string>& argv_in, Io io) {
  LogScope scope(io.err);
  std::vector<std::string> argv = argv_in;
  if (auto bad = log::take_flags(argv)) {
    io.err << "scangate: " << *bad << "\n";
    return kExitError;
  }
  return dispatch(argv, io);
}

namespace {

int dispatch(const std::vector<std::string>& argv, Io io) {
  if (argv.empty()) {
    io.err << kUsage;
    return kExitError;
  }
  const std::string& cmd = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (cmd == "image") return cmd_image(rest, io);
  if (cmd == "rootfs") return cmd_rootfs(rest, io);
  if (cmd == "db") return cmd_db(rest, io);
  if (cmd == "policy") return cmd_policy(rest, io);
  if (cmd == "upload") return cmd_upload(rest, io);
  if (cmd == "attest") return cmd_attest(rest, io);
  if (cmd == "cspm-receiver") return cmd_cspm_receiver(rest, io);
  if (cmd == "version" || cmd == "--version") {
    io.out << "scangate " << SCANGATE_VERSION << "\n";
    return kExitOk;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    io.out << kUsage;
    return kExitOk;
  }
  io.err << "scangate: unknown command '" << cmd << "'\n\n" << kUsage;
  return kExitError;
}

}  // namespace

}  // namespace scangate::cli
