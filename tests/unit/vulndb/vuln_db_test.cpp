// VulnDbWriter + VulnDb: look-ups, open errors, atomic replacement, revision.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "scanner/vulndb/alpine_secdb.h"
#include "scanner/vulndb/debian_tracker.h"
#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/osv.h"
#include "scanner/vulndb/vuln_db.h"
#include "scanner/vulndb/writer.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::ErrorKind;
using scangate::test::read_file;
using scangate::test::testdata;
namespace fs = std::filesystem;

namespace {

const auto kT0 = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01T00:00:00Z

struct TempDir {
  std::string path = scangate::test::make_temp_dir("sg-vulndb");
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

// secdb v3.14 + debian sample + OSV samples + the scenario NVD page.
DbInfo build_sample(const std::string& out, std::chrono::system_clock::time_point t = kT0) {
  auto w = VulnDbWriter::create(out);
  REQUIRE(w.ok());
  auto& wr = *w.value();
  REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.14-main.json"), wr).ok());
  REQUIRE(import_debian_tracker_file(testdata("vulndb/debian-tracker/vunnel-debian-tracker-sample.json"), wr).ok());
  REQUIRE(import_osv_path(testdata("vulndb/osv-pypi"), wr).ok());
  REQUIRE(import_osv_path(testdata("vulndb/osv-npm"), wr).ok());
  REQUIRE(import_nvd_path(testdata("scenario/nvd/nvdcve-2.0-scenario.json"), wr).ok());
  wr.add_source({"test", "samples", {}});
  auto info = wr.commit(t);
  REQUIRE(info.ok());
  return info.value();
}

const Advisory* find(const std::vector<Advisory>& list, const std::string& id) {
  for (const auto& a : list)
    if (a.vuln_id == id) return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("a built DB answers look-ups with what the feeds say") {
  TempDir dir;
  auto info = build_sample(dir.file("db.sqlite"));
  CHECK(info.built_at == "2026-01-01T00:00:00Z");
  CHECK(info.revision.rfind("sha256:", 0) == 0);
  auto db = VulnDb::open(dir.file("db.sqlite"));
  REQUIRE(db.ok());
  CHECK(db.value()->revision() == info.revision);
  CHECK(db.value()->info().advisories == info.advisories);
  CHECK(db.value()->info().sources.size() == 1);

  SECTION("alpine: zlib 3.14, NVD severity attached") {
    auto list = db.value()->advisories("alpine", "3.14", "zlib");
    REQUIRE(list.ok());
    const Advisory* a = find(list.value(), "CVE-2022-37434");
    REQUIRE(a);
    CHECK(a->kind == AdvisoryKind::kAlpineSecdb);
    CHECK(a->fixed_version == "1.2.12-r2");  // v3.14 secdb: "1.2.12-r2": ["CVE-2022-37434"]
    CHECK(a->severity == Severity::kCritical);
    CHECK(a->severity_source == "nvd");
    CHECK(a->severity_basis == "cvssMetricV31 nvd@nist.gov Primary 9.8");
    // ordered by vuln_id
    for (std::size_t i = 1; i < list.value().size(); ++i) CHECK(list.value()[i - 1].vuln_id <= list.value()[i].vuln_id);
  }
  SECTION("alpine: the \"0\" key is not there, other releases are separate") {
    auto list = db.value()->advisories("alpine", "3.14", "busybox");
    REQUIRE(list.ok());
    CHECK_FALSE(find(list.value(), "CVE-2021-42373"));
    CHECK(find(list.value(), "CVE-2021-42374"));
    CHECK(find(list.value(), "ALPINE-13661")->severity == Severity::kUnknown);
    CHECK(find(list.value(), "ALPINE-13661")->severity_basis == "no NVD record");
    CHECK(db.value()->advisories("alpine", "3.15", "busybox")->empty());
  }
  SECTION("debian: status, fixed version, urgency as fallback severity") {
    auto list = db.value()->advisories("debian", "10", "chromium");
    REQUIRE(list.ok());
    REQUIRE(list.value().size() == 1);
    CHECK(list.value()[0].status == FixStatus::kAffected);
    CHECK(list.value()[0].severity == Severity::kUnknown);  // no NVD record, urgency end-of-life
    auto proto = db.value()->advisories("debian", "unstable", "prototypejs");
    REQUIRE(proto.ok());
    REQUIRE(proto.value().size() == 1);
    CHECK(proto.value()[0].fixed_version == "1.6.0.2-1");
    CHECK(proto.value()[0].status == FixStatus::kFixed);
    CHECK(proto.value()[0].vendor_severity == Severity::kHigh);
    CHECK(proto.value()[0].severity == Severity::kHigh);  // no NVD record: urgency high**
    CHECK(proto.value()[0].severity_source == "debian");
  }
  SECTION("pypi: names normalised on the way in and on look-up; GHSA severity") {
    auto list = db.value()->advisories("pypi", "", "SetupTools");
    REQUIRE(list.ok());
    REQUIRE(list.value().size() == 2);
    const Advisory* a = find(list.value(), "GHSA-r9hx-vwmv-q579");
    REQUIRE(a);
    CHECK(a->ranges.size() == 1);
    CHECK(a->ranges[0].type == "ECOSYSTEM");
    CHECK(a->ranges[0].events ==
          std::vector<OsvEvent>{{OsvEvent::Type::kIntroduced, "0"}, {OsvEvent::Type::kFixed, "65.5.1"}});
    CHECK(a->severity == Severity::kHigh);
    CHECK(a->severity_source == "ghsa");
    CHECK(a->cve_id == "CVE-2022-40897");
    auto pip = db.value()->advisories("pypi", "", "pip");
    REQUIRE(pip.ok());
    CHECK(pip.value().at(0).severity == Severity::kMedium);  // MODERATE
  }
  SECTION("detail: NVD and OSV records") {
    auto d = db.value()->detail("CVE-2018-25032");
    REQUIRE(d.ok());
    REQUIRE(d.value());
    CHECK(d.value()->description.rfind("zlib before 1.2.12 allows memory corruption", 0) == 0);
    CHECK(d.value()->severity == Severity::kHigh);
    CHECK(d.value()->primary_url == "https://nvd.nist.gov/vuln/detail/CVE-2018-25032");
    CHECK(d.value()->published == "2022-03-25T09:15Z");
    REQUIRE(d.value()->cvss.size() == 2);
    CHECK(d.value()->cvss[0].score == 7.5);
    CHECK(d.value()->cvss[1].version == "2.0");
    CHECK(d.value()->references.at(0).url == "https://www.openwall.com/lists/oss-security/2022/03/24/1");
    auto g = db.value()->detail("GHSA-xvch-5gv4-984h");
    REQUIRE(g.ok());
    REQUIRE(g.value());
    CHECK(g.value()->title == "Prototype Pollution in minimist");
    CHECK(g.value()->aliases == std::vector<std::string>{"CVE-2021-44906"});
    CHECK(g.value()->severity == Severity::kCritical);
    CHECK(g.value()->primary_url == "https://github.com/advisories/GHSA-xvch-5gv4-984h");
    auto none = db.value()->detail("CVE-1999-0000");
    REQUIRE(none.ok());
    CHECK_FALSE(none.value());
  }
  SECTION("unknown packages and ecosystems are empty, not errors") {
    CHECK(db.value()->advisories("alpine", "3.14", "no-such-package")->empty());
    CHECK(db.value()->advisories("cargo", "", "serde")->empty());
  }
}

TEST_CASE("opening anything but a scangate DB is an Error with a clear message") {
  TempDir dir;
  SECTION("missing") {
    auto r = VulnDb::open(dir.file("nope.db"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kNotFound);
    CHECK(r.error().message.find("does not exist") != std::string::npos);
    CHECK(r.error().message.find("scangate db update") != std::string::npos);
  }
  SECTION("empty") {
    std::ofstream(dir.file("empty.db")).close();
    auto r = VulnDb::open(dir.file("empty.db"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("is empty") != std::string::npos);
  }
  SECTION("not SQLite") {
    std::ofstream(dir.file("text.db")) << read_file(testdata("scenario/secdb/v3.14-main.json"));
    auto r = VulnDb::open(dir.file("text.db"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not an SQLite file") != std::string::npos);
  }
  SECTION("another program's SQLite file") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("other.db").c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto r = VulnDb::open(dir.file("other.db"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not a scangate vulnerability DB") != std::string::npos);
  }
  SECTION("a directory") {
    auto r = VulnDb::open(dir.path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not a regular file") != std::string::npos);
  }
  SECTION("a truncated DB") {
    build_sample(dir.file("db.sqlite"));
    fs::resize_file(dir.file("db.sqlite"), 4096);
    auto r = VulnDb::open(dir.file("db.sqlite"));
    if (r.ok()) {  // the first page may survive; a look-up then must fail, not return nothing silently
      auto l = r.value()->advisories("alpine", "3.14", "zlib");
      CHECK_FALSE(l.ok());
    } else {
      CHECK(r.error().kind == ErrorKind::kFormat);
    }
  }
}

TEST_CASE("a failed build leaves the previous DB and no temporary files") {
  TempDir dir;
  const std::string out = dir.file("db.sqlite");
  auto before = build_sample(out);
  const std::string bytes = read_file(out);
  REQUIRE(dir.entries() == 1);
  {
    auto w = VulnDbWriter::create(out);
    REQUIRE(w.ok());
    CHECK(fs::exists(w.value()->temp_path()));
    CHECK(fs::path(w.value()->temp_path()).parent_path() == fs::path(dir.path));
    REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.20-main.json"), *w.value()).ok());
    std::string text = read_file(testdata("scenario/secdb/v3.18-main.json"));
    auto bad = import_alpine_secdb_text(text.substr(0, 500), "v3.18-main.json", *w.value());
    REQUIRE_FALSE(bad.ok());
    // The caller drops the writer on error.
  }
  CHECK(dir.entries() == 1);
  CHECK(read_file(out) == bytes);
  auto db = VulnDb::open(out);
  REQUIRE(db.ok());
  CHECK(db.value()->revision() == before.revision);
}

TEST_CASE("revision: same content same revision, any change a new one") {
  TempDir dir;
  auto a = build_sample(dir.file("a.db"), kT0);
  auto b = build_sample(dir.file("b.db"), kT0 + std::chrono::hours(48));
  CHECK(a.revision == b.revision);
  CHECK(a.built_at != b.built_at);

  auto w = VulnDbWriter::create(dir.file("c.db"));
  REQUIRE(w.ok());
  REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.14-main.json"), *w.value()).ok());
  REQUIRE(
      import_debian_tracker_file(testdata("vulndb/debian-tracker/vunnel-debian-tracker-sample.json"), *w.value()).ok());
  REQUIRE(import_osv_path(testdata("vulndb/osv-pypi"), *w.value()).ok());
  REQUIRE(import_osv_path(testdata("vulndb/osv-npm"), *w.value()).ok());
  // Without the NVD page: severities differ, so content differs.
  auto c = w.value()->commit(kT0);
  REQUIRE(c.ok());
  CHECK(c->revision != a.revision);

  // One changed fixed version changes it too.
  auto w2 = VulnDbWriter::create(dir.file("d.db"));
  REQUIRE(w2.ok());
  AdvisoryRecord r;
  r.advisory.vuln_id = "CVE-2099-1";
  r.advisory.ecosystem = "alpine";
  r.advisory.release = "3.20";
  r.advisory.package = "x";
  r.advisory.fixed_version = "1.0-r0";
  REQUIRE(w2.value()->add_advisory(r).ok());
  auto d1 = w2.value()->commit(kT0);
  REQUIRE(d1.ok());
  auto w3 = VulnDbWriter::create(dir.file("e.db"));
  REQUIRE(w3.ok());
  r.advisory.fixed_version = "1.0-r1";
  REQUIRE(w3.value()->add_advisory(r).ok());
  auto d2 = w3.value()->commit(kT0);
  REQUIRE(d2.ok());
  CHECK(d1->revision != d2->revision);
}

TEST_CASE("duplicate advisories from two inputs are stored once") {
  TempDir dir;
  auto w = VulnDbWriter::create(dir.file("db"));
  REQUIRE(w.ok());
  REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.15-main.json"), *w.value()).ok());
  REQUIRE(import_alpine_secdb_file(testdata("vulndb/alpine-secdb/v3.15-main.subset.json"), *w.value()).ok());
  auto info = w.value()->commit(kT0);
  REQUIRE(info.ok());
  CollectingSink once;
  REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.15-main.json"), once).ok());
  std::set<std::tuple<std::string, std::string, std::string>> distinct;
  for (const auto& r : once.advisories)
    distinct.insert({r.advisory.package, r.advisory.vuln_id, r.advisory.fixed_version});
  CollectingSink subset;
  REQUIRE(import_alpine_secdb_file(testdata("vulndb/alpine-secdb/v3.15-main.subset.json"), subset).ok());
  for (const auto& r : subset.advisories)
    distinct.insert({r.advisory.package, r.advisory.vuln_id, r.advisory.fixed_version});
  CHECK(info->advisories == distinct.size());
}

TEST_CASE("bulk insert: 20,000 synthetic advisories in one commit") {
  TempDir dir;
  auto w = VulnDbWriter::create(dir.file("bulk.db"));
  REQUIRE(w.ok());
  std::vector<AdvisoryRecord> recs(20000);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto& a = recs[i].advisory;
    a.vuln_id = "CVE-2099-" + std::to_string(i);
    a.ecosystem = "alpine";
    a.release = "3.20";
    a.package = "pkg" + std::to_string(i % 500);
    a.fixed_version = "1." + std::to_string(i) + "-r0";
  }
  REQUIRE(w.value()->add_advisories(recs).ok());
  auto info = w.value()->commit(kT0);
  REQUIRE(info.ok());
  CHECK(info->advisories == 20000);
  auto db = VulnDb::open(dir.file("bulk.db"));
  REQUIRE(db.ok());
  CHECK(db.value()->advisories("alpine", "3.20", "pkg7")->size() == 40);
}

TEST_CASE("db info renders sources, counts, time and revision") {
  TempDir dir;
  auto built = build_sample(dir.file("db.sqlite"));
  auto info = read_db_info(dir.file("db.sqlite"));
  REQUIRE(info.ok());
  CHECK(info->revision == built.revision);
  CHECK(info->advisories == built.advisories);
  CHECK(info->advisories_by_ecosystem == built.advisories_by_ecosystem);
  CHECK(info->advisories_by_ecosystem.at("pypi") == 3);
  CHECK(info->advisories_by_ecosystem.at("npm") == 1);
  std::string text = render_db_info(info.value());
  CHECK(text.find("Revision:        " + built.revision) != std::string::npos);
  CHECK(text.find("Built at:        2026-01-01T00:00:00Z") != std::string::npos);
  CHECK(text.find("test samples") != std::string::npos);
}

TEST_CASE("MemoryVulnStore stands in for the DB") {
  MemoryVulnStore store;
  Advisory a;
  a.vuln_id = "GHSA-x";
  a.ecosystem = "pypi";
  a.package = "Foo_Bar";
  store.add(a);
  VulnDetail d;
  d.vuln_id = "GHSA-x";
  d.title = "t";
  store.add(d);
  const VulnStore& s = store;
  CHECK(s.advisories("pypi", "", "foo-bar")->size() == 1);
  CHECK(s.detail("GHSA-x")->value().title == "t");
  CHECK_FALSE(s.detail("nope")->has_value());
}
