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
#include "scanner/cli/attest_flags.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/db_artifact_flags.h"
#include "scanner/cli/registry_flags.h"
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
    };
    for (const auto& f : registry_flags()) s.push_back(f);
    for (const auto& f : db_repository_flags()) s.push_back(f);
    for (const auto& f : scan_and_upload_flags()) s.push_back(f);
    for (const auto& f : attest_flags()) s.push_back(f);
    return s;
  }();
  return specs;
}

const std::vector<FlagSpec>& rootfs_flags() {
  static const std::vector<FlagSpec> specs = [] {
    std::vector<FlagSpec> s = db_repository_flags();
    for (const auto& f : scan_and_upload_flags()) s.push_back(f);
    return s;
  }();
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
  auto access = registry_source_options(*args, "image", io);
  if (!access) return kExitError;
  so.credential_sources = std::move(access->credential_sources);
  so.credential = std::move(access->credential);
  so.ca_file = std::move(access->ca_file);
  so.insecure_registries = std::move(access->insecure_registries);
  // The image source's warnings (registry retries, odd archives) go through the core logger.
  // --quiet keeps them off standard error, as before.
  so.warn = [lg = log::Logger("image").at_least(settings->quiet ? log::Level::kError : log::Level::kDebug)](
                const std::string& w) { lg.warn(w); };

  auto attest = parse_attest_settings(*args, so);
  if (!attest.ok()) {
    io.err << "scangate image: " << attest.error().message << "\n";
    return kExitError;
  }

  if (int code = ensure_db(*args, *settings, so, "image", io); code != kExitOk) return code;
  pipeline::Options o = pipeline_options(*settings, io);
  o.source = so;
  AfterReport after;
  if (attest->enabled)
    after = [&](const pipeline::ScanResult& scanned, auto started, auto finished) {
      auto r = attest_scan(*attest, so, scanned, started, finished, settings->quiet, o.deadline, io);
      if (r.ok()) return kExitOk;
      io.err << "scangate image: " << r.error().message << "\n";
      return kExitError;
    };
  return run_scan("image", *settings, o, "container_image", io, after);
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
  if (int code = ensure_db(*args, *settings, SourceOptions{}, "rootfs", io); code != kExitOk) return code;
  pipeline::Options o = pipeline_options(*settings, io);
  o.rootfs = args->positional()[0];
  return run_scan("rootfs", *settings, o, "filesystem", io);
}

}  // namespace scangate::cli
