// Reads shared/testdata/secrets/EXPECTED.tsv (Trivy's TestSecretScanner table): one case
// per (test name, config, input), each with its expected findings in report order.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace scangate::test {

struct ExpectedFinding {
  std::string rule_id, severity;
  int start_line = 0, end_line = 0;
  std::uint64_t offset = 0;
  std::optional<std::string> match;  // nullopt: the table names a Go identifier instead
};

struct SecretCase {
  std::string name;
  std::string config;     // basename under secrets/, "" for built-ins only
  std::string input;      // basename under secrets/
  std::string scan_path;  // the path Trivy's test passes ("testdata/<input>")
  std::vector<ExpectedFinding> findings;
};

inline std::string basename_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// Undoes Go string-literal escaping and expands the table's two notations:
// "prefix <<Go expr continues:+ strings.Repeat("*", N)>>" and "<<Go identifier X>>".
inline std::optional<std::string> decode_match(const std::string& raw) {
  if (raw.rfind("<<Go identifier", 0) == 0) return std::nullopt;
  std::string text = raw;
  std::string suffix;
  const std::string marker = " <<Go expr continues:+ strings.Repeat(\"*\", ";
  if (auto p = text.find(marker); p != std::string::npos) {
    const int n = std::stoi(text.substr(p + marker.size()));
    suffix.assign(static_cast<std::size_t>(n), '*');
    text = text.substr(0, p);
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char c = text[++i];
      if (c == 'n')
        out.push_back('\n');
      else if (c == 't')
        out.push_back('\t');
      else
        out.push_back(c);  // \" and \\ .
    } else {
      out.push_back(text[i]);
    }
  }
  return out + suffix;
}

inline std::vector<SecretCase> read_secret_cases() {
  std::vector<SecretCase> cases;
  std::istringstream in(read_file(testdata("secrets/EXPECTED.tsv")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> c;
    std::size_t i = 0;
    for (;;) {
      const std::size_t j = line.find('\t', i);
      c.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    c.resize(9);
    const std::string config = c[1].empty() ? "" : basename_of(c[1]);
    const std::string input = basename_of(c[2]);
    if (cases.empty() || cases.back().name != c[0] || cases.back().config != config || cases.back().input != input) {
      cases.push_back({c[0], config, input, c[2], {}});
    }
    if (c[3] == "(no findings)") continue;
    ExpectedFinding f;
    f.rule_id = c[3];
    f.severity = c[4];
    f.start_line = std::stoi(c[5]);
    f.end_line = std::stoi(c[6]);
    f.offset = std::stoull(c[7]);
    f.match = decode_match(c[8]);
    cases.back().findings.push_back(f);
  }
  return cases;
}

}  // namespace scangate::test
