#include "scanner/core/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>

namespace scangate::log {

namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
constexpr size_t kMinSecret = 4;

// The process-wide state. Never destroyed: threads may still log while statics are torn down.
struct State {
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::atomic<int> format{static_cast<int>(Format::kText)};
  std::mutex write_mu;  // guards `sink` and serializes lines
  Sink sink;
  std::mutex secrets_mu;
  std::shared_ptr<const std::vector<std::string>> secrets = std::make_shared<std::vector<std::string>>();
  std::deque<std::string> secrets_added;  // oldest first, for the bound below
};

// Secrets that rotate (a service-account token, re-read every hour) would otherwise grow the list,
// and the cost of every log line, for as long as the process runs. The oldest go first: a
// rotated-out token has expired long before 256 newer ones were read.
constexpr size_t kMaxSecrets = 256;

State& state() {
  static State* s = new State();
  return *s;
}

Sink exchange_sink(Sink sink) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.write_mu);
  std::swap(s.sink, sink);
  return sink;
}

void write_stderr(std::string_view line) {
  while (!line.empty()) {
    ssize_t n = ::write(2, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.remove_prefix(static_cast<size_t>(n));
  }
}

void write_line(std::string_view line) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.write_mu);
  if (s.sink)
    s.sink(line);
  else
    write_stderr(line);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string now_rfc3339_ms() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms % 1000 < 0) --secs;
  int frac = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", frac);
  return buf;
}

// --- UTF-8 ---

// The code point starting at s[i] and its length in bytes; length 0 for an invalid sequence
// (overlong, surrogate, beyond U+10FFFF, truncated, stray continuation byte).
struct CodePoint {
  char32_t cp = 0;
  size_t len = 0;
};

CodePoint decode_utf8(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && b(k) >= lo && b(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(i + 1)) return {};
    return {static_cast<char32_t>(((c & 0x1F) << 6) | (b(i + 1) & 0x3F)), 2};
  }
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    if (!cont(i + 1, lo, hi) || !cont(i + 2)) return {};
    return {static_cast<char32_t>(((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F)), 3};
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return {};
    return {static_cast<char32_t>(((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
                                  (b(i + 3) & 0x3F)),
            4};
  }
  return {};
}

// Valid code points that still move or reorder what a terminal shows: C1 controls (NEL is a line
// break to some readers), the Unicode line and paragraph separators, bidirectional overrides.
bool invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void append_hex(std::string& out, const char* prefix, unsigned value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += prefix;
  for (int d = digits - 1; d >= 0; --d) out += kHex[(value >> (4 * d)) & 0xF];
}

// --- logfmt ---

// The escaped form of `v` and whether it must be quoted.
std::string logfmt_value(std::string_view v, bool always_quote) {
  std::string body;
  body.reserve(v.size() + 2);
  bool quote = always_quote || v.empty();
  for (size_t i = 0; i < v.size();) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      CodePoint p = decode_utf8(v, i);
      if (p.len == 0) {
        append_hex(body, "\\x", c, 2);
        quote = true;
        ++i;
      } else if (invisible_control(p.cp)) {
        append_hex(body, "\\u", static_cast<unsigned>(p.cp), 4);
        quote = true;
        i += p.len;
      } else {
        body.append(v.substr(i, p.len));
        i += p.len;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        body += "\\\"";
        quote = true;
        break;
      case '\\':
        body += "\\\\";
        quote = true;
        break;
      case '\n':
        body += "\\n";
        quote = true;
        break;
      case '\r':
        body += "\\r";
        quote = true;
        break;
      case '\t':
        body += "\\t";
        quote = true;
        break;
      case ' ':
      case '=':
        body += static_cast<char>(c);
        quote = true;
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          append_hex(body, "\\x", c, 2);
          quote = true;
        } else {
          body += static_cast<char>(c);
        }
    }
  }
  if (!quote) return body;
  return "\"" + body + "\"";
}

// --- JSON ---

void append_json_string(std::string& out, std::string_view v) {
  out += '"';
  for (size_t i = 0; i < v.size();) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      CodePoint p = decode_utf8(v, i);
      if (p.len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else if (invisible_control(p.cp)) {
        append_hex(out, "\\u", static_cast<unsigned>(p.cp), 4);
        i += p.len;
      } else {
        out.append(v.substr(i, p.len));
        i += p.len;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F)
          append_hex(out, "\\u", c, 4);
        else
          out += static_cast<char>(c);
    }
  }
  out += '"';
}

