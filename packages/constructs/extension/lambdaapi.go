package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// extensionsAPI is the Extensions and Telemetry APIs' client side.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html#runtimes-extensions-registration-api
type extensionsAPI struct {
	base string
	// No timeout: /event/next waits as long as the environment is idle (frozen).
	client http.Client
	log    logger
}

type registration struct {
	ID              string
	FunctionName    string `json:"functionName"`
	FunctionVersion string `json:"functionVersion"`
}

type event struct {
	EventType  string `json:"eventType"`
	DeadlineMs int64  `json:"deadlineMs"`
}

func (a *extensionsAPI) do(ctx context.Context, method, path string, headers map[string]string, body any) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res, out, err
}

func short(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

func (a *extensionsAPI) register(ctx context.Context) (*registration, error) {
	res, body, err := a.do(ctx, "POST", "/2020-01-01/extension/register", map[string]string{"Lambda-Extension-Name": ExtensionName}, map[string]any{"events": []string{"INVOKE", "SHUTDOWN"}})
	if err != nil {
		return nil, err
	}
	id := res.Header.Get("Lambda-Extension-Identifier")
	if res.StatusCode != 200 || id == "" {
		return nil, fmt.Errorf("register answered %d: %s", res.StatusCode, short(body))
	}
	reg := &registration{ID: id}
	if err := json.Unmarshal(body, reg); err != nil {
		return nil, err
	}
	return reg, nil
}

// next answers the next lifecycle event; on an error it tries again (backing off to 1 s) rather
// than exit, logging the first failure of a run. It gives up only when ctx ends.
func (a *extensionsAPI) next(ctx context.Context, id string) event {
	for attempt := 0; ; attempt++ {
		res, body, err := a.do(ctx, "GET", "/2020-01-01/extension/event/next", map[string]string{"Lambda-Extension-Identifier": id}, nil)
		if err == nil && res.StatusCode == 200 {
			var ev event
			if err = json.Unmarshal(body, &ev); err == nil {
				return ev
			}
		}
		if ctx.Err() != nil {
			return event{}
		}
		if attempt == 0 {
			if err == nil {
				err = fmt.Errorf("next answered %d: %s", res.StatusCode, short(body))
			}
			a.log.log("telemetry.next-failed", map[string]any{"error": err.Error()})
		}
		time.Sleep(min(time.Second, time.Duration(50<<min(attempt, 5))*time.Millisecond))
	}
}

// telemetryEvent is the part of a telemetry event the counter reads: a platform.runtimeDone's
// status, and a platform.initReport's phase, initialization type and duration.
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-runtimeDone
// https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-initReport
type telemetryEvent struct {
	Type   string `json:"type"`
	Record struct {
		Status             string `json:"status"`
		Phase              string `json:"phase"`
		InitializationType string `json:"initializationType"`
		Metrics            struct {
			DurationMs *float64 `json:"durationMs"`
		} `json:"metrics"`
	} `json:"record"`
}

// initDurationMs answers the init duration a telemetry event reports for its environment, if it
// is one to count: a platform.initReport of the Init phase of an on-demand environment (the cold
// starts users wait for; provisioned concurrency and SnapStart initialise ahead of traffic). The
// same init's Init Duration in the first platform.report is that environment's again, not counted twice.
func initDurationMs(e telemetryEvent) (float64, bool) {
	r := e.Record
	if e.Type != "platform.initReport" || r.Phase != "init" || r.InitializationType != "on-demand" || r.Metrics.DurationMs == nil || *r.Metrics.DurationMs < 0 {
		return 0, false
	}
	return *r.Metrics.DurationMs, true
}

// subscribe starts the telemetry listener and subscribes it to `platform` events; answers the
// listener, for the caller to close.
func subscribe(ctx context.Context, a *extensionsAPI, reg *registration, counter *Counter) (*http.Server, error) {
	// Lambda sends telemetry to sandbox.localdomain only. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
	host := os.Getenv(envListenerHost)
	if host == "" {
		host = "sandbox.localdomain"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		// Answer first: Lambda waits for the listener before it sends the next batch.
		w.WriteHeader(200)
		var events []telemetryEvent
		if err == nil {
			err = json.Unmarshal(body, &events)
		}
		if err != nil {
			a.log.log("telemetry.bad-batch", map[string]any{"error": err.Error()})
			return
		}
		for _, e := range events {
			if e.Type == "platform.runtimeDone" {
				counter.OnRuntimeDone(IsFailedStatus(e.Record.Status))
			} else if ms, ok := initDurationMs(e); ok {
				counter.OnInit(ms)
			}
		}
		counter.Nudge()
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	res, body, err := a.do(ctx, "PUT", "/2022-07-01/telemetry", map[string]string{"Lambda-Extension-Identifier": reg.ID}, map[string]any{
		"schemaVersion": "2022-12-13",
		"types":         []string{"platform"},
		// The smallest maxItems and maxBytes the API takes; timeoutMs is what bounds the delay.
		"buffering":   map[string]int{"timeoutMs": TelemetryBufferMs, "maxItems": 1000, "maxBytes": 262144},
		"destination": map[string]string{"protocol": "HTTP", "URI": fmt.Sprintf("http://%s:%d", host, port)},
	})
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("telemetry subscribe answered %d: %s", res.StatusCode, short(body))
	}
	if err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}
