#include "webhook/admission/workload.h"

namespace scangate::admission {

PodSpecPath pod_spec_path(std::string_view group, std::string_view kind) {
  if (group.empty()) {
    if (kind == "Pod") return PodSpecPath::kSpec;
    if (kind == "ReplicationController") return PodSpecPath::kTemplate;
    if (kind == "PodTemplate") return PodSpecPath::kPodTemplate;
    return PodSpecPath::kNone;
  }
  if (group == "apps" || group == "extensions") {
    if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet")
      return PodSpecPath::kTemplate;
    return PodSpecPath::kNone;
  }
  if (group == "batch") {
    if (kind == "Job") return PodSpecPath::kTemplate;
    if (kind == "CronJob") return PodSpecPath::kJobTemplate;
  }
  return PodSpecPath::kNone;
}

}  // namespace scangate::admission
