// The one logger: one line per event whatever the values hold, JSON that parses, levels,
// components, and redaction in both formats.
#include "scanner/core/log.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

using namespace scangate;
using nlohmann::json;

namespace {

log::Event event(std::string msg, log::Fields fields = {}, log::Level level = log::Level::kWarn) {
  log::Event e;
  e.time = "2026-05-01T12:00:00.123Z";
  e.level = level;
  e.component = "cspm";
  e.msg = std::move(msg);
  e.fields = std::move(fields);
  return e;
}

std::string text_of(const log::Event& e) { return log::render(e, log::Format::kText); }

// The value of field `key` as written in a text line (quotes and escapes kept).
std::string raw_text_value(const log::Event& e) {
  std::string line = text_of(e);
  auto at = line.find(" v=");
  REQUIRE(at != std::string::npos);
  return line.substr(at + 3, line.size() - at - 4);  // up to the trailing '\n'
}

void put_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// An independent logfmt reader: key=value pairs, values bare or quoted with the escapes the
// format documents (\" \\ \n \r \t \xNN \uNNNN). Fails the test on anything else.
std::vector<std::pair<std::string, std::string>> parse_logfmt(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  auto hex = [&](size_t at, size_t n) {
    REQUIRE(at + n <= line.size());
    return static_cast<unsigned>(std::stoul(line.substr(at, n), nullptr, 16));
  };
  while (i < line.size()) {
    size_t eq = line.find('=', i);
    REQUIRE(eq != std::string::npos);
    std::string key = line.substr(i, eq - i);
    REQUIRE(!key.empty());
    REQUIRE(key.find_first_of(" \"\\") == std::string::npos);
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        REQUIRE(i < line.size());
        char c = line[i];
        if (c == '"') {
          ++i;
          break;
        }
        if (c != '\\') {
          value += c;
          ++i;
          continue;
        }
        REQUIRE(i + 1 < line.size());
        char e = line[i + 1];
        i += 2;
        switch (e) {
          case '"': value += '"'; break;
          case '\\': value += '\\'; break;
          case 'n': value += '\n'; break;
          case 'r': value += '\r'; break;
          case 't': value += '\t'; break;
          case 'x':
            value += static_cast<char>(hex(i, 2));
            i += 2;
            break;
          case 'u':
            put_utf8(value, hex(i, 4));
            i += 4;
            break;
          default: FAIL("unknown escape \\" << e);
        }
      }
    } else {
      size_t sp = line.find(' ', i);
      if (sp == std::string::npos) sp = line.size();
      value = line.substr(i, sp - i);
      REQUIRE(value.find_first_of("\"=\\") == std::string::npos);
      i = sp;
    }
    out.emplace_back(key, value);
    if (i < line.size()) {
      REQUIRE(line[i] == ' ');
      ++i;
    }
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();  // nlohmann's dump throws on invalid UTF-8
    return true;
  } catch (const json::exception&) { return false; }
}

// Values that have broken log lines somewhere.
const std::vector<std::string>& nasty_values() {
  static const std::vector<std::string> v = {
      "",
      " ",
      "plain",
      "with space",
      "quote\"inside",
      "back\\slash",
      "new\nline",
      "carriage\rreturn",
      "tab\there",
      "bell\x07 and nul" + std::string(1, '\0') + "!",
      "esc\x1b[31mred",
      "del\x7f",
      "a=b",
      "7\nlevel=error msg=\"forged\"",
      "\xff\xfe invalid utf-8 \xc3",
      "overlong \xc0\xaf and surrogate \xed\xa0\x80",
      "gr\xc3\xb6\xc3\x9f"
      "e",                             // größe
      "nel\xc2\x85line",               // U+0085
      "ls\xe2\x80\xa8ps\xe2\x80\xa9",  // U+2028, U+2029
      "bidi\xe2\x80\xaeoverride",      // U+202E
      "emoji \xf0\x9f\x94\x92",        // U+1F512
      "}{\"level\":\"error\"}",
      "trailing\\",
  };
  return v;
}

}  // namespace

