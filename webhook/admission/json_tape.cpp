#include "webhook/admission/json_tape.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>
#include <limits>

namespace scangate::admission::json {

const char* type_name(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kFalse:
    case Type::kTrue: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kObject: return "object";
    case Type::kArray: return "array";
  }
  return "value";
}

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (caller checked the length); -1 when not hex.
int hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hex(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Length of the valid UTF-8 sequence starting at s[i] (i < n, s[i] >= 0x80), 0 if invalid.
std::size_t utf8_sequence(const unsigned char* s, std::size_t i, std::size_t n) {
  const unsigned char c = s[i];
  auto cont = [&](std::size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return (i + 1 < n && s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF && cont(2)) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return (cont(1) && cont(2)) ? 3 : 0;
  if (c == 0xED) return (i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F && cont(2)) ? 3 : 0;  // no surrogates
  if (c == 0xF0) return (i + 1 < n && s[i + 1] >= 0x90 && s[i + 1] <= 0xBF && cont(2) && cont(3)) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return (cont(1) && cont(2) && cont(3)) ? 4 : 0;
  if (c == 0xF4) return (i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x8F && cont(2) && cont(3)) ? 4 : 0;
  return 0;
}

std::uint64_t load8(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

// A mask with the high bit set in each of the 8 bytes at p that is '"', '\\', a control
// character or non-ASCII, exact up to the first such byte (SWAR: a borrow only carries upward
// from a byte that is flagged itself); 0 when all 8 are plain.
std::uint64_t special8(const char* p) {
  const std::uint64_t x = load8(p);
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const std::uint64_t below_space = (x - kOnes * 0x20) & ~x & kHigh;
  const std::uint64_t q = x ^ (kOnes * '"');
  const std::uint64_t quote = (q - kOnes) & ~q & kHigh;
  const std::uint64_t b = x ^ (kOnes * '\\');
  const std::uint64_t backslash = (b - kOnes) & ~b & kHigh;
  return (x & kHigh) | below_space | quote | backslash;
}

void append_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth) : s_(text.data()), n_(text.size()), max_depth_(max_depth) {}

  Result<Tape> run(std::string_view text) {
    Tape tape;
    tape.text_ = text;
    if (n_ >= std::numeric_limits<std::uint32_t>::max()) return fail(0, "document too large");
    toks_ = &tape.toks_;
    toks_->resize(n_ / 4 + 16);        // not initialised (DefaultInitAllocator); grown by push(), trimmed at the end
    std::vector<std::uint32_t> stack;  // open containers
    stack.reserve(32);
    ws();
    // States: expecting a value; after a value (inside a container or at the end).
    for (;;) {
      // --- a value ---
      if (i_ >= n_)
        return fail(i_, stack.empty() ? "empty document: expected a JSON value" : "unexpected end of input");
      const char c = s_[i_];
      if (c == '{' || c == '[') {
        if (stack.size() >= max_depth_) return fail(i_, "nested deeper than " + std::to_string(max_depth_) + " levels");
        push(c == '{' ? Type::kObject : Type::kArray, i_, 0);
        stack.push_back(count_ - 1);
        ++i_;
        ws();
        const char close = c == '{' ? '}' : ']';
        if (i_ < n_ && s_[i_] == close) {
          ++i_;
          stack.pop_back();
          (*toks_)[count_ - 1].end = count_;
        } else if (c == '{') {
          if (!key()) return error_;
          continue;
        } else {
          continue;
        }
      } else if (c == '"') {
        if (!string()) return error_;
      } else if (c == 't') {
        if (!literal("true", Type::kTrue)) return error_;
      } else if (c == 'f') {
        if (!literal("false", Type::kFalse)) return error_;
      } else if (c == 'n') {
        if (!literal("null", Type::kNull)) return error_;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return error_;
      } else {
        return fail(i_, "expected a value");
      }
      // --- after a value ---
      for (;;) {
        ws();
        if (stack.empty()) {
          if (i_ != n_) return fail(i_, "unexpected data after the JSON value");
          toks_->resize(count_);
          return tape;
        }
        Token& top = (*toks_)[stack.back()];
        if (i_ >= n_) return fail(i_, "unexpected end of input");
        const char d = s_[i_];
        if (d == ',') {
          ++i_;
          ws();
          if (top.type == Type::kObject && !key()) return error_;
          break;  // next value
        }
        if ((top.type == Type::kObject && d == '}') || (top.type == Type::kArray && d == ']')) {
          ++i_;
          top.end = count_;
          if (top.type == Type::kObject && !unique_keys(stack)) return error_;
          stack.pop_back();
          continue;  // after the container value
        }
        return fail(i_,
                    top.type == Type::kObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
      }
    }
  }

 private:
  void ws() {
    std::size_t i = i_;
    const std::size_t n = n_;
    const char* s = s_;
    while (i < n) {
      const char c = s[i];
      if (static_cast<unsigned char>(c) > ' ') break;  // compact JSON: nothing to skip
      if (c == ' ') {
        if constexpr (std::endian::native == std::endian::little) {
          if (n - i >= 8) {  // indentation: up to the first byte that is not a space, 8 at a time
            const std::uint64_t x = load8(s + i) ^ 0x2020202020202020ULL;
            i += x ? static_cast<std::size_t>(std::countr_zero(x)) / 8 : 8;
            continue;
          }
        }
        ++i;
      } else if (c == '\n' || c == '\r' || c == '\t') {
        ++i;
      } else {
        break;
      }
    }
    i_ = i;
  }

  [[gnu::always_inline]] void push(Type t, std::size_t pos, std::size_t len, bool escaped = false) {
    if (count_ == toks_->size()) toks_->resize(toks_->size() * 2);
    (*toks_)[count_] = Token{t, escaped, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len), count_ + 1};
    ++count_;
  }

  Error fail(std::size_t at, const std::string& what) {
    error_ = Error(ErrorKind::kFormat, "malformed JSON at line " + line_col(at) + ": " + what);
    return error_;
  }

  // An object key, then ':' (whitespace allowed around it).
  bool key() {
    if (i_ >= n_ || s_[i_] != '"') {
      fail(i_, "expected a string key in an object");
      return false;
    }
    if (!string()) return false;
    ws();
    if (i_ >= n_ || s_[i_] != ':') {
      fail(i_, "expected ':' after an object key");
      return false;
    }
    ++i_;
    ws();
    return true;
  }

  bool literal(const char* word, Type t) {
    const std::size_t len = std::strlen(word);
    if (n_ - i_ < len || std::memcmp(s_ + i_, word, len) != 0) {
      fail(i_, "invalid literal (expected true, false or null)");
      return false;
    }
    push(t, i_, len);
    i_ += len;
    return true;
  }

  bool number() {
    const std::size_t start = i_;
    auto digit = [&] { return i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9'; };
    if (s_[i_] == '-') ++i_;
    if (!digit()) return fail(i_, "invalid number: expected a digit"), false;
    if (s_[i_] == '0') {
      ++i_;
      if (digit()) return fail(i_, "invalid number: leading zero"), false;
    } else {
      while (digit()) ++i_;
    }
    if (i_ < n_ && s_[i_] == '.') {
      ++i_;
      if (!digit()) return fail(i_, "invalid number: expected a digit after '.'"), false;
      while (digit()) ++i_;
    }
    if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digit()) return fail(i_, "invalid number: expected a digit in the exponent"), false;
      while (digit()) ++i_;
    }
    push(Type::kNumber, start, i_ - start);
    return true;
  }

  // The hot loops below work on a local index: s_ is a char pointer, which may alias the
  // member i_, so a loop on i_ itself stores it back to memory on every byte.
  bool string() {
    const std::size_t start = i_ + 1;  // past the opening quote
    std::size_t i = start;
    const std::size_t n = n_;
    const char* s = s_;
    bool escaped = false;
    const auto* u = reinterpret_cast<const unsigned char*>(s);
    for (;;) {
      // Fast path over plain ASCII: eight bytes at a time up to the first special byte, whose
      // offset in a little-endian load is the mask's trailing zero bits / 8; byte by byte at
      // the end of the input (and on big-endian machines).
      bool bytewise = true;
      if constexpr (std::endian::native == std::endian::little) {
        while (n - i >= 8) {
          if (const std::uint64_t m = special8(s + i)) {
            i += static_cast<std::size_t>(std::countr_zero(m)) / 8;
            bytewise = false;
            break;
          }
          i += 8;
        }
      }
      if (bytewise)
        while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\') ++i;
      if (i >= n) return fail(start - 1, "unterminated string"), false;
      const unsigned char c = u[i];
      if (c == '"') break;
      if (c < 0x20) return fail(i, "control character in a string (escape it)"), false;
      if (c >= 0x80) {
        std::size_t k = utf8_sequence(u, i, n);
        if (k == 0) return fail(i, "invalid UTF-8 in a string"), false;
        i += k;
        continue;
      }
      // backslash
      escaped = true;
      if (i + 1 >= n) return fail(i, "unterminated escape"), false;
      const char e = s[i + 1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        i += 2;
        continue;
      }
      if (e != 'u') return fail(i, "invalid escape in a string"), false;
      if (n - i < 6) return fail(i, "truncated \\u escape"), false;
      int cp = hex4(s + i + 2);
      if (cp < 0) return fail(i, "invalid \\u escape (expected 4 hex digits)"), false;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(i, "unpaired low surrogate in a \\u escape"), false;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u')
          return fail(i, "high surrogate without a low surrogate"), false;
        int lo = hex4(s + i + 8);
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(i + 6, "high surrogate without a low surrogate"), false;
        i += 12;
      } else {
        i += 6;
      }
    }
    push(Type::kString, start, i - start, escaped);
    i_ = i + 1;  // past the closing quote
    return true;
  }

  // Decoded key of the string token k (a view of the input when it has no escapes).
  std::string_view key_text(std::uint32_t k, std::string& scratch) const {
    const Token& t = (*toks_)[k];
    if (!t.escaped) return std::string_view(s_ + t.pos, t.len);
    scratch.clear();
    decode_string(std::string_view(s_ + t.pos, t.len), scratch);
    return scratch;
  }

  // Duplicate keys (issue 12): encoding/json, which the API server and the kubelet decode with,
  // keeps the last of two equal keys, and Value::get finds the first, so a review holding both a
  // clean and a vulnerable "spec" could be gated on one and run with the other. Every object
  // with a repeated key is refused (fail closed). Checked when the object on top of `stack`
  // closes. Keys are compared by a print (length, first and last 8 bytes: the whole key up to
  // 16 bytes), pairwise for objects of up to 16 keys; larger objects, and objects with an
  // escaped key (compared decoded), are sorted, so a hostile object of m keys costs
  // O(m log m), not O(m^2).
  struct KeyPrint {
    std::uint64_t head, tail;
    std::uint32_t len, tok;
  };

  KeyPrint print(std::uint32_t k) const {
    const Token& t = (*toks_)[k];
    const char* p = s_ + t.pos;
    KeyPrint kp{0, 0, t.len, k};
    if (t.len >= 8) {
      kp.head = load8(p);
      kp.tail = load8(p + t.len - 8);
    } else if (t.len > 0) {
      if (t.pos + 8 <= n_) {
        kp.head = load8(p) & (~std::uint64_t{0} >> (64 - 8 * t.len));
      } else {
        std::memcpy(&kp.head, p, t.len);
      }
      kp.tail = kp.head;
    }
    return kp;
  }

  bool unique_keys(const std::vector<std::uint32_t>& stack) {
    const std::uint32_t obj = stack.back();
    const std::uint32_t end = (*toks_)[obj].end;
    const Token* toks = toks_->data();
    std::size_t m = 0;
    bool escaped = false;
    for (std::uint32_t k = obj + 1; k < end && m <= kPairwise; k = toks[k + 1].end, ++m) {
      escaped = escaped || toks[k].escaped;
      if (m < kPairwise) prints_[m] = print(k);
    }
    std::uint32_t dup_first = 0, dup = 0;
    if (!escaped && m <= kPairwise) {
      for (std::size_t j = 1; j < m && !dup; ++j) {
        const KeyPrint& b = prints_[j];
        for (std::size_t i = 0; i < j; ++i) {
          const KeyPrint& a = prints_[i];
          if (a.len == b.len && a.head == b.head && a.tail == b.tail &&
              (a.len <= 16 || std::memcmp(s_ + toks[a.tok].pos, s_ + toks[b.tok].pos, a.len) == 0)) {
            dup_first = a.tok;
            dup = b.tok;
            break;
          }
        }
      }
    } else {
      // Decoded keys of escaped tokens go into one buffer; views are taken once it is filled.
      decoded_.clear();
      spans_.clear();
      for (std::uint32_t k = obj + 1; k < end; k = toks[k + 1].end) {
        const Token& t = toks[k];
        if (!t.escaped) continue;
        const std::size_t at = decoded_.size();
        decode_string(std::string_view(s_ + t.pos, t.len), decoded_);
        spans_.emplace_back(at, decoded_.size() - at);
      }
      sorted_.clear();
      std::size_t e = 0;
      for (std::uint32_t k = obj + 1; k < end; k = toks[k + 1].end) {
        const Token& t = toks[k];
        sorted_.emplace_back(t.escaped ? std::string_view(decoded_).substr(spans_[e].first, spans_[e].second)
                                       : std::string_view(s_ + t.pos, t.len),
                             k);
        if (t.escaped) ++e;
      }
      std::sort(sorted_.begin(), sorted_.end());
      for (std::size_t i = 1; i < sorted_.size(); ++i)
        if (sorted_[i].first == sorted_[i - 1].first && (!dup || sorted_[i].second < dup)) {
          dup_first = sorted_[i - 1].second;  // equal keys sort by position: the earlier one
          dup = sorted_[i].second;
        }
    }
    if (!dup) return true;
    std::string scratch;
    std::string msg = "duplicate key ";
    std::string_view name = key_text(dup, scratch);
    append_quoted(name.substr(0, 64), msg);
    msg += " at " + path_to(stack, dup) + " (line " + line_col((*toks_)[dup].pos - 1) + ", first at line " +
           line_col((*toks_)[dup_first].pos - 1) + "): refused, as Kubernetes would use the last value";
    error_ = Error(ErrorKind::kFormat, std::move(msg));
    return false;
  }

  // "3, column 7" for a byte offset.
  std::string line_col(std::size_t at) const {
    std::size_t line = 1, col = 1;
    for (std::size_t k = 0; k < at && k < n_; ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return std::to_string(line) + ", column " + std::to_string(col);
  }

  // JSONPath of the member whose key is token `key`, inside the containers of `stack`:
  // $.request.object.spec.containers[0].image (keys that are not plain names as ["a b"]).
  std::string path_to(const std::vector<std::uint32_t>& stack, std::uint32_t key) const {
    std::string out = "$", scratch;
    auto add_key = [&](std::uint32_t k) {
      std::string_view name = key_text(k, scratch).substr(0, 64);
      bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
      for (char c : name)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
      if (plain) {
        out += '.';
        out += name;
      } else {
        out += '[';
        append_quoted(name, out);
        out += ']';
      }
    };
    for (std::size_t l = 0; l < stack.size(); ++l) {
      const std::uint32_t c = stack[l];
      if (l + 1 == stack.size()) {
        add_key(key);
      } else if ((*toks_)[c].type == Type::kObject) {
        add_key(stack[l + 1] - 1);  // a member's key token precedes its value
      } else {
        std::size_t index = 0;
        for (std::uint32_t i = c + 1; i < stack[l + 1]; i = (*toks_)[i].end) ++index;
        out += '[' + std::to_string(index) + ']';
      }
    }
    return out;
  }

  const char* s_;
  std::size_t n_;
  std::size_t i_ = 0;
  std::size_t max_depth_;
  TokenVector* toks_ = nullptr;
  std::uint32_t count_ = 0;  // tokens written; toks_ is larger until the end
  Error error_;
  // unique_keys' buffers, kept across objects.
  static constexpr std::size_t kPairwise = 16;  // objects up to this many keys are compared pairwise
  KeyPrint prints_[kPairwise];
  std::string decoded_;
  std::vector<std::pair<std::size_t, std::size_t>> spans_;  // escaped keys in decoded_: offset, length
  std::vector<std::pair<std::string_view, std::uint32_t>> sorted_;
};

