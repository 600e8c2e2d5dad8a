// `--output` never destroys what it points at (issue 12): `scangate rootfs --output` and `scangate
// db build --output` to a character device node (made here with mknod, major 1 minor 3 as
// /dev/null), to a FIFO whose reader checks it received the JSON report, to a symlink (the link
// stays, its target gets the content) and to a new path.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "scanner/cli/commands.h"
#include "scanner/core/fs_util.h"
#include "support/test_support.h"
#include "unit/core/fifo_reader.h"

using namespace scangate;
using namespace scangate::cli;
namespace stdfs = std::filesystem;

namespace {

const std::string kPat = "ghp_" + std::string("Z1y2X3w4V5u6T7s8R9q0P1o2N3m4L5k6J7i8");

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran run_cli(const std::vector<std::string>& argv) {
  std::ostringstream out, err;
  Ran r;
  r.code = run(argv, Io{out, err});
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

// A directory holding a GitHub token, scanned for secrets only (no DB needed).
struct Fixture {
  std::string root = test::make_temp_dir("sg-cli-output");
  std::string scan = root + "/rootfs";
  Fixture() {
    stdfs::create_directories(scan + "/app");
    std::ofstream(scan + "/app/.env") << "GITHUB_TOKEN=" << kPat << "\n";
  }
  ~Fixture() { stdfs::remove_all(root); }
  Ran report_to(const std::string& output) const {
    return run_cli({"rootfs", "--scanners", "secret", "--format", "json", "--quiet", "--output", output, scan});
  }
  // The bytes are the JSON report of this scan: Trivy schema 2, this directory, the token found.
  void check_report(const std::string& bytes) const {
    CAPTURE(bytes.substr(0, 200));
    auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    REQUIRE(j.is_object());
    CHECK(j.value("SchemaVersion", 0) == 2);
    CHECK(j.value("ArtifactName", "") == scan);
    CHECK(bytes.find("github-pat") != std::string::npos);
  }
};

// Runs `f` while a thread reads everything from the FIFO; returns what it read.
template <typename F>
std::string read_fifo_while(const std::string& fifo, F f) {
  test::FifoReader reader(fifo);
  f();
  return reader.finish();
}

// mknod c 1 3; false (with a warning) only when the kernel refuses it for lack of privilege.
bool make_null_device(const std::string& path) {
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    REQUIRE(::chmod(path.c_str(), 0666) == 0);  // as /dev/null, whatever the umask
    return true;
  }
  if (errno == EPERM) {
    WARN("mknod of a character device was refused (EPERM: not root, or no CAP_MKNOD); device case not run");
    return false;
  }
  FAIL("mknod " << path << ": " << fs::errno_text(errno));
  return false;
}

void check_null_device(const std::string& path) {
  struct stat st = lstat_of(path);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(major(st.st_rdev) == 1);
  CHECK(minor(st.st_rdev) == 3);
  CHECK((st.st_mode & 07777) == 0666);
}

bool is_sqlite(const std::string& bytes) { return bytes.rfind(std::string("SQLite format 3\0", 16), 0) == 0; }

Ran db_build(const std::string& output) {
  return run_cli(
      {"db", "build", "--output", output, "--alpine-secdb", test::testdata("scenario/secdb/v3.14-main.json")});
}

}  // namespace

TEST_CASE("scangate rootfs --output to a character device writes through and leaves the node", "[cli][output]") {
  Fixture f;
  const std::string node = f.root + "/null";
  if (!make_null_device(node)) return;
  auto r = f.report_to(node);
  CAPTURE(r.err);
  CHECK(r.code == kExitOk);
  check_null_device(node);
  CHECK(r.out.empty());
}

TEST_CASE("scangate rootfs --output to a FIFO: the reader gets the JSON report, the FIFO stays", "[cli][output]") {
  Fixture f;
  const std::string fifo = f.root + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Ran r;
  std::string got = read_fifo_while(fifo, [&] {
    r = f.report_to(fifo);
    return r.code == kExitOk;
  });
  CAPTURE(r.err);
  CHECK(r.code == kExitOk);
  f.check_report(got);
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
}

