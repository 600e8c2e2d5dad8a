#include "webhook/app/admission_test.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "scanner/core/duration.h"
#include "scanner/core/log.h"
#include "scanner/kube/kube_client.h"
#include "scanner/net/url.h"

namespace scangate::app {

namespace {

using nlohmann::json;

struct Options {
  std::string ns;
  std::string image;
  std::string expect = "deny";
  std::string webhook_name = "images.scangate.io";
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds interval{std::chrono::seconds(2)};
  kube::ConfigOverrides kube;
  bool help = false;
};

Result<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
      return o;
    }
    if (a.rfind("--", 0) != 0)
      return Error(ErrorKind::kInvalidArgument, "admission-test: unexpected argument \"" + a + "\" (see --help)");
    std::string name = a.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= args.size())
        return Error(ErrorKind::kInvalidArgument, "admission-test: flag --" + name + " needs a value");
      value = args[++i];
    }
    auto duration = [&](std::chrono::milliseconds& out) -> Result<void> {
      auto d = try_parse_duration(value);
      if (std::holds_alternative<DurationError>(d) || std::get<std::chrono::nanoseconds>(d).count() <= 0)
        return Error(ErrorKind::kInvalidArgument,
                     "admission-test: --" + name + " must be a duration above 0 such as 30s, got \"" + value + "\"");
      out = std::chrono::duration_cast<std::chrono::milliseconds>(std::get<std::chrono::nanoseconds>(d));
      return Ok();
    };
    if (name == "namespace") {
      o.ns = value;
    } else if (name == "image") {
      o.image = value;
    } else if (name == "expect") {
      if (value != "deny" && value != "allow")
        return Error(ErrorKind::kInvalidArgument,
                     "admission-test: --expect must be deny or allow, got \"" + value + "\"");
      o.expect = value;
    } else if (name == "webhook-name") {
      o.webhook_name = value;
    } else if (name == "timeout") {
      SG_TRY(duration(o.timeout));
    } else if (name == "interval") {
      SG_TRY(duration(o.interval));
    } else if (name == "kube-api-server") {
      o.kube.server = value;
    } else if (name == "kube-token-file") {
      o.kube.token_file = value;
    } else if (name == "kube-ca-file") {
      o.kube.ca_file = value;
    } else {
      return Error(ErrorKind::kInvalidArgument, "admission-test: unknown flag --" + name + " (see --help)");
    }
  }
  if (o.ns.empty() || o.image.empty())
    return Error(ErrorKind::kInvalidArgument, "admission-test: --namespace and --image are required (see --help)");
  return o;
}

json probe_pod(const Options& o) {
  return json{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"generateName", "scangate-admission-test-"},
        {"namespace", o.ns},
        {"labels", {{"app.kubernetes.io/name", "scangate"}, {"app.kubernetes.io/component", "admission-test"}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"automountServiceAccountToken", false},
        {"containers", json::array({{{"name", "probe"}, {"image", o.image}}})}}}};
}

// What one answer means for the expectation: met, or why not.
struct Verdict {
  bool met = false;
  std::string what;
};

Verdict judge(const Options& o, const kube::ApiResponse& r) {
  const std::string denied_by = "admission webhook \"" + o.webhook_name + "\" denied the request";
  const std::string answered =
      std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason) + (r.message.empty() ? "" : ": " + r.message);
  if (r.ok()) {
    if (o.expect == "allow") return {true, "admitted (" + std::to_string(r.status) + ")"};
    return {false, "the dry-run Pod with image " + o.image + " was admitted in namespace " + o.ns + " (" +
                       std::to_string(r.status) + "); expected the webhook " + o.webhook_name +
                       " to deny it. Is the namespace gated (not in webhook.excludeNamespaces, without the opt-out "
                       "label), is the webhook configuration published, and does the policy deny this image?"};
  }
  // The API server words a validating webhook's denial as `admission webhook "NAME" denied the
  // request: <its message>`: the prefix, not a substring (another webhook or policy whose message
  // quotes this one's denial is not this webhook gating).
  const bool by_webhook = r.message.rfind(denied_by, 0) == 0;
  if (o.expect == "deny" && r.status == 403 && by_webhook) return {true, "denied by the webhook: " + r.message};
  if (by_webhook) return {false, "the webhook " + o.webhook_name + " answered " + answered};
  if (r.message.find("failed calling webhook") != std::string::npos)
    return {false, "the API server could not call the webhook: " + answered};
  return {false, "the API server answered " + answered};
}

}  // namespace

std::string admission_test_help() {
  return "Usage: scangate-webhook admission-test --namespace NS --image REF [flags]\n\n"
         "Submits a Pod running REF to the API server as a server-side dry run (nothing is created)\n"
         "and checks the admission answer. Exit 0: as expected; 1: not; 2: usage error.\n\n"
         "  --namespace NS             a namespace the webhook gates (required)\n"
         "  --image REF                the Pod's image (required)\n"
         "  --expect deny|allow        deny (default): a 403 from the webhook --webhook-name; allow: admitted\n"
         "  --webhook-name NAME        the webhook's name in its configuration (default images.scangate.io)\n"
         "  --timeout DURATION         keep asking until then (default 60s)\n"
         "  --interval DURATION        between two asks (default 2s)\n"
         "  --kube-api-server URL      the API server (default: in-cluster)\n"
         "  --kube-token-file FILE     bearer token (default: the pod's service-account token)\n"
         "  --kube-ca-file FILE        the API server's CA (default: the pod's service-account ca.crt)\n";
}

int run_admission_test(const std::vector<std::string>& args) {
  const log::Logger lg("admission-test");
  auto o = parse(args);
  if (!o) {
    lg.error(o.error().message);
    return 2;
  }
  if (o->help) {
    std::fputs(admission_test_help().c_str(), stdout);
    return 0;
  }
  auto cfg = kube::in_cluster_config(o->kube);
  if (!cfg) {
    lg.error(cfg.error().message);
    return 2;
  }
  auto client = kube::KubeClient::create(*cfg);
  if (!client) {
    lg.error(client.error().message);
    return 2;
  }
  const Deadline deadline = Deadline::after(o->timeout);
  const std::string path = "/api/v1/namespaces/" + net::percent_encode(o->ns) + "/pods?dryRun=All";
  const std::string body = probe_pod(*o).dump();
  std::string last;
  for (int attempt = 1;; ++attempt) {
    auto r = (*client)->call("POST", path, body, "application/json", deadline, false);
    if (!r) {
      last = "no answer from the API server: " + r.error().message;
    } else {
      Verdict v = judge(*o, *r);
      if (v.met) {
        lg.info("admission test passed",
                {{"expect", o->expect}, {"namespace", o->ns}, {"image", o->image}, {"answer", v.what}});
        return 0;
      }
      last = v.what;
    }
    if (deadline.remaining() <= o->interval) break;
    lg.warn("admission test: not yet as expected; asking again",
            {{"attempt", attempt}, {"expect", o->expect}, {"answer", last}});
    std::this_thread::sleep_for(o->interval);
  }
  lg.error("admission test failed",
           {{"expect", o->expect}, {"namespace", o->ns}, {"image", o->image}, {"answer", last}});
  return 1;
}

}  // namespace scangate::app
