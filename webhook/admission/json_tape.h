// A small validating JSON parser for the admission hot path: one linear pass builds a flat
// tape of tokens (no per-value allocations, strings stay undecoded slices of the input), and
// Value navigates it. Strict RFC 8259: UTF-8 and escapes are validated, nesting is bounded,
// and nothing recurses, so hostile input costs linear time and fixed stack. An object that
// repeats a key is refused (issue 12), so the first value Value::get finds is the only one.
// Kept over simdjson's On-Demand API by measurement (tests/bench/admission_json_bench.cpp,
// issue 11): no clear gain on the reviews the API server sends, for a new dependency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <memory>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::admission::json {

enum class Type : std::uint8_t { kNull, kFalse, kTrue, kNumber, kString, kObject, kArray };
const char* type_name(Type t);  // "null", "boolean", "number", "string", "object", "array"

struct Token {
  Type type;
  bool escaped;       // strings: contains backslash escapes
  std::uint32_t pos;  // strings: first byte after the quote; others: first byte
  std::uint32_t len;  // strings: raw length between the quotes; numbers: length
  std::uint32_t end;  // containers: index one past their last token; others: own index + 1
};

// An allocator whose value-less construct() leaves trivial types uninitialised, so the parser
// can size its token vector ahead without clearing it.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
};
using TokenVector = std::vector<Token, DefaultInitAllocator<Token>>;

class Tape;

class Value {
 public:
  Value(const Tape* tape, std::uint32_t index) : tape_(tape), idx_(index) {}

  Type type() const;
  const char* type_name() const { return json::type_name(type()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_object() const { return type() == Type::kObject; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_string() const { return type() == Type::kString; }
  bool is_bool() const { return type() == Type::kTrue || type() == Type::kFalse; }
  bool as_bool() const { return type() == Type::kTrue; }

  // Object member by name (the first one); nullopt when absent or not an object.
  std::optional<Value> get(std::string_view key) const;
  // Decoded string value (UTF-8); "" when not a string.
  std::string str() const;
  // Compares a string value with `s` without allocating when it has no escapes.
  bool string_equals(std::string_view s) const;

  // Iteration over array elements / object members (key, value).
  template <class F>
  void for_each_element(F&& f) const;
  template <class F>
  void for_each_member(F&& f) const;

 private:
  friend class Tape;
  const Tape* tape_;
  std::uint32_t idx_;
};

class Tape {
 public:
  // Parses `text`, which must outlive the tape. Errors are ErrorKind::kFormat with the line
  // and column: "malformed JSON at line 1, column 7: expected ':' after an object key", or,
  // for valid JSON whose object repeats a key (compared decoded: "a" and "\u0061" are one):
  // "duplicate key \"spec\" at $.request.object.spec (line 1, column 230, first at line 1,
  // column 120): refused, as Kubernetes would use the last value".
  static Result<Tape> parse(std::string_view text, std::size_t max_depth = 128);

  Value root() const { return Value(this, 0); }
  const Token& token(std::uint32_t i) const { return toks_[i]; }
  std::string_view text() const { return text_; }
  std::uint32_t next(std::uint32_t i) const { return toks_[i].end; }

 private:
  std::string_view text_;
  TokenVector toks_;
  friend class Parser;
};

// Appends `raw` (the inside of a JSON string literal, already validated) decoded to `out`.
void decode_string(std::string_view raw, std::string& out);

// Appends `s` as a JSON string literal (with quotes) to `out`; invalid UTF-8 bytes become
// U+FFFD, so the output is always valid JSON.
void append_quoted(std::string_view s, std::string& out);

template <class F>
void Value::for_each_element(F&& f) const {
  if (!is_array()) return;
  const std::uint32_t end = tape_->token(idx_).end;
  for (std::uint32_t i = idx_ + 1; i < end; i = tape_->next(i)) f(Value(tape_, i));
}

template <class F>
void Value::for_each_member(F&& f) const {
  if (!is_object()) return;
  const std::uint32_t end = tape_->token(idx_).end;
  for (std::uint32_t i = idx_ + 1; i < end; i = tape_->next(i + 1)) f(Value(tape_, i), Value(tape_, i + 1));
}

}  // namespace scangate::admission::json
