{{/* Names and labels shared by every template. */}}

{{- define "jarvice-tools.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jarvice-tools.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: <fullname>-slack, <fullname>-mcp. */}}
{{- define "jarvice-tools.component" -}}
{{- printf "%s-%s" (include "jarvice-tools.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jarvice-tools.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "jarvice-tools.selectorLabels" . }}
{{- end -}}

{{- define "jarvice-tools.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jarvice-tools.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "jarvice-tools.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jarvice-tools.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jarvice-tools.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Environment both services share. */}}
{{- define "jarvice-tools.commonEnv" -}}
- name: JARVICE_API_URL
  value: {{ .Values.jarvice.apiUrl | quote }}
- name: JARVICE_TIMEOUT
  value: {{ .Values.jarvice.timeout | quote }}
{{- end -}}

{{/* env entries for a secret: {ENV_NAME: key} -> secretKeyRef, skipping names in .skip. */}}
{{- define "jarvice-tools.secretEnv" -}}
{{- $secret := .secret -}}
{{- range $name, $key := $secret.keys }}
{{- if not (has $name $.skip) }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret.name }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end -}}

{{/* env entries from a plain map. */}}
{{- define "jarvice-tools.plainEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Pod-level settings of the Deployments: the chart's service account and
the settings every pod shares. */}}
{{- define "jarvice-tools.podSpecCommon" -}}
serviceAccountName: {{ include "jarvice-tools.serviceAccountName" . }}
{{ include "jarvice-tools.podSpecShared" . }}
{{- end -}}

{{/* Pod-level settings of a pre-install hook. Helm creates the chart's own
objects only after the pre-install hooks, so a hook pod names no service
account the chart creates (it gets the namespace's default, with no token
mounted); an existing account named with serviceAccount.create: false is
there already and is used. */}}
{{- define "jarvice-tools.hookPodSpecCommon" -}}
{{- if not .Values.serviceAccount.create }}
serviceAccountName: {{ include "jarvice-tools.serviceAccountName" . }}
{{- end }}
{{ include "jarvice-tools.podSpecShared" . }}
{{- end -}}

{{- define "jarvice-tools.podSpecShared" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "jarvice-tools.podAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: "8000"
prometheus.io/path: /metrics
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Probes: /health says the process serves; /ready adds JARVICE and the database. */}}
{{- define "jarvice-tools.probes" -}}
startupProbe:
  httpGet:
    path: /health
    port: http
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /health
    port: http
  periodSeconds: 15
  timeoutSeconds: 3
  failureThreshold: 4
readinessProbe:
  httpGet:
    path: /ready
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/* Writable scratch space; the root filesystem is read-only. */}}
{{- define "jarvice-tools.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}
