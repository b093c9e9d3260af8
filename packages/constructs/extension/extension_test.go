package main

import (
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func fail(t *testing.T, format string, args ...any) { t.Helper(); t.Fatalf(format, args...) }

// watching: the watch item exists and the extension has found it.
func watching(t *testing.T, x *extension) {
	t.Helper()
	x.dynamo.watch(testKey, testDeployment)
	x.lambda.invoke()
	eventually(t, 3*time.Second, "the watching log line", func() bool { return x.logs.has("telemetry.watching") })
}

func TestRegistersAndSubscribesWithTheDocumentedBodies(t *testing.T) {
	x := start(t, "7", nil)
	l := x.lambda
	if len(l.registrations) != 1 || l.registrations[0].Name != ExtensionName {
		fail(t, "registrations %+v", l.registrations)
	}
	if !reflect.DeepEqual(l.registrations[0].Body, map[string]any{"events": []any{"INVOKE", "SHUTDOWN"}}) {
		fail(t, "register body %v", l.registrations[0].Body)
	}
	if len(l.subscriptions) != 1 {
		fail(t, "subscriptions %v", l.subscriptions)
	}
	sub := l.subscriptions[0]
	want := map[string]any{"schemaVersion": "2022-12-13", "types": []any{"platform"}, "buffering": map[string]any{"timeoutMs": float64(TelemetryBufferMs), "maxItems": float64(1000), "maxBytes": float64(262144)}}
	uri := sub["destination"].(map[string]any)
	delete(sub, "destination")
	if !reflect.DeepEqual(sub, want) || uri["protocol"] != "HTTP" || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(uri["URI"].(string)) {
		fail(t, "subscription %v %v", sub, uri)
	}
	if got := x.logs.names(); !reflect.DeepEqual(got, []string{"telemetry.subscribed"}) {
		fail(t, "logs %v", got)
	}
}

func TestWritesAFailureAtOnceAndSuccessesAtTheFlushInterval(t *testing.T) {
	x := start(t, "7", nil)
	watching(t, x)
	x.lambda.telemetry([]any{runtimeDone("success"), runtimeDone("success"), map[string]any{"type": "platform.report", "record": map[string]any{}}, runtimeDone("success")})
	x.lambda.invoke()
	time.Sleep(150 * time.Millisecond)
	if n, _ := x.dynamo.counts(testKey); n != -1 {
		fail(t, "successes written before the flush interval: %d", n)
	}
	sent := time.Now()
	x.lambda.telemetry([]any{runtimeDone("timeout")})
	eventually(t, time.Second, "the failure to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 4 })
	if _, e := x.dynamo.counts(testKey); e != 1 {
		fail(t, "errors %d", e)
	}
	if at, _ := strconv.ParseInt(x.dynamo.item(testKey)[FieldAt]["N"].(string), 10, 64); at < sent.UnixMilli() {
		fail(t, "telemetryAt %d before %d", at, sent.UnixMilli())
	}
	x.lambda.telemetry([]any{runtimeDone("success"), runtimeDone("success")})
	x.lambda.invoke()
	time.Sleep(100 * time.Millisecond)
	if n, _ := x.dynamo.counts(testKey); n != 4 {
		fail(t, "written before the flush interval: %d", n)
	}
	time.Sleep(650 * time.Millisecond)
	x.lambda.invoke()
	eventually(t, time.Second, "the successes to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 6 })
	if got := x.dynamo.count("UpdateItem"); got != 2 {
		fail(t, "UpdateItem calls %d, want 2", got)
	}
	// A batch that is not JSON is answered, logged, and changes nothing.
	if status := x.lambda.telemetry("not json"); status != 200 {
		fail(t, "status %d", status)
	}
	eventually(t, time.Second, "the bad-batch log line", func() bool { return x.logs.has("telemetry.bad-batch") })
}

// The hold: from INVOKE handed out to /next called, while DynamoDB is in each condition the
// issue measured. The writer is kept busy: every batch holds a failure, so every event wants a write.
func TestNeverHoldsTheInvokePhaseWhateverDynamoDBDoes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mode        dynamoMode
		unreachable bool
	}{
		{"healthy", healthy, false},
		{"slow (2 s)", slow, false},
		{"hanging", hanging, false},
		{"throttled", throttled, false},
		{"unreachable", healthy, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			if tc.unreachable {
				env[envDynamoEndpoint] = unreachable(t)
			}
			x := start(t, "7", env)
			if !tc.unreachable {
				watching(t, x)
			}
			x.dynamo.setMode(tc.mode)
			began := time.Now()
			for i := 0; i < 100; i++ {
				x.lambda.telemetry([]any{runtimeDone("error"), runtimeDone("success")})
				x.lambda.invoke()
				time.Sleep(10 * time.Millisecond)
			}
			holds := x.lambda.holdTimes()
			p50, p99, worst := percentile(holds, 0.5), percentile(holds, 0.99), percentile(holds, 1)
			t.Logf("%s: %d invokes, hold p50 %v p99 %v max %v, DynamoDB calls %d", tc.name, len(holds), p50, p99, worst, x.dynamo.count("UpdateItem")+x.dynamo.count("GetItem"))
			if len(holds) < 100 || p99 > 5*time.Millisecond || worst > 20*time.Millisecond {
				fail(t, "hold p99 %v max %v over %d invokes", p99, worst, len(holds))
			}
			if tc.mode != healthy {
				// The breaker: at most `threshold` calls, then one per cool-down (400 ms here), not one per event.
				elapsed := time.Since(began)
				limit := breakerThreshold + int(elapsed/(400*time.Millisecond)) + 1
				if calls := x.dynamo.count("UpdateItem"); calls > limit {
					fail(t, "%d writes in %v, breaker allows %d", calls, elapsed, limit)
				}
				if !x.logs.has("telemetry.breaker-open") {
					fail(t, "no breaker-open log line: %v", x.logs.names())
				}
			}
		})
	}
}

