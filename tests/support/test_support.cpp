#include "support/test_support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace scangate::test {

std::string testdata(const std::string& rel) {
  const char* env = std::getenv("SCANGATE_TESTDATA");
  std::string base = env ? env : SCANGATE_TESTDATA;
  return base + "/" + rel;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// Directories made by this process, removed when it exits (SCANGATE_KEEP_TEST_DIRS=1 keeps them
// for debugging). A forked child that exits normally must not remove its parent's directories.
struct TempDirs {
  std::mutex mu;
  std::vector<std::string> dirs;
  pid_t owner = getpid();
  ~TempDirs() {
    if (getpid() != owner) return;
    if (const char* keep = std::getenv("SCANGATE_KEEP_TEST_DIRS"); keep && *keep == '1') return;
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};

TempDirs& temp_dirs() {
  static TempDirs t;
  return t;
}

}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  TempDirs& t = temp_dirs();  // constructed before the first directory, so destroyed after its users
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  std::lock_guard<std::mutex> lock(t.mu);
  t.dirs.emplace_back(buf.data());
  return buf.data();
}

}  // namespace scangate::test
