// The on-disk layout of a scangate vulnerability DB (one SQLite file).
#pragma once

#include <cstdint>

namespace scangate::vulndb {

// Bumped whenever the layout changes; a reader refuses other versions.
inline constexpr int kSchemaVersion = 1;
// PRAGMA application_id of every scangate DB ("SGDB").
inline constexpr std::int32_t kApplicationId = 0x53474442;

// Tables, created empty before the import.
extern const char* const kSchemaSql;
// Indexes, created after the bulk insert.
extern const char* const kIndexSql;

}  // namespace scangate::vulndb
