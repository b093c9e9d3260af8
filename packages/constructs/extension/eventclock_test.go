package main

import (
	"bytes"
	"testing"
	"time"
)

func TestEventClockIsOffUnlessAskedFor(t *testing.T) {
	t.Setenv(envClockTimeoutMs, "")
	if c := newEventClock(logger{&bytes.Buffer{}}); c != nil {
		t.Fatalf("event clock on without %s", envClockTimeoutMs)
	}
}

func TestEventClockReadsTheLifecycleEventsAndNeverGoesBack(t *testing.T) {
	t.Setenv(envClockTimeoutMs, "3000")
	t.Setenv(envClockStartMs, "1767225600000")
	c := newEventClock(logger{&bytes.Buffer{}})
	if c == nil || !c.Now().Equal(time.UnixMilli(1767225600000)) {
		t.Fatalf("start: %v", c)
	}
	// An INVOKE's deadline less the function's timeout is the invocation's start.
	c.observe(event{EventType: "INVOKE", DeadlineMs: 1767225610000})
	if got := c.Now().UnixMilli(); got != 1767225607000 {
		t.Fatalf("after INVOKE: %d", got)
	}
	// An earlier event never moves it back.
	c.observe(event{EventType: "INVOKE", DeadlineMs: 1767225605000})
	if got := c.Now().UnixMilli(); got != 1767225607000 {
		t.Fatalf("went back: %d", got)
	}
	// SHUTDOWN: its deadline less the 2,000 ms limit.
	c.observe(event{EventType: "SHUTDOWN", DeadlineMs: 1767225700000})
	if got := c.Now().UnixMilli(); got != 1767225698000 {
		t.Fatalf("after SHUTDOWN: %d", got)
	}
}

func TestEventClockRefusesBadSettingsAndSaysSo(t *testing.T) {
	var out bytes.Buffer
	t.Setenv(envClockTimeoutMs, "soon")
	t.Setenv(envClockStartMs, "1767225600000")
	if c := newEventClock(logger{&out}); c != nil {
		t.Fatal("took a bad timeout")
	}
	if !bytes.Contains(out.Bytes(), []byte(`"event":"telemetry.bad-setting"`)) || !bytes.Contains(out.Bytes(), []byte(`"using":"the wall clock"`)) {
		t.Fatalf("log: %s", out.String())
	}
}
