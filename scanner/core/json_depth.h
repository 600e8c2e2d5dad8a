// How deeply a JSON text nests, counted on the raw bytes before any parser builds a tree. A DOM
// parser (nlohmann/json) spends some 80 bytes of heap per level, so a 4 MiB body of '[' costs
// ~300 MiB once parsed: registry answers and artifacts are checked with this first, and refused
// when they nest deeper than any real document does.
#pragma once

#include <cstddef>
#include <string_view>

namespace scangate {

// The deepest nesting of arrays and objects in `text` (brackets inside strings do not count);
// stops counting once it passes `limit`.
size_t json_nesting(std::string_view text, size_t limit);

// Real manifests, indexes, image configs and token answers nest at most 6 levels.
inline constexpr size_t kMaxRegistryJsonNesting = 32;

}  // namespace scangate
