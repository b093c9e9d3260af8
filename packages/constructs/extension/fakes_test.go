package main

// Lambda's side of an external extension (the Extensions API and the Telemetry API) and a
// DynamoDB endpoint, over loopback, as AWS documents them.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api-reference.html
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const extensionID = "ext-7f3c"

// fakeLambda plays the Extensions and Telemetry APIs for one execution environment.
type fakeLambda struct {
	t   *testing.T
	srv *httptest.Server
	fn  map[string]string

	mu            sync.Mutex
	registrations []struct {
		Name string
		Body map[string]any
	}
	subscriptions []map[string]any
	nextCalls     int
	waiting       chan []byte
	sentAt        time.Time
	holds         []time.Duration
}

func newFakeLambda(t *testing.T, functionName, version string) *fakeLambda {
	l := &fakeLambda{t: t, fn: map[string]string{"functionName": functionName, "functionVersion": version, "handler": "index.handler"}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.handle))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *fakeLambda) api() string { return strings.TrimPrefix(l.srv.URL, "http://") }

func (l *fakeLambda) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == "POST" && r.URL.Path == "/2020-01-01/extension/register" {
		var b map[string]any
		_ = json.Unmarshal(body, &b)
		l.mu.Lock()
		l.registrations = append(l.registrations, struct {
			Name string
			Body map[string]any
		}{r.Header.Get("Lambda-Extension-Name"), b})
		l.mu.Unlock()
		w.Header().Set("Lambda-Extension-Identifier", extensionID)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(l.fn)
		return
	}
	if r.Header.Get("Lambda-Extension-Identifier") != extensionID {
		w.WriteHeader(403)
		_, _ = w.Write([]byte(`{"errorMessage":"Invalid extension identifier","errorType":"Extension.Forbidden"}`))
		return
	}
	switch {
	case r.Method == "PUT" && r.URL.Path == "/2022-07-01/telemetry":
		var b map[string]any
		_ = json.Unmarshal(body, &b)
		l.mu.Lock()
		l.subscriptions = append(l.subscriptions, b)
		l.mu.Unlock()
		_, _ = w.Write([]byte(`"OK"`))
	case r.Method == "GET" && r.URL.Path == "/2020-01-01/extension/event/next":
		arrived := time.Now()
		ch := make(chan []byte, 1)
		l.mu.Lock()
		l.nextCalls++
		if !l.sentAt.IsZero() {
			// The hold: from the INVOKE handed out to the extension's next call of /next.
			l.holds = append(l.holds, arrived.Sub(l.sentAt))
			l.sentAt = time.Time{}
		}
		l.waiting = ch
		n := l.nextCalls
		l.mu.Unlock()
		select {
		case ev := <-ch:
			w.Header().Set("Lambda-Extension-Event-Identifier", fmt.Sprintf("evt-%d", n))
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(ev)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
		}
	default:
		w.WriteHeader(404)
	}
}

// send hands out one event once the extension waits on /next.
func (l *fakeLambda) send(ev map[string]any, invoke bool) {
	l.t.Helper()
	var ch chan []byte
	eventually(l.t, 5*time.Second, "the extension to wait on /next", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		ch = l.waiting
		return ch != nil
	})
	b, _ := json.Marshal(ev)
	l.mu.Lock()
	l.waiting = nil
	if invoke {
		l.sentAt = time.Now()
	}
	l.mu.Unlock()
	ch <- b
}

// invoke hands out INVOKE and waits for the extension to ask for the next event.
func (l *fakeLambda) invoke() {
	l.t.Helper()
	l.send(map[string]any{"eventType": "INVOKE", "deadlineMs": time.Now().Add(3 * time.Second).UnixMilli(), "requestId": "req", "invokedFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:" + l.fn["functionName"], "tracing": map[string]string{"type": "X-Amzn-Trace-Id", "value": "Root=1-0-0"}}, true)
	l.ready()
}

