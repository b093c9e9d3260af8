package main

import "math"

// The contract shared with the constructs and the watchdog (src/runtime/telemetry.ts). Each value
// here equals its TypeScript constant: test/telemetry-extension-contract.test.ts reads this file and
// fails when one drifts.
const (
	// ExtensionName is TELEMETRY_EXTENSION_NAME: the file's name in the layer's extensions/ folder.
	ExtensionName = "canary-watchdog-telemetry"
	// TableEnv is TELEMETRY_TABLE_ENV: the state table's name, set on every guarded function.
	TableEnv = "CANARY_WATCHDOG_TELEMETRY_TABLE"
	// TelemetryBufferMs is TELEMETRY_BUFFER_MS: the Telemetry API buffering asked for.
	TelemetryBufferMs = 500
	// FlushSeconds is FLUSH_SECONDS: counts without a failure are written at most this often.
	FlushSeconds = 10
	// WatchRecheckSeconds is WATCH_RECHECK_SECONDS: a version without a watch item looks again
	// after this long (the only cost outside a release: one GetItem per environment this often).
	WatchRecheckSeconds = 30
	// WatchingRecheckSeconds is WATCHING_RECHECK_SECONDS: a version that is watched looks again
	// after this long, so that it notices the end of its release (the watch item removed) without
	// writing; a write after the removal fails its condition and is the last.
	WatchingRecheckSeconds = 20
	// WatchKeyPrefix is WATCH_KEY_PREFIX.
	WatchKeyPrefix = "#watch#"
	// WatchDeploymentField is WATCH_DEPLOYMENT_FIELD: the watch item's attribute naming the deployment.
	WatchDeploymentField = "watching"
	// The fields the extension adds to its watch item (TELEMETRY_FIELDS).
	FieldInvocations = "telemetryInvocations"
	FieldErrors      = "telemetryErrors"
	FieldAt          = "telemetryAt"
	FieldFailed      = "telemetryFailed"
	// FieldInits is TELEMETRY_INIT_FIELDS.count: execution environments whose init was counted.
	FieldInits = "telemetryInits"
	// FieldInitBucketPrefix is TELEMETRY_INIT_FIELDS.bucketPrefix: bucket k's count is the
	// attribute FieldInitBucketPrefix + k (initBucketOf).
	FieldInitBucketPrefix = "telemetryInitB"
	// The init-duration histogram (INIT_HISTOGRAM in telemetry.ts): bucket k < InitBucketCount-1
	// holds inits in (edge(k-1), edge(k)], edge(k) = InitBucketBaseMs * 2^(k/InitBucketsPerOctave)
	// ms; the last bucket holds everything above. An eighth of an octave (9 %) is fine beside the
	// watchdog's tolerance, and only the buckets with inits are written.
	InitBucketBaseMs     = 64
	InitBucketsPerOctave = 8
	InitBucketCount      = 66
)

// Overrides for tests only (the same names as the Node extension took).
const (
	envFlushMs        = "CANARY_WATCHDOG_TELEMETRY_FLUSH_MS"
	envRecheckMs      = "CANARY_WATCHDOG_TELEMETRY_RECHECK_MS"
	envWatchingMs     = "CANARY_WATCHDOG_TELEMETRY_WATCHING_RECHECK_MS"
	envCoolDownMs     = "CANARY_WATCHDOG_TELEMETRY_COOLDOWN_MS"
	envListenerHost   = "CANARY_WATCHDOG_TELEMETRY_LISTENER_HOST"
	envDynamoEndpoint = "AWS_ENDPOINT_URL_DYNAMODB"
	// A host whose clock is not the wall's (the lab's virtual clock) sets both: the extension's
	// time is then the lifecycle events' (eventclock.go).
	envClockTimeoutMs = "CANARY_WATCHDOG_TELEMETRY_CLOCK_TIMEOUT_MS"
	envClockStartMs   = "CANARY_WATCHDOG_TELEMETRY_CLOCK_START_MS"
)

// WatchKey is watchKey(functionName, version): the version's watch item, the only item a guarded
// function's role may read or update (a dynamodb:LeadingKeys condition on `#watch#<function>#*`).
func WatchKey(functionName, version string) string {
	return WatchKeyPrefix + functionName + "#" + version
}

// IsFailedStatus is isFailedStatus: a platform.runtimeDone status that is a failed invocation.
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
func IsFailedStatus(status string) bool {
	return status == "error" || status == "failure" || status == "timeout"
}

// initBucketOf is initBucketOf in telemetry.ts: the histogram bucket of an init of `ms` milliseconds.
func initBucketOf(ms float64) int {
	if !(ms > InitBucketBaseMs) {
		return 0
	}
	// The small epsilon keeps a value on an edge in the bucket that edge closes, in both languages.
	k := int(math.Ceil(InitBucketsPerOctave*math.Log2(ms/InitBucketBaseMs) - 1e-9))
	return min(k, InitBucketCount-1)
}
