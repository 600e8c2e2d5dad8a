#include "scanner/core/yaml_schema.h"

#include <yaml-cpp/eventhandler.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>

#include "scanner/core/utf8.h"

namespace scangate::yaml_schema {

namespace {

// yaml-cpp 0.7's LoadAll never ends on a stray token at the top of a document ("," alone): each
// turn yields a null document without consuming the token, until memory runs out
// (jbeder/yaml-cpp#1040, fixed upstream by #1319, after 0.8). A first pass over the events stops
// at a document that starts where the one before it did. Found by tests/fuzz/policy_fuzz.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    stuck = seen && mark.pos == last.pos;
    seen = true;
    last = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool seen = false, stuck = false;
  YAML::Mark last;
};

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

Where at(const Where& parent, std::string path, const YAML::Node& node) {
  Where w{std::move(path), parent.line, parent.column};
  const YAML::Mark m = node.Mark();
  if (m.line >= 0) {
    w.line = m.line + 1;
    w.column = m.column + 1;
  }
  return w;
}

Problem problem(ProblemKind kind, const Where& w, std::string message = {}) {
  Problem p;
  p.kind = kind;
  p.line = w.line;
  p.column = w.column;
  p.path = w.path;
  p.message = std::move(message);
  return p;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The entries of a mapping with plain, distinct keys: a key that is not a plain name and a key
// given twice are problems, and are not passed on.
void each_key(const YAML::Node& map, const Where& w, Checker& c,
              const std::function<void(const std::string&, const Where&, const YAML::Node&)>& visit) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      c.value_error(at(w, w.path, it->first), std::string("a key must be a plain name, not ") + kind_of(it->first));
      continue;
    }
    const std::string key = it->first.Scalar();
    const Where kw = w.key(key, it->first);
    if (!seen.insert(key).second) {
      c.add(problem(ProblemKind::kDuplicateKey, kw));
      continue;
    }
    visit(key, kw, it->second);
  }
}

bool fits(Shape shape, const YAML::Node& n) {
  switch (shape) {
    case Shape::kScalar: return n.IsScalar();
    case Shape::kList: return n.IsSequence();
    case Shape::kMap: return n.IsMap();
    case Shape::kAny: return true;
  }
  return false;
}

}  // namespace

// ---- wording ----

std::string describe(const Problem& p) {
  switch (p.kind) {
    case ProblemKind::kType: {
      std::string out = "expected " + p.expected + ", got " + p.found;
      if (!p.hint.empty()) out += "; " + p.hint;
      return out;
    }
    case ProblemKind::kUnknownKey: return p.message.empty() ? "unknown key; allowed: " + join(p.allowed) : p.message;
    case ProblemKind::kDuplicateKey: return "appears twice; give each key once";
    case ProblemKind::kMissing: return p.message.empty() ? "missing" : "missing; " + p.message;
    case ProblemKind::kSyntax:
    case ProblemKind::kValue: return p.message;
  }
  return p.message;
}

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "no value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (s.size() > 80) out += "…";
  return out + "'";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// ---- places and problems ----

Where Where::key(const std::string& name, const YAML::Node& key_node) const {
  return at(*this, child_path(path, name), key_node);
}

Where Where::item(std::size_t index, const YAML::Node& item_node) const {
  return at(*this, path + "[" + std::to_string(index) + "]", item_node);
}

void Checker::type_error(const Where& w, const YAML::Node& found, const std::string& expected,
                         const std::string& hint) {
  Problem p = problem(ProblemKind::kType, w);
  p.expected = expected;
  p.found = kind_of(found);
  p.hint = hint;
  add(std::move(p));
}

void Checker::value_error(const Where& w, std::string message, std::vector<std::string> allowed) {
  Problem p = problem(ProblemKind::kValue, w, std::move(message));
  p.allowed = std::move(allowed);
  add(std::move(p));
}

void Checker::missing(const Where& w, std::string message) {
  add(problem(ProblemKind::kMissing, w, std::move(message)));
}

std::string Checker::render(const std::function<std::string(const Problem&)>& one) const {
  std::string out;
  for (const auto& p : problems_) {
    if (!out.empty()) out += "\n";
    out += one(p);
  }
  return out;
}

// ---- scalars ----