Result<Tape> Tape::parse(std::string_view text, std::size_t max_depth) {
  Parser p(text, max_depth);
  return p.run(text);
}

Type Value::type() const { return tape_->token(idx_).type; }

std::optional<Value> Value::get(std::string_view key) const {
  const Token* toks = &tape_->token(0);
  const Token& o = toks[idx_];
  if (o.type != Type::kObject) return std::nullopt;
  const char* text = tape_->text().data();
  for (std::uint32_t i = idx_ + 1; i < o.end; i = toks[i + 1].end) {
    const Token& k = toks[i];
    if (k.escaped ? Value(tape_, i).str() == key
                  : (k.len == key.size() && std::memcmp(text + k.pos, key.data(), key.size()) == 0))
      return Value(tape_, i + 1);
  }
  return std::nullopt;
}

std::string Value::str() const {
  std::string out;
  if (!is_string()) return out;
  const Token& t = tape_->token(idx_);
  std::string_view raw = tape_->text().substr(t.pos, t.len);
  if (!t.escaped) return std::string(raw);
  decode_string(raw, out);
  return out;
}

bool Value::string_equals(std::string_view s) const {
  if (!is_string()) return false;
  const Token& t = tape_->token(idx_);
  if (!t.escaped) return t.len == s.size() && std::memcmp(tape_->text().data() + t.pos, s.data(), s.size()) == 0;
  return str() == s;
}

void decode_string(std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t cp = static_cast<std::uint32_t>(hex4(raw.data() + i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t lo = static_cast<std::uint32_t>(hex4(raw.data() + i + 3));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        append_utf8(cp, out);
        break;
      }
      default: out.push_back(e); break;  // " \ /
    }
  }
}

void append_quoted(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = u[i];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
      }
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      std::size_t k = utf8_sequence(u, i, s.size());
      if (k == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(s.data() + i, k);
        i += k;
      }
    }
  }
  out.push_back('"');
}

}  // namespace scangate::admission::json
