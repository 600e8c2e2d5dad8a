{{/* Names, labels and the paths the webhook container sees. */}}

{{- define "scangate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scangate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* fullname-SUFFIX within a length limit (63 by default; 52 for a CronJob, whose Jobs add 11
     characters): the fullname is shortened before the suffix is added, so the suffix always
     survives and two objects never end up with one name. Call as (list . "SUFFIX" [LIMIT]). */}}
{{- define "scangate.suffixed" -}}
{{- $ctx := index . 0 -}}
{{- $suffix := index . 1 -}}
{{- $limit := 63 -}}
{{- if gt (len .) 2 }}{{ $limit = index . 2 }}{{ end -}}
{{- $base := include "scangate.fullname" $ctx | trunc (int (sub $limit (add1 (len $suffix)))) | trimSuffix "-" -}}
{{- printf "%s-%s" $base $suffix -}}
{{- end -}}

{{- define "scangate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scangate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scangate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scangate.labels" -}}
helm.sh/chart: {{ include "scangate.chart" . }}
{{ include "scangate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: scangate
{{- end -}}

{{- define "scangate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "scangate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "scangate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding tls.crt / tls.key, whichever mode made it. */}}
{{- define "scangate.tlsSecretName" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- include "scangate.suffixed" (list . "tls") -}}
{{- end -}}
{{- end -}}

{{- define "scangate.serviceDNSNames" -}}
{{- $svc := include "scangate.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson -}}
{{- end -}}

{{- define "scangate.dbClaimName" -}}
{{- default (include "scangate.suffixed" (list . "db")) .Values.db.persistence.existingClaim -}}
{{- end -}}

{{- define "scangate.spoolClaimName" -}}
{{- default (include "scangate.suffixed" (list . "spool")) .Values.cspm.spool.persistence.existingClaim -}}
{{- end -}}

{{/* Paths inside the containers. */}}
{{- define "scangate.dbPath" -}}/var/lib/scangate/db/{{ .Values.db.fileName }}{{- end -}}

{{/* The webhook's config file (keys named like its flags). Tunables live here so that a change
     rolls the pods through the checksum annotation; paths stay on the command line. */}}
{{- define "scangate.configFile" -}}
{{- $cfg := dict
      "scan-workers" (int64 .Values.webhook.scanWorkers)
      "threads" (int64 .Values.webhook.threads)
      "cache-size" (int64 .Values.webhook.cacheSize)
      "cache-ttl" (toString .Values.webhook.cacheTTL)
      "shutdown-delay" (toString .Values.webhook.shutdownDelay) -}}
{{- with .Values.webhook.insecureRegistries }}
{{- $_ := set $cfg "insecure-registry" . }}
{{- end }}
{{- if .Values.cspm.enabled }}
{{- $_ := set $cfg "cspm-url" .Values.cspm.url }}
{{- with .Values.cspm.tenantId }}{{ $_ := set $cfg "cspm-tenant-id" (toString .) }}{{ end }}
{{- with .Values.cspm.labels }}{{ $_ := set $cfg "cspm-label" . }}{{ end }}
{{- end }}
{{- $cfg = mergeOverwrite $cfg .Values.webhook.extraConfig }}
{{- toYaml $cfg }}
{{- end -}}

{{/* Pod volumes shared by the Deployment and the DB update CronJob. */}}
{{- define "scangate.dbVolume" -}}
- name: db
{{- if .Values.db.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "scangate.dbClaimName" . }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.db.emptyDirSizeLimit }}
{{- end }}
{{- end -}}

{{/* The `scangate db update` container (initContainer and CronJob). */}}
{{- define "scangate.dbUpdateContainer" -}}
- name: db-update
  image: {{ include "scangate.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["scangate"]
  args:
    - db
    - update
    - --db={{ include "scangate.dbPath" . }}
    - --quiet
    {{- if .Values.db.update.nvdApiKey.existingSecret }}
    - --nvd-api-key-file=/etc/scangate/nvd/api-key
    {{- end }}
    {{- range .Values.db.update.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.db.update.resources | nindent 4 }}
  volumeMounts:
    - name: db
      mountPath: /var/lib/scangate/db
    - name: tmp
      mountPath: /tmp
    {{- if .Values.db.update.nvdApiKey.existingSecret }}
    - name: nvd-api-key
      mountPath: /etc/scangate/nvd
      readOnly: true
    {{- end }}
{{- end -}}

{{/* The NVD API key's volume, for the pods that run the DB update container. */}}
{{- define "scangate.nvdKeyVolume" -}}
{{- with .Values.db.update.nvdApiKey.existingSecret }}
- name: nvd-api-key
  secret:
    secretName: {{ . }}
    items:
      - key: {{ $.Values.db.update.nvdApiKey.existingSecretKey }}
        path: api-key
{{- end }}
{{- end -}}

{{/* webhook.registration=pod: the ClusterRole that lets the webhook publish its configuration and
     owns it (templates/webhook-registration.yaml). */}}
{{- define "scangate.registrationRoleName" -}}
{{- include "scangate.suffixed" (list . "webhook-registration") -}}
{{- end -}}

{{/* webhook.registration=pod: the CA file the webhook writes as the caBundle. */}}
{{- define "scangate.publishCaFile" -}}
{{- if .Values.tls.existingSecret -}}
/etc/scangate/registration/ca.crt
{{- else -}}
/etc/scangate/tls/ca.crt
{{- end -}}
{{- end -}}

{{/* "true" when the helm test hook is rendered: tests.enabled, and tests.namespace is one the
     webhook gates (the release namespace and webhook.excludeNamespaces never are, so a test
     there could never see a denial; NOTES.txt says so instead). */}}
{{- define "scangate.testsRendered" -}}
{{- if and .Values.tests.enabled (not (has .Values.tests.namespace (prepend .Values.webhook.excludeNamespaces .Release.Namespace))) -}}
true
{{- end -}}
{{- end -}}
