// A kubeconfig (the clientcmd v1 `Config` that kubectl reads) turned into a KubeConfig, for running
// outside a cluster, and the choice between a kubeconfig and the in-cluster configuration.
//
// What is read, from the context chosen (the one named, else `current-context`):
// - its cluster's `server`, and `certificate-authority-data` (base64 PEM, kept in memory) or else
//   `certificate-authority` (a file);
// - its user's `token` (kept in memory) and/or `tokenFile` (read again when it changes; it wins
//   over `token` when both are given, as kubectl does).
// File paths in a kubeconfig are relative to the kubeconfig's own directory.
//
// What is refused, with an error naming the cluster or user and what is supported:
// - `insecure-skip-tls-verify: true`: a security gate verifies the API server's certificate;
// - users that authenticate otherwise (client certificates, `exec` and `auth-provider` plugins,
//   basic auth) or impersonate (`as`, `as-groups`, ...): scangate sends only a bearer token, and a
//   credential it silently dropped would make the calls run as someone else;
// - `tls-server-name` and `proxy-url`, which it cannot honour.
// Everything else of the format (preferences, extensions, a context's namespace) is ignored.
#pragma once

#include <cstddef>
#include <string>

#include "scanner/core/result.h"
#include "scanner/kube/kube_client.h"

namespace scangate::kube {

// The largest kubeconfig read (one with many embedded certificates is a few tens of KiB).
inline constexpr size_t kMaxKubeconfigBytes = 4u << 20;

// The configuration of `context` (empty: the file's current-context) in the kubeconfig at `path`.
// An inline token is checked like a token file's and registered with the logger's redaction; the
// files it names must exist. Errors name the kubeconfig and the context, cluster or user at fault,
// never a credential.
Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context = "");

// The configuration to use, the first that applies:
//   1. `kubeconfig_flag` (--kubeconfig FILE), when given;
//   2. the KUBECONFIG environment variable: its first non-empty path;
//   3. the in-cluster configuration (in_cluster_config).
// A kubeconfig is never looked for at $HOME/.kube/config: a gate talks to the cluster it is told
// to, not to whichever one a developer's shell last used. `overrides` (--kube-api-server,
// --kube-token-file, --kube-ca-file) apply on top of a kubeconfig as they do on top of the
// in-cluster configuration; `context` picks a kubeconfig's context and is an error without a
// kubeconfig. An error says what was tried; a kubeconfig's error says which source named it.
Result<KubeConfig> resolve_kube_config(const std::string& kubeconfig_flag, const ConfigOverrides& overrides,
                                       const GetEnv& env = process_env(), const std::string& context = "");

}  // namespace scangate::kube
