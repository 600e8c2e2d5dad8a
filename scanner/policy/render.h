// Words for a verdict: the CLI's text, and the admission message and warnings that `kubectl`
// prints. Both come from the same Verdict, so they say the same thing.
#pragma once

#include <string>
#include <vector>

#include "scanner/policy/verdict.h"

namespace scangate::policy {

struct TextOptions {
  size_t max_findings = 20;  // lines of counted findings before "… and N more"
};

// The CLI rendering: policy, image, verdict, counts against limits, reasons, the findings that
// counted, exceptions applied, and one `warning:` line per warning (expired exceptions included).
std::string render_text(const Verdict& v, const TextOptions& opt = {});

// One line for a container whose verdict denies, at most `max_bytes` bytes (UTF-8 safe), e.g.
//   container "app" image python:3.6-alpine (sha256:409b6e4e…) has 8 CRITICAL vulnerabilities
//   (policy allows 0): CVE-2022-37434 zlib 1.2.11-r3→1.2.12-r2, … Rebuild on a patched base
//   image, or add a policy exception.
// Empty when the verdict allows.
std::string render_admission_line(const std::string& container, const Verdict& v, size_t max_bytes = 1024);

struct ContainerVerdict {
  std::string container;
  const Verdict* verdict = nullptr;  // not owned
};

// The denial message: one line per denied container, at most `max_bytes` in all; containers that
// do not fit are summed up as "… and N more containers denied".
std::string render_admission_message(const std::vector<ContainerVerdict>& containers, size_t max_bytes = 4096);

// The AdmissionReview warnings for one container: its verdict's warnings, each prefixed with the
// container and image and cut to `max_each` bytes (the API server truncates longer ones).
std::vector<std::string> admission_warnings(const std::string& container, const Verdict& v, size_t max_each = 256);

// Cuts `s` to at most `max_bytes`, ending with "…" when cut, never inside a UTF-8 sequence.
std::string truncate_utf8(const std::string& s, size_t max_bytes);

}  // namespace scangate::policy
