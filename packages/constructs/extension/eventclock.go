package main

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// eventClock is the extension's time on a host whose clock is not the wall's: the lab runs this
// binary on its virtual clock, where minutes of a release pass in milliseconds. Every decision the
// counter makes in time (the flush interval, the watch re-checks, the breaker's cool-down) reads
// Now when an event arrives, so the time the events carry is enough:
//   - INVOKE: its deadlineMs less the function's timeout (the invocation's start);
//   - SHUTDOWN: its deadlineMs less the 2,000 ms shutdown limit.
//
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html#extensions-api-next
// Between events it stands still, as a frozen environment's time does for its code. Call timeouts
// stay on the wall clock: they bound real network calls. On AWS it is off and Now is time.Now.
type eventClock struct {
	mu      sync.Mutex
	now     time.Time
	timeout time.Duration
}

// newEventClock answers the event clock the environment asks for, or nil (the wall clock).
func newEventClock(lg logger) *eventClock {
	raw := os.Getenv(envClockTimeoutMs)
	if raw == "" {
		return nil
	}
	timeout, err := strconv.ParseInt(raw, 10, 64)
	start, err2 := strconv.ParseInt(os.Getenv(envClockStartMs), 10, 64)
	if err != nil || err2 != nil || timeout <= 0 || start <= 0 {
		lg.log("telemetry.bad-setting", map[string]any{envClockTimeoutMs: raw, envClockStartMs: os.Getenv(envClockStartMs), "expected": "positive integers of milliseconds (the function's timeout; epoch ms at init)", "using": "the wall clock"})
		return nil
	}
	return &eventClock{now: time.UnixMilli(start), timeout: time.Duration(timeout) * time.Millisecond}
}

func (c *eventClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// observe moves the clock to what a lifecycle event says; it never goes back.
func (c *eventClock) observe(ev event) {
	if ev.DeadlineMs <= 0 {
		return
	}
	at := time.UnixMilli(ev.DeadlineMs)
	switch ev.EventType {
	case "INVOKE":
		at = at.Add(-c.timeout)
	case "SHUTDOWN":
		at = at.Add(-shutdownLimit)
	}
	c.mu.Lock()
	if at.After(c.now) {
		c.now = at
	}
	c.mu.Unlock()
}
