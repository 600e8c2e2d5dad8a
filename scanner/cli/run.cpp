#include <iostream>

#include "scanner/cli/commands.h"

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
    "  upload FILE        upload a report to CSPM (spooled, retried); --drain sends the backlog\n"
    "  cspm-receiver      a local CSPM artifact endpoint (for tests and an embedded default)\n"
    "  version            print the version\n"
    "\n"
    "Run `scangate COMMAND --help` for a command's flags.\n"
    "Exit codes: 0 pass, --exit-code N on findings, 2 error (never a pass), 4 upload failed.\n";

}  // namespace

int run(const std::vector<std::string>& argv, Io io) {
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

}  // namespace scangate::cli
