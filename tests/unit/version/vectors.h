// Reading the tab-separated vector files of testdata/versions/ (shared by the version tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/test_support.h"

namespace scangate::test {

struct VectorRow {
  int line = 0;
  std::vector<std::string> fields;  // empty fields kept
  std::string text;                 // "file:line: raw line", for failure messages
};

// Every non-comment, non-blank line of testdata/<rel>, split on tabs.
inline std::vector<VectorRow> read_vectors(const std::string& rel) {
  std::string data = read_file(testdata(rel));
  std::vector<VectorRow> rows;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos <= data.size()) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    std::string line = data.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    VectorRow row;
    row.line = line_no;
    row.text = rel + ":" + std::to_string(line_no) + ": " + line;
    std::size_t b = 0;
    while (true) {
      std::size_t tab = line.find('\t', b);
      if (tab == std::string::npos) {
        row.fields.push_back(line.substr(b));
        break;
      }
      row.fields.push_back(line.substr(b, tab - b));
      b = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// "<" -> -1, "=" -> 0, ">" -> 1; anything else -> 99 (a broken row).
inline int expected_sign(std::string_view s) {
  if (s == "<") return -1;
  if (s == "=") return 0;
  if (s == ">") return 1;
  return 99;
}

inline int sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// Go-style escapes (\t \n \r \\ \") as they appear in some vector fields.
inline std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char n = s[i + 1];
      char r = n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
      if (n == 't' || n == 'n' || n == 'r' || n == '\\' || n == '"') {
        out.push_back(r);
        ++i;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace scangate::test
