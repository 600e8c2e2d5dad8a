// Expected failures as values: Result<T> holds either a T or an Error that says
// what failed, why, and what to do.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace scangate {

enum class ErrorKind {
  kInvalidArgument,  // the user asked for something malformed (bad reference, bad flag)
  kNotFound,         // image, tag, blob or file does not exist
  kAuth,             // credentials missing or rejected
  kNetwork,          // connection failed, timed out, TLS error
  kIntegrity,        // digest mismatch, truncated or corrupt data
  kLimit,            // a configured bound was exceeded
  kFormat,           // input does not parse (JSON, tar, feed, package db)
  kIo,               // local disk problems
  kInternal,
};

const char* to_string(ErrorKind k);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorKind k, std::string msg) : kind(k), message(std::move(msg)) {}

  // Prefixes context: Error{...}.wrap("pulling layer sha256:...") -> "pulling layer ...: <message>"
  Error wrap(const std::string& context) const { return Error(kind, context + ": " + message); }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace scangate

// Propagates an error from an expression returning Result<...>.
#define SG_TRY(expr)                       \
  do {                                     \
    auto&& _sg_r = (expr);                 \
    if (!_sg_r.ok()) return _sg_r.error(); \
  } while (0)