TEST_CASE("log: text lines are logfmt with the documented quoting", "[log]") {
  CHECK(text_of(event("upload failed", {{"tenant", "7"}, {"attempt", 2}})) ==
        "time=2026-05-01T12:00:00.123Z level=warn component=cspm msg=\"upload failed\" tenant=7 attempt=2\n");
  CHECK(text_of(event("stopped", {}, log::Level::kInfo)) ==
        "time=2026-05-01T12:00:00.123Z level=info component=cspm msg=\"stopped\"\n");

  auto v = [](std::string value) { return raw_text_value(event("m", {{"v", std::move(value)}})); };
  CHECK(v("plain") == "plain");
  CHECK(v("") == "\"\"");
  CHECK(v("with space") == "\"with space\"");
  CHECK(v("a=b") == "\"a=b\"");
  CHECK(v("quote\"inside") == "\"quote\\\"inside\"");
  CHECK(v("back\\slash") == "\"back\\\\slash\"");
  CHECK(v("new\nline") == "\"new\\nline\"");
  CHECK(v("cr\rlf") == "\"cr\\rlf\"");
  CHECK(v("tab\t") == "\"tab\\t\"");
  CHECK(v("bell\x07") == "\"bell\\x07\"");
  CHECK(v(std::string("nul") + '\0') == "\"nul\\x00\"");
  CHECK(v("esc\x1b") == "\"esc\\x1b\"");
  CHECK(v("del\x7f") == "\"del\\x7f\"");
  CHECK(v("bad\xff") == "\"bad\\xff\"");
  CHECK(v("cut\xc3") == "\"cut\\xc3\"");
  CHECK(v("gr\xc3\xb6\xc3\x9f"
          "e") ==
        "gr\xc3\xb6\xc3\x9f"
        "e");  // valid UTF-8 stays as it is
  CHECK(v("nel\xc2\x85") == "\"nel\\u0085\"");
  CHECK(v("ls\xe2\x80\xa8") == "\"ls\\u2028\"");
  // Numbers and booleans.
  CHECK(v("x") == "x");
  CHECK(raw_text_value(event("m", {{"v", true}})) == "true");
  CHECK(raw_text_value(event("m", {{"v", -42}})) == "-42");
  CHECK(raw_text_value(event("m", {{"v", size_t{18446744073709551615u}}})) == "18446744073709551615");
  CHECK(raw_text_value(event("m", {{"v", 1.5}})) == "1.5");
}

TEST_CASE("log: one event is always exactly one text line, and it reads back to the same values", "[log]") {
  std::vector<std::string> values = nasty_values();
  std::mt19937 rng(20260501);
  for (int n = 0; n < 500; ++n) {  // random bytes too, every byte value included
    std::string s;
    int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) s += static_cast<char>(rng() % 256);
    values.push_back(s);
  }
  for (const auto& value : values) {
    CAPTURE(value);
    std::string line = text_of(event(value, {{"v", value}, {"k\n=\" ey", value}}));
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    CHECK(line.back() == '\n');
    CHECK(line.find('\r') == std::string::npos);
    for (unsigned char c : line) CHECK((c >= 0x20 || c == '\n'));
    CHECK(line.find('\x7f') == std::string::npos);
    line.pop_back();
    auto kv = parse_logfmt(line);
    REQUIRE(kv.size() == 6);
    CHECK(kv[0].first == "time");
    CHECK(kv[1] == std::pair<std::string, std::string>{"level", "warn"});
    CHECK(kv[2] == std::pair<std::string, std::string>{"component", "cspm"});
    CHECK(kv[3].first == "msg");
    CHECK(kv[3].second == value);
    CHECK(kv[4].second == value);
    CHECK(kv[5].first == "k____ey");  // a key cannot break the line either
    CHECK(kv[5].second == value);
  }
}

