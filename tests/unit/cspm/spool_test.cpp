#include "scanner/cspm/spool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cspm_test_util.h"
#include "scanner/core/fs_util.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cspm;
namespace ct = scangate::cspm::test;
using scangate::cspm::test::CapturedLog;
using scangate::cspm::test::files_in;

namespace {

Spool open_or_fail(const std::string& dir, SpoolOptions o = {}) {
  auto s = Spool::open(dir, std::move(o));
  REQUIRE(s.ok());
  return std::move(s.value());
}

std::string enqueue_or_fail(Spool& s, const std::string& bytes, Metadata m = {}) {
  auto r = s.enqueue(bytes, std::move(m));
  REQUIRE(r.ok());
  return r->id;
}

}  // namespace

TEST_CASE("spool: enqueue stores the exact bytes and metadata, oldest first", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  Spool s = open_or_fail(dir);
  std::string report = ct::sample_report(), report2 = ct::sample_report_2();
  auto a = enqueue_or_fail(s, report, {{kMetaDataType, "TR"}, {kMetaLabel, "prod"}});
  auto b = enqueue_or_fail(s, report2, {{kMetaDataType, "SBOM"}});
  CHECK(a < b);
  CHECK(Spool::valid_id(a));

  auto list = s.list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == a);
  CHECK((*list)[0].size == report.size());
  CHECK((*list)[0].metadata.at(kMetaLabel) == "prod");
  CHECK((*list)[0].metadata.count(kMetaCreatedAt) == 1);
  CHECK((*list)[1].id == b);

  // The file on disk is the report, byte for byte.
  CHECK(scangate::test::read_file(dir + "/pending/" + a + ".json") == report);
  auto loaded = s.load(b);
  REQUIRE(loaded.ok());
  CHECK(loaded->payload == report2);
  CHECK(loaded->metadata.at(kMetaDataType) == "SBOM");
  CHECK(files_in(dir + "/tmp").empty());

  REQUIRE(s.ack(a).ok());
  CHECK(s.ack(a).ok());  // already gone is fine
  list = s.list();
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == b);
  CHECK(s.load(a).error().kind == ErrorKind::kNotFound);
}

TEST_CASE("spool: survives a restart (a second open sees the same entries)", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  std::string id;
  {
    Spool s = open_or_fail(dir);
    id = enqueue_or_fail(s, ct::sample_report());
  }
  Spool again = open_or_fail(dir);
  auto list = again.list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == id);
}

TEST_CASE("spool: recovery removes leftovers of a crashed enqueue and nothing else", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  std::string id;
  {
    Spool s = open_or_fail(dir);
    id = enqueue_or_fail(s, ct::sample_report());
  }
  // A crash mid-enqueue: files in tmp/, and metadata renamed but its report not yet.
  { std::ofstream(dir + "/tmp/00000000000000000001-0000-deadbeef.json") << "{\"partial\":"; }
  { std::ofstream(dir + "/pending/00000000000000000002-0000-deadbeef.meta.json") << "{}"; }
  CapturedLog log;
  SpoolOptions o;
  o.log = log.logger();
  Spool s = open_or_fail(dir, o);
  CHECK(files_in(dir + "/tmp").empty());
  CHECK(files_in(dir + "/pending") == std::vector<std::string>{id + ".json", id + ".meta.json"});
  CHECK(log.all().find("incomplete write") != std::string::npos);
  CHECK(log.all().find("metadata without a report") != std::string::npos);
}

TEST_CASE("spool: dead-letter moves the report aside with its reason, requeue brings it back", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  Spool s = open_or_fail(dir);
  auto id = enqueue_or_fail(s, ct::sample_report(), {{kMetaLabel, "qa"}});
  REQUIRE(s.dead_letter(id, "HTTP 400: bad label", 400).ok());
  CHECK(s.list()->empty());
  CHECK(scangate::test::read_file(dir + "/dead/" + id + ".json") == ct::sample_report());
  auto reason = nlohmann::json::parse(scangate::test::read_file(dir + "/dead/" + id + ".reason.json"));
  CHECK(reason["reason"] == "HTTP 400: bad label");
  CHECK(reason["http_status"] == 400);
  CHECK(reason["metadata"]["label"] == "qa");
  CHECK(s.list_dead()->size() == 1);
  CHECK(s.dead_letter(id, "again").error().kind == ErrorKind::kNotFound);

  REQUIRE(s.requeue_dead(id).ok());
  CHECK(s.list_dead()->empty());
  auto back = s.load(id);
  REQUIRE(back.ok());
  CHECK(back->metadata.at(kMetaLabel) == "qa");
}

