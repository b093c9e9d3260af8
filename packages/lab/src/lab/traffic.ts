import { binomialDraw } from 'canary-watchdog/lib/core/random';
import type { Scheduler } from './kernel';
import { LabError } from './kernel';
import { httpStatusOf, initDurationOf, INJECTED_HTTP_500, type Behaviour, type Call, type FailureSource, type LambdaLab, type Noise } from './lambda';
import { ENVIRONMENT_IDLE_MS, RESERVED_THROTTLE } from './lambda/environments';
import { drawEvent, type EventSource } from './user-events';

/** Per version of one stream: what users sent and what failed. */
export interface VersionTally {
  requests: number;
  failures: number;
  firstFailureAt?: number;
  /** Requests invoked for real (the rest, with events, were counted in proportion to them). */
  real: number;
  /** Failed requests of `real` (for the sampling's margin). */
  realFailures: number;
  /** Failed requests by where the failure came from. */
  readonly sources: Record<FailureSource, number>;
}

/** User requests that invoke the real code: their events, and how many a second run for real at most. */
export interface RealTraffic {
  readonly events: EventSource;
  /** Real invocations a second at most, over every version; each second's others are counted in proportion. */
  readonly realRps: number;
}

/** A real request's outcome, as the metrics and the tallies count it. */
interface Outcome extends Call {
  readonly failure?: FailureSource;
  readonly throttled?: boolean;
}

const emptyTally = (): VersionTally => ({ requests: 0, failures: 0, real: 0, realFailures: 0, sources: { code: 0, injected: 0, noise: 0, throttled: 0 } });

interface Stream {
  readonly functionName: string;
  readonly alias: string;
  rps: number;
  /** Spread of the per-window rate multiplier (σ of its logarithm); 0 is steady traffic. */
  burstiness: number;
  /** The current window's rate multiplier, and the window it belongs to. */
  factor: number;
  window: number;
  /** Spread of the per-window multiplier of both versions' error rates (σ of its logarithm); 0 is none. */
  errorBurstiness: number;
  errorFactor: number;
  errorWindow: number;
  /** A failure both versions share from `from` (lab time), added to their own rates. */
  carry: number;
  /** The minute being accumulated, per version. */
  minute: number;
  readonly calls: Map<string, Call[]>;
  /** The minute's requests refused for reserved concurrency, per version. */
  readonly throttles: Map<string, number>;
  /** The minute's most environments busy at once, and environments started, per version. */
  readonly environments: Map<string, { most: number; started: number }>;
  readonly tally: Map<string, VersionTally>;
  readonly minutes: MinuteStat[];
  /** With events: requests invoke the real code. */
  real?: RealTraffic;
  /** Requests drawn so far (a generator's index). */
  drawn: number;
}

/** One minute of one version's user traffic. */
export interface MinuteStat {
  readonly minute: number;
  readonly version: string;
  readonly requests: number;
  readonly errors: number;
  readonly p99: number | null;
  /** The most execution environments the version's user requests kept busy in a second of the minute. */
  readonly environments: number;
  /** Environments started in the minute (each a cold start). */
  readonly coldStarts: number;
}

/**
 * The execution environments of a version's user traffic: environment i (from 0) is busy in a
 * second whose requests keep more than i in flight, so the last second each was busy is enough
 * to reap the idle ones (environments.ts says how long they stay warm).
 */
interface Pool {
  readonly lastBusy: number[];
  /** When each environment started (for `environmentLifetimeMinutes`). */
  readonly bornAt: number[];
  started: number;
}

/** Base latency of a simulated request, ms, before a version's `latencyMs`. */
const BASE_LATENCY_MS = 40;

/** A simulated request's mean duration, ms: the base, the mean jitter, and the version's added latency. */
const meanDurationMs = (b: { latencyMs?: number }) => BASE_LATENCY_MS + 10 + (b.latencyMs ?? 0);

/** Bursty traffic keeps one rate for this long, then draws the next. */
export const BURST_WINDOW_SECONDS = 10;

