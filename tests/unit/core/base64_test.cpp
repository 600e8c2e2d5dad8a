// base64 as Secrets, kubeconfigs, Docker's `auth` and DSSE envelopes hold it (RFC 4648 with
// padding). The invalid forms below were found by base64_fuzz: OpenSSL's block decoder reads '='
// anywhere as zero bits, so they decoded to garbage instead of being refused.
#include "scanner/core/base64.h"

#include <catch2/catch.hpp>

using namespace scangate;

TEST_CASE("base64: RFC 4648's test vectors, both ways", "[core]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    CHECK(base64_decode(encoded) == std::string(plain));
  }
  CHECK(base64_decode("Zm9v\nYmFy") == std::string("foobar"));  // whitespace is ignored
}

TEST_CASE("base64: padding anywhere but at the end, and other non-alphabet bytes, are refused",
          "[core][fuzz-regression]") {
  for (const char* bad : {"IQQ==Q==", "====", "A===", "Zg=a", "Zm9v!A==", "Zm9"})
    CHECK_FALSE(base64_decode(bad).has_value());
}
