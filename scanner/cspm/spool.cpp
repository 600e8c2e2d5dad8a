#include "scanner/cspm/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "scanner/core/time_util.h"
#include "scanner/core/fs_util.h"

namespace scangate::cspm {

namespace {

constexpr const char* kReportSuffix = ".json";
constexpr const char* kMetaSuffix = ".meta.json";
constexpr const char* kReasonSuffix = ".reason.json";
constexpr size_t kMaxMetaBytes = 64 * 1024;
constexpr size_t kMaxReportBytes = size_t{4} << 30;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string metadata_json(const Metadata& m) { return nlohmann::json(m).dump(); }

// Metadata is our own file, but a disk can corrupt it: a bad file gives empty metadata.
Metadata parse_metadata(const std::string& text) {
  Metadata out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

struct PendingFile {
  std::string id;
  uint64_t size = 0;
};

// Pending reports (id, size), oldest first.
Result<std::vector<PendingFile>> scan_pending(const std::string& pending_dir) {
  auto names = fs::list_dir(pending_dir);
  if (!names.ok()) return names.error();
  std::vector<PendingFile> out;
  for (const auto& name : *names) {
    if (!ends_with(name, kReportSuffix) || ends_with(name, kMetaSuffix)) continue;
    std::string id = name.substr(0, name.size() - std::string(kReportSuffix).size());
    if (!Spool::valid_id(id)) continue;
    struct stat st {};
    if (::stat((pending_dir + "/" + name).c_str(), &st) != 0) continue;  // delivered meanwhile
    out.push_back({id, static_cast<uint64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(), [](const PendingFile& a, const PendingFile& b) { return a.id < b.id; });
  return out;
}

}  // namespace

EntryClaim::~EntryClaim() {
  if (fd_ >= 0) ::close(fd_);
}

bool Spool::valid_id(const std::string& id) {
  if (id.empty() || id.size() > 100) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-'; });
}

std::string Spool::pending_path(const std::string& id, const char* suffix) const {
  return dir_ + "/pending/" + id + suffix;
}

Result<Spool> Spool::open(const std::string& dir, SpoolOptions options) {
  if (dir.empty()) return Error(ErrorKind::kInvalidArgument, "the spool directory is empty (set --spool-dir)");
  if (options.max_entries == 0 || options.max_bytes == 0)
    return Error(ErrorKind::kInvalidArgument, "the spool cap must allow at least one report");
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  for (const char* sub : {"", "/tmp", "/pending", "/dead"}) {
    auto r = fs::make_dirs(d + sub);
    if (!r.ok()) return r.error().wrap("opening the upload spool (check --spool-dir)");
  }
  Spool spool(d, std::move(options));
  SG_TRY(spool.recover());
  return spool;
}

Result<void> Spool::recover() {
  auto lock = fs::DirLock::acquire(dir_ + "/lock");
  if (!lock.ok()) return lock.error();
  // Every enqueue holds the lock, so whatever sits in tmp/ now was left by a crashed process.
  auto tmp = fs::list_dir(dir_ + "/tmp");
  if (!tmp.ok()) return tmp.error();
  for (const auto& name : *tmp) {
    SG_TRY(fs::remove_file(dir_ + "/tmp/" + name));
    log_.warn("spool: removed an incomplete write left by a crash: tmp/" + name, {{"spool", dir_}});
  }
  auto names = fs::list_dir(dir_ + "/pending");
  if (!names.ok()) return names.error();
  for (const auto& name : *names) {
    if (!ends_with(name, kMetaSuffix)) continue;
    std::string id = name.substr(0, name.size() - std::string(kMetaSuffix).size());
    if (!fs::exists(pending_path(id, kReportSuffix))) {
      SG_TRY(fs::remove_file(dir_ + "/pending/" + name));
      log_.warn("spool: removed metadata without a report: pending/" + name, {{"spool", dir_}});
    }
  }
  return Ok();
}

Result<EnqueueResult> Spool::enqueue(const std::string& bytes, Metadata metadata) {
  if (bytes.size() > options_.max_bytes)
    return Error(ErrorKind::kLimit, "the report (" + std::to_string(bytes.size()) +
                                        " bytes) is larger than the whole spool cap (" +
                                        std::to_string(options_.max_bytes) + " bytes)");
  if (!metadata.count(kMetaCreatedAt)) metadata[kMetaCreatedAt] = utc_now_rfc3339();

  auto lock = fs::DirLock::acquire(dir_ + "/lock");
  if (!lock.ok()) return lock.error();

  EnqueueResult result;
  auto pending = scan_pending(dir_ + "/pending");
  if (!pending.ok()) return pending.error();
  uint64_t total = 0;
  for (const auto& p : *pending) total += p.size;
  size_t count = pending->size();
  auto fits = [&] { return count + 1 <= options_.max_entries && total + bytes.size() <= options_.max_bytes; };
  auto cap_text = [&] {
    return std::to_string(count) + " reports, " + std::to_string(total) + " bytes; cap " +
           std::to_string(options_.max_entries) + " reports, " + std::to_string(options_.max_bytes) + " bytes";
  };
  if (!fits() && options_.overflow == OverflowPolicy::kRejectNew) {
    log_.error("spool full (" + cap_text() + "): the new report was not stored", {{"spool", dir_}});
    return Error(ErrorKind::kLimit, "the upload spool " + dir_ + " is full (" + cap_text() +
                                        "); deliver the backlog (scangate upload --drain) or raise the cap");
  }
  for (const auto& victim : *pending) {
    if (fits()) break;
    auto claim_r = claim(victim.id);
    if (!claim_r.ok()) return claim_r.error();
    if (!*claim_r) continue;  // being sent by another process right now
    SG_TRY(fs::remove_file(pending_path(victim.id, kReportSuffix)));
    SG_TRY(fs::remove_file(pending_path(victim.id, kMetaSuffix)));
    --count;
    total -= victim.size;
    ++dropped_;
    result.dropped.push_back(victim.id);
    log_.warn("spool full: dropped the oldest pending report " + victim.id + " (" + std::to_string(victim.size) +
                  " bytes) to make room; dropped so far: " + std::to_string(dropped_),
              {{"spool", dir_}, {"report", victim.id}, {"dropped_total", dropped_}});
  }
  if (!fits())
    return Error(ErrorKind::kLimit, "the upload spool " + dir_ + " is full (" + cap_text() +
                                        ") and every older report is being sent right now");

  // Creation time in nanoseconds first (lexical order = age order), then randomness for uniqueness.
  std::random_device rd;
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char idbuf[64];
  std::snprintf(idbuf, sizeof idbuf, "%020lld-%04llx-%08x", static_cast<long long>(ns),
                static_cast<unsigned long long>(seq_++ & 0xffff), static_cast<unsigned>(rd()));
  std::string id = idbuf;

  std::string tmp_meta = dir_ + "/tmp/" + id + kMetaSuffix;
  std::string tmp_report = dir_ + "/tmp/" + id + kReportSuffix;
  auto cleanup = [&] {
    ::unlink(tmp_meta.c_str());
    ::unlink(tmp_report.c_str());
  };
  auto w1 = fs::write_new_file_synced(tmp_meta, metadata_json(metadata));
  if (!w1.ok()) return w1.error().wrap("spooling the report");
  auto w2 = fs::write_new_file_synced(tmp_report, bytes);
  if (!w2.ok()) {
    cleanup();
    return w2.error().wrap("spooling the report");
  }
  if (::rename(tmp_meta.c_str(), pending_path(id, kMetaSuffix).c_str()) != 0 ||
      ::rename(tmp_report.c_str(), pending_path(id, kReportSuffix).c_str()) != 0) {
    int err = errno;
    cleanup();
    ::unlink(pending_path(id, kMetaSuffix).c_str());
    return Error(ErrorKind::kIo,
                 "spooling the report: cannot rename into " + dir_ + "/pending: " + fs::errno_text(err));
  }
  SG_TRY(fs::fsync_dir(dir_ + "/pending"));
  result.id = id;
  return result;
}

Result<std::vector<SpoolEntry>> Spool::list() const {
  auto pending = scan_pending(dir_ + "/pending");
  if (!pending.ok()) return pending.error();
  std::vector<SpoolEntry> out;
  for (const auto& p : *pending) {
    SpoolEntry e;
    e.id = p.id;
    e.size = p.size;
    auto meta = fs::read_file(pending_path(p.id, kMetaSuffix), kMaxMetaBytes);
    if (meta.ok()) e.metadata = parse_metadata(*meta);
    out.push_back(std::move(e));
  }
  return out;
}

Result<SpoolEntry> Spool::load(const std::string& id) const {
  if (!valid_id(id)) return Error(ErrorKind::kInvalidArgument, "not a spool entry id: '" + id + "'");
  SpoolEntry e;
  e.id = id;
  auto payload = fs::read_file(pending_path(id, kReportSuffix), kMaxReportBytes);
  if (!payload.ok()) {
    if (payload.error().kind == ErrorKind::kNotFound)
      return Error(ErrorKind::kNotFound, "spool entry " + id + " is no longer pending");
    return payload.error();
  }
  e.payload = std::move(payload.value());
  e.size = e.payload.size();
  auto meta = fs::read_file(pending_path(id, kMetaSuffix), kMaxMetaBytes);
  if (meta.ok()) {
    e.metadata = parse_metadata(*meta);
  } else {
    log_.warn("spool: entry " + id + " has no readable metadata; sending it as a report (TR)",
              {{"spool", dir_}, {"report", id}});
  }
  return e;
}

Result<std::unique_ptr<EntryClaim>> Spool::claim(const std::string& id) const {
  if (!valid_id(id)) return Error(ErrorKind::kInvalidArgument, "not a spool entry id: '" + id + "'");
  std::string path = pending_path(id, kReportSuffix);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::unique_ptr<EntryClaim>();
    return Error(ErrorKind::kIo, "cannot open spool entry " + path + ": " + fs::errno_text(errno));
  }
  auto claim = std::make_unique<EntryClaim>(fd);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return std::unique_ptr<EntryClaim>();
    return Error(ErrorKind::kIo, "cannot lock spool entry " + path + ": " + fs::errno_text(errno));
  }
  // The previous holder may have delivered (unlinked) the entry between our open and our lock.
  struct stat by_fd {
  }, by_path{};
  if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
      by_fd.st_dev != by_path.st_dev)
    return std::unique_ptr<EntryClaim>();
  return claim;
}

Result<void> Spool::ack(const std::string& id) {
  if (!valid_id(id)) return Error(ErrorKind::kInvalidArgument, "not a spool entry id: '" + id + "'");
  auto lock = fs::DirLock::acquire(dir_ + "/lock");
  if (!lock.ok()) return lock.error();
  SG_TRY(fs::remove_file(pending_path(id, kReportSuffix)));  // the commit point
  SG_TRY(fs::remove_file(pending_path(id, kMetaSuffix)));
  return fs::fsync_dir(dir_ + "/pending");
}

Result<void> Spool::dead_letter(const std::string& id, const std::string& reason, int http_status) {
  if (!valid_id(id)) return Error(ErrorKind::kInvalidArgument, "not a spool entry id: '" + id + "'");
  auto lock = fs::DirLock::acquire(dir_ + "/lock");
  if (!lock.ok()) return lock.error();
  std::string report = pending_path(id, kReportSuffix);
  if (!fs::exists(report)) return Error(ErrorKind::kNotFound, "spool entry " + id + " is no longer pending");
  Metadata meta;
  if (auto m = fs::read_file(pending_path(id, kMetaSuffix), kMaxMetaBytes); m.ok()) meta = parse_metadata(*m);
  nlohmann::json why = {{"id", id}, {"reason", reason}, {"at", utc_now_rfc3339()}, {"metadata", meta}};
  if (http_status != 0) why["http_status"] = http_status;
  SG_TRY(fs::write_file_atomic(dir_ + "/tmp/" + id + kReasonSuffix, dir_ + "/dead/" + id + kReasonSuffix,
                               why.dump(2) + "\n"));
  if (::rename(report.c_str(), (dir_ + "/dead/" + id + kReportSuffix).c_str()) != 0)
    return Error(ErrorKind::kIo, "cannot move " + report + " to the dead-letter folder: " + fs::errno_text(errno));
  SG_TRY(fs::remove_file(pending_path(id, kMetaSuffix)));
  SG_TRY(fs::fsync_dir(dir_ + "/dead"));
  return fs::fsync_dir(dir_ + "/pending");
}

Result<std::vector<std::string>> Spool::list_dead() const {
  auto names = fs::list_dir(dir_ + "/dead");
  if (!names.ok()) return names.error();
  std::vector<std::string> ids;
  for (const auto& name : *names) {
    if (!ends_with(name, kReportSuffix) || ends_with(name, kMetaSuffix) || ends_with(name, kReasonSuffix)) continue;
    std::string id = name.substr(0, name.size() - std::string(kReportSuffix).size());
    if (valid_id(id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<void> Spool::requeue_dead(const std::string& id) {
  if (!valid_id(id)) return Error(ErrorKind::kInvalidArgument, "not a spool entry id: '" + id + "'");
  auto lock = fs::DirLock::acquire(dir_ + "/lock");
  if (!lock.ok()) return lock.error();
  std::string dead_report = dir_ + "/dead/" + id + kReportSuffix;
  if (!fs::exists(dead_report)) return Error(ErrorKind::kNotFound, "no dead-lettered report " + id);
  Metadata meta;
  if (auto r = fs::read_file(dir_ + "/dead/" + id + kReasonSuffix, kMaxMetaBytes); r.ok()) {
    auto j = nlohmann::json::parse(*r, nullptr, false);
    if (j.is_object() && j.contains("metadata")) meta = parse_metadata(j["metadata"].dump());
  }
  SG_TRY(fs::write_file_atomic(dir_ + "/tmp/" + id + kMetaSuffix, pending_path(id, kMetaSuffix), metadata_json(meta)));
  if (::rename(dead_report.c_str(), pending_path(id, kReportSuffix).c_str()) != 0)
    return Error(ErrorKind::kIo, "cannot move " + dead_report + " back to pending: " + fs::errno_text(errno));
  SG_TRY(fs::remove_file(dir_ + "/dead/" + id + kReasonSuffix));
  SG_TRY(fs::fsync_dir(dir_ + "/pending"));
  return fs::fsync_dir(dir_ + "/dead");
}

}  // namespace scangate::cspm
