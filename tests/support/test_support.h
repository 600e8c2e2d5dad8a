#pragma once
#include <string>

namespace scangate::test {
// Path under tests/data (SCANGATE_TESTDATA=DIR overrides it at run time).
std::string testdata(const std::string& rel);
// Whole file as a string; fails the test (throws) when unreadable.
std::string read_file(const std::string& path);
// A fresh temporary directory under /tmp, removed when the test process exits
// (SCANGATE_KEEP_TEST_DIRS=1 keeps it).
std::string make_temp_dir(const std::string& prefix);
}  // namespace scangate::test
