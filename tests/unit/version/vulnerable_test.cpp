// is_vulnerable() against the npm, pep440 and generic rows of testdata/versions/
// trivy_isvulnerable.tsv (Trivy's library compare tests).
#include <catch2/catch.hpp>

#include <map>

#include "scanner/version/vulnerable.h"
#include "vectors.h"

namespace sv = scangate::version;
using scangate::test::read_vectors;

namespace {

// The header: "-" = field absent, nil = explicit nil, "" = a list holding the empty string;
// entries are separated by ';'.
std::vector<std::string> parse_list(const std::string& field) {
  std::vector<std::string> out;
  if (field == "-" || field == "nil") return out;
  std::size_t b = 0;
  while (true) {
    std::size_t semi = field.find(';', b);
    std::string item = field.substr(b, semi == std::string::npos ? std::string::npos : semi - b);
    out.push_back(item == "\"\"" ? std::string() : item);
    if (semi == std::string::npos) break;
    b = semi + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("is_vulnerable matches trivy_isvulnerable.tsv for npm, pep440 and generic", "[version][vulnerable]") {
  const std::map<std::string, sv::Scheme> ecosystems = {
      {"npm", sv::Scheme::kSemver},
      {"pep440", sv::Scheme::kPep440},
      // AllowLocalSpecifier: local labels in the specifiers compare strictly, which is what
      // satisfies(kPep440) does whenever a specifier carries a local label.
      {"pep440(allowLocalSpec)", sv::Scheme::kPep440},
      {"generic", sv::Scheme::kGeneric},
  };
  std::map<std::string, int> ran;
  for (const auto& row : read_vectors("versions/trivy_isvulnerable.tsv")) {
    auto it = ecosystems.find(row.fields[0]);
    if (it == ecosystems.end()) continue;  // maven, rubygems, bitnami: other ecosystems
    INFO(row.text);
    REQUIRE(row.fields.size() == 7);
    REQUIRE((row.fields[5] == "true" || row.fields[5] == "false"));
    bool want = row.fields[5] == "true";
    const std::string& name = row.fields[6];
    auto got = sv::is_vulnerable(it->second, row.fields[1], parse_list(row.fields[2]), parse_list(row.fields[3]),
                                 parse_list(row.fields[4]));
    // Trivy logs a parse error and answers "not vulnerable"; only its invalid-input and
    // improper-constraint rows may fail to parse here.
    bool invalid_row = name.find("invalid") != std::string::npos || name.find("improper") != std::string::npos;
    if (!got.ok()) {
      CAPTURE(got.error().message);
      CHECK(invalid_row);
      CHECK(got.error().kind == scangate::ErrorKind::kFormat);
      CHECK_FALSE(want);
    } else {
      CHECK_FALSE(invalid_row);
      CHECK(*got == want);
    }
    ++ran[row.fields[0]];
  }
  CHECK(ran["npm"] >= 11);
  CHECK(ran["pep440"] >= 9);
  CHECK(ran["pep440(allowLocalSpec)"] >= 2);
  CHECK(ran["generic"] >= 8);
}
