// Internal to scanner/vulndb: small RAII helpers over the SQLite C API.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::vulndb::detail {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

inline Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error(ErrorKind::kIo, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "sqlite error"));
}

inline Result<void> exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return Error(ErrorKind::kIo, std::string("sqlite: ") + m);
  }
  return Ok();
}

inline Result<Stmt> prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
      SQLITE_OK)
    return sqlite_error(db, "sqlite prepare");
  return Stmt(s);
}

inline void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

inline std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

}  // namespace scangate::vulndb::detail
