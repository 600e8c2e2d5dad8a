// fs::write_output, the one way a user-named output (--output, db build --output) is written: a
// regular file or a new path is replaced atomically (beside the file a symlink points at, the link
// kept); a device, a FIFO or /dev/fd/N is written through and stays what it was. The tests run as
// root in CI; the device node is made with mknod (major 1, minor 3: what /dev/null is).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "scanner/core/fs_util.h"
#include "support/test_support.h"
#include "unit/core/fifo_reader.h"

using namespace scangate;
namespace stdfs = std::filesystem;

namespace {

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

// Names in dir other than `keep`: a temporary file left behind would show here.
std::vector<std::string> others(const std::string& dir, const std::set<std::string>& keep) {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(dir))
    if (!keep.count(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}

const std::string kReport = "{\"SchemaVersion\": 2, \"ArtifactName\": \"x\"}\n";

}  // namespace

TEST_CASE("write_output: a character device stays a device and is written through", "[fs][output]") {
  const std::string dir = test::make_temp_dir("sg-out-chr");
  const std::string node = dir + "/null";
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    if (errno == EPERM) {
      WARN("mknod of a character device was refused (EPERM: not root, or no CAP_MKNOD); test not run");
      return;
    }
    FAIL("mknod " << node << ": " << fs::errno_text(errno));
  }
  const mode_t mode_before = lstat_of(node).st_mode;
  auto t = fs::resolve_output(node);
  REQUIRE(t.ok());
  CHECK(t->kind == fs::OutputKind::kStream);

  auto w = fs::write_output(node, kReport);
  REQUIRE(w.ok());
  struct stat st = lstat_of(node);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(major(st.st_rdev) == 1);
  CHECK(minor(st.st_rdev) == 3);
  CHECK(st.st_mode == mode_before);  // type and permissions: what mknod made
  CHECK(others(dir, {"null"}).empty());

  // Through a symlink too: the link and the node both stay.
  REQUIRE(::symlink("null", (dir + "/link").c_str()) == 0);
  REQUIRE(fs::write_output(dir + "/link", kReport).ok());
  CHECK(S_ISLNK(lstat_of(dir + "/link").st_mode));
  CHECK(S_ISCHR(lstat_of(node).st_mode));
  CHECK(others(dir, {"null", "link"}).empty());
  stdfs::remove_all(dir);
}

TEST_CASE("write_output: a FIFO stays a FIFO and its reader gets every byte", "[fs][output]") {
  const std::string dir = test::make_temp_dir("sg-out-fifo");
  const std::string fifo = dir + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Bigger than a pipe buffer, so the writer has to wait for the reader.
  std::string big = kReport + std::string(300000, ' ') + "\n";
  test::FifoReader reader(fifo);
  auto w = fs::write_output(fifo, big);
  const std::string got = reader.finish();
  REQUIRE(w.ok());
  CHECK(got == big);
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
  CHECK(others(dir, {"pipe"}).empty());
  stdfs::remove_all(dir);
}

// Attacker review of issue 12: `scangate rootfs --timeout 3s --output FIFO` with no reader blocked
// in open() until killed. Under a deadline a FIFO write never outlives it.
TEST_CASE("write_output: a FIFO under a deadline: a reader gets every byte, no reader or a stalled one is an error",
          "[fs][output]") {
  using namespace std::chrono_literals;
  const std::string dir = test::make_temp_dir("sg-out-fifo-deadline");
  const std::string fifo = dir + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string big = kReport + std::string(300000, ' ') + "\n";

  SECTION("a reader that reads: every byte, as without a deadline") {
    test::FifoReader reader(fifo);
    auto w = fs::write_output(fifo, big, Deadline::after(30s));
    const std::string got = reader.finish();
    REQUIRE(w.ok());
    CHECK(got == big);
  }
  SECTION("no reader: an error once the deadline passes") {
    auto w = fs::write_output(fifo, big, Deadline::after(300ms));
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().kind == ErrorKind::kLimit);
    CHECK_THAT(w.error().message, Catch::Contains("no process opened the FIFO " + fifo));
  }
  SECTION("a reader that never reads: an error naming how much it took") {
    int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(rd >= 0);
    auto w = fs::write_output(fifo, big, Deadline::after(300ms));
    ::close(rd);
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.error().message, Catch::Contains("stopped before the deadline"));
  }
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
  CHECK(others(dir, {"pipe"}).empty());
  stdfs::remove_all(dir);
}

TEST_CASE("write_output: a symlink to a regular file stays a link, its target is replaced", "[fs][output]") {
  const std::string dir = test::make_temp_dir("sg-out-link");
  stdfs::create_directories(dir + "/real");
  const std::string target = dir + "/real/report.json";
  std::ofstream(target) << std::string(10000, 'o');  // longer than the new content: nothing may remain
  REQUIRE(::chmod(target.c_str(), 0640) == 0);
  REQUIRE(::symlink("real/report.json", (dir + "/report.json").c_str()) == 0);        // relative
  REQUIRE(::symlink((dir + "/report.json").c_str(), (dir + "/chain").c_str()) == 0);  // absolute, to a link

  auto t = fs::resolve_output(dir + "/chain");
  REQUIRE(t.ok());
  CHECK(t->kind == fs::OutputKind::kRegular);
  CHECK(stdfs::equivalent(t->path, target));

  REQUIRE(fs::write_output(dir + "/chain", kReport).ok());
  CHECK(S_ISLNK(lstat_of(dir + "/chain").st_mode));
  CHECK(S_ISLNK(lstat_of(dir + "/report.json").st_mode));
  CHECK(stdfs::read_symlink(dir + "/report.json") == "real/report.json");
  struct stat st = lstat_of(target);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0640);  // the replaced file keeps its permissions
  CHECK(slurp(target) == kReport);
  CHECK(others(dir + "/real", {"report.json"}).empty());
  CHECK(others(dir, {"real", "report.json", "chain"}).empty());
  stdfs::remove_all(dir);
}

