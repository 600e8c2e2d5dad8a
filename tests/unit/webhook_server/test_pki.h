// A throw-away CA for the server tests (OpenSSL C API, EC P-256): issues server certificates
// for 127.0.0.1 / localhost with chosen serial numbers.
#pragma once

#include <memory>
#include <string>
#include <utility>

namespace scangate::test {

class TestCa {
 public:
  TestCa();
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& ca_pem() const { return ca_pem_; }
  // {certificate PEM, private key PEM} for 127.0.0.1 and localhost.
  std::pair<std::string, std::string> issue(long serial, long valid_days = 30) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string ca_pem_;
};

// Writes `content` to `path` atomically (temp file + rename), as a Secret volume update does.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace scangate::test
