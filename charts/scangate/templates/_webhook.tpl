{{/*
The ValidatingWebhookConfiguration (the gate) and, with webhook.pinDigests, the
MutatingWebhookConfiguration (digest pinning), each rendered once for both registration modes: as a
chart resource (webhook.registration=chart, templates/webhook.yaml, webhook-mutating.yaml) and as
the JSON the webhook applies itself once Ready (webhook.registration=pod,
templates/webhook-registration.yaml). Call as (list . CABUNDLE INJECT): CABUNDLE is the base64
caBundle ("" leaves it out: cert-manager's injector or the webhook fills it), INJECT adds
cert-manager's inject-ca-from annotation in the cert-manager mode. Both share their metadata,
clientConfig (the one Service, a path each) and scope (selectors, rules, matchConditions), so that
a Pod is pinned exactly where it is gated.
*/}}
{{- define "scangate.validatingWebhookConfiguration" -}}
{{- $ := index . 0 }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
{{ include "scangate.webhookConfigurationMetadata" . }}
webhooks:
  - name: images.scangate.io
    admissionReviewVersions: ["v1", "v1beta1"]
    # A dry-run request is judged like any other, but never uploads a report.
    sideEffects: NoneOnDryRun
    failurePolicy: {{ $.Values.webhook.failurePolicy }}
    timeoutSeconds: {{ $.Values.webhook.timeoutSeconds }}
    matchPolicy: Equivalent
    {{- include "scangate.webhookClientConfig" (list $ (index . 1) "/validate") | nindent 4 }}
    {{- include "scangate.webhookScope" $ | nindent 4 }}
{{- end -}}

{{/*
Digest pinning (webhook.pinDigests): POST /mutate answers with a JSONPatch that rewrites each
new `image: repo:tag` to `repo:tag@sha256:...`. Mutating webhooks run before validating ones, so the
gate judges, and the kubelet pulls, that digest. `Ignore` by default: an image that cannot be
pinned is admitted unpinned and the gate (fail closed) still decides. IfNeeded: called again when a
later mutating webhook (a sidecar injector) adds a container. No side effects (it only reads
registries), so it also serves dry runs.
*/}}
{{- define "scangate.mutatingWebhookConfiguration" -}}
{{- $ := index . 0 }}
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
{{ include "scangate.webhookConfigurationMetadata" . }}
webhooks:
  - name: digests.scangate.io
    admissionReviewVersions: ["v1", "v1beta1"]
    sideEffects: None
    failurePolicy: {{ $.Values.webhook.pinFailurePolicy }}
    timeoutSeconds: {{ $.Values.webhook.pinTimeoutSeconds }}
    matchPolicy: Equivalent
    reinvocationPolicy: IfNeeded
    {{- include "scangate.webhookClientConfig" (list $ (index . 1) "/mutate") | nindent 4 }}
    {{- include "scangate.webhookScope" $ | nindent 4 }}
{{- end -}}

{{/* metadata of both configurations; (list . CABUNDLE INJECT) as above. */}}
{{- define "scangate.webhookConfigurationMetadata" -}}
{{- $ := index . 0 -}}
{{- $inject := index . 2 -}}
metadata:
  name: {{ include "scangate.fullname" $ }}
  labels:
    {{- include "scangate.labels" $ | nindent 4 }}
    app.kubernetes.io/component: webhook
  {{- if and $inject $.Values.tls.certManager.enabled }}
  annotations:
    cert-manager.io/inject-ca-from: {{ $.Release.Namespace }}/{{ include "scangate.suffixed" (list $ "tls") }}
  {{- end }}
{{- end -}}

{{/* clientConfig: the webhook Service at PATH; call as (list . CABUNDLE PATH). */}}
{{- define "scangate.webhookClientConfig" -}}
{{- $ := index . 0 -}}
clientConfig:
  service:
    name: {{ include "scangate.fullname" $ }}
    namespace: {{ $.Release.Namespace }}
    path: {{ index . 2 }}
    port: {{ $.Values.service.port }}
  {{- with index . 1 }}
  caBundle: {{ . }}
  {{- end }}
{{- end -}}

{{/* What a webhook is sent: namespaces, objects, resources and operations, matchConditions. */}}
{{- define "scangate.webhookScope" -}}
{{- $ := . -}}
namespaceSelector:
  {{- with $.Values.webhook.namespaceSelector.matchLabels }}
  matchLabels:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  matchExpressions:
    # Never gate the webhook's own namespace: its pods must start while it is down.
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- toYaml (prepend $.Values.webhook.excludeNamespaces $.Release.Namespace | uniq) | nindent 8 }}
    {{- with $.Values.webhook.optOutLabel }}
    # Opt-out: namespaces labelled {{ . }} are never gated.
    - key: {{ . }}
      operator: DoesNotExist
    {{- end }}
    {{- with $.Values.webhook.namespaceSelector.matchExpressions }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- with $.Values.webhook.objectSelector }}
objectSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["pods", "replicationcontrollers", "podtemplates"]
    scope: Namespaced
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["UPDATE"]
    resources: ["pods/ephemeralcontainers"]
    scope: Namespaced
  - apiGroups: ["apps"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
    scope: Namespaced
  - apiGroups: ["batch"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["jobs", "cronjobs"]
    scope: Namespaced
{{- with $.Values.webhook.matchConditions }}
matchConditions:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
