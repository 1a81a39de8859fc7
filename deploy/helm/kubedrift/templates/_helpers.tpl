{{/* Templates shared by the manifests. Keep to plain Helm/Sprig functions. */}}

{{- define "kubedrift.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, cut to the 63 characters a DNS label allows. */}}
{{- define "kubedrift.fullname" -}}
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

{{- define "kubedrift.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubedrift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubedrift.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubedrift.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubedrift.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubedrift.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubedrift.secretName" -}}
{{- default (include "kubedrift.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "kubedrift.claimName" -}}
{{- default (include "kubedrift.fullname" .) .Values.persistence.existingClaim }}
{{- end }}

{{/*
The chart Secret's data: one key per secret file under /etc/kubedrift/secrets/,
only for the values that are set.
*/}}
{{- define "kubedrift.secretData" -}}
{{- $s := .Values.secrets }}
{{- $data := dict }}
{{- if $s.githubToken }}{{ $_ := set $data "github-token" $s.githubToken }}{{ end }}
{{- if $s.apiToken }}{{ $_ := set $data "api-token" $s.apiToken }}{{ end }}
{{- if $s.slackWebhookURL }}{{ $_ := set $data "slack-webhook-url" $s.slackWebhookURL }}{{ end }}
{{- if $s.smtpPassword }}{{ $_ := set $data "smtp-password" $s.smtpPassword }}{{ end }}
{{- if $s.webhookSecret }}{{ $_ := set $data "webhook-secret" $s.webhookSecret }}{{ end }}
{{- toYaml $data }}
{{- end }}

{{/*
kubedrift.yaml: .Values.config plus the files the chart mounts. A reference to
a chart-managed secret file that will not exist fails the render here rather
than the pod at start.
*/}}
{{- define "kubedrift.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $s := .Values.secrets }}
{{- if not $s.existingSecret }}
{{- if $s.githubToken }}
{{- $up := $cfg.upstream | default dict }}
{{- if not (or $up.github_token_file $up.github_token_env) }}
{{- $_ := set $up "github_token_file" "/etc/kubedrift/secrets/github-token" }}
{{- end }}
{{- $_ := set $cfg "upstream" $up }}
{{- end }}
{{- if and $s.apiToken (not $cfg.api_token_file) }}
{{- $_ := set $cfg "api_token_file" "/etc/kubedrift/secrets/api-token" }}
{{- end }}
{{- $plain := toYaml $cfg }}
{{- if and (contains "/etc/kubedrift/secrets/github-token" $plain) (not $s.githubToken) }}
{{- fail "config references /etc/kubedrift/secrets/github-token: set secrets.githubToken or secrets.existingSecret" }}
{{- end }}
{{- if and (contains "/etc/kubedrift/secrets/api-token" $plain) (not $s.apiToken) }}
{{- fail "config references /etc/kubedrift/secrets/api-token: set secrets.apiToken or secrets.existingSecret" }}
{{- end }}
{{- if and (contains "/etc/kubedrift/secrets/slack-webhook-url" $plain) (not $s.slackWebhookURL) }}
{{- fail "config references /etc/kubedrift/secrets/slack-webhook-url: set secrets.slackWebhookURL or secrets.existingSecret" }}
{{- end }}
{{- if and (contains "/etc/kubedrift/secrets/smtp-password" $plain) (not $s.smtpPassword) }}
{{- fail "config references /etc/kubedrift/secrets/smtp-password: set secrets.smtpPassword or secrets.existingSecret" }}
{{- end }}
{{- if and (contains "/etc/kubedrift/secrets/webhook-secret" $plain) (not $s.webhookSecret) }}
{{- fail "config references /etc/kubedrift/secrets/webhook-secret: set secrets.webhookSecret or secrets.existingSecret" }}
{{- end }}
{{- end }}
{{- if .Values.remoteKubeconfig.existingSecret }}
{{- $clusters := $cfg.clusters | default dict }}
{{- $files := $clusters.kubeconfig | default list }}
{{- if not (has "/etc/kubedrift/kubeconfig/config" $files) }}
{{- $_ := set $clusters "kubeconfig" (append $files "/etc/kubedrift/kubeconfig/config") }}
{{- end }}
{{- $_ := set $cfg "clusters" $clusters }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