/**
 * User traffic through an alias, simulated in aggregate: every second, `rps` requests
 * are split between the alias's versions by weight, fail and take time as each version's
 * behaviour says, and are published as AWS/Lambda metrics per whole minute (as Lambda sends them,
 * timestamped at the start of the minute, after the publishing delay).
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html
 * With `burstiness` σ > 0 the rate is bursty: every 10 s it is `rps` times a fresh log-normal
 * factor exp(σz - σ²/2) (mean 1, so the long-run rate stays `rps`); σ = 1 gives 10-second rates
 * from a fifth to three times the mean about 90 % of the time.
 */
export class Traffic {
  private readonly streams = new Map<string, Stream>();
  /** Per `function:version`. */
  private readonly pools = new Map<string, Pool>();
  private ticking?: { cancel(): void };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly lambda: LambdaLab,
    private readonly rand: () => number,
  ) {}

  /** Start or change a stream; with `real`, its requests invoke the deployed versions' code with its events (without, they follow each version's behaviour). */
  set(functionName: string, alias: string, rps: number, burstiness = 0, errorBurstiness = 0, real?: RealTraffic): void {
    const key = `${functionName}:${alias}`;
    const s = this.streams.get(key);
    if (s) {
      s.rps = rps;
      s.burstiness = burstiness;
      s.errorBurstiness = errorBurstiness;
      s.real = real;
    } else {
      const minute = Math.floor(this.scheduler.now() / 60_000);
      this.streams.set(key, {
        functionName, alias, rps, burstiness, factor: 1, window: -1, errorBurstiness, errorFactor: 1, errorWindow: -1, carry: 0, minute,
        calls: new Map(), throttles: new Map(), environments: new Map(), tally: new Map(), minutes: [], ...(real ? { real } : {}), drawn: 0,
      });
    }
    this.ticking ??= this.scheduler.every(1000, 'user traffic', (at) => this.tick(at));
  }


  minuteStats(functionName: string, alias: string): readonly MinuteStat[] {
    return this.streams.get(`${functionName}:${alias}`)?.minutes ?? [];
  }

  /** A version's environments serving user traffic: alive now, and started since the traffic began. */
  environments(functionName: string, version: string): { alive: number; started: number } {
    const pool = this.pools.get(`${functionName}:${version}`);
    if (!pool) return { alive: 0, started: 0 };
    return { alive: reapPool(pool, this.scheduler.now()).lastBusy.length, started: pool.started };
  }

  tally(functionName: string, alias: string): ReadonlyMap<string, VersionTally> {
    return this.streams.get(`${functionName}:${alias}`)?.tally ?? new Map();
  }

  /** A stream's real traffic (its events), if its requests run the real code. */
  realOf(functionName: string, alias: string): RealTraffic | undefined {
    return this.streams.get(`${functionName}:${alias}`)?.real;
  }

  /** Every stream of a function (each alias's). */
  streamsOf(functionName: string): { alias: string; rps: number; events?: string }[] {
    return [...this.streams.values()].filter((s) => s.functionName === functionName).map((s) => ({ alias: s.alias, rps: s.rps, ...(s.real ? { events: s.real.events.from } : {}) }));
  }

  private async tick(at: number): Promise<void> {
    for (const s of this.streams.values()) {
      const minute = Math.floor((at - 1) / 60_000);
      if (minute !== s.minute) this.flush(s);
      s.minute = minute;
      s.carry += s.rps * this.factor(s, at);
      const n = Math.floor(s.carry);
      s.carry -= n;
      if (!n) continue;
      const routing = this.lambda.getAlias(s.functionName, s.alias);
      if (!routing) continue;
      const extra = routing.additional ? binomialDraw(this.rand, n, routing.additional.weight) : 0;
      const split: [string, number][] = [[routing.functionVersion, n - extra]];
      if (routing.additional && extra) split.push([routing.additional.version, extra]);
      if (s.real) {
        await this.tickReal(s, s.real, at, n, split);
        continue;
      }
      const throttleShare = this.throttleShare(s.functionName, split);
      const errorFactor = this.errorFactor(s, at);
      for (const [version, offered] of split) {
        if (!offered) continue;
        this.lambda.markTraffic(s.functionName, version, at);
        const b = this.lambda.behaviourOf(s.functionName, version);
        // Requests over the reserved concurrency are refused (429): no invocation, a failed request.
        const throttled = throttleShare ? binomialDraw(this.rand, offered, throttleShare) : 0;
        const count = offered - throttled;
        if (throttled) s.throttles.set(version, (s.throttles.get(version) ?? 0) + throttled);
        const fresh = this.occupy(s, version, at, count, b);
        const failing = b.startsFailingAfterMinutes === undefined || at - this.lambda.firstTrafficAt(s.functionName, version) >= b.startsFailingAfterMinutes * 60_000;
        // Noise (transient errors, cold starts) hits the real invocations (probes, hooks' calls),
        // which the watchdog's own checks meet; what users see of each version is its behaviour
        // (`current.errorRate` already states the old version's everyday failures).
        // Error bursts scale both versions' rates at once.
        const rate = b.crashOnInit ? 1 : Math.min(1, ((failing ? (b.errorRate ?? 0) + (b.timeoutRate ?? 0) : 0)) * errorFactor);
        // Over its capacity, the second's excess fails; the rest fail at the version's rate.
        const overload = b.capacityRps === undefined ? 0 : Math.max(0, count - Math.floor(b.capacityRps));
        const errors = rate >= 1 ? count : overload + binomialDraw(this.rand, count - overload, rate);
        // HTTP 500 answers among the requests that did not fail: no function error.
        const http5xx = failing && b.httpErrorRate && errors < count ? binomialDraw(this.rand, count - errors, b.httpErrorRate) : 0;
        const list = s.calls.get(version) ?? [];
        const spread = this.lambda.noiseOf(s.functionName).latencyJitter;
        for (let i = 0; i < count; i++) {
          const jitter = Math.round(this.rand() * 20);
          let durationMs = BASE_LATENCY_MS + jitter + (b.latencyMs ?? 0);
          if (spread) {
            // A log-normal spread around the duration (median unchanged), and the first request
            // of each environment started this second slower by `firstRequestMs`.
            durationMs = Math.round(durationMs * Math.exp(spread.sigma * normalDraw(this.rand)) + (i < fresh ? (spread.firstRequestMs ?? 0) : 0));
          }
          list.push({ error: i < errors, ...(i >= errors && i < errors + http5xx ? { http5xx: true } : {}), durationMs });
        }
        s.calls.set(version, list);
        // Function errors and timeouts are failed invocations to Lambda (and its Telemetry API);
        // an HTTP 500 answered without throwing is a successful one.
        // Each environment started this second paid its init phase first (not part of Duration).
        const initsMs = initDurations(b, this.lambda.noiseOf(s.functionName), fresh, this.rand);
        this.lambda.noteInvocations(s.functionName, version, at, count, errors, BASE_LATENCY_MS + 10 + (b.latencyMs ?? 0), initsMs);
        // What users see: a function error, a timeout or an HTTP 500 is a failed request.
        const failed = errors + http5xx + throttled;
        const t = this.tallyOf(s, version);
        t.requests += offered;
        t.failures += failed;
        t.sources.injected += errors + http5xx;
        t.sources.throttled += throttled;
        if (failed && t.firstFailureAt === undefined) t.firstFailureAt = at;
      }
    }
  }

  private tallyOf(s: Stream, version: string): VersionTally {
    const t = s.tally.get(version) ?? emptyTally();
    s.tally.set(version, t);
    return t;
  }

  /**
   * A second of requests that run the real code: each version's share of the second's sample
   * (`realRps` over the second's `n` requests, at least one per version that has requests) is
   * invoked for real, one after the other, spread over the second, through the lab's execution
   * environments (cold starts, concurrency, timeouts, the extension); each of the version's other
   * requests takes the outcome of one of its real ones, drawn from the same seeded stream.
   */
  private async tickReal(s: Stream, real: RealTraffic, at: number, n: number, split: readonly [string, number][]): Promise<void> {
    const share = Math.min(1, real.realRps / n);
    for (const [version, count] of split) {
      if (!count) continue;
      this.lambda.markTraffic(s.functionName, version, at);
      const k = Math.min(count, Math.max(1, Math.round(count * share)));
      const sampled: Outcome[] = [];
      const startedBefore = this.lambda.environments(s.functionName, version).started;
      for (let j = 0; j < k; j++) {
        const event = drawEvent(real.events, this.rand, s.drawn++);
        try {
          const r = await this.lambda.invoke(s.functionName, event, 'user', version, at + Math.floor((j * 1000) / k), { record: false });
          const error = Boolean(r.functionError);
          const http5xx = !error && httpStatusOf(r.payload) >= 500;
          sampled.push({ error, ...(http5xx ? { http5xx } : {}), durationMs: r.durationMs, ...(error || http5xx ? { failure: r.failure ?? (r.payload === INJECTED_HTTP_500 ? 'injected' : 'code') } : {}) });
        } catch (err) {
          // Refused for the function's reserved concurrency (429): no invocation, a failed request.
          if (!(err instanceof LabError) || err.code !== RESERVED_THROTTLE.code) throw err;
          sampled.push({ error: false, durationMs: 0, throttled: true, failure: 'throttled' });
        }
      }
      const all = [...sampled];
      for (let j = k; j < count; j++) all.push(sampled[Math.floor(this.rand() * k)]);
      const invoked = all.filter((o) => !o.throttled);
      const counted = invoked.slice(sampled.filter((o) => !o.throttled).length);
      // The real ones told the extension themselves; the ones counted in proportion are told here.
      if (counted.length) this.lambda.noteInvocations(s.functionName, version, at, counted.length, counted.filter((o) => o.error).length, Math.round(counted.reduce((a, o) => a + o.durationMs, 0) / counted.length));
      const list = s.calls.get(version) ?? [];
      for (const o of invoked) list.push({ error: o.error, ...(o.http5xx ? { http5xx: true } : {}), durationMs: o.durationMs });
      s.calls.set(version, list);
      const throttled = all.length - invoked.length;
      if (throttled) s.throttles.set(version, (s.throttles.get(version) ?? 0) + throttled);
      // The lab's environments of the version: the most alive, and those started this second (cold starts).
      const env = this.lambda.environments(s.functionName, version);
      const m = s.environments.get(version) ?? { most: 0, started: 0 };
      s.environments.set(version, { most: Math.max(m.most, env.alive), started: m.started + env.started - startedBefore });
      const t = this.tallyOf(s, version);
      t.requests += count;
      t.real += k;
      for (const [i, o] of all.entries()) {
        if (!o.failure) continue;
        t.failures++;
        t.sources[o.failure]++;
        if (i < k) t.realFailures++;
        if (t.firstFailureAt === undefined) t.firstFailureAt = at;
      }
    }
  }

  /**
   * Keep as many of the version's environments busy this second as its requests have in flight
   * (rate x mean duration, rounded up, at most the reserved concurrency); new ones are cold starts.
   */
  private occupy(s: Stream, version: string, at: number, count: number, b: { latencyMs?: number }): number {
    const key = `${s.functionName}:${version}`;
    const pool = reapPool(this.pools.get(key) ?? { lastBusy: [], bornAt: [], started: 0 }, at);
    this.pools.set(key, pool);
    const reserved = this.lambda.reservedConcurrency(s.functionName);
    const busy = Math.min(Math.ceil((count * meanDurationMs(b)) / 1000), reserved ?? Infinity);
    let fresh = Math.max(0, busy - pool.lastBusy.length);
    for (let i = pool.lastBusy.length; i < busy; i++) pool.bornAt[i] = at;
    // Lambda ends environments now and then even under steady traffic; a busy one past its
    // lifetime is replaced by a new one (a cold start). https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    const lifetimeMinutes = this.lambda.noiseOf(s.functionName).environmentLifetimeMinutes;
    if (lifetimeMinutes) {
      for (let i = 0; i < Math.min(busy, pool.lastBusy.length); i++) {
        if (at - pool.bornAt[i] >= lifetimeMinutes * 60_000) {
          pool.bornAt[i] = at;
          fresh++;
        }
      }
    }
    pool.started += fresh;
    for (let i = 0; i < busy; i++) pool.lastBusy[i] = at;
    const m = s.environments.get(version) ?? { most: 0, started: 0 };
    s.environments.set(version, { most: Math.max(m.most, busy), started: m.started + fresh });
    return fresh;
  }

  /**
   * The share of a second's requests the function's reserved concurrency refuses. By Little's law
   * the invocations in flight are the arrival rate times the mean duration, summed over the
   * versions the requests go to; above the reservation, the excess share is throttled.
   * https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
   */
  private throttleShare(functionName: string, split: readonly [string, number][]): number {
    const reserved = this.lambda.reservedConcurrency(functionName);
    if (reserved === undefined) return 0;
    const inFlight = split.reduce((sum, [version, count]) => sum + (count * meanDurationMs(this.lambda.behaviourOf(functionName, version))) / 1000, 0);
    return inFlight > reserved ? 1 - reserved / inFlight : 0;
  }

  private factor(s: Stream, at: number): number {
    const f = this.windowFactor(s.burstiness, s.window, s.factor, at);
    [s.window, s.factor] = [f.window, f.factor];
    return f.factor;
  }

  /** Both versions' error rates' multiplier in this 10-second window (mean 1): failures in bursts. */
  private errorFactor(s: Stream, at: number): number {
    const f = this.windowFactor(s.errorBurstiness, s.errorWindow, s.errorFactor, at);
    [s.errorWindow, s.errorFactor] = [f.window, f.factor];
    return f.factor;
  }

  /** A log-normal factor exp(σz - σ²/2) (mean 1) drawn once per 10-second window; 1 when σ is 0. */
  private windowFactor(sigma: number, window: number, factor: number, at: number): { window: number; factor: number } {
    if (!sigma) return { window, factor: 1 };
    const now = Math.floor((at - 1) / (BURST_WINDOW_SECONDS * 1000));
    return now === window ? { window, factor } : { window: now, factor: Math.exp(sigma * normalDraw(this.rand) - (sigma * sigma) / 2) };
  }

  private flush(s: Stream): void {
    // A version whose every request was throttled this minute still publishes its Throttles.
    for (const version of s.throttles.keys()) if (!s.calls.has(version)) s.calls.set(version, []);
    for (const [version, calls] of s.calls) {
      this.lambda.recordMetrics(s.functionName, s.alias, version, s.minute * 60_000, calls, s.throttles.get(version) ?? 0, this.lambda.hasUrl(s.functionName, s.alias));
      const d = calls.map((c) => c.durationMs).sort((a, b) => a - b);
      const envs = s.environments.get(version) ?? { most: 0, started: 0 };
      s.minutes.push({
        minute: s.minute, version, requests: calls.length, errors: calls.filter((c) => c.error || c.http5xx).length, p99: d.length ? d[Math.min(d.length - 1, Math.ceil(d.length * 0.99) - 1)] : null,
        environments: envs.most, coldStarts: envs.started,
      });
    }
    s.calls.clear();
    s.throttles.clear();
    s.environments.clear();
  }
}

/** The init phases of `n` environments of a version starting now (users' cold starts); none without an init duration. */
function initDurations(b: Behaviour, noise: Noise, n: number, rand: () => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const ms = initDurationOf(b, noise, rand);
    if (ms === undefined) return [];
    out.push(ms);
  }
  return out;
}

/** Box-Muller: a standard normal draw from two uniform ones. */
function normalDraw(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Drop the environments idle too long: the highest first, as they are the least busy. */
function reapPool(pool: Pool, now: number): Pool {
  while (pool.lastBusy.length && now - pool.lastBusy[pool.lastBusy.length - 1] >= ENVIRONMENT_IDLE_MS) {
    pool.lastBusy.pop();
    pool.bornAt.length = pool.lastBusy.length;
  }
  return pool;
}
