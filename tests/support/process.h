// Runs a program with arguments (no shell), feeding stdin and capturing stdout/stderr.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace scangate::test {

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out, err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                          const std::map<std::string, std::string>& extra_env = {});

// The fixture's DIR/env (KEY=VALUE); throws when the fixture is not running.
std::map<std::string, std::string> fixture_env();

}  // namespace scangate::test
