// A small declarative schema for YAML configuration files (yaml-cpp).
//
// A file is described as a tree of Types: a mapping with known keys (each a Field with a Type,
// possibly required), lists, free-form maps, and scalars (string, bool, whole number with a range,
// number, duration, one of a set of values). Each scalar Type hands what it read to a setter, so
// a schema binds a document straight into the caller's own struct:
//
//   Policy p;
//   auto schema = yaml_schema::mapping({
//       {"mode", yaml_schema::one_of({"enforce", "warn", "audit"}, [&](size_t i) { p.mode = Mode(i); })},
//       {"ignoreUnfixed", yaml_schema::boolean([&](bool b) { p.ignore_unfixed = b; })},
//   });
//   yaml_schema::Checker c;
//   yaml_schema::check(root, schema, c);
//
// Checking never stops at the first problem: every problem of a document is collected, each with
// the line and column of its key (or list item), the key path ("scan.maxAge", "rules[0].keywords"),
// and what is allowed (known keys, enum values). describe() words a problem the default way
// ("expected a list, got a map", "'block' is not allowed; allowed: enforce, warn, audit"); callers
// that must keep an older wording render the structured fields themselves.
//
// Unknown keys and keys given twice are always problems. A null value (`key:` with nothing after
// it) is a problem ("got no value") unless the type says null reads as empty.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/duration.h"
#include "scanner/core/result.h"

namespace scangate::yaml_schema {

enum class ProblemKind {
  kSyntax,        // not YAML at all; message is yaml-cpp's
  kType,          // a list where a single value belongs, ...; expected/found/hint
  kUnknownKey,    // allowed = the known keys; message = a custom text, or ""
  kDuplicateKey,  // the same key twice in one mapping
  kMissing,       // a required key is absent; message = why it is needed
  kValue,         // the value is of the right kind but not allowed; message = the whole sentence
};

struct Problem {
  ProblemKind kind = ProblemKind::kValue;
  int line = 0;                      // 1-based; 0 = unknown
  int column = 0;                    // 1-based; 0 = unknown
  std::string path;                  // "scan.maxAge", "rules[0].keywords"; "" = the document itself
  std::string message;               // see ProblemKind
  std::string expected;              // kType: "a list", "a map of keys", "a single value"
  std::string found;                 // kType: "a single value", "no value", ...
  std::string hint;                  // kType: how to write it (may be "")
  std::vector<std::string> allowed;  // kUnknownKey: the known keys; kValue from one_of: the values
};

// The default wording, without the place:
//   kType          "expected a list, got a map; start each item with `- `"
//   kUnknownKey    "unknown key; allowed: a, b, c" (or the custom message)
//   kDuplicateKey  "appears twice; give each key once"
//   kMissing       "missing; <message>"
//   others         the message
std::string describe(const Problem& p);

// "a list", "a map", "a single value", "no value".
const char* kind_of(const YAML::Node& n);
// 'text' for messages: single-quoted, control characters as '?', cut at 80 characters.
std::string quote(std::string_view s);
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

// Where a value is: its key path, and the line and column of its key (of the item, in a list).
// A node without a position (a null value) takes its parent's.
struct Where {
  std::string path;
  int line = 1;
  int column = 0;

  Where key(const std::string& name, const YAML::Node& key_node) const;
  Where item(std::size_t index, const YAML::Node& item_node) const;
};

// Collects problems.
class Checker {
 public:
  void add(Problem p) { problems_.push_back(std::move(p)); }
  void type_error(const Where& w, const YAML::Node& found, const std::string& expected, const std::string& hint = "");
  void value_error(const Where& w, std::string message, std::vector<std::string> allowed = {});
  void missing(const Where& w, std::string message);

  const std::vector<Problem>& problems() const { return problems_; }
  std::size_t count() const { return problems_.size(); }
  bool ok() const { return problems_.empty(); }
  // Every problem through `render`, one a line.
  std::string render(const std::function<std::string(const Problem&)>& one) const;

 private:
  std::vector<Problem> problems_;
};

// The node kinds a Type reads; any_of() picks among types by it.
enum class Shape { kScalar, kList, kMap, kAny };

// A type: checks a value at a place, reports problems, and hands what it read to its setter.
struct Type {
  Shape shape = Shape::kAny;
  std::string expected;  // how a type error names it: "a single value", "a list", ...
  std::function<void(const YAML::Node&, const Where&, Checker&)> check;

