// Command canary-watchdog-telemetry is the fast signal's Lambda extension: an external extension
// (its own process, started by Lambda from the layer's extensions/ folder) that counts the
// function version's finished invocations from the Telemetry API and adds them to the version's
// watch item in the state table (src/runtime/telemetry.ts holds the contract).
//
//  1. Register for INVOKE and SHUTDOWN. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
//  2. With the table's name in CANARY_WATCHDOG_TELEMETRY_TABLE and a published version: listen on
//     sandbox.localdomain and subscribe to `platform` telemetry; each `platform.runtimeDone` is one
//     finished invocation. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
//  3. On each INVOKE, nudge the writer and call /next at once. The Invoke phase ends only when the
//     runtime and every extension have called /next: time held there is billed
//     (PostRuntimeExtensionsDuration), counts toward the function's timeout and keeps the
//     environment from its next request. So no network I/O happens between INVOKE and /next.
//     https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-invoke
//  4. On SHUTDOWN, write what is left within the shutdown budget, then exit 0. Of the 2,000 ms
//     limit, Lambda reserves up to 300 ms (500 ms with an internal extension) for the runtime.
//     https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown
//
// An extension that exits or fails its init fails the function's environment: nothing here exits
// but SHUTDOWN and a registration that cannot be made.
package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"time"
)

// Shutdown: the external extensions' share of the 2,000 ms limit once the runtime's 500 ms (the
// most it may reserve) is taken, and how long to wait for the telemetry Lambda delivers last.
const (
	shutdownLimit = 2000 * time.Millisecond
	shutdownShare = 1500 * time.Millisecond
	shutdownGrace = TelemetryBufferMs*time.Millisecond + 100*time.Millisecond
)

// logger writes one JSON line per notable event, never one per invocation.
type logger struct{ out io.Writer }

func (l logger) log(event string, fields map[string]any) {
	line := map[string]any{"level": "INFO", "extension": ExtensionName, "event": event}
	for k, v := range fields {
		line[k] = v
	}
	b, _ := json.Marshal(line)
	_, _ = l.out.Write(append(b, '\n'))
}

func durationEnv(lg logger, name string, fallback time.Duration) time.Duration {
	raw := os.Getenv(name)
	if raw == "" {
		return fallback
	}
	if n, err := strconv.Atoi(raw); err == nil && n > 0 {
		return time.Duration(n) * time.Millisecond
	}
	lg.log("telemetry.bad-setting", map[string]any{name: raw, "expected": "a positive integer of milliseconds", "using": fallback.Milliseconds()})
	return fallback
}

func main() {
	os.Exit(run(context.Background(), os.Getenv("AWS_LAMBDA_RUNTIME_API"), nil, os.Stdout))
}

// run is the extension's life, until SHUTDOWN (or ctx ends); `store` replaces DynamoDB in tests
// (nil: the SDK client), and the log lines go to `out`.
func run(ctx context.Context, api string, store Store, out io.Writer) int {
	lg := logger{out}
	lambda := &extensionsAPI{base: "http://" + api, log: lg}
	var reg *registration
	var err error
	for attempt := 1; ; attempt++ {
		if reg, err = lambda.register(ctx); err == nil {
			break
		}
		// Without a registration there is no event loop to keep: Lambda reports the init failure.
		if attempt == 3 {
			lg.log("telemetry.register-failed", map[string]any{"error": err.Error()})
			return 1
		}
		time.Sleep(time.Duration(100*attempt) * time.Millisecond)
	}

	now := time.Now
	clock := newEventClock(lg)
	if clock != nil {
		now = clock.Now
	}

	table := os.Getenv(TableEnv)
	var counter *Counter
	switch {
	case table == "":
		lg.log("telemetry.off", map[string]any{"reason": TableEnv + " is not set"})
	case reg.FunctionVersion == "" || reg.FunctionVersion == "$LATEST":
		b, _ := json.Marshal(reg.FunctionVersion)
		lg.log("telemetry.off", map[string]any{"reason": "version " + string(b) + " is never watched"})
	default:
		if store == nil {
			store = newDynamoStore(table)
		}
		counter = NewCounter(Config{
			FunctionName: reg.FunctionName, Version: reg.FunctionVersion,
			Flush:    durationEnv(lg, envFlushMs, FlushSeconds*time.Second),
			Recheck:  durationEnv(lg, envRecheckMs, WatchRecheckSeconds*time.Second),
			Watching: durationEnv(lg, envWatchingMs, WatchingRecheckSeconds*time.Second),
			CoolDown: durationEnv(lg, envCoolDownMs, BreakerCoolDown),
			Now:      now, Log: lg.log,
		}, store)
		if listener, err := subscribe(ctx, lambda, reg, counter); err != nil {
			lg.log("telemetry.off", map[string]any{"reason": "subscribe failed", "error": err.Error()})
			counter = nil
		} else {
			lg.log("telemetry.subscribed", map[string]any{"functionName": reg.FunctionName, "version": reg.FunctionVersion, "table": table})
			defer listener.Close()
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go counter.Run(wctx)
		}
	}

	for {
		ev := lambda.next(ctx, reg.ID)
		if ctx.Err() != nil {
			return 0
		}
		if clock != nil {
			clock.observe(ev)
		}
		switch ev.EventType {
		case "INVOKE":
			if counter != nil {
				counter.Nudge()
			}
		case "SHUTDOWN":
			if counter != nil {
				shutdown(counter, ev.DeadlineMs, now)
			}
			return 0
		}
	}
}

// shutdown waits for the last telemetry, then writes what is left, all within the budget.
func shutdown(counter *Counter, deadlineMs int64, now func() time.Time) {
	start := time.Now()
	budget := shutdownShare
	if deadlineMs > 0 {
		budget = min(budget, time.UnixMilli(deadlineMs).Sub(now()))
	}
	// Keep at least one call's time (and a margin) for the write.
	grace := max(0, min(shutdownGrace, budget-CallTimeout-100*time.Millisecond))
	time.Sleep(grace)
	counter.Final(budget - time.Since(start) - 50*time.Millisecond)
}
