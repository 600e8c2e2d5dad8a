// SHA-256 expectations are the FIPS 180-2 / NIST example vectors.
#include <catch2/catch.hpp>

#include <cstring>

#include "scanner/image/digest.h"

using namespace scangate;

namespace {
constexpr const char* kEmpty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

class StringStream : public BlobStream {
 public:
  explicit StringStream(std::string s) : s_(std::move(s)) {}
  Result<size_t> read(char* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    std::memcpy(buf, s_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string s_;
  size_t pos_ = 0;
};

Result<std::string> drain(BlobStream& s, size_t chunk) {
  std::string out(chunk, '\0'), all;
  while (true) {
    auto r = s.read(out.data(), chunk);
    if (!r.ok()) return r.error();
    if (*r == 0) return all;
    all.append(out.data(), *r);
  }
}
}  // namespace

TEST_CASE("sha256 of the NIST vectors", "[digest]") {
  CHECK(sha256_digest("") == kEmpty);
  CHECK(sha256_digest("abc") == kAbc);
  CHECK(sha256_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("digest validation", "[digest]") {
  CHECK(validate_digest(kAbc).ok());
  CHECK(validate_digest("sha512:" + std::string(128, '0')).ok());
  CHECK_FALSE(validate_digest("sha256:" + std::string(63, '0')).ok());
  CHECK_FALSE(validate_digest("sha256:" + std::string(64, 'A')).ok());
  CHECK_FALSE(validate_digest("sha256:" + std::string(64, 'g')).ok());
  CHECK_FALSE(validate_digest("md5:" + std::string(32, '0')).ok());
  CHECK_FALSE(validate_digest(std::string(64, '0')).ok());
  CHECK_FALSE(validate_digest("").ok());
}

TEST_CASE("verified stream passes good data in small chunks", "[digest]") {
  auto s = make_verified_stream(std::make_unique<StringStream>("abc"), kAbc, 3);
  REQUIRE(s.ok());
  auto all = drain(**s, 1);
  REQUIRE(all.ok());
  CHECK(*all == "abc");
}

TEST_CASE("verified stream: digest mismatch names the blob and the actual digest", "[digest]") {
  auto s = make_verified_stream(std::make_unique<StringStream>("abd"), kAbc, -1);
  REQUIRE(s.ok());
  auto all = drain(**s, 2);
  REQUIRE_FALSE(all.ok());
  CHECK(all.error().kind == ErrorKind::kIntegrity);
  CHECK(all.error().message.find(std::string("blob ") + kAbc + " digest mismatch (got sha256:") != std::string::npos);
  // The error sticks.
  char b[4];
  CHECK_FALSE((*s)->read(b, 4).ok());
}

TEST_CASE("verified stream: truncated and oversized blobs", "[digest]") {
  auto shorter = make_verified_stream(std::make_unique<StringStream>("ab"), kAbc, 3);
  auto r1 = drain(**shorter, 8);
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().kind == ErrorKind::kIntegrity);
  CHECK(r1.error().message.find("truncated") != std::string::npos);

  auto longer = make_verified_stream(std::make_unique<StringStream>("abcd"), kAbc, 3);
  auto r2 = drain(**longer, 8);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::kIntegrity);
  CHECK(r2.error().message.find("larger than") != std::string::npos);
}