// Keys come from code, but a key must never be able to break a line either.
std::string safe_key(std::string_view key) {
  std::string k;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    k += ok ? c : '_';
  }
  if (k.empty()) k = "_";
  if (k == "time" || k == "level" || k == "component" || k == "msg") k += '_';
  return k;
}

// --- Redaction ---

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool ident_char(char c) { return alnum(c) || c == '_' || c == '-'; }
bool blank(char c) { return c == ' ' || c == '\t'; }

enum class KeyKind { kNone, kToken, kSecret, kAuthorization };

// token, password, secret, apiKey, authorization, also as the end of a longer name
// (access_token, X-Api-Key, DB_PASSWORD, Proxy-Authorization).
KeyKind classify_key(std::string_view ident, bool* colon_ok) {
  std::string n;
  for (char c : ident)
    if (c != '_' && c != '-' && c != '.') n += lower(c);
  auto ends = [&](std::string_view suffix) {
    return n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  *colon_ok = false;
  if (ends("authorization")) {
    *colon_ok = true;
    return KeyKind::kAuthorization;
  }
  if (ends("apikey") || ends("password") || ends("passwd")) {
    *colon_ok = true;  // header and YAML style: "X-Api-Key: ...", "password: ..."
    return KeyKind::kSecret;
  }
  if (ends("token") || ends("secret")) return KeyKind::kToken;  // "token: " is too often prose
  return KeyKind::kNone;
}

bool value_stop(char c, bool whole_line) {
  if (c == '\n' || c == '\r' || c == '"' || c == '\'') return true;
  if (whole_line) return c == ',';
  return blank(c) || c == ',' || c == ';' || c == '&' || c == ')' || c == ']' || c == '}' || c == '<' || c == '>';
}

// After "Bearer " or "Basic ": the end of the credential starting at `k`, or `k` when there is
// none (an auth-param such as realm="..." of a WWW-Authenticate challenge is not one).
size_t credential_end(std::string_view s, size_t k, bool bearer) {
  size_t e = k;
  bool letters_only = true;
  while (e < s.size()) {
    char c = s[e];
    bool ok = alnum(c) || c == '+' || c == '/' || (bearer && (c == '-' || c == '.' || c == '_' || c == '~'));
    if (!ok) break;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) letters_only = false;
    ++e;
  }
  if (e == k) return k;
  size_t pad = e;
  while (pad < s.size() && s[pad] == '=') ++pad;
  if (letters_only && pad == e + 1 && pad < s.size() && (s[pad] == '"' || alnum(s[pad]))) return k;
  return pad;
}

std::string redact_patterns(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // A URL's password: scheme://user:PASSWORD@host
    if (s[i] == ':' && s.substr(i, 3) == "://") {
      size_t a = i + 3, e = a;
      while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#' && !blank(s[e]) && s[e] != '"' && s[e] != '\'' &&
             s[e] != '\n' && s[e] != '\r')
        ++e;
      size_t at = s.substr(a, e - a).rfind('@');
      if (at != std::string_view::npos) {
        at += a;
        size_t colon = s.substr(a, at - a).find(':');
        if (colon != std::string_view::npos && a + colon + 1 < at) {
          out.append(s.substr(i, a + colon + 1 - i));
          out += kRedacted;
          i = at;
          continue;
        }
      }
      out += s[i++];
      continue;
    }
    if (!ident_char(s[i]) || (i > 0 && ident_char(s[i - 1]))) {
      out += s[i++];
      continue;
    }
    size_t j = i;
    while (j < n && ident_char(s[j])) ++j;
    std::string_view ident = s.substr(i, j - i);
    out.append(ident);
    // Authorization schemes: "Bearer TOKEN", "Basic BASE64".
    bool bearer = ident == "Bearer" || ident == "bearer" || ident == "BEARER";
    bool basic = ident == "Basic" || ident == "BASIC";
    if (bearer || basic) {
      size_t k = j;
      while (k < n && blank(s[k])) ++k;
      if (k > j) {
        size_t e = credential_end(s, k, bearer);
        if (e > k) {
          out.append(s.substr(j, k - j));
          out += kRedacted;
          i = e;
          continue;
        }
      }
    }
    bool colon_ok = false;
    KeyKind kind = classify_key(ident, &colon_ok);
    if (kind != KeyKind::kNone) {
      bool quoted_key = i > 0 && s[i - 1] == '"' && j < n && s[j] == '"';  // JSON: "token": "..."
      size_t k = j + (quoted_key ? 1 : 0);
      while (k < n && blank(s[k])) ++k;
      bool sep = k < n && ((s[k] == '=' && !(k + 1 < n && s[k + 1] == '=')) ||
                           (s[k] == ':' && (quoted_key || colon_ok) && !(k + 1 < n && s[k + 1] == ':')));
      if (sep) {
        size_t v = k + 1;
        while (v < n && blank(s[v])) ++v;
        size_t vs = v, ve = v;
        if (v < n && (s[v] == '"' || s[v] == '\'')) {
          char q = s[v];
          vs = ve = v + 1;
          while (ve < n && s[ve] != q && s[ve] != '\n') ve += (s[ve] == '\\' && ve + 1 < n) ? 2 : 1;
          ve = std::min(ve, n);
        } else {
          while (ve < n && !value_stop(s[ve], kind == KeyKind::kAuthorization)) ++ve;
          while (kind == KeyKind::kAuthorization && ve > vs && blank(s[ve - 1])) --ve;
        }
        if (ve > vs && !s.substr(vs).starts_with(kRedacted)) {
          out.append(s.substr(j, vs - j));
          out += kRedacted;
          i = ve;
          continue;
        }
      }
    }
    i = j;
  }
  return out;
}

