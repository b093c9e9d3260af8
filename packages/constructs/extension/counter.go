package main

import (
	"context"
	"errors"
	"sync"
	"time"
)

// CallTimeout bounds every DynamoDB call, connection included.
const CallTimeout = 500 * time.Millisecond

// Breaker settings: after this many consecutive failed calls, none for the cool-down.
const (
	breakerThreshold = 3
	BreakerCoolDown  = 30 * time.Second
)

// Config is what the counter needs from the environment.
type Config struct {
	FunctionName, Version string
	Flush                 time.Duration
	// Recheck: how soon a version without a watch item looks again; Watching: one with.
	Recheck, Watching time.Duration
	// CoolDown: how long the breaker skips calls once open (BreakerCoolDown).
	CoolDown time.Duration
	Now      func() time.Time
	Log      func(event string, fields map[string]any)
}

// Counter counts the version's finished invocations in memory and writes them from one
// background goroutine. Nothing it does on an event waits for the network: an INVOKE or a
// telemetry batch only counts and nudges the writer, whose queue holds one nudge (more coalesce).
type Counter struct {
	cfg   Config
	store Store
	key   string

	mu           sync.Mutex
	tally        *Tally
	deploymentID string
	looked       bool
	lookAt       time.Time
	breaker      *Breaker
	failedWrites int
	dropped      Counts
	droppedLogs  int
	// heldInits: init durations reported before the first lookup said whether the version is
	// watched (an environment's init ends before its first invocation, which starts the lookup).
	heldInits []float64

	nudge chan struct{}
	// io is held by whoever calls DynamoDB (the writer, or SHUTDOWN's last flush): one call at a time.
	io chan struct{}
}

func NewCounter(cfg Config, store Store) *Counter {
	now := cfg.Now()
	return &Counter{
		cfg: cfg, store: store, key: WatchKey(cfg.FunctionName, cfg.Version),
		tally: NewTally(now, cfg.Flush), breaker: NewBreaker(breakerThreshold, cfg.CoolDown),
		nudge: make(chan struct{}, 1), io: make(chan struct{}, 1),
	}
}

// Nudge asks the writer to look at the counts and the watch item; it never blocks.
func (c *Counter) Nudge() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// OnRuntimeDone counts one finished invocation. Invocations that end while no release watches
// the version belong to none and are not counted.
func (c *Counter) OnRuntimeDone(failed bool) {
	c.mu.Lock()
	if c.deploymentID != "" {
		c.tally.Add(failed)
	}
	c.mu.Unlock()
}

// maxHeldInits bounds the inits held before the first lookup: one per environment on AWS (its
// own), more only where one process sees many environments' events (the lab's model).
const maxHeldInits = 1000

// OnInit counts one execution environment's init phase (platform.initReport). An init reported
// before the first lookup is held until that lookup says whether a release watches the version;
// once looked, an init is counted only while watched, like an invocation.
func (c *Counter) OnInit(ms float64) {
	if !(ms >= 0) {
		return
	}
	c.mu.Lock()
	switch {
	case c.deploymentID != "":
		c.tally.AddInit(ms)
	case !c.looked && len(c.heldInits) < maxHeldInits:
		c.heldInits = append(c.heldInits, ms)
	}
	c.mu.Unlock()
}

// Run is the writer: on each nudge, look for the watch item when due and write the counts when
// due. It stops when ctx ends. Timing is decided here, when events arrive: a frozen environment
// runs no timers anyway. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
func (c *Counter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.nudge:
		}
		select {
		case c.io <- struct{}{}:
		case <-ctx.Done():
			return
		}
		c.step(ctx, false)
		<-c.io
	}
}

// Final writes everything counted, whatever the flush interval says, within `budget` (SHUTDOWN).
// It waits for a call under way (at most CallTimeout) and answers whether the counts were written.
func (c *Counter) Final(budget time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	select {
	case c.io <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-c.io }()
	return c.step(ctx, true)
}

