package main

import (
	"strconv"
	"testing"
	"time"
)

// initReport is a platform.initReport event as the 2022-12-13 schema gives it.
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-initReport
func initReport(ms float64, phase, initType string) map[string]any {
	return map[string]any{"time": time.Now().Format(time.RFC3339Nano), "type": "platform.initReport", "record": map[string]any{
		"initializationType": initType, "phase": phase, "status": "success", "metrics": map[string]any{"durationMs": ms},
	}}
}

// The init events that come before an environment's first invocation, as Lambda sends them.
func initEvents(ms float64) []any {
	now := time.Now().Format(time.RFC3339Nano)
	return []any{
		map[string]any{"time": now, "type": "platform.initStart", "record": map[string]any{"initializationType": "on-demand", "phase": "init", "runtimeVersion": "nodejs:22.v1", "functionName": "orders", "functionVersion": "7"}},
		map[string]any{"time": now, "type": "platform.initRuntimeDone", "record": map[string]any{"initializationType": "on-demand", "phase": "init", "status": "success"}},
		initReport(ms, "init", "on-demand"),
	}
}

func TestInitBucketOf(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want int
	}{
		{0, 0}, {64, 0}, {64.01, 1}, {69.7, 1}, {69.8, 2}, {128, 8}, {128.1, 9}, {400, 22}, {1600, 38}, {16384, 64}, {16385, 65}, {1e9, 65},
	} {
		if got := initBucketOf(tc.ms); got != tc.want {
			t.Errorf("initBucketOf(%v) = %d, want %d", tc.ms, got, tc.want)
		}
	}
}

func TestTallyCountsInitsAndWritesThemAtTheFlushInterval(t *testing.T) {
	t0 := time.UnixMilli(0)
	tally := NewTally(t0, 10*time.Second)
	tally.AddInit(400)
	tally.AddInit(460)
	tally.AddInit(1600)
	if tally.Due(t0.Add(time.Second)) || !tally.Due(t0.Add(10*time.Second)) {
		t.Fatal("inits alone are written at the flush interval, not at once")
	}
	c := tally.Take(t0)
	if c.Inits != 3 || c.InitBuckets[22] != 1 || c.InitBuckets[initBucketOf(460)] != 1 || c.InitBuckets[38] != 1 || c.Invocations != 0 {
		t.Fatalf("took %+v", c)
	}
	tally.Restore(c)
	if tally.Pending() != c {
		t.Fatalf("restored %+v", tally.Pending())
	}
}

func TestUpdateExpressionAddsOnlyTheBucketsWithInits(t *testing.T) {
	var c Counts
	c.Invocations = 2
	if got := updateExpression(c); got != "ADD #n :n, #e :e SET #at = :at, #f = :f" {
		t.Fatal(got)
	}
	c.Inits, c.InitBuckets[11], c.InitBuckets[19] = 2, 1, 1
	if got := updateExpression(c); got != "ADD #n :n, #e :e, #i :i, #b11 :b11, #b19 :b19 SET #at = :at, #f = :f" {
		t.Fatal(got)
	}
	adds := initAdds(c)
	if len(adds) != 3 || adds[":i"] != 2 || adds[":b11"] != 1 || adds[":b19"] != 1 || initField(":b19") != FieldInitBucketPrefix+"19" || initField(":i") != FieldInits {
		t.Fatalf("%v", adds)
	}
}

// An environment's init ends before its first invocation, which is when the extension first
// looks for its watch item: the init is held until then, and counted for the release it finds.
func TestCountsTheEnvironmentsInitReportedBeforeTheFirstLookup(t *testing.T) {
	x := start(t, "7", nil)
	x.dynamo.watch(testKey, testDeployment)
	x.lambda.telemetry(initEvents(1234.5))
	x.lambda.invoke()
	eventually(t, 3*time.Second, "watching", func() bool { return x.logs.has("telemetry.watching") })
	// platform.report's Init Duration is the same init again; provisioned concurrency and an
	// init re-run in the invoke phase are not on-demand cold starts.
	x.lambda.telemetry([]any{runtimeDone("success"), map[string]any{"type": "platform.report", "record": map[string]any{"requestId": "r1", "status": "success", "metrics": map[string]any{"durationMs": 12.0, "initDurationMs": 1234.5}}},
		initReport(900, "init", "provisioned-concurrency"), initReport(700, "invoke", "on-demand"), initReport(800, "init", "on-demand")})
	time.Sleep(650 * time.Millisecond)
	x.lambda.invoke()
	eventually(t, 2*time.Second, "the counts to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 1 })
	item := x.dynamo.item(testKey)
	num := func(f string) int64 {
		v, ok := item[f]["N"].(string)
		if !ok {
			return -1
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	b1, b2 := initBucketOf(1234.5), initBucketOf(800)
	if num(FieldInits) != 2 || num(FieldInitBucketPrefix+strconv.Itoa(b1)) != 1 || num(FieldInitBucketPrefix+strconv.Itoa(b2)) != 1 {
		fail(t, "inits %d, buckets %d %d (item %v)", num(FieldInits), num(FieldInitBucketPrefix+strconv.Itoa(b1)), num(FieldInitBucketPrefix+strconv.Itoa(b2)), item)
	}
	if num(FieldInitBucketPrefix+strconv.Itoa(initBucketOf(900))) != -1 || num(FieldInitBucketPrefix+strconv.Itoa(initBucketOf(700))) != -1 {
		fail(t, "counted an init that is not an on-demand cold start: %v", item)
	}
}

// An init reported while no release watches the version belongs to none, like an invocation.
func TestNeverCountsAnInitOfAnUnwatchedVersion(t *testing.T) {
	x := start(t, "7", nil)
	x.lambda.telemetry(initEvents(500))
	x.lambda.invoke()
	eventually(t, time.Second, "the first lookup", func() bool { return x.logs.has("telemetry.unwatched") })
	x.lambda.telemetry(initEvents(600))
	x.dynamo.watch(testKey, testDeployment)
	time.Sleep(850 * time.Millisecond)
	x.lambda.invoke()
	eventually(t, time.Second, "watching", func() bool { return x.logs.has("telemetry.watching") })
	x.lambda.telemetry(append(initEvents(2000), runtimeDone("error")))
	eventually(t, time.Second, "the failure to be written", func() bool { n, _ := x.dynamo.counts(testKey); return n == 1 })
	item := x.dynamo.item(testKey)
	if item[FieldInits]["N"] != "1" || item[FieldInitBucketPrefix+strconv.Itoa(initBucketOf(2000))]["N"] != "1" {
		fail(t, "inits %v", item)
	}
}