void replace_all(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), kRedacted);
    pos += kRedacted.size();
  }
}

std::shared_ptr<const std::vector<std::string>> secrets_snapshot() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.secrets_mu);
  return s.secrets;
}

// A literal field is written bare; only what JSON reads as a number or boolean qualifies.
bool bare_literal(std::string_view v) {
  if (v == "true" || v == "false") return true;
  if (v.empty()) return false;
  for (char c : v)
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return false;
  return (v[0] >= '0' && v[0] <= '9') || (v[0] == '-' && v.size() > 1);
}

// Field names whose value is a credential whatever it looks like.
bool sensitive_key(std::string_view key) {
  bool colon_ok = false;
  return classify_key(key, &colon_ok) != KeyKind::kNone;
}

}  // namespace

const char* to_string(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

const char* to_string(Format format) { return format == Format::kJson ? "json" : "text"; }

std::optional<Level> parse_level(std::string_view text) {
  if (iequals(text, "debug")) return Level::kDebug;
  if (iequals(text, "info")) return Level::kInfo;
  if (iequals(text, "warn") || iequals(text, "warning")) return Level::kWarn;
  if (iequals(text, "error")) return Level::kError;
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view text) {
  if (iequals(text, "text") || iequals(text, "logfmt")) return Format::kText;
  if (iequals(text, "json")) return Format::kJson;
  return std::nullopt;
}

Field::Field(std::string k, double v) : key(std::move(k)) {
  if (std::isnan(v)) {
    value = "NaN";
  } else if (std::isinf(v)) {
    value = v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    value.assign(buf, ec == std::errc() ? p : buf);
    literal = true;
  }
}

Logger Logger::with(Fields fields) const {
  Logger l = *this;
  l.bound_.insert(l.bound_.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  return l;
}

Logger Logger::at_least(Level floor) const {
  Logger l = *this;
  l.floor_ = std::max(l.floor_, floor);
  return l;
}

bool Logger::enabled(Level lvl) const {
  return lvl >= floor_ && static_cast<int>(lvl) >= state().level.load(std::memory_order_relaxed);
}

void Logger::log(Level lvl, std::string_view msg, const Fields& fields) const {
  if (!enabled(lvl)) return;
  Event e;
  e.time = now_rfc3339_ms();
  e.level = lvl;
  e.component = component_;
  e.msg = std::string(msg);
  e.fields.reserve(fields.size() + bound_.size());
  e.fields.insert(e.fields.end(), fields.begin(), fields.end());
  e.fields.insert(e.fields.end(), bound_.begin(), bound_.end());
  write_line(render(e, format()));
}

void set_level(Level lvl) { state().level.store(static_cast<int>(lvl)); }
Level level() { return static_cast<Level>(state().level.load()); }
void set_format(Format f) { state().format.store(static_cast<int>(f)); }
Format format() { return static_cast<Format>(state().format.load()); }
Sink set_sink(Sink sink) { return exchange_sink(std::move(sink)); }

std::optional<std::string> take_flags(std::vector<std::string>& args) {
  std::optional<Format> fmt;
  std::optional<Level> lvl;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (name != "--log-format" && name != "--log-level") {
      rest.push_back(a);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return "flag " + name + " needs a value";
      value = args[++i];
    }
    if (name == "--log-format") {
      fmt = parse_format(value);
      if (!fmt) return "--log-format must be text or json, not '" + value + "'";
    } else {
      lvl = parse_level(value);
      if (!lvl) return "--log-level must be debug, info, warn or error, not '" + value + "'";
    }
  }
  args = std::move(rest);
  if (fmt) set_format(*fmt);
  if (lvl) set_level(*lvl);
  return std::nullopt;
}

std::string flags_help() {
  return "  --log-format text|json        log lines as logfmt text or as JSON objects, one per line [default: text]\n"
         "  --log-level LEVEL             least severe level logged: debug, info, warn, error [default: info]\n";
}

void add_secret(std::string_view secret) {
  if (secret.size() < kMinSecret) return;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.secrets_mu);
  if (std::find(s.secrets->begin(), s.secrets->end(), secret) != s.secrets->end()) return;
  auto next = std::make_shared<std::vector<std::string>>(*s.secrets);
  next->emplace_back(secret);
  s.secrets_added.emplace_back(secret);
  if (s.secrets_added.size() > kMaxSecrets) {
    auto oldest = std::find(next->begin(), next->end(), s.secrets_added.front());
    if (oldest != next->end()) next->erase(oldest);
    s.secrets_added.pop_front();
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::stable_sort(next->begin(), next->end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  s.secrets = std::move(next);
}

std::string redact(std::string_view text, const std::vector<std::string>& more) {
  std::string out(text);
  auto registered = secrets_snapshot();
  for (const auto& s : *registered) replace_all(out, s);
  for (const auto& s : more) replace_all(out, s);
  return redact_patterns(out);
}

std::string render(const Event& e, Format f) {
  std::string line;
  line.reserve(96 + e.msg.size());
  if (f == Format::kJson) {
    line += "{\"time\":";
    append_json_string(line, e.time);
    line += ",\"level\":\"";
    line += to_string(e.level);
    line += "\",\"component\":";
    append_json_string(line, e.component);
    line += ",\"msg\":";
    append_json_string(line, redact(e.msg));
    for (const auto& fld : e.fields) {
      line += ',';
      append_json_string(line, safe_key(fld.key));
      line += ':';
      if (sensitive_key(fld.key))
        append_json_string(line, kRedacted);
      else if (fld.literal && bare_literal(fld.value))
        line += fld.value;
      else
        append_json_string(line, redact(fld.value));
    }
    line += "}\n";
    return line;
  }
  line += "time=";
  line += logfmt_value(e.time, false);
  line += " level=";
  line += to_string(e.level);
  line += " component=";
  line += logfmt_value(e.component, false);
  line += " msg=";
  line += logfmt_value(redact(e.msg), true);
  for (const auto& fld : e.fields) {
    line += ' ';
    line += safe_key(fld.key);
    line += '=';
    if (sensitive_key(fld.key))
      line += logfmt_value(kRedacted, false);
    else if (fld.literal)
      line += logfmt_value(fld.value, false);
    else
      line += logfmt_value(redact(fld.value), false);
  }
  line += '\n';
  return line;
}

struct Capture::State {
  mutable std::mutex mu;
  std::string text;
  Sink previous;
};

Capture::Capture(Format f) : state_(std::make_shared<State>()), previous_format_(format()) {
  set_format(f);
  auto st = state_;
  state_->previous = exchange_sink([st](std::string_view line) {
    std::lock_guard<std::mutex> lock(st->mu);
    st->text.append(line);
  });
}

Capture::~Capture() {
  exchange_sink(std::move(state_->previous));
  set_format(previous_format_);
}

std::vector<std::string> Capture::lines() const {
  std::string all = text();
  std::vector<std::string> out;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) nl = all.size();
    out.push_back(all.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string Capture::text() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->text;
}

}  // namespace scangate::log