TEST_CASE("log: json lines parse one by one, and invalid UTF-8 is replaced, never passed through", "[log]") {
  std::vector<std::string> values = nasty_values();
  std::mt19937 rng(7);
  for (int n = 0; n < 500; ++n) {
    std::string s;
    int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) s += static_cast<char>(rng() % 256);
    values.push_back(s);
  }
  for (const auto& value : values) {
    CAPTURE(value);
    std::string line =
        log::render(event(value, {{"v", value}, {"n", 3}, {"ok", false}, {"ratio", 0.25}}), log::Format::kJson);
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    CHECK(line.back() == '\n');
    for (unsigned char c : line) CHECK((c >= 0x20 || c == '\n'));
    json j;
    REQUIRE_NOTHROW(j = json::parse(line));
    CHECK(j["time"] == "2026-05-01T12:00:00.123Z");
    CHECK(j["level"] == "warn");
    CHECK(j["component"] == "cspm");
    CHECK(j["n"] == 3);
    CHECK(j["ok"] == false);
    CHECK(j["ratio"] == 0.25);
    if (valid_utf8(value)) {
      CHECK(j["msg"] == value);
      CHECK(j["v"] == value);
    } else {
      std::string got = j["v"].get<std::string>();
      CHECK(got.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD
      CHECK(valid_utf8(got));
    }
  }
  // The exact shape.
  CHECK(log::render(event("upload failed", {{"tenant", "7"}, {"attempt", 2}}), log::Format::kJson) ==
        "{\"time\":\"2026-05-01T12:00:00.123Z\",\"level\":\"warn\",\"component\":\"cspm\",\"msg\":\"upload "
        "failed\",\"tenant\":\"7\",\"attempt\":2}\n");
  // Reserved names are not overwritten by a field.
  auto j = json::parse(log::render(event("real", {{"msg", "fake"}, {"level", "error"}}), log::Format::kJson));
  CHECK(j["msg"] == "real");
  CHECK(j["level"] == "warn");
  CHECK(j["msg_"] == "fake");
  CHECK(j["level_"] == "error");
}

TEST_CASE("log: levels, components, bound fields, and the process-wide format", "[log]") {
  CHECK(log::parse_level("debug") == log::Level::kDebug);
  CHECK(log::parse_level("INFO") == log::Level::kInfo);
  CHECK(log::parse_level("warn") == log::Level::kWarn);
  CHECK(log::parse_level("warning") == log::Level::kWarn);
  CHECK(log::parse_level("error") == log::Level::kError);
  CHECK_FALSE(log::parse_level("verbose"));
  CHECK(log::parse_format("text") == log::Format::kText);
  CHECK(log::parse_format("logfmt") == log::Format::kText);
  CHECK(log::parse_format("JSON") == log::Format::kJson);
  CHECK_FALSE(log::parse_format("xml"));

  const log::Level before = log::level();
  {
    log::Capture cap(log::Format::kJson);
    log::Logger lg("registry");
    log::set_level(log::Level::kWarn);
    lg.debug("d");
    lg.info("i");
    lg.warn("w");
    lg.error("e");
    CHECK_FALSE(lg.enabled(log::Level::kInfo));
    log::set_level(log::Level::kDebug);
    lg.debug("d2");
    lg.at_least(log::Level::kError).warn("dropped by the floor");
    lg.at_least(log::Level::kError).error("kept");
    lg.with({{"image", "alpine:3.20"}}).info("bound", {{"n", 1}});
    log::set_level(before);

    auto lines = cap.lines();
    REQUIRE(lines.size() == 5);
    std::vector<std::string> msgs, levels;
    for (const auto& l : lines) {
      auto j = json::parse(l);
      CHECK(j["component"] == "registry");
      msgs.push_back(j["msg"]);
      levels.push_back(j["level"]);
    }
    CHECK(msgs == std::vector<std::string>{"w", "e", "d2", "kept", "bound"});
    CHECK(levels == std::vector<std::string>{"warn", "error", "debug", "error", "info"});
    auto last = json::parse(lines.back());
    CHECK(last["image"] == "alpine:3.20");
    CHECK(last["n"] == 1);
  }
}

TEST_CASE("log: the capture restores the previous sink and format", "[log]") {
  log::Capture outer(log::Format::kText);
  log::Logger lg("engine");
  {
    log::Capture inner(log::Format::kJson);
    lg.info("inner");
    REQUIRE(inner.lines().size() == 1);
    CHECK(json::parse(inner.lines()[0])["msg"] == "inner");
  }
  lg.info("outer");
  REQUIRE(outer.lines().size() == 1);
  CHECK(outer.lines()[0].find("component=engine msg=\"outer\"") != std::string::npos);
  CHECK(log::format() == log::Format::kText);
}

