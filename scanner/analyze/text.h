// Small text helpers shared by the analyzers (internal to scanner/analyze).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scangate::text {

// Splits on '\n', dropping one trailing '\r' per line. A final newline adds no empty line.
std::vector<std::string_view> lines(std::string_view s);
std::string_view trim(std::string_view s);
std::string lower(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// "file:line" for messages.
std::string where(std::string_view path, size_t line_no);

}  // namespace scangate::text
