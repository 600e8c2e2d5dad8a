{{/*
The ValidatingWebhookConfiguration, rendered once for both registration modes: as a chart resource
(webhook.registration=chart, templates/webhook.yaml) and as the JSON the webhook applies itself
once Ready (webhook.registration=pod, templates/webhook-registration.yaml). Call as
(list . CABUNDLE INJECT): CABUNDLE is the base64 caBundle ("" leaves it out: cert-manager's
injector or the webhook fills it), INJECT adds cert-manager's inject-ca-from annotation in the
cert-manager mode.
*/}}
{{- define "scangate.validatingWebhookConfiguration" -}}
{{- $ := index . 0 }}
{{- $caBundle := index . 1 }}
{{- $inject := index . 2 }}
{{- $fullname := include "scangate.fullname" $ }}
{{- $certManager := $.Values.tls.certManager.enabled }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "scangate.labels" $ | nindent 4 }}
    app.kubernetes.io/component: webhook
  {{- if and $inject $certManager }}
  annotations:
    cert-manager.io/inject-ca-from: {{ $.Release.Namespace }}/{{ include "scangate.suffixed" (list $ "tls") }}
  {{- end }}
webhooks:
  - name: images.scangate.io
    admissionReviewVersions: ["v1", "v1beta1"]
    # A dry-run request is judged like any other, but never uploads a report.
    sideEffects: NoneOnDryRun
    failurePolicy: {{ $.Values.webhook.failurePolicy }}
    timeoutSeconds: {{ $.Values.webhook.timeoutSeconds }}
    matchPolicy: Equivalent
    clientConfig:
      service:
        name: {{ $fullname }}
        namespace: {{ $.Release.Namespace }}
        path: /validate
        port: {{ $.Values.service.port }}
      {{- with $caBundle }}
      caBundle: {{ . }}
      {{- end }}
    namespaceSelector:
      {{- with $.Values.webhook.namespaceSelector.matchLabels }}
      matchLabels:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      matchExpressions:
        # Never gate the webhook's own namespace: its pods must start while it is down.
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
            {{- toYaml (prepend $.Values.webhook.excludeNamespaces $.Release.Namespace | uniq) | nindent 12 }}
        {{- with $.Values.webhook.optOutLabel }}
        # Opt-out: namespaces labelled {{ . }} are never gated.
        - key: {{ . }}
          operator: DoesNotExist
        {{- end }}
        {{- with $.Values.webhook.namespaceSelector.matchExpressions }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with $.Values.webhook.objectSelector }}
    objectSelector:
      {{- toYaml . | nindent 6 }}
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
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end -}}
