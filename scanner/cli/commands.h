// The CLI's commands. Each takes its arguments (after the command word) and returns the
// process exit code; they print to the streams they are given.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace scangate::cli {

// Exit codes, documented in the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 2;         // anything that stopped the scan: never a pass
inline constexpr int kExitUploadFailed = 4;  // the report could not be delivered to CSPM

struct Io {
  std::ostream& out;
  std::ostream& err;
};

int cmd_image(const std::vector<std::string>& args, Io io);
int cmd_rootfs(const std::vector<std::string>& args, Io io);
int cmd_db(const std::vector<std::string>& args, Io io);
int cmd_policy(const std::vector<std::string>& args, Io io);  // check | explain
int cmd_upload(const std::vector<std::string>& args, Io io);
int cmd_cspm_receiver(const std::vector<std::string>& args, Io io);

int run(const std::vector<std::string>& argv, Io io);

}  // namespace scangate::cli