func (l *fakeLambda) shutdown() {
	l.send(map[string]any{"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": time.Now().Add(2 * time.Second).UnixMilli()}, false)
}

// ready waits until the extension waits on /next.
func (l *fakeLambda) ready() {
	l.t.Helper()
	eventually(l.t, 5*time.Second, "the extension to call /next", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.waiting != nil
	})
}

// telemetry POSTs one batch to the subscribed listener, as Lambda does; answers its status.
func (l *fakeLambda) telemetry(batch any) int {
	l.t.Helper()
	l.mu.Lock()
	uri := l.subscriptions[len(l.subscriptions)-1]["destination"].(map[string]any)["URI"].(string)
	l.mu.Unlock()
	var body []byte
	if s, ok := batch.(string); ok {
		body = []byte(s)
	} else {
		body, _ = json.Marshal(batch)
	}
	res, err := http.Post(uri, "application/json", bytes.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (l *fakeLambda) nexts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nextCalls
}

func (l *fakeLambda) holdTimes() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.holds...)
}

// runtimeDone is a platform.runtimeDone event as the 2022-12-13 schema gives it.
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
func runtimeDone(status string) map[string]any {
	rec := map[string]any{"requestId": "req-" + strconv.FormatInt(time.Now().UnixNano(), 36), "status": status, "metrics": map[string]any{"durationMs": 12.5, "producedBytes": 40}}
	if status != "success" {
		rec["errorType"] = "Runtime.Unknown"
	}
	return map[string]any{"time": time.Now().Format(time.RFC3339Nano), "type": "platform.runtimeDone", "record": rec}
}

// dynamoMode is how the fake DynamoDB answers.
type dynamoMode int

const (
	healthy   dynamoMode = iota
	slow                 // answers after 2 s, having applied the call
	hanging              // never answers
	throttled            // 400 ProvisionedThroughputExceededException
	failing              // 500 InternalServerError
)

// fakeDynamo is a DynamoDB endpoint (JSON 1.0 protocol) holding one table's items, keyed by
// deploymentId, with GetItem and the extension's UpdateItem.
type fakeDynamo struct {
	srv   *httptest.Server
	mu    sync.Mutex
	mode  dynamoMode
	items map[string]map[string]map[string]any
	calls map[string]int
}

func newFakeDynamo(t *testing.T) *fakeDynamo {
	d := &fakeDynamo{items: map[string]map[string]map[string]any{}, calls: map[string]int{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.handle))
	t.Cleanup(func() { d.srv.CloseClientConnections(); d.srv.Close() })
	return d
}

func (d *fakeDynamo) setMode(m dynamoMode) { d.mu.Lock(); d.mode = m; d.mu.Unlock() }

func (d *fakeDynamo) count(op string) int { d.mu.Lock(); defer d.mu.Unlock(); return d.calls[op] }

// watch is the pre-traffic hook's write of the watch item.
func (d *fakeDynamo) watch(key, deploymentID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.items[key] = map[string]map[string]any{"deploymentId": {"S": key}, WatchDeploymentField: {"S": deploymentID}}
}

func (d *fakeDynamo) remove(key string) { d.mu.Lock(); delete(d.items, key); d.mu.Unlock() }

// counts answers the item's telemetry fields (-1 when absent).
func (d *fakeDynamo) counts(key string) (n, e int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	item := d.items[key]
	num := func(f string) int64 {
		if v, ok := item[f]["N"].(string); ok {
			x, _ := strconv.ParseInt(v, 10, 64)
			return x
		}
		return -1
	}
	return num(FieldInvocations), num(FieldErrors)
}

func (d *fakeDynamo) item(key string) map[string]map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.items[key]
}

func dynamoError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg})
}

