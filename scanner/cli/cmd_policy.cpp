// `scangate policy check FILE...` and `scangate policy explain [--policy FILE] REPORT.json`.
#include <fstream>
#include <iostream>
#include <sstream>

#include "scanner/core/time_util.h"
#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/scan_flags.h"
#include "scanner/policy/gate.h"
#include "scanner/policy/ignore_file.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/render.h"

namespace scangate::cli {

namespace {

constexpr size_t kMaxReportBytes = size_t{512} << 20;

const char* kPolicyUsage =
    "Usage: scangate policy check FILE...\n"
    "       scangate policy explain [--policy FILE] [--namespace NS] REPORT.json\n"
    "\n"
    "  check     validate policy files; errors name the line and the key and say what is allowed\n"
    "  explain   print the verdict of a policy for a saved report (`scangate image --format json`)\n"
    "\n"
    "Run `scangate policy check --help` or `scangate policy explain --help` for flags.\n";

const std::vector<FlagSpec>& check_flags() {
  static const std::vector<FlagSpec> specs = {
      {"today", true, false, "YYYY-MM-DD", "the date expired exceptions are judged against", "today (UTC)"},
  };
  return specs;
}

const std::vector<FlagSpec>& explain_flags() {
  static const std::vector<FlagSpec> specs = {
      {"policy", true, false, "FILE", "the policy file", "the built-in policy: CRITICAL limit 0"},
      {"namespace", true, false, "NS", "judge as the admission webhook would for this namespace"},
      {"today", true, false, "YYYY-MM-DD", "the date exceptions are judged against", "today (UTC)"},
      {"exit-code", true, false, "N", "exit N when the verdict denies", "1"},
  };
  return specs;
}

bool wants_help(const std::vector<std::string>& argv) {
  for (const auto& a : argv)
    if (a == "--help" || a == "-h") return true;
  return false;
}

Result<std::string> today_flag(const Args& args) {
  std::string today = args.get_or("today", utc_today());
  if (!is_iso_date(today))
    return Error(ErrorKind::kInvalidArgument, "--today '" + today + "' is not a date (YYYY-MM-DD)");
  return today;
}

Result<std::string> read_report(const std::string& path) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Error(ErrorKind::kNotFound, "cannot read report " + path + ": check the path");
    in = &file;
  }
  std::string text;
  char buf[65536];
  while (in->read(buf, sizeof buf) || in->gcount() > 0) {
    text.append(buf, static_cast<size_t>(in->gcount()));
    if (text.size() > kMaxReportBytes)
      return Error(ErrorKind::kLimit,
                   "report " + path + " is larger than " + std::to_string(kMaxReportBytes >> 20) + " MiB");
  }
  if (in->bad()) return Error(ErrorKind::kIo, "cannot read report " + path);
  return text;
}

int policy_check(const std::vector<std::string>& argv, Io io) {
  if (wants_help(argv)) {
    io.out << render_help("scangate policy check [flags] FILE...",
                          "Validate policy files. Every error names the file, the line and the key, and says what "
                          "is allowed. Exits 0 when all files are valid, 2 otherwise.",
                          check_flags());
    return kExitOk;
  }
  auto args = parse_args(argv, check_flags());
  if (!args.ok()) {
    io.err << "scangate policy check: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().empty()) {
    io.err << "scangate policy check: name a policy file, e.g. `scangate policy check policy.yaml`\n";
    return kExitError;
  }
  auto today = today_flag(*args);
  if (!today.ok()) {
    io.err << "scangate policy check: " << today.error().message << "\n";
    return kExitError;
  }
  int rc = kExitOk;
  for (const auto& path : args->positional()) {
    auto p = policy::load_policy_file(path);
    if (!p.ok()) {
      io.err << p.error().message << "\n";
      rc = kExitError;
      continue;
    }
    io.out << path << ": valid (revision " << p->revision.substr(0, 19) << "…, mode " << policy::to_string(p->mode)
           << ", " << p->exceptions.size() << (p->exceptions.size() == 1 ? " exception, " : " exceptions, ")
           << p->overrides.size() << (p->overrides.size() == 1 ? " override)\n" : " overrides)\n");
    for (const auto& x : p->exceptions)
      if (!x.active_on(*today))
        io.out << path << ":" << x.line << ": note: exception '" << x.id << "' expired on " << x.expires
               << " and no longer applies\n";
  }
  return rc;
}

int policy_explain(const std::vector<std::string>& argv, Io io) {
  if (wants_help(argv)) {
    io.out << render_help("scangate policy explain [flags] REPORT.json",
                          "Print the verdict a policy gives a saved Trivy-format JSON report (`-` reads standard "
                          "input): the same decision `scangate image --policy` and the admission webhook make. "
                          "Exits 0 when allowed, --exit-code when denied, 2 on errors.",
                          explain_flags());
    return kExitOk;
  }
  auto args = parse_args(argv, explain_flags());
  if (!args.ok()) {
    io.err << "scangate policy explain: " << args.error().message << "\n";
    return kExitError;
  }
  if (args->positional().size() != 1) {
    io.err << "scangate policy explain: name one report, e.g. `scangate policy explain --policy policy.yaml "
              "report.json`\n";
    return kExitError;
  }
  auto today = today_flag(*args);
  if (!today.ok()) {
    io.err << "scangate policy explain: " << today.error().message << "\n";
    return kExitError;
  }
  policy::GateRequest req;
  req.today = *today;
  req.namespace_name = args->get_or("namespace", "");
  std::string ec = args->get_or("exit-code", "1");
  try {
    size_t idx = 0;
    req.deny_exit_code = std::stoi(ec, &idx);
    if (idx != ec.size()) throw std::invalid_argument("trailing");
  } catch (...) {
    io.err << "scangate policy explain: --exit-code '" << ec << "' is not a number\n";
    return kExitError;
  }
  if (req.deny_exit_code < 1 || req.deny_exit_code > 125 || req.deny_exit_code == kExitError ||
      req.deny_exit_code == kExitUploadFailed) {
    io.err << "scangate policy explain: --exit-code " << ec << " is not allowed: use 1..125 except " << kExitError
           << " (errors) and " << kExitUploadFailed << " (upload failures)\n";
    return kExitError;
  }

  policy::Policy pol = policy::Policy::default_policy();
  if (auto path = args->get("policy")) {
    auto p = policy::load_policy_file(*path);
    if (!p.ok()) {
      io.err << p.error().message << "\n";
      return kExitError;
    }
    pol = std::move(p.value());
  }
  const std::string& report_path = args->positional()[0];
  auto text = read_report(report_path);
  if (!text.ok()) {
    io.err << "scangate policy explain: " << text.error().message << "\n";
    return kExitError;
  }
  auto outcome = policy::explain_report(pol, *text, req);
  if (!outcome.ok()) {
    io.err << "scangate policy explain: " << report_path << ": " << outcome.error().message << "\n";
    return kExitError;
  }
  io.out << policy::render_text(outcome->verdict);
  io.out.flush();
  return outcome->exit_code;
}

}  // namespace

int cmd_policy(const std::vector<std::string>& argv, Io io) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    (argv.empty() ? io.err : io.out) << kPolicyUsage;
    return argv.empty() ? kExitError : kExitOk;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "check") return policy_check(rest, io);
  if (argv[0] == "explain") return policy_explain(rest, io);
  io.err << "scangate policy: unknown subcommand '" << argv[0] << "'\n\n" << kPolicyUsage;
  return kExitError;
}

}  // namespace scangate::cli