// A write that timed out may have been applied (the slow endpoint applies it, then answers after
// 2 s): its counts are dropped and counted, never written twice; answered errors keep them.
func TestDropsWritesWhoseOutcomeIsUnknownAndCountsThem(t *testing.T) {
	x := start(t, "7", nil)
	watching(t, x)
	x.dynamo.setMode(slow)
	x.lambda.telemetry([]any{runtimeDone("error"), runtimeDone("success")})
	x.lambda.invoke()
	eventually(t, 3*time.Second, "the dropped log line", func() bool { return x.logs.has("telemetry.dropped") })
	var dropped map[string]any
	for _, e := range x.logs.events() {
		if e["event"] == "telemetry.dropped" {
			dropped = e
		}
	}
	if dropped["invocations"] != float64(2) || dropped["errors"] != float64(1) {
		fail(t, "dropped %v", dropped)
	}
	// DynamoDB is healthy again: the next counts are written once, the dropped ones not again.
	x.dynamo.setMode(healthy)
	time.Sleep(450 * time.Millisecond) // past the cool-down, should the breaker be open
	x.lambda.telemetry([]any{runtimeDone("error")})
	x.lambda.invoke()
	eventually(t, 2*time.Second, "the next write", func() bool { n, _ := x.dynamo.counts(testKey); return n == 3 })
	time.Sleep(100 * time.Millisecond)
	if n, e := x.dynamo.counts(testKey); n != 3 || e != 2 {
		fail(t, "item counts %d/%d, want 3/2 (each invocation once)", e, n)
	}
}