TEST_CASE("spool: when full, the oldest pending report is dropped, counted and logged", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  CapturedLog log;
  SpoolOptions o;
  o.max_entries = 2;
  o.log = log.logger();
  Spool s = open_or_fail(dir, o);
  auto a = enqueue_or_fail(s, "{\"n\":1}");
  auto b = enqueue_or_fail(s, "{\"n\":2}");
  auto c = s.enqueue("{\"n\":3}", {});
  REQUIRE(c.ok());
  CHECK(c->dropped == std::vector<std::string>{a});
  auto d = s.enqueue("{\"n\":4}", {});
  REQUIRE(d.ok());
  CHECK(d->dropped == std::vector<std::string>{b});
  CHECK(s.dropped_total() == 2);
  auto list = s.list();
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == c->id);
  CHECK((*list)[1].id == d->id);
  auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("warning: spool full: dropped the oldest pending report " + a) == 0);
  CHECK(lines[1].find("dropped so far: 2") != std::string::npos);
}

TEST_CASE("spool: the byte cap counts too, and a report claimed by a sender is not dropped", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  SpoolOptions o;
  o.max_bytes = 20;
  Spool s = open_or_fail(dir, o);
  auto a = enqueue_or_fail(s, "0123456789");  // 10 bytes
  auto b = enqueue_or_fail(s, "0123456789");  // 20: full
  auto claim = s.claim(a);
  REQUIRE(claim.ok());
  REQUIRE(*claim);
  auto c = s.enqueue("01234", {});
  REQUIRE(c.ok());
  CHECK(c->dropped == std::vector<std::string>{b});  // a is being sent: b goes instead
  CHECK(s.enqueue(std::string(21, 'x'), {}).error().kind == ErrorKind::kLimit);
}

TEST_CASE("spool: reject-new policy refuses the new report and keeps the old ones", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  SpoolOptions o;
  o.max_entries = 1;
  o.overflow = OverflowPolicy::kRejectNew;
  Spool s = open_or_fail(dir, o);
  auto a = enqueue_or_fail(s, "{}");
  auto r = s.enqueue("{}", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kLimit);
  CHECK(r.error().message.find("is full") != std::string::npos);
  CHECK(s.list()->size() == 1);
  CHECK(s.dropped_total() == 0);
}

TEST_CASE("spool: a claim is exclusive across spool objects and processes, and released on exit", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  Spool s1 = open_or_fail(dir);
  Spool s2 = open_or_fail(dir);
  auto id = enqueue_or_fail(s1, "{}");
  {
    auto c1 = s1.claim(id);
    REQUIRE(c1.ok());
    REQUIRE(*c1);
    auto c2 = s2.claim(id);
    REQUIRE(c2.ok());
    CHECK_FALSE(*c2);
  }
  // Another process holds the claim until it dies.
  int to_child[2], to_parent[2];
  REQUIRE(pipe(to_child) == 0);
  REQUIRE(pipe(to_parent) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto sp = Spool::open(dir);
    auto c = sp.ok() ? sp->claim(id) : Result<std::unique_ptr<EntryClaim>>(Error());
    char ok = (c.ok() && *c) ? 'y' : 'n';
    (void)!write(to_parent[1], &ok, 1);
    char wait;
    (void)!read(to_child[0], &wait, 1);
    _exit(0);
  }
  char got = 0;
  REQUIRE(read(to_parent[0], &got, 1) == 1);
  CHECK(got == 'y');
  auto during = s1.claim(id);
  REQUIRE(during.ok());
  CHECK_FALSE(*during);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  auto after = s1.claim(id);
  REQUIRE(after.ok());
  CHECK(*after);
  close(to_child[0]);
  close(to_child[1]);
  close(to_parent[0]);
  close(to_parent[1]);
}

TEST_CASE("spool: a claim on an entry delivered meanwhile fails softly", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  Spool s = open_or_fail(dir);
  auto id = enqueue_or_fail(s, "{}");
  REQUIRE(s.ack(id).ok());
  auto c = s.claim(id);
  REQUIRE(c.ok());
  CHECK_FALSE(*c);
  CHECK(s.claim("../../etc/passwd").error().kind == ErrorKind::kInvalidArgument);
}

TEST_CASE("spool: corrupt metadata is treated as empty, not fatal", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  Spool s = open_or_fail(dir);
  auto id = enqueue_or_fail(s, "{}", {{kMetaDataType, "SBOM"}});
  { std::ofstream(dir + "/pending/" + id + ".meta.json", std::ios::trunc) << "\x01not json"; }
  auto e = s.load(id);
  REQUIRE(e.ok());
  CHECK(e->metadata.empty());
  CHECK(e->payload == "{}");
}

TEST_CASE("spool: an unusable directory is an error that names it", "[spool]") {
  auto dir = scangate::test::make_temp_dir("sg-spool");
  { std::ofstream(dir + "/file") << "x"; }
  auto s = Spool::open(dir + "/file/spool");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::kIo);
  CHECK(s.error().message.find(dir + "/file") != std::string::npos);
  CHECK(Spool::open("").error().kind == ErrorKind::kInvalidArgument);
}