  void operator()(const YAML::Node& n, const Where& w, Checker& c) const { check(n, w, c); }
};

// ---- scalars ----

// A single value handed to `apply`; an error it returns is the problem (its message, as is).
// With null_is_empty, `key:` with no value reads as "".
Type scalar(std::function<Result<void>(const std::string&)> apply, bool null_is_empty = false);

struct StringRules {
  bool null_is_empty = false;
  std::string if_empty;  // when set, "" is a problem: "is empty; <if_empty>"
  // Returns a message (the whole sentence) to reject a value.
  std::function<std::optional<std::string>(const std::string&)> check;
};
Type string(std::function<void(std::string)> set, StringRules rules = {});

// true, True, TRUE, false, False, FALSE. Else "'yes' is not a boolean; allowed: true, false".
Type boolean(std::function<void(bool)> set);

// A whole number from lo to hi. Else "'x' is not allowed; expected a whole number from lo to hi".
Type integer(std::int64_t lo, std::int64_t hi, std::function<void(std::int64_t)> set);

// A finite decimal number from lo to hi. Else "'x' is not allowed; expected a number from lo to hi".
Type number(double lo, double hi, std::function<void(double)> set);

struct DurationRules {
  DurationUnits units = DurationUnits::kGoAndDays;
  // Returns a message (the whole sentence) to reject a value the grammar allows (e.g. negative);
  // gets the value and the text as written.
  std::function<std::optional<std::string>(std::chrono::nanoseconds, const std::string&)> check;
};
// scanner/core/duration.h's grammar. Else not_a_duration().
Type duration(std::function<void(std::chrono::nanoseconds)> set, DurationRules rules = {});
// "'24' is not a duration (missing unit after 24; use ns, us, ms, s, m, h or d)"
std::string not_a_duration(std::string_view text, const DurationError& e);

struct EnumRules {
  bool ignore_case = false;
  std::string rejection = "is not allowed";  // "'x' <rejection>; allowed: a, b, c"
};
// One of `allowed`; the setter gets its index.
Type one_of(std::vector<std::string> allowed, std::function<void(std::size_t)> set, EnumRules rules = {});

// ---- collections ----

struct ListRules {
  bool null_is_empty = false;
  std::string hint;  // added to a type error: "write [a, b] or one `- item` per line"
};
// Each item is checked by `item` at path "list[i]".
Type list(Type item, ListRules rules = {});

// A list of records: each item is read into a fresh T by `read` (which checks it, usually with a
// mapping(), and reports what else is wrong with it), and appended to `out` only when reading it
// reported no problem.
template <class T>
Type list_into(std::vector<T>& out, std::function<void(T&, const YAML::Node&, const Where&, Checker&)> read,
               ListRules rules = {}) {
  Type item{Shape::kAny, "a map of keys",
            [&out, read = std::move(read)](const YAML::Node& n, const Where& w, Checker& c) {
              T value{};
              const std::size_t before = c.count();
              read(value, n, w, c);
              if (c.count() == before) out.push_back(std::move(value));
            }};
  return list(std::move(item), std::move(rules));
}

struct Field {
  std::string key;
  Type type;
  bool required = false;
  std::string if_missing;  // why it is needed: "missing; <if_missing>"
};
struct MapRules {
  bool null_is_empty = false;
};
// Known keys, in the order their names are listed in unknown-key problems. Missing required keys
// are reported at the mapping's own place, after the problems inside it.
Type mapping(std::vector<Field> fields, MapRules rules = {});

// Any keys. `key_check` may reject a key with a message (reported as kUnknownKey); `value_for`
// gives the type of a key's value.
Type free_map(std::function<std::optional<std::string>(const std::string& key)> key_check,
              std::function<Type(const std::string& key)> value_for, MapRules rules = {});

// The first of `types` whose shape fits the value. A value none fits is a type error naming
// `expected` ("a string or a list of strings").
Type any_of(std::vector<Type> types, std::string expected);

// Accepts anything and reads nothing (a key another source has set already).
Type ignored();

// ---- documents ----

// Every document of `text` (an empty text has none). A syntax error is a kSyntax problem (with
// its line and column when yaml-cpp knows them) and returns nullopt.
std::optional<std::vector<YAML::Node>> load_all(std::string_view text, Checker& c);

// Runs `type` over a document's root, whose place is line 1 and path "".
void check(const YAML::Node& root, const Type& type, Checker& c);

}  // namespace scangate::yaml_schema
