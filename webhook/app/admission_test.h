// `scangate-webhook admission-test`: the chart's `helm test`. Submits a Pod with one image to the
// API server as a server-side dry run (POST /api/v1/namespaces/NS/pods?dryRun=All: admission runs,
// nothing is stored) and checks what admission answered:
//   --expect deny   (default) a 403 whose message is the API server's
//                   `admission webhook "NAME" denied the request: ...` for the webhook NAME;
//   --expect allow  the Pod admitted (201).
// The answer is asked for again every 2 s until --timeout (the webhook publishes its configuration
// only once a pod is Ready, moments after `helm install --wait` returns). Exit 0 when the
// expectation is met, 1 when it is not (the last answer is printed), 2 on a usage error.
#pragma once

#include <string>
#include <vector>

namespace scangate::app {

int run_admission_test(const std::vector<std::string>& args);

std::string admission_test_help();

}  // namespace scangate::app
