#pragma once
#include <string>

namespace scangate::test {
// Path under ../shared/testdata (as CI lays it out).
std::string testdata(const std::string& rel);
// Whole file as a string; fails the test (throws) when unreadable.
std::string read_file(const std::string& path);
// A fresh temporary directory, removed by the caller (or left for debugging).
std::string make_temp_dir(const std::string& prefix);
}  // namespace scangate::test
