#include <catch2/catch.hpp>

#include <cstdio>
#include <stdexcept>

#include "scanner/analyze/analyzer.h"
#include "support/test_support.h"

using namespace scangate;

namespace {

const Analyzer& os() {
  static const auto a = make_os_release_analyzer();
  return *a;
}

// GNU tar prints one member of a tarball; nothing is written to disk.
std::string tar_member(const std::string& tarball, const std::string& member) {
  std::string out;
  FILE* p = popen(("tar -xzOf '" + tarball + "' '" + member + "'").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("tar failed for " + member);
  return out;
}

OSInfo analyze_os(const std::string& path, const std::string& content) {
  auto r = os().analyze({path, content});
  REQUIRE(r.ok());
  return r->os ? *r->os : OSInfo{};
}

}  // namespace

TEST_CASE("os-release required() paths", "[os]") {
  for (const char* p : {"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version"})
    CHECK(os().required(p));
  for (const char* p : {"etc/lsb-release", "os-release", "usr/etc/os-release", "etc/os-release.d/x"})
    CHECK_FALSE(os().required(p));
}

TEST_CASE("real Alpine os-release and alpine-release files", "[os]") {
  for (const std::string ver : {"3.10.9", "3.15.11", "3.18.9", "3.20.3"}) {
    CAPTURE(ver);
    const std::string tb = test::testdata("rootfs/alpine-minirootfs-" + ver + "-x86_64.tar.gz");
    OSInfo rel = analyze_os("etc/os-release", tar_member(tb, "./etc/os-release"));
    CHECK(rel.family == "alpine");
    CHECK(rel.name == ver);  // VERSION_ID is the version in the tarball's name
    CHECK(rel.pretty_name.find("Alpine Linux") == 0);
    OSInfo ar = analyze_os("etc/alpine-release", tar_member(tb, "./etc/alpine-release"));
    CHECK(ar.family == "alpine");
    CHECK(ar.name == ver);
    OSInfo merged = merge_os({{"etc/alpine-release", ar}, {"etc/os-release", rel}});
    CHECK(merged.family == "alpine");
    CHECK(merged.name == ver);
  }
}

TEST_CASE("os-release quoting and keys", "[os]") {
  // Debian 12's os-release (quoted and unquoted values, as shipped).
  const std::string debian =
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
      "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
  OSInfo d = analyze_os("usr/lib/os-release", debian);
  CHECK(d.family == "debian");
  CHECK(d.name == "12");
  CHECK(d.codename == "bookworm");
  CHECK(d.pretty_name == "Debian GNU/Linux 12 (bookworm)");

  OSInfo u = analyze_os("etc/os-release",
                        "# comment\n\nID='ubuntu'\nVERSION_ID=\"22.04\"\nUBUNTU_CODENAME=jammy\n"
                        "PRETTY_NAME=\"Say \\\"hi\\\" \\\\ \\$x\"\r\n");
  CHECK(u.family == "ubuntu");
  CHECK(u.name == "22.04");
  CHECK(u.codename == "jammy");
  CHECK(u.pretty_name == "Say \"hi\" \\ $x");

  CHECK(analyze_os("etc/os-release", "ID=\"RHEL\"\n").family == "rhel");

  auto noid = os().analyze({"etc/os-release", "NAME=x\nnot an assignment\nVERSION_ID=\"unterminated\n"});
  REQUIRE(noid.ok());
  CHECK_FALSE(noid->os);
  CHECK(noid->warnings.size() == 3);  // the bad line, the unterminated quote, the missing ID
}

TEST_CASE("debian_version and merge precedence", "[os]") {
  OSInfo dv = analyze_os("etc/debian_version", "12.5\n");
  CHECK(dv.family == "debian");
  CHECK(dv.name == "12.5");
  OSInfo rel = analyze_os("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");

  // os-release names the family and codename; debian_version refines "12" to "12.5".
  OSInfo m = merge_os({{"etc/debian_version", dv}, {"etc/os-release", rel}});
  CHECK(m.family == "debian");
  CHECK(m.name == "12.5");
  CHECK(m.codename == "bookworm");

  // Ubuntu ships etc/debian_version ("bookworm/sid"): a different family, ignored.
  OSInfo ub = analyze_os("etc/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\n");
  OSInfo sid = analyze_os("etc/debian_version", "trixie/sid\n");
  OSInfo m2 = merge_os({{"etc/os-release", ub}, {"etc/debian_version", sid}});
  CHECK(m2.family == "ubuntu");
  CHECK(m2.name == "24.04");

  // Debian testing: os-release has no VERSION_ID; debian_version supplies the name.
  OSInfo testing = analyze_os("etc/os-release", "ID=debian\nVERSION_CODENAME=trixie\n");
  CHECK(merge_os({{"etc/os-release", testing}, {"etc/debian_version", sid}}).name == "trixie/sid");

  // A disagreeing release file does not override os-release.
  OSInfo odd = analyze_os("etc/alpine-release", "3.19.0\n");
  OSInfo alp = analyze_os("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n");
  CHECK(merge_os({{"etc/os-release", alp}, {"etc/alpine-release", odd}}).name == "3.20.3");

  // etc/os-release over usr/lib/os-release; release files alone when there is no os-release.
  OSInfo other = analyze_os("usr/lib/os-release", "ID=debian\nVERSION_ID=11\n");
  CHECK(merge_os({{"usr/lib/os-release", other}, {"etc/os-release", alp}}).family == "alpine");
  CHECK(merge_os({{"usr/lib/os-release", other}}).name == "11");
  CHECK(merge_os({{"etc/alpine-release", odd}}).name == "3.19.0");
  CHECK(merge_os({}).empty());
  CHECK(analyze_os("etc/alpine-release", "\n").empty());
}