Type scalar(std::function<Result<void>(const std::string&)> apply, bool null_is_empty) {
  return Type{Shape::kScalar, "a single value",
              [apply = std::move(apply), null_is_empty](const YAML::Node& n, const Where& w, Checker& c) {
                if (!(n.IsScalar() || (n.IsNull() && null_is_empty))) return c.type_error(w, n, "a single value");
                auto r = apply(n.IsScalar() ? n.Scalar() : std::string());
                if (!r) c.value_error(w, r.error().message);
              }};
}

namespace {

// A scalar whose text `read` turns into a message (a problem) or nothing (accepted).
Type reading(std::function<std::optional<std::string>(const std::string&)> read, bool null_is_empty = false) {
  return scalar(
      [read = std::move(read)](const std::string& s) -> Result<void> {
        if (auto why = read(s)) return Error(ErrorKind::kFormat, *why);
        return Ok();
      },
      null_is_empty);
}

}  // namespace

Type string(std::function<void(std::string)> set, StringRules rules) {
  const bool null_is_empty = rules.null_is_empty;
  return reading(
      [set = std::move(set), rules = std::move(rules)](const std::string& s) -> std::optional<std::string> {
        if (s.empty() && !rules.if_empty.empty()) return "is empty; " + rules.if_empty;
        if (rules.check)
          if (auto why = rules.check(s)) return why;
        set(s);
        return std::nullopt;
      },
      null_is_empty);
}

Type boolean(std::function<void(bool)> set) {
  return reading([set = std::move(set)](const std::string& s) -> std::optional<std::string> {
    if (s == "true" || s == "True" || s == "TRUE") {
      set(true);
    } else if (s == "false" || s == "False" || s == "FALSE") {
      set(false);
    } else {
      return quote(s) + " is not a boolean; allowed: true, false";
    }
    return std::nullopt;
  });
}

Type integer(std::int64_t lo, std::int64_t hi, std::function<void(std::int64_t)> set) {
  return reading([lo, hi, set = std::move(set)](const std::string& s) -> std::optional<std::string> {
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || n < lo || n > hi)
      return quote(s) + " is not allowed; expected a whole number from " + std::to_string(lo) + " to " +
             std::to_string(hi);
    set(n);
    return std::nullopt;
  });
}

Type number(double lo, double hi, std::function<void(double)> set) {
  return reading([lo, hi, set = std::move(set)](const std::string& s) -> std::optional<std::string> {
    double d = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(d) || d < lo || d > hi) {
      std::ostringstream range;
      range << lo << " to " << hi;
      return quote(s) + " is not allowed; expected a number from " + range.str();
    }
    set(d);
    return std::nullopt;
  });
}

Type duration(std::function<void(std::chrono::nanoseconds)> set, DurationRules rules) {
  return reading([set = std::move(set), rules = std::move(rules)](const std::string& s) -> std::optional<std::string> {
    auto r = try_parse_duration(s, rules.units);
    if (const auto* e = std::get_if<DurationError>(&r)) return not_a_duration(s, *e);
    const auto d = std::get<std::chrono::nanoseconds>(r);
    if (rules.check)
      if (auto why = rules.check(d, s)) return why;
    set(d);
    return std::nullopt;
  });
}

std::string not_a_duration(std::string_view text, const DurationError& e) {
  return quote(text) + " is not a duration (" + e.reason + (e.hint.empty() ? "" : "; " + e.hint) + ")";
}

Type one_of(std::vector<std::string> allowed, std::function<void(std::size_t)> set, EnumRules rules) {
  return Type{Shape::kScalar, "a single value",
              [allowed = std::move(allowed), set = std::move(set), rules = std::move(rules)](
                  const YAML::Node& n, const Where& w, Checker& c) {
                if (!n.IsScalar()) return c.type_error(w, n, "a single value");
                const std::string& s = n.Scalar();
                for (std::size_t i = 0; i < allowed.size(); ++i) {
                  if (rules.ignore_case ? same_ignoring_case(s, allowed[i]) : s == allowed[i]) return set(i);
                }
                c.value_error(w, quote(s) + " " + rules.rejection + "; allowed: " + join(allowed), allowed);
              }};
}

// ---- collections ----

