// Reads the pkgdb .expected.tsv files: '#' lines are comments (the header), fields are
// tab-separated, empty fields kept.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace scangate::test {

inline std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t i = 0;
    for (;;) {
      size_t j = line.find('\t', i);
      cols.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    rows.push_back(std::move(cols));
  }
  return rows;
}

}  // namespace scangate::test
