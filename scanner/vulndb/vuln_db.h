// Read-only access to a built vulnerability DB. Opening is cheap (a header check and a few meta
// rows); statements are prepared once and reused. Safe to share between threads (look-ups are
// serialised on one connection; each takes microseconds).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "scanner/vulndb/db_info.h"
#include "scanner/vulndb/vuln_store.h"

namespace scangate::vulndb {

class VulnDb final : public VulnStore {
 public:
  // A missing, empty, unreadable, non-SQLite, foreign or other-schema file is an Error that
  // says what to do; never an empty DB.
  static Result<std::unique_ptr<VulnDb>> open(const std::string& path);
  ~VulnDb() override;
  VulnDb(const VulnDb&) = delete;
  VulnDb& operator=(const VulnDb&) = delete;

  Result<std::vector<Advisory>> advisories(std::string_view ecosystem, std::string_view release,
                                           std::string_view package) const override;
  Result<std::optional<VulnDetail>> detail(std::string_view vuln_id) const override;
  std::string revision() const override { return info_.revision; }

  const DbInfo& info() const { return info_; }

 private:
  struct Impl;
  VulnDb(std::unique_ptr<Impl> impl, DbInfo info);
  // Throws nlohmann/std exceptions on damaged JSON columns; detail() turns them into an Error.
  static void decode_detail_json(const std::string& cvss, const std::string& refs, VulnDetail& d);
  std::unique_ptr<Impl> impl_;
  DbInfo info_;
};

}  // namespace scangate::vulndb
