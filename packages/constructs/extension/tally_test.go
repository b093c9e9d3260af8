package main

import (
	"testing"
	"time"
)

func TestTallyDue(t *testing.T) {
	t0 := time.UnixMilli(1_000_000)
	for _, tc := range []struct {
		name            string
		successes, errs int
		after           time.Duration
		due             bool
	}{
		{"nothing counted", 0, 0, time.Hour, false},
		{"successes before the interval", 3, 0, 9 * time.Second, false},
		{"successes at the interval", 3, 0, 10 * time.Second, true},
		{"a failure at once", 0, 1, 0, true},
	} {
		tally := NewTally(t0, FlushSeconds*time.Second)
		for i := 0; i < tc.successes; i++ {
			tally.Add(false)
		}
		for i := 0; i < tc.errs; i++ {
			tally.Add(true)
		}
		if got := tally.Due(t0.Add(tc.after)); got != tc.due {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.due)
		}
	}
}

func TestTallyTakeAndRestore(t *testing.T) {
	t0 := time.UnixMilli(0)
	tally := NewTally(t0, time.Second)
	tally.Add(true)
	tally.Add(false)
	c := tally.Take(t0)
	if c != (Counts{Invocations: 2, Errors: 1}) || tally.Pending() != (Counts{}) {
		t.Fatalf("took %+v, left %+v", c, tally.Pending())
	}
	tally.Add(false)
	tally.Restore(c)
	if tally.Pending() != (Counts{Invocations: 3, Errors: 1}) {
		t.Fatalf("pending %+v", tally.Pending())
	}
}

func TestBreakerOpensAfterThresholdAndHalfOpensAfterCoolDown(t *testing.T) {
	t0 := time.UnixMilli(0)
	b := NewBreaker(3, 30*time.Second)
	steps := []struct {
		at      time.Duration
		fail    bool
		opens   bool
		allowed bool // Allow at `at`, before the call
	}{
		{0, true, false, true},
		{1 * time.Second, true, false, true},
		{2 * time.Second, true, true, true},
		{10 * time.Second, false, false, false}, // open: skipped
		{32 * time.Second, true, true, true},    // half-open: one failure opens it again
		{40 * time.Second, false, false, false},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		if got := b.Allow(now); got != s.allowed {
			t.Fatalf("step %d: allow %v, want %v", i, got, s.allowed)
		}
		if !s.allowed {
			continue
		}
		if s.fail {
			if got := b.Failure(now); got != s.opens {
				t.Fatalf("step %d: opens %v, want %v", i, got, s.opens)
			}
		} else {
			b.Success()
		}
	}
	b.Success()
	if !b.Allow(t0.Add(41 * time.Second)) {
		t.Fatal("closed after a success")
	}
}

func TestContract(t *testing.T) {
	if WatchKey("orders", "7") != "#watch#orders#7" {
		t.Fatal(WatchKey("orders", "7"))
	}
	for status, failed := range map[string]bool{"success": false, "error": true, "failure": true, "timeout": true} {
		if IsFailedStatus(status) != failed {
			t.Errorf("%s: %v", status, !failed)
		}
	}
}