Type list(Type item, ListRules rules) {
  return Type{Shape::kList, "a list",
              [item = std::move(item), rules = std::move(rules)](const YAML::Node& n, const Where& w, Checker& c) {
                if (n.IsNull() && rules.null_is_empty) return;
                if (!n.IsSequence()) return c.type_error(w, n, "a list", rules.hint);
                std::size_t i = 0;
                for (const auto& element : n) {
                  item(element, w.item(i, element), c);
                  ++i;
                }
              }};
}

Type mapping(std::vector<Field> fields, MapRules rules) {
  auto shared = std::make_shared<const std::vector<Field>>(std::move(fields));
  return Type{Shape::kMap, "a map of keys", [fields = shared, rules](const YAML::Node& n, const Where& w, Checker& c) {
                if (n.IsNull() && rules.null_is_empty) return;
                if (!n.IsMap()) return c.type_error(w, n, "a map of keys");
                std::vector<bool> present(fields->size(), false);
                each_key(n, w, c, [&](const std::string& key, const Where& kw, const YAML::Node& value) {
                  for (std::size_t i = 0; i < fields->size(); ++i) {
                    const Field& f = (*fields)[i];
                    if (f.key != key) continue;
                    present[i] = true;
                    if (f.type.check) f.type(value, kw, c);
                    return;
                  }
                  Problem p = problem(ProblemKind::kUnknownKey, kw);
                  for (const auto& f : *fields) p.allowed.push_back(f.key);
                  c.add(std::move(p));
                });
                for (std::size_t i = 0; i < fields->size(); ++i) {
                  const Field& f = (*fields)[i];
                  if (f.required && !present[i])
                    c.missing(Where{child_path(w.path, f.key), w.line, w.column}, f.if_missing);
                }
              }};
}

Type free_map(std::function<std::optional<std::string>(const std::string& key)> key_check,
              std::function<Type(const std::string& key)> value_for, MapRules rules) {
  return Type{Shape::kMap, "a map of keys",
              [key_check = std::move(key_check), value_for = std::move(value_for), rules](const YAML::Node& n,
                                                                                          const Where& w, Checker& c) {
                if (n.IsNull() && rules.null_is_empty) return;
                if (!n.IsMap()) return c.type_error(w, n, "a map of keys");
                each_key(n, w, c, [&](const std::string& key, const Where& kw, const YAML::Node& value) {
                  if (key_check) {
                    if (auto why = key_check(key)) {
                      c.add(problem(ProblemKind::kUnknownKey, kw, *why));
                      return;
                    }
                  }
                  value_for(key)(value, kw, c);
                });
              }};
}

Type any_of(std::vector<Type> types, std::string expected) {
  return Type{Shape::kAny, expected,
              [types = std::move(types), expected](const YAML::Node& n, const Where& w, Checker& c) {
                for (const auto& t : types)
                  if (fits(t.shape, n)) return t(n, w, c);
                c.type_error(w, n, expected);
              }};
}

Type ignored() {
  return Type{Shape::kAny, "anything", [](const YAML::Node&, const Where&, Checker&) {}};
}

// ---- documents ----

std::optional<std::vector<YAML::Node>> load_all(std::string_view text, Checker& c) {
  Problem p;
  p.kind = ProblemKind::kSyntax;
  // YAML is Unicode text; a byte that starts no UTF-8 sequence would otherwise reach the values
  // (and every JSON rendering of them) as it is. Refused here, with its place, for every file
  // read through this helper.
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[i]));
      p.line = line;
      p.column = column;
      p.message = std::string("the file is not valid UTF-8 (byte ") + hex + "); save it as UTF-8";
      c.add(std::move(p));
      return std::nullopt;
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  try {
    const std::string copy(text);
    std::istringstream in(copy);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (parser.HandleNextDocument(starts)) {
      if (!starts.stuck) continue;
      p.line = starts.last.line + 1;
      p.column = starts.last.column + 1;
      p.message = "unexpected character: a ',' outside a [list] or {map} starts no value";
      c.add(std::move(p));
      return std::nullopt;
    }
    return YAML::LoadAll(copy);
  } catch (const YAML::Exception& e) {
    p.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    p.column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    p.message = e.msg;
  } catch (const std::exception& e) {  // yaml-cpp should throw only its own; never crash on input
    p.message = e.what();
  }
  c.add(std::move(p));
  return std::nullopt;
}

void check(const YAML::Node& root, const Type& type, Checker& c) { type(root, Where{}, c); }

}  // namespace scangate::yaml_schema
