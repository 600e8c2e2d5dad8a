// Internal to scanner/vulndb: JSON parsing with positions, and typed access that names the
// JSON path in its errors ("main.json: packages[3].pkg.secfixes: expected object, got array").
// Includes nlohmann/json: include only from .cpp files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::vulndb::detail {

using Json = nlohmann::json;

// Parses a whole document; a syntax error or truncation becomes "NAME: byte N: <what>".
Result<Json> parse_json(std::string_view text, std::string_view name);

const char* json_type_name(const Json& j);

// "NAME: PATH: expected KIND, got TYPE".
Error type_error(std::string_view name, const std::string& path, std::string_view expected, const Json& got);

// Member access: nullptr when absent (or null, when null_is_absent).
inline const Json* member(const Json& obj, const char* key, bool null_is_absent = true) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (null_is_absent && it->is_null()) return nullptr;
  return &*it;
}

// Typed getters: absent -> default; present but wrong type -> Error naming path.key.
Result<std::string> opt_string(const Json& obj, const char* key, std::string_view name, const std::string& path);
Result<const Json*> opt_object(const Json& obj, const char* key, std::string_view name, const std::string& path);
Result<const Json*> opt_array(const Json& obj, const char* key, std::string_view name, const std::string& path);
Result<std::string> req_string(const Json& obj, const char* key, std::string_view name, const std::string& path);

std::string join_path(const std::string& path, std::string_view key);  // "a.b" / "b"
std::string index_path(const std::string& path, std::size_t i);        // "a[3]"

// Serialises without throwing on invalid UTF-8 (replaced).
std::string dump_compact(const Json& j);

// Whole file into memory; kNotFound / kIo with the path.
Result<std::string> read_whole_file(const std::string& path);
// Base name for messages.
std::string base_name(const std::string& path);

}  // namespace scangate::vulndb::detail