TEST_CASE("log: redaction of credentials in messages and fields, both formats", "[log][redact]") {
  const std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY2FuZ2F0ZSJ9.c2lnbmF0dXJlLXNpZw";
  const std::string b64 = "c2NhbmdhdGU6aHVudGVyMg==";  // scangate:hunter2
  const std::string registered = "file-token-0a1b2c3d4e5f";
  log::add_secret(registered);

  struct Case {
    std::string input;
    std::vector<std::string> secrets;  // must not survive
    std::vector<std::string> kept;     // must survive
  };
  std::vector<Case> cases = {
      {"GET /v2/ with Authorization: Bearer " + jwt, {jwt}, {"GET /v2/", "Authorization: [REDACTED]"}},
      {"header Bearer " + jwt + " was refused", {jwt}, {"Bearer [REDACTED] was refused"}},
      {"sent Basic " + b64, {b64, "c2NhbmdhdGU6aHVudGVyMg"}, {"Basic [REDACTED]"}},
      {"url https://registry.example/token?scope=pull&token=s3cr3tvalue&x=1", {"s3cr3tvalue"}, {"&x=1", "scope=pull"}},
      {"login with password=hunter2hunter2 failed", {"hunter2hunter2"}, {"password=[REDACTED] failed"}},
      {"DB_PASSWORD: 'quoted secret'", {"quoted secret"}, {"DB_PASSWORD: '[REDACTED]'"}},
      {"X-Api-Key: ak_live_123456", {"ak_live_123456"}, {"X-Api-Key: [REDACTED]"}},
      {"config apiKey=AKIA1234567890", {"AKIA1234567890"}, {"apiKey=[REDACTED]"}},
      {"body {\"access_token\":\"" + jwt + "\",\"expires_in\":300}", {jwt}, {"\"expires_in\":300"}},
      {"body {\"token\": \"tok-abcdef-123\"}", {"tok-abcdef-123"}, {"\"token\": \"[REDACTED]\""}},
      {"pulling https://user:pa55word@registry.example/v2/", {"pa55word"}, {"https://user:[REDACTED]@registry"}},
      {"the server said: invalid token " + registered, {registered}, {"invalid token [REDACTED]"}},
      {"--token=" + registered, {registered}, {"--token="}},
  };
  log::Logger lg("cspm");
  for (auto fmt : {log::Format::kText, log::Format::kJson}) {
    log::Capture cap(fmt);
    for (const auto& c : cases)
      lg.warn(c.input, {{"detail", c.input}, {"url", "https://x/?token=" + registered + "&b=1"}});
    // Fields named like a credential are redacted whatever they hold.
    lg.error("fields", {{"token", "plain-looking-value"},
                        {"password", "pw-value-1"},
                        {"Authorization", "Token xyz-value"},
                        {"api_key", "k-value-2"},
                        {"token_file", "/run/secrets/token"}});
    std::string all = cap.text();
    auto lines = cap.lines();
    REQUIRE(lines.size() == cases.size() + 1);
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& c = cases[i];
      CAPTURE(c.input, lines[i]);
      std::string msg;
      if (fmt == log::Format::kJson) {
        msg = json::parse(lines[i])["msg"];
      } else {
        auto kv = parse_logfmt(lines[i]);
        msg = kv[3].second;
      }
      for (const auto& s : c.secrets) CHECK(lines[i].find(s) == std::string::npos);
      for (const auto& k : c.kept) CHECK(msg.find(k) != std::string::npos);
    }
    for (const char* s : {"plain-looking-value", "pw-value-1", "xyz-value", "k-value-2"})
      CHECK(all.find(s) == std::string::npos);
    CHECK(all.find("/run/secrets/token") != std::string::npos);  // a path is no secret
    CHECK(all.find(registered) == std::string::npos);
  }
}

