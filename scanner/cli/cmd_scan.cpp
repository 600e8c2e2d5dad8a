// `scangate image` and `scangate rootfs`: the subject from the flags, then the scan pipeline
// (scanner/pipeline) through run_scan().
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/scan_flags.h"
#include "scanner/core/log.h"
#include "scanner/image/open_source.h"
#include "scanner/pipeline/pipeline.h"

namespace scangate::cli {

namespace {

const std::vector<FlagSpec>& image_flags() {
  static const std::vector<FlagSpec> specs = [] {
    std::vector<FlagSpec> s = {
        {"input", true, false, "FILE|DIR", "scan a `docker save` tarball or an OCI image layout instead of pulling"},
        {"platform", true, false, "OS/ARCH[/VARIANT]", "image to pick from a multi-arch index", "linux/amd64"},
        {"registry-config", true, false, "FILE", "Docker config.json with registry credentials",
         "$DOCKER_CONFIG/config.json, ~/.docker/config.json"},
        {"username", true, false, "USER", "registry user name (with --password-stdin)"},
        {"password-stdin", false, false, "", "read the registry password from standard input"},
        {"cacert", true, false, "FILE", "extra CA certificates (PEM) for registry TLS"},
        {"insecure-registry", true, true, "HOST[:PORT]", "allow plain HTTP or unverified TLS for this registry"},
    };
    for (const auto& f : scan_and_upload_flags()) s.push_back(f);
    return s;
  }();
  return specs;
}

const std::vector<FlagSpec>& rootfs_flags() {
  static const std::vector<FlagSpec> specs = scan_and_upload_flags();
  return specs;
}

}  // namespace

int cmd_image(const std::vector<std::string>& argv, Io io) {
  for (const auto& a : argv) {
    if (a == "--help" || a == "-h") {
      io.out << render_help("scangate image [flags] IMAGE | --input FILE|DIR",
                            "Pull an image (no Docker daemon needed), list what is inside it, match it against the "
                            "vulnerability DB, write a report, and gate on the findings.",
                            image_flags());
      return kExitOk;
    }
  }
  auto args = parse_args(argv, image_flags());
  if (!args.ok()) {
    io.err << "scangate image: " << args.error().message << "\n";
    return kExitError;
  }
  auto settings = parse_scan_settings(*args);
  if (!settings.ok()) {
    io.err << "scangate image: " << settings.error().message << "\n";
    return kExitError;
  }

  SourceOptions so;
  so.input = args->get_or("input", "");
  if (args->positional().size() > 1) {
    io.err << "scangate image: expected one image reference, got " << args->positional().size() << "\n";
    return kExitError;
  }
  if (!args->positional().empty()) so.reference = args->positional()[0];
  if (so.reference.empty() && so.input.empty()) {
    io.err << "scangate image: name an image (e.g. `scangate image alpine:3.20`) or pass --input FILE\n";
    return kExitError;
  }
  so.platform = args->get_or("platform", "");
  so.credential_sources = CredentialSources::from_environment(args->get_or("registry-config", ""));
  if (args->has("username") || args->has("password-stdin")) {
    if (!args->has("username") || !args->has("password-stdin")) {
      io.err << "scangate image: --username and --password-stdin go together\n";
      return kExitError;
    }
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) {
      io.err << "scangate image: --password-stdin read an empty password from standard input\n";
      return kExitError;
    }
    Credential c;
    c.username = *args->get("username");
    c.password = password;
    so.credential = c;
  }
  so.ca_file = args->get_or("cacert", "");
  so.insecure_registries = args->all("insecure-registry");
  // The image source's warnings (registry retries, odd archives) go through the core logger.
  // --quiet keeps them off standard error, as before.
  so.warn = [lg = log::Logger("image").at_least(settings->quiet ? log::Level::kError : log::Level::kDebug)](
                const std::string& w) { lg.warn(w); };

  pipeline::Options o = pipeline_options(*settings, io);
  o.source = std::move(so);
  return run_scan("image", *settings, o, "container_image", io);
}

int cmd_rootfs(const std::vector<std::string>& argv, Io io) {
  for (const auto& a : argv) {
    if (a == "--help" || a == "-h") {
      io.out << render_help("scangate rootfs [flags] DIR",
                            "Scan an unpacked root filesystem. Links are never followed on the host.", rootfs_flags());
      return kExitOk;
    }
  }
  auto args = parse_args(argv, rootfs_flags());
  if (!args.ok()) {
    io.err << "scangate rootfs: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().size() != 1) {
    io.err << "scangate rootfs: expected one directory\n";
    return kExitError;
  }
  auto settings = parse_scan_settings(*args);
  if (!settings.ok()) {
    io.err << "scangate rootfs: " << settings.error().message << "\n";
    return kExitError;
  }
  pipeline::Options o = pipeline_options(*settings, io);
  o.rootfs = args->positional()[0];
  return run_scan("rootfs", *settings, o, "filesystem", io);
}

}  // namespace scangate::cli
