// The one logger of scangate and scangate-webhook: leveled (debug, info, warn, error), named by
// component ("cspm", "webhook", "receiver", ...), with structured key=value fields.
//
//   log::Logger lg("cspm");
//   lg.warn("upload failed", {{"tenant", tenant}, {"attempt", n}});
//
// Every event is exactly one line, in one of two formats chosen for the whole process:
//   text  logfmt: time=2026-05-01T12:00:00.123Z level=warn component=cspm msg="upload failed" tenant=7 attempt=2
//         A value is quoted when it is empty or holds a space, '"', '=', '\' or any control character;
//         inside quotes \" \\ \n \r \t and \xNN (other control bytes, invalid UTF-8) escape it.
//   json  {"time":"...","level":"warn","component":"cspm","msg":"upload failed","tenant":"7","attempt":2}
//         Strings escaped as JSON requires; invalid UTF-8 becomes U+FFFD.
// Redaction happens here and only here, on the message and on every field value before formatting:
// `Bearer <token>`, `Basic <base64>`, `token=`, `password=`, `apiKey`, `Authorization:` values,
// passwords in URLs, values of fields named like a credential, and every secret registered with
// add_secret(). Lines are written whole, one write per line, to the process-wide sink (stderr
// unless set_sink() says otherwise), so threads never interleave within a line.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scangate::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

const char* to_string(Level level);    // debug | info | warn | error
const char* to_string(Format format);  // text | json
// "debug", "info", "warn" (or "warning"), "error"; case-insensitive.
std::optional<Level> parse_level(std::string_view text);
// "text" (or "logfmt"), "json"; case-insensitive.
std::optional<Format> parse_format(std::string_view text);

// One key=value of an event. Numbers and booleans stay unquoted in JSON.
struct Field {
  std::string key;
  std::string value;
  bool literal = false;  // a number or boolean (JSON without quotes)

  Field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  Field(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(v ? v : "") {}
  Field(std::string k, bool v) : key(std::move(k)), value(v ? "true" : "false"), literal(true) {}
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) Field(std::string k, T v)
      : key(std::move(k)), value(std::to_string(v)), literal(true) {}
  Field(std::string k, double v);
};
using Fields = std::vector<Field>;

class Logger {
 public:
  explicit Logger(std::string component = "scangate") : component_(std::move(component)) {}

  // A logger that adds `fields` to every event (after the event's own).
  Logger with(Fields fields) const;
  // A logger that also drops events below `floor` (e.g. --quiet), whatever the process level.
  Logger at_least(Level floor) const;

  const std::string& component() const { return component_; }
  bool enabled(Level level) const;

  void log(Level level, std::string_view msg, const Fields& fields = {}) const;
  void debug(std::string_view msg, const Fields& fields = {}) const { log(Level::kDebug, msg, fields); }
  void info(std::string_view msg, const Fields& fields = {}) const { log(Level::kInfo, msg, fields); }
  void warn(std::string_view msg, const Fields& fields = {}) const { log(Level::kWarn, msg, fields); }
  void error(std::string_view msg, const Fields& fields = {}) const { log(Level::kError, msg, fields); }

 private:
  std::string component_;
  Fields bound_;
  Level floor_ = Level::kDebug;
};

// --- Process-wide configuration (thread-safe; takes effect for the next event). ---
void set_level(Level level);  // default info
Level level();
void set_format(Format format);  // default text
Format format();
// Where finished lines go (each with its trailing '\n'); called under the logger's lock, one call
// per line, so it must not log itself. An empty Sink restores stderr. Returns the sink it replaced.
using Sink = std::function<void(std::string_view line)>;
Sink set_sink(Sink sink);

// The flags both binaries take, anywhere on the command line before a `--`:
//   --log-format text|json   --log-level debug|info|warn|error   (`--flag VALUE` or `--flag=VALUE`)
// Removes them from `args` and applies them (set_format, set_level). Returns an error message
// naming the flag when a value is missing or unknown (then nothing is applied).
std::optional<std::string> take_flags(std::vector<std::string>& args);
// Their --help lines.
std::string flags_help();

// Registers a secret (a token read from a file, a password): from now on it is replaced by
// [REDACTED] wherever it appears in a message or field. Values shorter than 4 bytes are ignored:
// redacting them would garble every line and they are no secret anyway. The 256 most recently
// added are kept (rotating tokens must not grow the list forever).
void add_secret(std::string_view secret);

// What the logger does to every message and field value: the patterns above, the registered
// secrets and `more` (any non-empty value) become [REDACTED]. Also for error messages that leave
// the process another way.
std::string redact(std::string_view text, const std::vector<std::string>& more = {});

// The line written for one event (redaction included, trailing '\n' included).
struct Event {
  std::string time;  // RFC 3339, UTC, milliseconds
  Level level = Level::kInfo;
  std::string component;
  std::string msg;
  Fields fields;
};
std::string render(const Event& event, Format format);

// For tests: while alive, lines go to memory (in `format`) instead of the previous sink; the
// previous sink and format come back on destruction.
class Capture {
 public:
  explicit Capture(Format format = Format::kText);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  std::vector<std::string> lines() const;  // without the trailing '\n'
  std::string text() const;                // everything, as written

 private:
  struct State;
  std::shared_ptr<State> state_;
  Format previous_format_;
};

}  // namespace scangate::log
