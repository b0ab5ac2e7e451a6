{{/*
The six services. `offlineRoot`: reads FTI_OFFLINE_ROOT (the registry only
derives table URIs from it); `offlineVolume`: reads or writes files there, so the
volume is mounted; `onlineStore`: reads FTI_ONLINE_STORE and FTI_CASSANDRA_*;
`registryClient`: reads FTI_REGISTRY_ADDRESS; `offlineQueryClient`: reads
FTI_OFFLINE_QUERY_ADDRESS; `databaseUrlOnly`: reads
FTI_DATABASE_URL (the Postgres online store) but keeps no tables of its own, so
no FTI_DATABASE_SCHEMA / FTI_DATABASE_POOL_SIZE.
Keep in step with services/<name>/src/config.ts; charts/fti/test checks the
rendered keys against those settings.
*/}}
{{- define "fti.components" -}}
registry: { name: registry, offlineRoot: true, offlineVolume: false, onlineStore: false }
ingestion: { name: ingestion, offlineRoot: true, offlineVolume: true, onlineStore: true, registryClient: true }
offlineQuery: { name: offline-query, offlineRoot: true, offlineVolume: true, onlineStore: false, registryClient: true }
onlineServing: { name: online-serving, offlineRoot: true, offlineVolume: true, onlineStore: true, registryClient: true, databaseUrlOnly: true }
trainingRunner: { name: training-runner, offlineRoot: true, offlineVolume: true, onlineStore: false, registryClient: true, offlineQueryClient: true }
monitoring: { name: monitoring, offlineRoot: true, offlineVolume: true, onlineStore: false, registryClient: true }
{{- end }}

{{- define "fti.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fti.fullname" -}}
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

