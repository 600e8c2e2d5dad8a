{{/*
Checks of the values that the schema cannot express: removed keys (each names its replacement,
after falcosecurity/charts) and combinations that would render a broken release. Included by
templates/validate.yaml, so `helm template`, `helm install` and `helm upgrade` stop with the message.
*/}}
{{- define "scangate.validateValues" -}}
{{- with .Values.webhook }}
{{- if hasKey . "tlsSecret" }}{{ fail "webhook.tlsSecret was removed; use tls.existingSecret" }}{{ end }}
{{- if hasKey . "caBundle" }}{{ fail "webhook.caBundle was removed; use tls.caBundle (plain PEM, not base64)" }}{{ end }}
{{- end }}
{{- if hasKey .Values "certManager" }}{{ fail "certManager was removed; use tls.certManager" }}{{ end }}
{{- if hasKey .Values "policyFile" }}{{ fail "policyFile was removed; write the policy under the policy key (it is mounted from a ConfigMap)" }}{{ end }}

{{- if and .Values.tls.certManager.enabled .Values.tls.existingSecret }}
{{- fail "tls.certManager.enabled and tls.existingSecret exclude each other: choose cert-manager or your own Secret" }}
{{- end }}
{{- if and .Values.tls.existingSecret (not .Values.tls.caBundle) }}
{{- fail "tls.existingSecret needs tls.caBundle: the PEM of the CA that signed it, for the API server to trust the webhook" }}
{{- end }}
{{- if and .Values.tls.caBundle (not .Values.tls.existingSecret) }}
{{- fail "tls.caBundle is only used with tls.existingSecret (cert-manager injects its CA, the self-signed mode generates one)" }}
{{- end }}
{{- if and .Values.db.update.schedule (not .Values.db.persistence.enabled) (not .Values.db.repository) }}
{{- fail "db.update.schedule needs db.repository (the CronJob pushes the DB there) or db.persistence.enabled=true (the CronJob updates the DB on the shared PVC)" }}
{{- end }}
{{- if and .Values.db.update.pushSecret (not (and .Values.db.repository .Values.db.update.schedule)) }}
{{- fail "db.update.pushSecret is used by the CronJob's push: it needs db.repository and db.update.schedule" }}
{{- end }}
{{- if and .Values.db.repository .Values.db.persistence.enabled }}
{{- fail "db.repository and db.persistence.enabled exclude each other: with db.repository every pod pulls the DB into its own emptyDir" }}
{{- end }}
{{- if not (or .Values.db.update.initContainer .Values.db.persistence.enabled .Values.db.repository) }}
{{- fail "db.update.initContainer=false needs db.persistence.enabled=true with a DB on the claim: otherwise the webhook starts without a vulnerability DB" }}
{{- end }}
{{- with .Values.db.persistence }}
{{- if and .enabled (not .existingClaim) }}
{{- $shared := or (has "ReadWriteMany" .accessModes) (has "ReadOnlyMany" .accessModes) }}
{{- if and (not $shared) (gt (int $.Values.replicaCount) 1) }}
{{- fail (printf "db.persistence.accessModes %v with replicaCount=%d: a ReadWriteOnce claim attaches to one node, so the other replicas fail with Multi-Attach; use ReadWriteMany (or replicaCount=1)" .accessModes (int $.Values.replicaCount)) }}
{{- end }}
{{- if not $.Values.db.update.initContainer }}
{{- fail "db.update.initContainer=false with a new PVC: the claim starts empty and the webhook would crash-loop without a DB; keep the initContainer, or name an existingClaim that holds a DB" }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.cspm.enabled }}
{{- if not .Values.cspm.url }}
{{- fail "cspm.enabled needs cspm.url (the endpoint that receives the reports)" }}
{{- end }}
{{- if not .Values.cspm.existingSecret }}
{{- fail "cspm.enabled needs cspm.existingSecret: a Secret holding the CSPM API token under cspm.existingSecretKey" }}
{{- end }}
{{- end }}
{{- end -}}
