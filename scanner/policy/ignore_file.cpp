#include "scanner/policy/ignore_file.h"

#include <fstream>
#include <sstream>

namespace scangate {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int y = std::stoi(std::string(s.substr(0, 4)));
  int m = std::stoi(std::string(s.substr(5, 2)));
  int d = std::stoi(std::string(s.substr(8, 2)));
  if (m < 1 || m > 12 || d < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = days[m - 1] + ((m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) ? 1 : 0);
  return d <= max;
}

bool IgnoreList::ignores(std::string_view id, std::string_view today) const {
  for (const auto& e : entries) {
    if (e.id == id && (e.expires.empty() || std::string_view(e.expires) >= today)) return true;
  }
  return false;
}

std::vector<IgnoreEntry> IgnoreList::expired(std::string_view today) const {
  std::vector<IgnoreEntry> out;
  for (const auto& e : entries)
    if (!e.expires.empty() && std::string_view(e.expires) < today) out.push_back(e);
  return out;
}

Result<IgnoreList> parse_ignore_file(std::string_view text, const std::string& name) {
  IgnoreList list;
  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    IgnoreEntry e;
    e.line = lineno;
    std::istringstream fields{std::string(line)};
    std::string tok;
    fields >> e.id;
    if (e.id.empty()) continue;  // a line of whitespace trim() keeps ('\f', '\v'): tests/fuzz/ignore_file_fuzz
    while (fields >> tok) {
      if (tok.rfind("exp:", 0) == 0) {
        e.expires = tok.substr(4);
        if (!is_iso_date(e.expires)) {
          return Error(ErrorKind::kFormat, name + ":" + std::to_string(lineno) + ": expiry '" + e.expires +
                                               "' is not a date; write exp:YYYY-MM-DD");
        }
      } else {
        return Error(ErrorKind::kFormat, name + ":" + std::to_string(lineno) + ": unexpected '" + tok +
                                             "' after the id; only exp:YYYY-MM-DD may follow it");
      }
    }
    list.entries.push_back(std::move(e));
  }
  return list;
}

Result<IgnoreList> load_ignore_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kNotFound, "cannot read ignore file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_ignore_file(ss.str(), path);
}

}  // namespace scangate
