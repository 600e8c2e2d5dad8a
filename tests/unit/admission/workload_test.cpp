// pod_spec_path: where each workload kind keeps its pod spec (Kubernetes API reference).
#include <catch2/catch.hpp>

#include "webhook/admission/workload.h"

using namespace scangate::admission;

TEST_CASE("pod spec locations per workload kind", "[workload]") {
  CHECK(pod_spec_path("", "Pod") == PodSpecPath::kSpec);
  CHECK(pod_spec_path("apps", "Deployment") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("apps", "ReplicaSet") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("apps", "StatefulSet") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("apps", "DaemonSet") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("extensions", "Deployment") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("batch", "Job") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("batch", "CronJob") == PodSpecPath::kJobTemplate);
  CHECK(pod_spec_path("", "ReplicationController") == PodSpecPath::kTemplate);
  CHECK(pod_spec_path("", "PodTemplate") == PodSpecPath::kPodTemplate);
}

TEST_CASE("kinds without a pod spec, or in another group, gate nothing", "[workload]") {
  CHECK(pod_spec_path("", "ConfigMap") == PodSpecPath::kNone);
  CHECK(pod_spec_path("apps", "Pod") == PodSpecPath::kNone);
  CHECK(pod_spec_path("example.com", "Deployment") == PodSpecPath::kNone);
  CHECK(pod_spec_path("batch", "Deployment") == PodSpecPath::kNone);
}
