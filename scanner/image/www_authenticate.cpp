#include "scanner/image/www_authenticate.h"

#include <cctype>

namespace scangate {
namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
         c == '/';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::vector<AuthChallenge>> run() {
    std::vector<AuthChallenge> out;
    skip_list_separators();
    if (at_end()) return fail("the header is empty");
    while (!at_end()) {
      std::string_view scheme = token();
      if (scheme.empty()) return fail("expected an authentication scheme");
      AuthChallenge ch;
      ch.scheme = lower(scheme);
      size_t before = pos_;
      skip_ws();
      if (!at_end() && pos_ > before && peek() != ',') {
        // Either token68 or a list of auth-params.
        if (looks_like_param()) {
          auto r = params(ch);
          if (!r.ok()) return r.error();
        } else {
          size_t start = pos_;
          while (!at_end() && is_token68_char(peek())) ++pos_;
          while (!at_end() && peek() == '=') ++pos_;
          if (pos_ == start) return fail("unexpected character after scheme \"" + std::string(scheme) + "\"");
          ch.token68 = std::string(s_.substr(start, pos_ - start));
          skip_ws();
        }
      }
      out.push_back(std::move(ch));
      skip_ws();
      if (at_end()) break;
      if (peek() != ',') return fail("expected ',' between challenges");
      skip_list_separators();
    }
    return out;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void skip_list_separators() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  std::string_view token() {
    size_t start = pos_;
    while (!at_end() && is_tchar(peek())) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  // name BWS "=" BWS (token | quoted-string), where the value does not start with '='.
  bool looks_like_param() const {
    size_t p = pos_;
    size_t start = p;
    while (p < s_.size() && is_tchar(s_[p])) ++p;
    if (p == start) return false;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    if (p >= s_.size() || s_[p] != '=') return false;
    ++p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return p < s_.size() && (s_[p] == '"' || is_tchar(s_[p]));
  }

  Result<void> params(AuthChallenge& ch) {
    while (true) {
      std::string_view name = token();
      skip_ws();
      if (at_end() || peek() != '=') return fail("expected '=' after parameter \"" + std::string(name) + "\"");
      ++pos_;
      skip_ws();
      std::string value;
      if (!at_end() && peek() == '"') {
        ++pos_;
        bool closed = false;
        while (!at_end()) {
          char c = s_[pos_++];
          if (c == '\\') {
            if (at_end()) break;
            value += s_[pos_++];
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed) return fail("unterminated quoted string in parameter \"" + std::string(name) + "\"");
      } else {
        std::string_view v = token();
        if (v.empty()) return fail("parameter \"" + std::string(name) + "\" has no value");
        value = std::string(v);
      }
      ch.params[lower(name)] = std::move(value);
      skip_ws();
      if (at_end() || peek() != ',') return Ok();
      // A comma either separates params or starts the next challenge.
      size_t save = pos_;
      skip_list_separators();
      if (at_end()) return Ok();
      if (!looks_like_param()) {
        pos_ = save;
        return Ok();
      }
    }
  }

  Error fail(const std::string& why) const {
    std::string shown(s_.substr(0, 200));
    return Error(ErrorKind::kFormat,
                 "malformed WWW-Authenticate header (" + why + " at offset " + std::to_string(pos_) + "): " + shown);
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string AuthChallenge::param(std::string_view name) const {
  auto it = params.find(lower(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header) { return Parser(header).run(); }

}  // namespace scangate