{{/* Name of one service's resources. Call with (dict "root" $ "name" "registry"). */}}
{{- define "fti.componentName" -}}
{{- printf "%s-%s" (include "fti.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fti.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "fti.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fti
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "fti.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fti.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "fti.componentLabels" -}}
{{ include "fti.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "fti.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "fti.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "fti.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "fti.trainingRunnerServiceAccountName" -}}
{{- include "fti.componentName" (dict "root" . "name" "training-runner") -}}
{{- end -}}

{{/* The Secret holding FTI_DATABASE_URL, and its key. */}}
{{- define "fti.databaseSecretName" -}}
{{- .Values.externalDatabase.existingSecret | default (printf "%s-database" (include "fti.fullname" .)) -}}
{{- end -}}
{{- define "fti.databaseSecretKey" -}}
{{- if .Values.externalDatabase.existingSecret -}}{{ .Values.externalDatabase.existingSecretKey }}{{- else -}}FTI_DATABASE_URL{{- end -}}
{{- end -}}

{{/* Names the bundled charts give their resources (see the _helpers.tpl of each chart under charts/). */}}
{{- define "fti.postgresql.host" -}}
{{- printf "%s-postgresql" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "fti.postgresql.secretName" -}}
{{- printf "%s-postgresql-auth" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Password of the bundled Postgres: the value, else the one already stored (so an
upgrade keeps it), else a new random one. Call once per render and reuse.
*/}}
{{- define "fti.postgresql.password" -}}
{{- if .Values.postgresql.auth.password -}}
{{- .Values.postgresql.auth.password -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "fti.postgresql.secretName" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "password") -}}
{{- index $existing.data "password" | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* FTI_DATABASE_URL. Call with (dict "root" $ "password" <fti.postgresql.password>). */}}
{{- define "fti.databaseUrl" -}}
{{- $v := .root.Values -}}
{{- if $v.postgresql.enabled -}}
{{- printf "postgres://%s:%s@%s.%s.svc:5432/%s" ($v.postgresql.auth.username | urlquery) (.password | urlquery) (include "fti.postgresql.host" .root) .root.Release.Namespace $v.postgresql.auth.database -}}
{{- else -}}
{{- $v.externalDatabase.url -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret settings of one service, as a map of env var to string: exactly
the keys its config (libs/config via services/<name>/src/config.ts) reads.
Call with (dict "root" $ "key" "registry" "component" <entry of fti.components>).
*/}}
{{- define "fti.configEnv" -}}
{{- $v := .root.Values -}}
{{- $s := index $v .key -}}
FTI_HOST: {{ $v.config.host | quote }}
FTI_GRPC_PORT: {{ $s.grpcPort | int64 | toString | quote }}
FTI_WEB_PORT: {{ $s.webPort | int64 | toString | quote }}
FTI_LOG_LEVEL: {{ $v.config.logLevel | quote }}
FTI_SHUTDOWN_GRACE_MS: {{ $v.config.shutdownGraceMs | int64 | toString | quote }}
FTI_HEALTH_INTERVAL_MS: {{ $v.config.healthIntervalMs | int64 | toString | quote }}
{{- if not .component.databaseUrlOnly }}
FTI_DATABASE_SCHEMA: {{ printf "%s_%s" $v.config.database.schemaPrefix (.component.name | replace "-" "_") | quote }}
FTI_DATABASE_POOL_SIZE: {{ $v.config.database.poolSize | int64 | toString | quote }}
{{- end }}
FTI_NATS_URL: {{ include "fti.natsUrl" .root | quote }}
FTI_NATS_STREAM_PREFIX: {{ $v.config.nats.streamPrefix | quote }}
FTI_NATS_SUBJECT_PREFIX: {{ $v.config.nats.subjectPrefix | quote }}
{{- if .component.offlineRoot }}
FTI_OFFLINE_ROOT: {{ $v.offlineStore.mountPath | quote }}
{{- end }}
{{- if .component.registryClient }}
FTI_REGISTRY_ADDRESS: {{ printf "%s:%d" (include "fti.componentName" (dict "root" .root "name" "registry")) ($v.registry.grpcPort | int64) | quote }}
{{- end }}
{{- if .component.offlineQueryClient }}
FTI_OFFLINE_QUERY_ADDRESS: {{ printf "%s:%d" (include "fti.componentName" (dict "root" .root "name" "offline-query")) ($v.offlineQuery.grpcPort | int64) | quote }}
{{- end }}
{{- if .component.onlineStore }}
FTI_ONLINE_STORE: {{ $v.config.onlineStore.type | quote }}
{{- if eq $v.config.onlineStore.type "cassandra" }}
FTI_CASSANDRA_CONTACT_POINTS: {{ include "fti.cassandraContactPoints" .root | quote }}
FTI_CASSANDRA_LOCAL_DC: {{ include "fti.cassandraLocalDc" .root | quote }}
FTI_CASSANDRA_KEYSPACE: {{ $v.config.onlineStore.cassandra.keyspace | quote }}
FTI_CASSANDRA_CONSISTENCY: {{ $v.config.onlineStore.cassandra.consistency | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "fti.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats.%s.svc:4222" .Release.Name .Release.Namespace -}}
{{- else -}}
{{- .Values.externalNats.url -}}
{{- end -}}
{{- end -}}

{{- define "fti.cassandraContactPoints" -}}
{{- if .Values.cassandra.enabled -}}
{{- printf "%s-cassandra.%s.svc:9042" .Release.Name .Release.Namespace -}}
{{- else -}}
{{- join "," .Values.externalCassandra.contactPoints -}}
{{- end -}}
{{- end -}}

{{- define "fti.cassandraLocalDc" -}}
{{- if .Values.cassandra.enabled -}}{{ .Values.cassandra.datacenter }}{{- else -}}{{ .Values.externalCassandra.localDc }}{{- end -}}
{{- end -}}

{{/* True ("true") when an enabled service reads the offline root. */}}
{{- define "fti.offlineStoreUsed" -}}
{{- $used := false -}}
{{- range $key, $c := include "fti.components" . | fromYaml -}}
{{- if and $c.offlineVolume (index $.Values $key).enabled -}}{{- $used = true -}}{{- end -}}
{{- end -}}
{{- if $used -}}true{{- end -}}
{{- end -}}

{{- define "fti.offlineClaimName" -}}
{{- .Values.offlineStore.persistence.existingClaim | default (printf "%s-offline" (include "fti.fullname" .)) -}}
{{- end -}}

{{/*
Render-time checks of values that cannot work. Each message names the value to set.
Included by every template that depends on them, so `helm template -s` fails too.
*/}}
{{- define "fti.validate" -}}
{{- $v := .Values -}}
{{- if and (not $v.postgresql.enabled) (not $v.externalDatabase.url) (not $v.externalDatabase.existingSecret) -}}
{{- fail "no Postgres: set postgresql.enabled=true (bundled, dev/test) or externalDatabase.url / externalDatabase.existingSecret (production)" -}}
{{- end -}}
{{- if and $v.postgresql.enabled (or $v.externalDatabase.url $v.externalDatabase.existingSecret) -}}
{{- fail "two Postgres: set postgresql.enabled=false to use externalDatabase, or leave externalDatabase.url and externalDatabase.existingSecret empty" -}}
{{- end -}}
{{- if and $v.externalDatabase.url (not (regexMatch "^postgres(ql)?://" $v.externalDatabase.url)) -}}
{{- fail "externalDatabase.url must be a postgres:// or postgresql:// URL" -}}
{{- end -}}
{{- if and (not $v.nats.enabled) (not $v.externalNats.url) -}}
{{- fail "no NATS: set nats.enabled=true (bundled, dev/test) or externalNats.url (production)" -}}
{{- end -}}
{{- if and $v.nats.enabled $v.externalNats.url -}}
{{- fail "two NATS: set nats.enabled=false to use externalNats.url, or leave externalNats.url empty" -}}
{{- end -}}
{{- if and $v.externalNats.url (not (regexMatch "^(nats|tls)://" $v.externalNats.url)) -}}
{{- fail "externalNats.url must be a nats:// or tls:// URL" -}}
{{- end -}}
{{- $store := $v.config.onlineStore.type -}}
{{- if not (has $store (list "postgres" "cassandra")) -}}
{{- fail (printf "config.onlineStore.type must be postgres or cassandra, got %q" (toString $store)) -}}
{{- end -}}
{{- if and (eq $store "cassandra") (not $v.cassandra.enabled) (empty $v.externalCassandra.contactPoints) -}}
{{- fail "config.onlineStore.type=cassandra needs a Cassandra: set cassandra.enabled=true (bundled, dev/test) or externalCassandra.contactPoints" -}}
{{- end -}}
{{- $consistency := $v.config.onlineStore.cassandra.consistency -}}
{{- if not (has $consistency (list "ONE" "TWO" "THREE" "QUORUM" "ALL" "LOCAL_QUORUM" "EACH_QUORUM" "LOCAL_ONE")) -}}
{{- fail (printf "config.onlineStore.cassandra.consistency must be one of ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE, got %q" (toString $consistency)) -}}
{{- end -}}
{{- if not (has $v.config.logLevel (list "debug" "info" "warn" "error" "silent")) -}}
{{- fail (printf "config.logLevel must be one of debug, info, warn, error, silent, got %q" (toString $v.config.logLevel)) -}}
{{- end -}}
{{- if le (int64 $v.terminationGracePeriodSeconds | mul 1000) (int64 $v.config.shutdownGraceMs) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v s) must be longer than config.shutdownGraceMs (%v ms), or Kubernetes kills pods before in-flight calls drain" $v.terminationGracePeriodSeconds $v.config.shutdownGraceMs) -}}
{{- end -}}
{{- range $key, $c := include "fti.components" . | fromYaml -}}
{{- $s := index $v $key -}}
{{- if lt (int64 $s.replicaCount) 0 -}}
{{- fail (printf "%s.replicaCount must be 0 or more, got %v" $key $s.replicaCount) -}}
{{- end -}}
{{- if and $s.autoscaling.enabled (lt (int64 $s.autoscaling.minReplicas) 1) -}}
{{- fail (printf "%s.autoscaling.minReplicas must be 1 or more, got %v" $key $s.autoscaling.minReplicas) -}}
{{- end -}}
{{- if and $s.autoscaling.enabled (gt (int64 $s.autoscaling.minReplicas) (int64 $s.autoscaling.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%v) must be at least %s.autoscaling.minReplicas (%v)" $key $s.autoscaling.maxReplicas $key $s.autoscaling.minReplicas) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
When the migrations Job runs. With the bundled Postgres the database does not
exist before install, so the first run is post-install (the registry also
migrates at start under an advisory lock, so either may go first).
*/}}
{{- define "fti.migrationsHook" -}}
{{- if .Values.postgresql.enabled -}}post-install,pre-upgrade{{- else -}}pre-install,pre-upgrade{{- end -}}
{{- end -}}

{{/* Pod-template checksum of what the Secret is built from (not the random password). */}}
{{- define "fti.configChecksum" -}}
{{- list .Values.config .Values.externalDatabase .Values.externalNats .Values.externalCassandra .Values.postgresql.auth .Values.offlineStore.mountPath | toJson | sha256sum -}}
{{- end -}}
