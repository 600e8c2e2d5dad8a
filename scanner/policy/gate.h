// The policy gate as the CLI runs it: after `scangate image` (findings in hand) and for
// `scangate policy explain` (a saved report). Both end in decide(), as the webhook does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"

namespace scangate::policy {

// 0 when the verdict allows (warn and audit modes included), else `deny_exit_code`.
int exit_code_for(const Verdict& v, int deny_exit_code);

// The image as the policy names it, from what the scan learned: repository from
// meta.normalized (else meta.reference), digest meta.manifest_digest, reference meta.reference.
ImageIdentity identity_of(const ImageMetadata& meta);

std::vector<Finding> flatten_findings(const std::vector<ScanTarget>& targets);

struct GateRequest {
  ImageIdentity image;
  std::string namespace_name;  // empty: the pipeline has no namespace (namespace rules do not match)
  std::string today;           // YYYY-MM-DD, UTC
  int deny_exit_code = 1;
  size_t max_listed = 20;
};

struct GateOutcome {
  Verdict verdict;
  int exit_code = 0;
};

// `scangate image --policy`: findings of every target plus secrets, judged by `p`.
GateOutcome gate_scan(const Policy& p, const std::vector<ScanTarget>& targets,
                      const std::vector<SecretFinding>& secrets, const GateRequest& req);
GateOutcome gate_findings(const Policy& p, const std::vector<Finding>& findings,
                          const std::vector<SecretFinding>& secrets, const GateRequest& req);

// `scangate policy explain`: the verdict for a saved Trivy-format JSON report. `req.image` is
// ignored: the image comes from the report (SavedReport::image()).
Result<GateOutcome> explain_report(const Policy& p, std::string_view report_json, const GateRequest& req);

}  // namespace scangate::policy