TEST_CASE("scangate rootfs --output to a FIFO nobody reads fails within --timeout (exit 2)", "[cli][output]") {
  Fixture f;
  const std::string fifo = f.root + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Ran r = run_cli(
      {"rootfs", "--scanners", "secret", "--format", "json", "--quiet", "--timeout", "1s", "--output", fifo, f.scan});
  CHECK(r.code == kExitError);
  CHECK_THAT(r.err, Catch::Contains("no process opened the FIFO"));
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
}

TEST_CASE("scangate rootfs --output through a symlink replaces its target and keeps the link", "[cli][output]") {
  Fixture f;
  stdfs::create_directories(f.root + "/reports");
  const std::string target = f.root + "/reports/latest.json";
  std::ofstream(target) << "old report\n";
  const std::string link = f.root + "/report.json";
  REQUIRE(::symlink("reports/latest.json", link.c_str()) == 0);
  auto r = f.report_to(link);
  CAPTURE(r.err);
  CHECK(r.code == kExitOk);
  CHECK(S_ISLNK(lstat_of(link).st_mode));
  CHECK(stdfs::read_symlink(link) == "reports/latest.json");
  CHECK(S_ISREG(lstat_of(target).st_mode));
  f.check_report(slurp(target));
  CHECK(std::distance(stdfs::directory_iterator(f.root + "/reports"), stdfs::directory_iterator{}) == 1);
}

TEST_CASE("scangate rootfs --output to a new path creates the report there", "[cli][output]") {
  Fixture f;
  const std::string out = f.root + "/new-report.json";
  auto r = f.report_to(out);
  CAPTURE(r.err);
  CHECK(r.code == kExitOk);
  CHECK(S_ISREG(lstat_of(out).st_mode));
  f.check_report(slurp(out));
  // Without --quiet the path is named on standard error; a directory as --output is an error (2).
  auto d = run_cli({"rootfs", "--scanners", "secret", "--format", "json", "--output", f.root, f.scan});
  CHECK(d.code == kExitError);
  CHECK(d.err.find("is a directory") != std::string::npos);
  CHECK(stdfs::is_directory(f.root));
}

TEST_CASE("scangate db build --output: a device and a FIFO are written through, a symlink is kept", "[cli][output]") {
  Fixture f;
  const std::string node = f.root + "/null";
  if (make_null_device(node)) {
    auto r = db_build(node);
    CAPTURE(r.err);
    CHECK(r.code == kExitOk);
    check_null_device(node);
  }

  const std::string fifo = f.root + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Ran rf;
  std::string got = read_fifo_while(fifo, [&] {
    rf = db_build(fifo);
    return rf.code == kExitOk;
  });
  CAPTURE(rf.err);
  CHECK(rf.code == kExitOk);
  CHECK(is_sqlite(got));
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));

  stdfs::create_directories(f.root + "/data");
  const std::string link = f.root + "/db.sqlite";
  REQUIRE(::symlink((f.root + "/data/db.sqlite").c_str(), link.c_str()) == 0);  // dangling: the target is new
  auto rl = db_build(link);
  CAPTURE(rl.err);
  CHECK(rl.code == kExitOk);
  CHECK(S_ISLNK(lstat_of(link).st_mode));
  CHECK(is_sqlite(slurp(f.root + "/data/db.sqlite")));
  auto again = db_build(link);  // now over an existing DB
  CHECK(again.code == kExitOk);
  CHECK(S_ISLNK(lstat_of(link).st_mode));
  CHECK(is_sqlite(slurp(f.root + "/data/db.sqlite")));
  CHECK(std::distance(stdfs::directory_iterator(f.root + "/data"), stdfs::directory_iterator{}) == 1);
}