// step: one lookup when due, then one write when due (or `all`). Answers whether nothing is left.
func (c *Counter) step(ctx context.Context, all bool) bool {
	now := c.cfg.Now()
	c.mu.Lock()
	lookupDue := !all && !now.Before(c.lookAt) && c.breaker.Allow(now)
	c.mu.Unlock()
	if lookupDue {
		c.lookup(ctx)
	}

	c.mu.Lock()
	now = c.cfg.Now()
	id := c.deploymentID
	if id == "" || c.tally.Pending().Empty() || !(all || c.tally.Due(now)) {
		empty := id == "" || c.tally.Pending().Empty()
		c.mu.Unlock()
		return empty
	}
	if !c.breaker.Allow(now) {
		c.mu.Unlock()
		return false
	}
	counts := c.tally.Take(now)
	c.mu.Unlock()
	return c.write(ctx, id, counts, now)
}

func (c *Counter) call(ctx context.Context, f func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return f(cctx)
}

func (c *Counter) lookup(ctx context.Context) {
	var found string
	err := c.call(ctx, func(cctx context.Context) (err error) {
		found, err = c.store.Watching(cctx, c.key)
		return err
	})
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// A failed lookup is tried again at the next event after the cool-down or the re-check.
		c.lookAt = now.Add(min(c.cfg.Recheck, 5*time.Second))
		c.failed(now, "telemetry.lookup-failed", err)
		return
	}
	c.breaker.Success()
	if found != "" {
		c.lookAt = now.Add(c.cfg.Watching)
	} else {
		c.lookAt = now.Add(c.cfg.Recheck)
	}
	// Logged when it changes, and once at the first look.
	if found != c.deploymentID || !c.looked {
		shown := found
		event := "telemetry.watching"
		if found == "" {
			event, shown = "telemetry.unwatched", c.deploymentID
		}
		fields := map[string]any{"functionName": c.cfg.FunctionName, "version": c.cfg.Version}
		if shown != "" {
			fields["deploymentId"] = shown
		}
		c.cfg.Log(event, fields)
	}
	if found != c.deploymentID {
		// Counts of an earlier deployment (or of none) are not this one's.
		c.tally.Take(now)
	}
	c.deploymentID, c.looked = found, true
	// The inits reported before the first lookup count when it found a release to count for.
	if found != "" {
		for _, ms := range c.heldInits {
			c.tally.AddInit(ms)
		}
	}
	c.heldInits = nil
}

func (c *Counter) write(ctx context.Context, id string, counts Counts, at time.Time) bool {
	err := c.call(ctx, func(cctx context.Context) error { return c.store.Add(cctx, c.key, id, counts, at) })
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.breaker.Success()
		if c.failedWrites > 0 {
			c.cfg.Log("telemetry.write-recovered", map[string]any{"failedWrites": c.failedWrites})
		}
		c.failedWrites = 0
		return true
	case errors.Is(err, ErrGone):
		// The release ended or was replaced: stop writing until a lookup finds a watch item again.
		c.breaker.Success()
		c.cfg.Log("telemetry.deployment-gone", map[string]any{"deploymentId": id})
		if c.deploymentID == id {
			c.deploymentID = ""
			c.tally.Take(now)
		}
		c.lookAt = now.Add(c.cfg.Recheck)
		return true
	case ambiguous(err):
		// It may have been applied: dropped and counted, never written twice.
		c.dropped.add(counts)
		c.droppedLogs++
		// Logged at the first drop, then every tenth: a log line per event would cost more than the count.
		if c.droppedLogs%10 == 1 {
			c.cfg.Log("telemetry.dropped", map[string]any{"invocations": c.dropped.Invocations, "errors": c.dropped.Errors, "error": err.Error()})
		}
	default:
		// Answered with an error (throttled, 5xx) or never sent: the counts go back for the next write.
		c.tally.Restore(counts)
	}
	c.failedWrites++
	if c.failedWrites == 1 {
		c.cfg.Log("telemetry.write-failed", map[string]any{"deploymentId": id, "error": err.Error()})
	}
	if c.breaker.Failure(now) {
		c.cfg.Log("telemetry.breaker-open", map[string]any{"coolDownMs": c.cfg.CoolDown.Milliseconds()})
	}
	return false
}

// failed records a failed call (the breaker opens after breakerThreshold in a row). Holds mu.
func (c *Counter) failed(now time.Time, event string, err error) {
	if c.breaker.Failure(now) {
		c.cfg.Log("telemetry.breaker-open", map[string]any{"coolDownMs": c.cfg.CoolDown.Milliseconds()})
	}
	c.cfg.Log(event, map[string]any{"error": err.Error()})
}