TEST_CASE("log: redaction leaves ordinary text alone", "[log][redact]") {
  for (const std::string s : {
           "the server refused the token; the report was moved to /spool/dead",
           "cannot read the token file /run/secrets/token: no such file",
           "Bearer realm=\"https://auth.example/token\",service=\"registry\",scope=\"repository:a:pull\"",
           "Basic realm=\"registry\"",
           "--token-file FILE or ACCUKNOX_TOKEN",
           "uploaded report.json to https://cspm.example/api/v1/artifact/ (report id 0001-ab)",
           "passwords: 3 found, tokens: 2",
           "https://registry.example:5000/v2/",
       }) {
    CHECK(log::redact(s) == s);
  }
  // Exact values given by the caller, every occurrence.
  CHECK(log::redact("Bearer abc123 and abc123abc123", {"abc123"}) == "Bearer [REDACTED] and [REDACTED][REDACTED]");
  CHECK(log::redact("nothing here", {"", "zzz"}) == "nothing here");
  // Redacting twice changes nothing more.
  std::string once = log::redact("token=abc123def password=xyz987 Bearer qwe.rty");
  CHECK(once == "token=[REDACTED] password=[REDACTED] Bearer [REDACTED]");
  CHECK(log::redact(once) == once);
}

TEST_CASE("log: lines from many threads never mix", "[log]") {
  log::Capture cap(log::Format::kJson);
  std::vector<std::thread> threads;
  constexpr int kThreads = 8, kLines = 200;
  const std::string payload(3000, 'x');  // longer than a pipe's atomic write on some systems
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &payload] {
      log::Logger lg("t" + std::to_string(t));
      for (int i = 0; i < kLines; ++i) lg.info(payload, {{"i", i}});
    });
  for (auto& th : threads) th.join();
  auto lines = cap.lines();
  REQUIRE(lines.size() == kThreads * kLines);
  std::map<std::string, int> per_component;
  for (const auto& l : lines) {
    auto j = json::parse(l);
    CHECK(j["msg"] == payload);
    per_component[j["component"]]++;
  }
  for (const auto& [c, n] : per_component) CHECK(n == kLines);
}

TEST_CASE("log: without a sink, lines go to standard error", "[log]") {
  std::string dir = test::make_temp_dir("sg-log");
  std::string path = dir + "/stderr.txt";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  log::Logger("webhook").error("to stderr", {{"code", 500}});
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::string got = test::read_file(path);
  CHECK(got.find("level=error component=webhook msg=\"to stderr\" code=500\n") != std::string::npos);
  CHECK(std::count(got.begin(), got.end(), '\n') == 1);
}

TEST_CASE("log: take_flags removes and applies --log-format and --log-level, before `--` only", "[log]") {
  const log::Format format_before = log::format();
  const log::Level level_before = log::level();
  std::vector<std::string> args = {"upload",      "--log-format", "json",        "--quiet", "--log-level=warn",
                                   "report.json", "--",           "--log-level", "debug"};
  CHECK_FALSE(log::take_flags(args));
  CHECK(args == std::vector<std::string>{"upload", "--quiet", "report.json", "--", "--log-level", "debug"});
  CHECK(log::format() == log::Format::kJson);
  CHECK(log::level() == log::Level::kWarn);

  log::set_format(log::Format::kText);
  std::vector<std::string> bad = {"--log-format=xml", "--log-level", "debug"};
  auto e = log::take_flags(bad);
  REQUIRE(e);
  CHECK(*e == "--log-format must be text or json, not 'xml'");
  CHECK(bad.size() == 3);                      // untouched on error
  CHECK(log::format() == log::Format::kText);  // and nothing applied
  CHECK(log::level() == log::Level::kWarn);
  std::vector<std::string> missing = {"--log-level"};
  CHECK(log::take_flags(missing) == std::optional<std::string>("flag --log-level needs a value"));
  std::vector<std::string> loud = {"--log-level", "LOUD"};
  CHECK(log::take_flags(loud)->find("debug, info, warn or error") != std::string::npos);
  log::set_format(format_before);
  log::set_level(level_before);
}

TEST_CASE("log: the registered secrets are bounded, and the newest are kept", "[log][redact]") {
  // A service-account token re-read at every rotation: 300 of them.
  auto token = [](int i) { return "rotated-token-" + std::to_string(1000 + i) + "-0a1b2c3d"; };
  for (int i = 0; i < 300; ++i) log::add_secret(token(i));
  for (int i = 300 - 256; i < 300; ++i) {
    INFO(token(i));
    CHECK(log::redact("sent " + token(i)) == "sent [REDACTED]");
  }
  // The oldest 44 were dropped: the list holds 256, whatever the uptime.
  CHECK(log::redact("sent " + token(0)) == "sent " + token(0));
  CHECK(log::redact("sent " + token(43)) == "sent " + token(43));
}
