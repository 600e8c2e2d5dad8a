// Where each workload kind keeps its pod spec: the one table of "which objects carry images".
#pragma once

#include <string_view>

namespace scangate::admission {

enum class PodSpecPath {
  kNone,         // the kind carries no pod spec: nothing to gate
  kSpec,         // Pod: .spec
  kTemplate,     // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController:
                 // .spec.template.spec
  kJobTemplate,  // CronJob: .spec.jobTemplate.spec.template.spec
  kPodTemplate,  // PodTemplate: .template.spec
};

// Looks the kind up by API group and kind; the version does not matter (batch/v1beta1 CronJob
// and extensions/v1beta1 Deployment from old API servers map like the current ones).
PodSpecPath pod_spec_path(std::string_view group, std::string_view kind);

}  // namespace scangate::admission
