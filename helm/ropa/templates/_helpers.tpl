{{/*
Names, labels and the shared pieces of the pod specs.
*/}}

{{- define "ropa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name, at most 52 characters so that "<fullname>-<component>-<suffix>" stays under 63. */}}
{{- define "ropa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ropa.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "registry"). */}}
{{- define "ropa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ropa.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ropa.labels" -}}
helm.sh/chart: {{ include "ropa.chart" .ctx }}
{{ include "ropa.selectorLabels" . }}
app.kubernetes.io/part-of: ropa
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{/* The label the Neo4j NetworkPolicy admits: only pods of this release's services carry it. */}}
{{- define "ropa.neo4jClientLabel" -}}
ropa-registry/neo4j-client: {{ .Release.Name | quote }}
{{- end -}}

{{- define "ropa.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ropa.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The service account of the jobs. A hook may run before the release's own ServiceAccount exists,
so jobs use the chart's account only when the operator provides one that already exists.
*/}}
{{- define "ropa.jobServiceAccountName" -}}
{{- if and (not .Values.serviceAccount.create) .Values.serviceAccount.name -}}
{{- .Values.serviceAccount.name -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/*
Helm hook events of the migration Job.

The registry's and the notifier's /readyz answer 503 until Neo4j is reachable AND every migration
is applied. Against an external Neo4j the Job runs before anything else of the release
(pre-install, pre-upgrade), so the services start on a migrated database.

The chart's own Neo4j does not exist before install, so a pre-install Job could never reach it.
A post-install Job alone is not enough either: `helm install --wait` waits for the Deployments to
be ready before it runs post-install hooks, and they cannot be ready before the migration, so the
install would time out. Hence, with the chart's own Neo4j, every registry and notifier pod
migrates the database itself before it starts ("ropa.migrateInitContainers": wait for Bolt, then
`ropa migrate`; idempotent and safe to run from several pods at once: every statement is
IF NOT EXISTS, and MERGEs recorded under uniqueness constraints). The Job stays:
- pre-upgrade: the schema is migrated before the new pods roll out, as with an external Neo4j
  (the new pods' own migrate step then finds nothing to do);
- post-install: with `--wait` it runs after the pods have migrated and finds nothing to do;
  without `--wait` it makes `helm install` wait for the migration and fail when it fails, as
  the pods alone would not. Either way it precedes the document apply Job (hook weight 0 < 10),
  whose ordering therefore holds on install as on upgrade.
*/}}
{{- define "ropa.migration.hook" -}}
{{- if eq .Values.neo4j.mode "external" -}}
pre-install,pre-upgrade
{{- else -}}
post-install,pre-upgrade
{{- end -}}
{{- end -}}

{{/*
Init container waiting until the chart's own Neo4j accepts connections on Bolt (7687). Call with
(dict "ctx" $ "resources" <resources of the pod's main container>).
*/}}
{{- define "ropa.waitForNeo4jContainer" -}}
- name: wait-for-neo4j
  image: {{ include "ropa.image" .ctx | quote }}
  imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
  command:
    - python
    - -c
    - |
      import socket, time
      while True:
          try:
              socket.create_connection(({{ include "ropa.neo4j.fullname" .ctx | quote }}, 7687), 3).close()
              break
          except OSError as error:
              print("waiting for neo4j:", error, flush=True)
              time.sleep(3)
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- include "ropa.containerSecurityContext" .ctx | nindent 4 }}
{{- end -}}

{{/*
Init containers of a pod that needs a migrated database, with the chart's own Neo4j (see
"ropa.migration.hook"): wait for Bolt, then `ropa migrate` with the same image, environment,
security context, resources and /tmp (the pod's emptyDir volume "tmp") as the main container.
A failed migration fails the init container, which the kubelet retries; the pod never starts
on a database it cannot serve. Call with (dict "ctx" $ "resources" <resources>).
*/}}
{{- define "ropa.migrateInitContainers" -}}
{{ include "ropa.waitForNeo4jContainer" . }}
- name: migrate
  image: {{ include "ropa.image" .ctx | quote }}
  imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
  command: ["ropa"]
  args: ["migrate"]
  env:
    {{- include "ropa.env" .ctx | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- include "ropa.containerSecurityContext" .ctx | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{- define "ropa.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "ropa.neo4j.fullname" -}}
{{- printf "%s-neo4j" (include "ropa.fullname" .) -}}
{{- end -}}

{{/* The Secret and key holding the Neo4j password. */}}
{{- define "ropa.neo4j.secretName" -}}
{{- if eq .Values.neo4j.mode "external" -}}
{{- .Values.neo4j.external.existingSecret -}}
{{- else if .Values.neo4j.internal.auth.existingSecret -}}
{{- .Values.neo4j.internal.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-auth" (include "ropa.neo4j.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "ropa.neo4j.passwordKey" -}}
{{- if eq .Values.neo4j.mode "external" -}}
{{- .Values.neo4j.external.passwordKey -}}
{{- else -}}
{{- .Values.neo4j.internal.auth.passwordKey -}}
{{- end -}}
{{- end -}}

{{- define "ropa.neo4j.uri" -}}
{{- if eq .Values.neo4j.mode "external" -}}
{{- .Values.neo4j.external.uri -}}
{{- else -}}
{{- printf "bolt://%s.%s.svc:7687" (include "ropa.neo4j.fullname" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Token hashes: the chart's Secret, or the one the operator names. Empty when there are none. */}}
{{- define "ropa.tokens.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else if .Values.auth.tokens -}}
{{- printf "%s-tokens" (include "ropa.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "ropa.tokens.key" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecretKey -}}
{{- else -}}
tokens.json
{{- end -}}
{{- end -}}

{{/*
Environment shared by every container running the ropa image. Inline, not from a ConfigMap: the
migration hook may run before any of the release's own objects exist. Credentials only ever come
through secretKeyRef.
*/}}
{{- define "ropa.env" -}}
- name: ROPA_ENV
  value: {{ .Values.environment | quote }}
- name: NEO4J_URI
  value: {{ include "ropa.neo4j.uri" . | quote }}
- name: NEO4J_DATABASE
  value: {{ .Values.neo4j.database | quote }}
{{- if eq .Values.neo4j.mode "external" }}
- name: NEO4J_USER
  valueFrom:
    secretKeyRef:
      name: {{ .Values.neo4j.external.existingSecret }}
      key: {{ .Values.neo4j.external.userKey }}
{{- else }}
- name: NEO4J_USER
  value: neo4j
{{- end }}
- name: NEO4J_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "ropa.neo4j.secretName" . }}
      key: {{ include "ropa.neo4j.passwordKey" . }}
- name: TMPDIR
  value: /tmp
{{- end -}}

{{/* The Secret holding ROPA_SECRET_KEY (and, while rotating, ROPA_SECRET_KEY_PREVIOUS). */}}
{{- define "ropa.secretKey.secretName" -}}
{{- .Values.secretKey.existingSecret | default (printf "%s-secret-key" (include "ropa.fullname" .)) -}}
{{- end -}}

{{/*
ROPA_SECRET_KEY for the registry and the notifier (webhook secrets are sealed with a key derived
from it; e-mail links are signed with it), by reference only. The migration hook needs none.
*/}}
{{- define "ropa.secretKey.env" -}}
- name: ROPA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "ropa.secretKey.secretName" . }}
      key: {{ .Values.secretKey.key }}
- name: ROPA_SECRET_KEY_PREVIOUS
  valueFrom:
    secretKeyRef:
      name: {{ include "ropa.secretKey.secretName" . }}
      key: {{ .Values.secretKey.previousKey }}
      optional: true
{{- end -}}

{{- define "ropa.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "ropa.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{/* Consistency checks that JSON Schema cannot express. */}}
{{/* The Secret holding the sign-in's client secret and session key. */}}
{{- define "ropa.signIn.secretName" -}}
{{- .Values.signIn.existingSecret | default (printf "%s-signin" (include "ropa.fullname" .)) -}}
{{- end -}}

{{/* Where the public reaches the registry: publicUrl, else signIn.publicUrl, else
https://<ingress.host> with a TLS ingress; empty when none of them says. */}}
{{- define "ropa.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl -}}
{{- else if .Values.signIn.publicUrl -}}
{{- .Values.signIn.publicUrl -}}
{{- else if and .Values.ingress.enabled .Values.ingress.tls.enabled -}}
{{- printf "https://%s" .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* ROPA_PUBLIC_URL for the registry and the notifier, when it is known. */}}
{{- define "ropa.publicUrl.env" -}}
{{- with include "ropa.publicUrl" . }}
- name: ROPA_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The notifier's e-mail environment (the password by reference only); none without a host. */}}
{{- define "ropa.mail.env" -}}
{{- $smtp := .Values.mail.smtp -}}
{{- if $smtp.host }}
- name: ROPA_SMTP_HOST
  value: {{ $smtp.host | quote }}
- name: ROPA_SMTP_PORT
  value: {{ $smtp.port | quote }}
- name: ROPA_SMTP_STARTTLS
  value: {{ $smtp.starttls | quote }}
- name: ROPA_MAIL_FROM
  value: {{ .Values.mail.from | quote }}
{{- with $smtp.user }}
- name: ROPA_SMTP_USER
  value: {{ . | quote }}
{{- end }}
{{- if $smtp.existingSecret }}
- name: ROPA_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $smtp.existingSecret }}
      key: {{ $smtp.passwordKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The registry's sign-in environment (secrets by reference only). */}}
{{- define "ropa.signIn.env" -}}
{{- $secret := include "ropa.signIn.secretName" . -}}
- name: ROPA_OIDC_ISSUER
  value: {{ .Values.signIn.issuer | quote }}
- name: ROPA_OIDC_CLIENT_ID
  value: {{ .Values.signIn.clientId | quote }}
- name: ROPA_OIDC_SCOPES
  value: {{ .Values.signIn.scopes | quote }}
- name: ROPA_OIDC_GROUPS_CLAIM
  value: {{ .Values.signIn.groupsClaim | quote }}
- name: ROPA_OIDC_ROLE_MAPPINGS
  value: {{ .Values.signIn.roleMappings | toJson | quote }}
- name: ROPA_SESSION_LIFETIME
  value: {{ .Values.signIn.sessionLifetimeSeconds | quote }}
{{- if or .Values.signIn.existingSecret .Values.signIn.clientSecret }}
- name: ROPA_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.signIn.clientSecretKey }}
{{- end }}
- name: ROPA_SESSION_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.signIn.sessionSecretKey }}
{{- end -}}

{{- define "ropa.validate" -}}
{{- $hpa := .Values.registry.autoscaling -}}
{{- if and $hpa.enabled (gt (int $hpa.minReplicas) (int $hpa.maxReplicas)) -}}
{{- fail (printf "registry.autoscaling.minReplicas (%d) must not exceed registry.autoscaling.maxReplicas (%d)" (int $hpa.minReplicas) (int $hpa.maxReplicas)) -}}
{{- end -}}
{{- if and .Values.auth.tokens .Values.auth.existingSecret -}}
{{- fail "auth.tokens and auth.existingSecret are mutually exclusive: list the token hashes in one place" -}}
{{- end -}}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) -}}
{{- fail "ingress.tls.secretName is required when ingress.tls.enabled is true" -}}
{{- end -}}
{{- if and .Values.ropaDocument.enabled .Values.ropaDocument.content .Values.ropaDocument.existingConfigMap -}}
{{- fail "ropaDocument.content and ropaDocument.existingConfigMap are mutually exclusive" -}}
{{- end -}}
{{- if and .Values.signIn.existingSecret (or .Values.signIn.clientSecret .Values.signIn.sessionSecret) -}}
{{- fail "signIn.existingSecret and signIn.clientSecret/sessionSecret are mutually exclusive: keep the secrets in one place" -}}
{{- end -}}
{{- if and .Values.signIn.enabled (not (include "ropa.publicUrl" .)) -}}
{{- fail "signIn.publicUrl is required when signIn.enabled is true (or the top-level publicUrl), unless ingress.enabled and ingress.tls.enabled give https://<ingress.host>" -}}
{{- end -}}
{{- if and .Values.mail.smtp.host (not (include "ropa.publicUrl" .)) -}}
{{- fail "publicUrl is required when mail.smtp.host is set: every e-mail links to the registry (or enable a TLS ingress, giving https://<ingress.host>)" -}}
{{- end -}}
{{- if and .Values.mail.smtp.user (not .Values.mail.smtp.existingSecret) -}}
{{- fail "mail.smtp.existingSecret is required when mail.smtp.user is set: the SMTP password comes from a Secret only" -}}
{{- end -}}
{{- if and (eq .Values.neo4j.mode "internal") .Values.neo4j.internal.auth.password .Values.neo4j.internal.auth.existingSecret -}}
{{- fail "neo4j.internal.auth.password and neo4j.internal.auth.existingSecret are mutually exclusive" -}}
{{- end -}}
{{- end -}}

{{/*
Prometheus' scrape annotations for a pod serving /metrics on `port` (metrics.podAnnotations).
*/}}
{{- define "ropa.scrapeAnnotations" -}}
{{- if .ctx.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
