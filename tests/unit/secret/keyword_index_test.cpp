#include "scanner/secret/keyword_index.h"

#include <catch2/catch.hpp>

using scangate::secret::KeywordIndex;

TEST_CASE("keyword index finds keywords case-insensitively, per rule", "[secret][keyword]") {
  const KeywordIndex idx({{"AKIA", "ASIA"}, {"ghp_"}, {}, {"he", "she"}, {"hers"}, {""}, {"-----"}});
  CHECK(idx.rules_hit("export akia0000") == std::vector<bool>{true, false, true, false, false, true, false});
  CHECK(idx.rules_hit("GHP_x") == std::vector<bool>{false, true, true, false, false, true, false});
  // Overlapping keywords: "ushers" holds she, he and hers.
  CHECK(idx.rules_hit("ushers") == std::vector<bool>{false, false, true, true, true, true, false});
  CHECK(idx.rules_hit("----") == std::vector<bool>{false, false, true, false, false, true, false});
  CHECK(idx.rules_hit("x-----BEGIN") == std::vector<bool>{false, false, true, false, false, true, true});
  CHECK(idx.rules_hit("") == std::vector<bool>{false, false, true, false, false, true, false});
}

TEST_CASE("keyword index handles non-ASCII keywords and bytes", "[secret][keyword]") {
  const KeywordIndex idx({{"cl\xC3\xA9"}, {"\"type\": \"service_account\""}});
  CHECK(idx.rules_hit("CL\xC3\xA9=1") == std::vector<bool>{true, false});
  CHECK(idx.rules_hit("{\"TYPE\": \"Service_Account\"}") == std::vector<bool>{false, true});
  CHECK(idx.rules_hit(std::string("\xff\x00\x80", 3)) == std::vector<bool>{false, false});
}

TEST_CASE("keyword index finds keywords anywhere in long content", "[secret][keyword]") {
  // Long content is walked as two halves; a keyword must be found wherever it lies,
  // including across the split and at either end.
  const KeywordIndex idx({{"ghp_"}, {"AGE-SECRET-KEY-1"}, {"x"}});
  const std::size_t n = 10001;
  std::vector<std::size_t> positions = {0, 1, n - 16, n - 4};
  for (std::size_t p = n / 2 - 24; p < n / 2 + 24; ++p) positions.push_back(p);
  for (std::size_t p : positions) {
    INFO("position " << p);
    std::string text(n, '.');
    text.replace(p, 4, "GHP_");
    CHECK(idx.rules_hit(text) == std::vector<bool>{true, false, false});
    std::string text2(n, '.');
    text2.replace(std::min(p, n - 16), 16, "age-secret-key-1");
    CHECK(idx.rules_hit(text2) == std::vector<bool>{false, true, false});
  }
  CHECK(idx.rules_hit(std::string(n, '.')) == std::vector<bool>{false, false, false});
}