TEST_CASE("write_output: a new path and a dangling link's target are created, 0600, nothing left behind",
          "[fs][output]") {
  const std::string dir = test::make_temp_dir("sg-out-new");
  REQUIRE(fs::write_output(dir + "/new.json", kReport).ok());
  CHECK(slurp(dir + "/new.json") == kReport);
  struct stat st = lstat_of(dir + "/new.json");
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);

  // An existing regular file is replaced atomically: a new inode, the old content gone.
  const ino_t before = st.st_ino;
  REQUIRE(fs::write_output(dir + "/new.json", "second\n").ok());
  CHECK(slurp(dir + "/new.json") == "second\n");
  CHECK(lstat_of(dir + "/new.json").st_ino != before);

  REQUIRE(::symlink("made-by-write.json", (dir + "/dangling").c_str()) == 0);
  REQUIRE(fs::write_output(dir + "/dangling", kReport).ok());
  CHECK(S_ISLNK(lstat_of(dir + "/dangling").st_mode));
  CHECK(slurp(dir + "/made-by-write.json") == kReport);
  CHECK(others(dir, {"new.json", "dangling", "made-by-write.json"}).empty());

  // A directory is refused and left alone; a missing parent directory is an error naming the path.
  stdfs::create_directories(dir + "/sub");
  auto d = fs::write_output(dir + "/sub", kReport);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("is a directory") != std::string::npos);
  CHECK(stdfs::is_directory(dir + "/sub"));
  auto m = fs::write_output(dir + "/missing/x.json", kReport);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message.find(dir + "/missing/x.json") != std::string::npos);

  // A symlink loop is an error, not a hang.
  REQUIRE(::symlink("loop-b", (dir + "/loop-a").c_str()) == 0);
  REQUIRE(::symlink("loop-a", (dir + "/loop-b").c_str()) == 0);
  CHECK_FALSE(fs::write_output(dir + "/loop-a", kReport).ok());
  stdfs::remove_all(dir);
}

TEST_CASE("write_output: /dev/fd/N and /proc/self/fd/N write to our own descriptor", "[fs][output]") {
  for (const std::string prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    CAPTURE(prefix);
    int p[2];
    REQUIRE(::pipe(p) == 0);
    auto t = fs::resolve_output(prefix + std::to_string(p[1]));
    REQUIRE(t.ok());
    CHECK(t->kind == fs::OutputKind::kStream);
    CHECK(t->fd == p[1]);
    REQUIRE(fs::write_output(prefix + std::to_string(p[1]), kReport).ok());
    ::close(p[1]);
    std::string got;
    char buf[256];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    CHECK(got == kReport);
  }

  // A descriptor open on a regular file: written through it (shell redirection semantics), the
  // file is not renamed over.
  const std::string dir = test::make_temp_dir("sg-out-fd");
  int fd = ::open((dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const ino_t ino = lstat_of(dir + "/out").st_ino;
  REQUIRE(fs::write_output("/dev/fd/" + std::to_string(fd), kReport).ok());
  ::close(fd);
  CHECK(slurp(dir + "/out") == kReport);
  CHECK(lstat_of(dir + "/out").st_ino == ino);
  CHECK(others(dir, {"out"}).empty());
  stdfs::remove_all(dir);
}

TEST_CASE("install_output: a file built first is renamed into place, or copied into a stream", "[fs][output]") {
  const std::string dir = test::make_temp_dir("sg-out-install");
  auto t = fs::resolve_output(dir + "/db.sqlite");
  REQUIRE(t.ok());
  CHECK(t->kind == fs::OutputKind::kNew);
  std::string tmpl = fs::output_temp_template(*t);
  CHECK(tmpl.rfind(dir + "/db.sqlite", 0) == 0);  // beside the target: same filesystem, rename works
  std::ofstream(dir + "/built") << "DB bytes";
  REQUIRE(fs::install_output(dir + "/built", *t).ok());
  CHECK(slurp(dir + "/db.sqlite") == "DB bytes");
  CHECK_FALSE(stdfs::exists(dir + "/built"));

  const std::string fifo = dir + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto s = fs::resolve_output(fifo);
  REQUIRE(s.ok());
  REQUIRE(s->kind == fs::OutputKind::kStream);
  CHECK(fs::output_temp_template(*s).rfind(dir, 0) != 0);  // never beside a device or FIFO
  std::ofstream(dir + "/built2") << "DB bytes 2";
  test::FifoReader reader(fifo);
  auto w = fs::install_output(dir + "/built2", *s);
  const std::string got = reader.finish();
  REQUIRE(w.ok());
  CHECK(got == "DB bytes 2");
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
  CHECK_FALSE(stdfs::exists(dir + "/built2"));
  stdfs::remove_all(dir);
}
