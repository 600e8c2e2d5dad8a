#include "scanner/vulndb/json_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace scangate::vulndb::detail {

Result<Json> parse_json(std::string_view text, std::string_view name) {
  try {
    return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string what = e.what();
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    std::string where = e.byte >= text.size() ? " (unexpected end of input: truncated file?)" : "";
    return Error(ErrorKind::kFormat, std::string(name) + ": byte " + std::to_string(e.byte) + ": " + what + where +
                                         "; re-download the feed");
  } catch (const std::exception& e) { return Error(ErrorKind::kFormat, std::string(name) + ": " + e.what()); }
}

const char* json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    case Json::value_t::binary: return "binary";
    case Json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

Error type_error(std::string_view name, const std::string& path, std::string_view expected, const Json& got) {
  return Error(ErrorKind::kFormat, std::string(name) + ": " + (path.empty() ? std::string("(root)") : path) +
                                       ": expected " + std::string(expected) + ", got " + json_type_name(got));
}

std::string join_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string index_path(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

Result<std::string> opt_string(const Json& obj, const char* key, std::string_view name, const std::string& path) {
  const Json* v = member(obj, key);
  if (!v) return std::string();
  if (!v->is_string()) return type_error(name, join_path(path, key), "string", *v);
  return v->get<std::string>();
}

Result<std::string> req_string(const Json& obj, const char* key, std::string_view name, const std::string& path) {
  const Json* v = member(obj, key);
  if (!v) return Error(ErrorKind::kFormat, std::string(name) + ": " + join_path(path, key) + ": missing");
  if (!v->is_string()) return type_error(name, join_path(path, key), "string", *v);
  return v->get<std::string>();
}

Result<const Json*> opt_object(const Json& obj, const char* key, std::string_view name, const std::string& path) {
  const Json* v = member(obj, key);
  if (!v) return static_cast<const Json*>(nullptr);
  if (!v->is_object()) return type_error(name, join_path(path, key), "object", *v);
  return v;
}

Result<const Json*> opt_array(const Json& obj, const char* key, std::string_view name, const std::string& path) {
  const Json* v = member(obj, key);
  if (!v) return static_cast<const Json*>(nullptr);
  if (!v->is_array()) return type_error(name, join_path(path, key), "array", *v);
  return v;
}

std::string dump_compact(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Error(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                 "cannot read " + path + ": " + std::strerror(err));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(ErrorKind::kIo, "error reading " + path);
  return ss.str();
}

std::string base_name(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

}  // namespace scangate::vulndb::detail
