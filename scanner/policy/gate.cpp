#include "scanner/policy/gate.h"

#include "scanner/policy/trivy_report.h"

namespace scangate::policy {

int exit_code_for(const Verdict& v, int deny_exit_code) { return v.allowed ? 0 : deny_exit_code; }

ImageIdentity identity_of(const ImageMetadata& meta) {
  ImageIdentity id;
  id.reference = meta.reference;
  id.digest = meta.manifest_digest;
  id.repository = normalize_repository(!meta.normalized.empty() ? meta.normalized : meta.reference);
  return id;
}

std::vector<Finding> flatten_findings(const std::vector<ScanTarget>& targets) {
  std::vector<Finding> out;
  for (const auto& t : targets) out.insert(out.end(), t.findings.begin(), t.findings.end());
  return out;
}

GateOutcome gate_findings(const Policy& p, const std::vector<Finding>& findings,
                          const std::vector<SecretFinding>& secrets, const GateRequest& req) {
  DecisionInput in;
  in.image = req.image;
  in.namespace_name = req.namespace_name;
  in.findings = findings;
  in.secrets = secrets;
  in.today = req.today;
  in.max_listed = req.max_listed;
  GateOutcome out;
  out.verdict = decide(p, in);
  out.exit_code = exit_code_for(out.verdict, req.deny_exit_code);
  return out;
}

GateOutcome gate_scan(const Policy& p, const std::vector<ScanTarget>& targets,
                      const std::vector<SecretFinding>& secrets, const GateRequest& req) {
  std::vector<Finding> all = flatten_findings(targets);
  return gate_findings(p, all, secrets, req);
}

Result<GateOutcome> explain_report(const Policy& p, std::string_view report_json, const GateRequest& req) {
  auto rep = read_trivy_report(report_json);
  if (!rep.ok()) return rep.error();
  GateRequest r = req;
  r.image = rep->image();
  return gate_findings(p, rep->findings, rep->secrets, r);
}

}  // namespace scangate::policy