func (d *fakeDynamo) handle(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	var in struct {
		TableName                 string
		Key                       map[string]map[string]any
		ConditionExpression       string
		UpdateExpression          string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]map[string]any
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	d.mu.Lock()
	d.calls[op]++
	mode := d.mode
	d.mu.Unlock()
	switch mode {
	case hanging:
		<-r.Context().Done()
		return
	case throttled:
		dynamoError(w, 400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.")
		return
	case failing:
		dynamoError(w, 500, "InternalServerError", "Internal server error")
		return
	}
	key, _ := in.Key["deploymentId"]["S"].(string)
	var out any = map[string]any{}
	var fail string
	d.mu.Lock()
	switch op {
	case "GetItem":
		if item, ok := d.items[key]; ok {
			out = map[string]any{"Item": item}
		}
	case "UpdateItem":
		item := d.items[key]
		names := in.ExpressionAttributeNames
		switch {
		case in.ConditionExpression != "#w = :w" || !updateShape.MatchString(in.UpdateExpression):
			fail = "ValidationException"
		case item == nil || item[names["#w"]]["S"] != in.ExpressionAttributeValues[":w"]["S"]:
			fail = "ConditionalCheckFailedException"
		default:
			// Every `#x :x` pair of the ADD clause adds its number (ADD creates it at 0).
			adds := strings.Split(strings.TrimPrefix(strings.SplitN(in.UpdateExpression, " SET ", 2)[0], "ADD "), ", ")
			fields := make([]string, 0, len(adds))
			for _, a := range adds {
				fields = append(fields, strings.Fields(a)[0])
			}
			for _, f := range fields {
				old, _ := strconv.ParseInt(fmt.Sprint(item[names[f]]["N"]), 10, 64)
				add, _ := strconv.ParseInt(fmt.Sprint(in.ExpressionAttributeValues[":"+f[1:]]["N"]), 10, 64)
				item[names[f]] = map[string]any{"N": strconv.FormatInt(old+add, 10)}
			}
			item[names["#at"]] = in.ExpressionAttributeValues[":at"]
			item[names["#f"]] = in.ExpressionAttributeValues[":f"]
		}
	default:
		fail = "UnknownOperationException"
	}
	d.mu.Unlock()
	if mode == slow {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	if fail != "" {
		dynamoError(w, 400, fail, fail)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// updateShape: the extension's UpdateItem, with or without the inits' ADDs.
var updateShape = regexp.MustCompile(`^ADD #n :n, #e :e(, #i :i(, #b\d+ :b\d+)+)? SET #at = :at, #f = :f$`)

// unreachable answers an endpoint nothing listens on.
func unreachable(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// logBuffer collects the extension's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) events() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		out = append(out, m)
	}
	return out
}

func (b *logBuffer) names() []string {
	var out []string
	for _, e := range b.events() {
		out = append(out, e["event"].(string))
	}
	return out
}

func (b *logBuffer) has(event string) bool {
	for _, n := range b.names() {
		if n == event {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(within)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// extension runs the extension in-process against the fakes; answers its exit code channel.
type extension struct {
	lambda *fakeLambda
	dynamo *fakeDynamo
	logs   *logBuffer
	exit   chan int
}

const (
	testTable      = "watchdog-state"
	testDeployment = "d-ABCDEF123"
)

var testKey = WatchKey("orders", "7")

func start(t *testing.T, version string, env map[string]string) *extension {
	t.Helper()
	x := &extension{lambda: newFakeLambda(t, "orders", version), dynamo: newFakeDynamo(t), logs: &logBuffer{}, exit: make(chan int, 1)}
	vars := map[string]string{
		TableEnv: testTable, envDynamoEndpoint: x.dynamo.srv.URL, envListenerHost: "127.0.0.1",
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		envFlushMs: "600", envRecheckMs: "800", envWatchingMs: "800", envCoolDownMs: "400",
	}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// The extension ends with its test: nothing of it runs on into the next one.
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Error("the extension did not end with its context")
		}
	})
	go func() { x.exit <- run(ctx, x.lambda.api(), nil, x.logs); close(done) }()
	x.lambda.ready()
	return x
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
