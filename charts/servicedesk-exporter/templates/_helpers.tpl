{{/* Chart name, at most 63 characters (a label value). */}}
{{- define "servicedesk-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; the release name alone when it already contains the chart name. */}}
{{- define "servicedesk-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "servicedesk-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "servicedesk-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "servicedesk-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "servicedesk-exporter.labels" -}}
helm.sh/chart: {{ include "servicedesk-exporter.chart" . }}
{{ include "servicedesk-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: servicedesk-exporter
{{- end }}

{{- define "servicedesk-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "servicedesk-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "servicedesk-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The exporter's config.yaml: the user's config with store.path on the
volume, so the single-writer store always lives where the PVC is.
*/}}
{{- define "servicedesk-exporter.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $store := dict }}
{{- if hasKey $config "store" }}{{ $store = get $config "store" }}{{ end }}
{{- $_ := set $store "path" (printf "%s/data/servicedesk.db" .Values.persistence.mountPath) }}
{{- $_ = set $config "store" $store }}
{{- toYaml $config }}
{{- end }}

{{- define "servicedesk-exporter.configDir" -}}
/etc/servicedesk_exporter/config
{{- end }}
