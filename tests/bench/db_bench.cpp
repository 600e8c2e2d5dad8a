// Vulnerability DB figures (issue 3): DB open time and per-package matching cost as the DB grows
// from the real scenario feeds alone to +1k, +10k and +100k synthetic advisories. Prints figures;
// asserts nothing. Usage: db_bench TESTDATA_DIR OUT_DIR
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "scanner/analyze/analyzer.h"
#include "scanner/match/matcher.h"
#include "scanner/vulndb/alpine_secdb.h"
#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/vuln_db.h"
#include "scanner/vulndb/writer.h"

using namespace scangate;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool build(const std::string& testdata, const std::string& out, size_t synthetic) {
  auto w = vulndb::VulnDbWriter::create(out);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.error().message.c_str());
    return false;
  }
  for (const char* v : {"3.10", "3.14", "3.15", "3.18", "3.20"}) {
    auto r = vulndb::import_alpine_secdb_file(testdata + "/scenario/secdb/v" + v + "-main.json", **w);
    if (!r.ok()) return false;
  }
  if (!vulndb::import_nvd_path(testdata + "/scenario/nvd/nvdcve-2.0-scenario.json", **w).ok()) return false;
  // Synthetic advisories: spread over 5,000 package names in the same Alpine releases the
  // real images use, so the look-ups of real packages share the index with them.
  std::vector<vulndb::AdvisoryRecord> batch;
  std::mt19937 rng(42);
  const char* releases[] = {"3.10", "3.14", "3.15", "3.18", "3.20"};
  for (size_t i = 0; i < synthetic; ++i) {
    vulndb::AdvisoryRecord rec;
    auto& a = rec.advisory;
    a.vuln_id = "CVE-2099-" + std::to_string(100000 + i);
    a.ecosystem = "alpine";
    a.release = releases[i % 5];
    a.package = "synthetic-pkg-" + std::to_string(rng() % 5000);
    a.kind = vulndb::AdvisoryKind::kAlpineSecdb;
    a.status = vulndb::FixStatus::kFixed;
    a.fixed_version = std::to_string(rng() % 10) + "." + std::to_string(rng() % 50) + "-r" + std::to_string(rng() % 9);
    a.cve_id = a.vuln_id;
    batch.push_back(std::move(rec));
    if (batch.size() == 10000) {
      if (!(*w)->add_advisories(batch).ok()) return false;
      batch.clear();
    }
  }
  if (!batch.empty() && !(*w)->add_advisories(batch).ok()) return false;
  auto info = (*w)->commit(std::chrono::system_clock::now());
  if (!info.ok()) {
    std::fprintf(stderr, "%s\n", info.error().message.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: db_bench TESTDATA_DIR OUT_DIR\n");
    return 2;
  }
  std::string testdata = argv[1], out = argv[2];
  std::filesystem::create_directories(out);

  // The inventory of the scenario image (python:3.6.15-alpine3.14).
  auto analyzers = AnalyzerRegistry::builtin();
  std::string db_text = slurp(testdata + "/scenario/installed/python-3.6.15-alpine3.14.installed");
  Inventory inv;
  inv.os = {"alpine", "3.14.3", "", ""};
  for (const auto& a : analyzers.all())
    if (a->required("lib/apk/db/installed")) inv.packages = a->analyze({"lib/apk/db/installed", db_text})->packages;

  std::printf("%-12s %12s %10s %12s %14s %10s\n", "synthetic", "build_s", "size_MB", "open_ms(p50)", "match_us/pkg",
              "findings");
  for (size_t n : {size_t{0}, size_t{1000}, size_t{10000}, size_t{100000}}) {
    std::string path = out + "/bench-" + std::to_string(n) + ".sqlite";
    auto t0 = Clock::now();
    if (!build(testdata, path, n)) return 1;
    double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> opens, matches;
    size_t findings = 0;
    for (int i = 0; i < 20; ++i) {
      auto t1 = Clock::now();
      auto db = vulndb::VulnDb::open(path);
      opens.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
      if (!db.ok()) return 1;
      auto t2 = Clock::now();
      auto m = match_inventory(inv, **db);
      matches.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t2).count() /
                        static_cast<double>(inv.packages.size()));
      if (!m.ok()) return 1;
      findings = m->findings.size();
    }
    double mb = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
    std::printf("%-12zu %12.2f %10.1f %12.3f %14.1f %10zu\n", n, build_s, mb, median(opens), median(matches), findings);
  }
  std::printf(
      "(match = all %zu packages of python:3.6.15-alpine3.14 matched on a freshly opened DB, first run "
      "included; median of 20)\n",
      inv.packages.size());
  return 0;
}
