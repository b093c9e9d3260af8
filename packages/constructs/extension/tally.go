package main

import "time"

// Counts are finished invocations and how many of them failed, and the execution environments'
// inits counted with them (how many, and their durations' histogram: InitBucketCount buckets).
type Counts struct {
	Invocations int64
	Errors      int64
	Inits       int64
	InitBuckets [InitBucketCount]int64
}

// Empty tells whether there is nothing to write.
func (c Counts) Empty() bool { return c.Invocations == 0 && c.Inits == 0 }

// add adds o to c.
func (c *Counts) add(o Counts) {
	c.Invocations += o.Invocations
	c.Errors += o.Errors
	c.Inits += o.Inits
	for k, n := range o.InitBuckets {
		c.InitBuckets[k] += n
	}
}

// Tally is one environment's counts between flushes and when to flush them: at once after a
// failure (the evidence the watchdog waits for), otherwise every flush interval. The same rule as
// TelemetryTally in src/runtime/telemetry.ts. Pure: the caller gives the time.
type Tally struct {
	pending   Counts
	lastFlush time.Time
	flush     time.Duration
}

func NewTally(now time.Time, flush time.Duration) *Tally {
	return &Tally{lastFlush: now, flush: flush}
}

// Add counts one finished invocation.
func (t *Tally) Add(failed bool) {
	t.pending.Invocations++
	if failed {
		t.pending.Errors++
	}
}

// AddInit counts one execution environment's init phase of `ms` milliseconds.
func (t *Tally) AddInit(ms float64) {
	t.pending.Inits++
	t.pending.InitBuckets[initBucketOf(ms)]++
}

func (t *Tally) Pending() Counts { return t.pending }

// Due tells whether the counts should be written now.
func (t *Tally) Due(now time.Time) bool {
	if t.pending.Empty() {
		return false
	}
	return t.pending.Errors > 0 || now.Sub(t.lastFlush) >= t.flush
}

// Take hands the counts to a write; a write that certainly did not happen gives them back (Restore).
func (t *Tally) Take(now time.Time) Counts {
	out := t.pending
	t.pending = Counts{}
	t.lastFlush = now
	return out
}

func (t *Tally) Restore(c Counts) { t.pending.add(c) }

// Breaker skips DynamoDB calls for a cool-down after `threshold` consecutive failures, then lets
// one call through (half-open): a function whose DynamoDB is unreachable, slow or throttled pays
// one bounded call per cool-down, not one per event. Pure: the caller gives the time.
type Breaker struct {
	threshold int
	coolDown  time.Duration
	failures  int
	openUntil time.Time
}

func NewBreaker(threshold int, coolDown time.Duration) *Breaker {
	return &Breaker{threshold: threshold, coolDown: coolDown}
}

// Allow tells whether a call may be made now.
func (b *Breaker) Allow(now time.Time) bool { return !now.Before(b.openUntil) }

// Success closes the breaker.
func (b *Breaker) Success() { b.failures = 0; b.openUntil = time.Time{} }

// Failure counts a failed call; answers true when this failure opens the breaker.
func (b *Breaker) Failure(now time.Time) bool {
	b.failures++
	if b.failures >= b.threshold {
		b.openUntil = now.Add(b.coolDown)
		// Half-open after the cool-down: one more failure opens it again.
		b.failures = b.threshold - 1
		return true
	}
	return false
}
