// libFuzzer target: the .trivyignore parser (scanner/policy/ignore_file.h).
//
// Properties: a refusal is kFormat and names the file and a line; every entry has an id without
// whitespace or '#', a line number within the file, and an expiry that is empty or a real
// YYYY-MM-DD date; ignores() holds for each entry on its own expiry date (it still applies then)
// and expired() lists exactly the entries whose date is before `today`.
#include <algorithm>

#include "scanner/policy/ignore_file.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

constexpr std::string_view kFile = "fuzz.trivyignore";

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("ignore_file_fuzz", what, in); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  (void)is_iso_date(in);
  auto list = parse_ignore_file(in, std::string(kFile));
  if (!list.ok()) {
    if (list.error().kind != ErrorKind::kFormat) fail("refused with another kind: " + list.error().message, in);
    if (list.error().message.rfind(std::string(kFile) + ":", 0) != 0)
      fail("the error does not start with FILE:LINE: " + list.error().message, in);
    return 0;
  }
  const auto lines = static_cast<int>(std::count(in.begin(), in.end(), '\n')) + 1;
  for (const auto& e : list->entries) {
    if (e.id.empty() || e.id.find_first_of(" \t\r\n#") != std::string::npos) fail("entry id \"" + e.id + "\"", in);
    if (e.line < 1 || e.line > lines) fail("entry line " + std::to_string(e.line), in);
    if (!e.expires.empty() && !is_iso_date(e.expires)) fail("expiry \"" + e.expires + "\" is not a date", in);
    if (!list->ignores(e.id, e.expires.empty() ? "9999-12-31" : e.expires))
      fail("\"" + e.id + "\" is not ignored on its expiry date", in);
  }
  for (const char* today : {"2000-01-01", "2025-06-15", "9999-12-31"}) {
    std::size_t want = 0;
    for (const auto& e : list->entries) want += !e.expires.empty() && e.expires < today;
    if (list->expired(today).size() != want) fail(std::string("expired(") + today + ") is not the past entries", in);
  }
  return 0;
}