func TestKeepsCountsThroughAnsweredErrorsAndWritesTheSumOnRecovery(t *testing.T) {
	for _, mode := range []dynamoMode{throttled, failing} {
		x := start(t, "7", nil)
		watching(t, x)
		x.dynamo.setMode(mode)
		x.lambda.telemetry([]any{runtimeDone("error")})
		eventually(t, 2*time.Second, "the write to fail", func() bool { return x.logs.has("telemetry.write-failed") })
		x.lambda.telemetry([]any{runtimeDone("success"), runtimeDone("error")})
		x.lambda.invoke()
		x.dynamo.setMode(healthy)
		time.Sleep(450 * time.Millisecond)
		x.lambda.telemetry([]any{runtimeDone("success")})
		eventually(t, 2*time.Second, "the sum to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 4 })
		if _, e := x.dynamo.counts(testKey); e != 2 {
			fail(t, "errors %d", e)
		}
		eventually(t, time.Second, "write-recovered", func() bool { return x.logs.has("telemetry.write-recovered") })
		n := 0
		for _, name := range x.logs.names() {
			if name == "telemetry.write-failed" {
				n++
			}
		}
		if n != 1 {
			fail(t, "write-failed logged %d times", n)
		}
		x.lambda.shutdown()
		<-x.exit
	}
}

func TestLooksForTheWatchItemOnlyAtTheRecheckIntervalAndCountsFromThen(t *testing.T) {
	x := start(t, "7", nil)
	x.lambda.invoke()
	eventually(t, time.Second, "the first lookup", func() bool { return x.logs.has("telemetry.unwatched") })
	x.lambda.telemetry([]any{runtimeDone("error"), runtimeDone("success")})
	x.lambda.invoke()
	time.Sleep(100 * time.Millisecond)
	if g, u := x.dynamo.count("GetItem"), x.dynamo.count("UpdateItem"); g != 1 || u != 0 {
		fail(t, "GetItem %d UpdateItem %d before the re-check", g, u)
	}
	x.dynamo.watch(testKey, testDeployment)
	time.Sleep(800 * time.Millisecond)
	x.lambda.invoke()
	eventually(t, time.Second, "watching", func() bool { return x.logs.has("telemetry.watching") })
	if got := x.logs.names(); !reflect.DeepEqual(got, []string{"telemetry.subscribed", "telemetry.unwatched", "telemetry.watching"}) {
		fail(t, "logs %v", got)
	}
	// What ended while unwatched belongs to no release.
	x.lambda.telemetry([]any{runtimeDone("failure")})
	eventually(t, time.Second, "the failure to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 1 })
	if _, e := x.dynamo.counts(testKey); e != 1 {
		fail(t, "errors %d", e)
	}
}

func TestStopsWritingOnceTheWatchItemIsRemoved(t *testing.T) {
	x := start(t, "7", nil)
	watching(t, x)
	x.lambda.telemetry([]any{runtimeDone("error")})
	eventually(t, time.Second, "the first write", func() bool { return x.dynamo.count("UpdateItem") == 1 })
	// The release ends: the watch item goes. The next lookup (the watching re-check) notices.
	x.dynamo.remove(testKey)
	time.Sleep(800 * time.Millisecond)
	x.lambda.invoke()
	eventually(t, time.Second, "unwatched", func() bool { return x.logs.has("telemetry.unwatched") })
	for i := 0; i < 20; i++ {
		x.lambda.telemetry([]any{runtimeDone("error")})
		x.lambda.invoke()
		time.Sleep(20 * time.Millisecond)
	}
	if u := x.dynamo.count("UpdateItem"); u != 1 {
		fail(t, "%d writes after the watch item was removed", u-1)
	}
	if x.dynamo.item(testKey) != nil {
		fail(t, "the watch item was made again")
	}
}

func TestAWriteAfterTheRemovalFailsItsConditionAndIsTheLast(t *testing.T) {
	x := start(t, "7", map[string]string{envWatchingMs: "600000"})
	watching(t, x)
	x.dynamo.remove(testKey)
	for i := 0; i < 20; i++ {
		x.lambda.telemetry([]any{runtimeDone("error")})
		x.lambda.invoke()
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, time.Second, "deployment-gone", func() bool { return x.logs.has("telemetry.deployment-gone") })
	if u := x.dynamo.count("UpdateItem"); u != 1 {
		fail(t, "%d conditional writes after the removal, want 1", u)
	}
	if x.dynamo.item(testKey) != nil {
		fail(t, "the watch item was made again")
	}
}

func TestNeverCountsForAnotherDeploymentOfTheSameVersion(t *testing.T) {
	x := start(t, "7", map[string]string{envWatchingMs: "600000"})
	watching(t, x)
	x.dynamo.watch(testKey, "d-OTHER0001")
	x.lambda.telemetry([]any{runtimeDone("error")})
	eventually(t, time.Second, "deployment-gone", func() bool { return x.logs.has("telemetry.deployment-gone") })
	if n, _ := x.dynamo.counts(testKey); n != -1 {
		fail(t, "counted %d into another deployment", n)
	}
}

func TestNeverLooksForLatest(t *testing.T) {
	x := start(t, "$LATEST", nil)
	x.lambda.invoke()
	x.lambda.invoke()
	if g := x.dynamo.count("GetItem"); g != 0 || len(x.lambda.subscriptions) != 0 {
		fail(t, "GetItem %d subscriptions %d", g, len(x.lambda.subscriptions))
	}
	ev := x.logs.events()
	if len(ev) != 1 || ev[0]["event"] != "telemetry.off" || ev[0]["reason"] != `version "$LATEST" is never watched` {
		fail(t, "logs %v", ev)
	}
}

func TestWithoutTheTableAnswersEveryEventAndExitsAtShutdown(t *testing.T) {
	x := start(t, "7", map[string]string{TableEnv: ""})
	for i := 0; i < 3; i++ {
		x.lambda.invoke()
	}
	x.lambda.shutdown()
	if code := <-x.exit; code != 0 {
		fail(t, "exit %d", code)
	}
	if x.lambda.nexts() != 4 || len(x.lambda.subscriptions) != 0 || x.dynamo.count("GetItem") != 0 {
		fail(t, "next %d subscriptions %d", x.lambda.nexts(), len(x.lambda.subscriptions))
	}
}

func TestWritesWhatIsLeftAtShutdownWithinTheBudgetThenExits0(t *testing.T) {
	x := start(t, "7", map[string]string{envFlushMs: "600000"})
	watching(t, x)
	x.lambda.telemetry([]any{runtimeDone("success"), runtimeDone("success"), runtimeDone("success")})
	x.lambda.invoke()
	time.Sleep(50 * time.Millisecond)
	if x.dynamo.count("UpdateItem") != 0 {
		fail(t, "written before SHUTDOWN")
	}
	began := time.Now()
	x.lambda.shutdown()
	// Lambda delivers the last telemetry just after SHUTDOWN.
	time.Sleep(100 * time.Millisecond)
	x.lambda.telemetry([]any{runtimeDone("success")})
	code := <-x.exit
	took := time.Since(began)
	if code != 0 || took > shutdownShare {
		fail(t, "exit %d after %v", code, took)
	}
	if n, e := x.dynamo.counts(testKey); n != 4 || e != 0 || x.dynamo.count("UpdateItem") != 1 {
		fail(t, "counts %d/%d in %d writes", e, n, x.dynamo.count("UpdateItem"))
	}
}

func TestShutdownWithAHangingDynamoDBStillExitsWithinTheBudget(t *testing.T) {
	x := start(t, "7", map[string]string{envFlushMs: "600000"})
	watching(t, x)
	x.lambda.telemetry([]any{runtimeDone("success")})
	x.lambda.invoke()
	x.dynamo.setMode(hanging)
	began := time.Now()
	x.lambda.shutdown()
	code := <-x.exit
	if took := time.Since(began); code != 0 || took > shutdownShare {
		fail(t, "exit %d after %v", code, took)
	}
}
