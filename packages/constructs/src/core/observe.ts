import { resolveAlarmName, VERSION } from './config';
import { minutesToFinalShift } from './rollout';
import { exceedanceReference, percentileLevel, percentileMinSamples } from './signals';
import type { DeploymentSnapshot, LayerSpec, MetricRef, Observation, Observations, SignalSpec, TimeSlice, Window } from './types';
import { signalKey } from './types';

/** One metric to read over one window, with `{version}` already resolved. */
export interface MetricQuery {
  readonly key: string;
  readonly metric: MetricRef;
  readonly window: Window;
  /**
   * One period spanning the whole window, a multiple of 60 s, so percentiles cover it all; 60 s
   * for the counts a comparison with the old version judges minute by minute.
   */
  readonly periodSeconds: number;
}

/**
 * What a metric read returned: its datapoints, or why it could not be read. `timestamps` (epoch
 * ms, each its period's start, one per value) when the reader has them: the per-minute comparison
 * needs them; without them the comparison is pooled.
 */
export type MetricReading = { readonly values: readonly number[]; readonly timestamps?: readonly number[] } | { readonly error: string };

export type AlarmReading =
  | { readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; readonly reason: string; readonly since: number }
  | { readonly error: string };

export interface ReadPlan {
  readonly metrics: readonly MetricQuery[];
  /** Alarm names with `{version}` resolved to the new version: what DescribeAlarms is asked for. */
  readonly alarmNames: readonly string[];
}

export function resolveMetric(m: MetricRef, version: string): MetricRef {
  const dimensions: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.dimensions)) dimensions[k] = v.split(VERSION).join(version);
  return { ...m, dimensions };
}

/**
 * The window a deployment is judged over: from the minute it was created to now. The absolute
 * tests judge the new version over all of it.
 */
export function deploymentWindow(createdAt: number, now: number): Window {
  const start = Math.floor(createdAt / 60_000) * 60_000;
  return { start, end: Math.max(now, start + 60_000) };
}

/**
 * The window in which both versions served user traffic: from the minute shifting began to the
 * final shift (or to now, before it). The comparison with the old version reads both versions
 * over this window only: after the final shift the old version serves nothing, and comparing the
 * new version's bake with the old version's canary minutes compares different hours of the day.
 * null when there is no such window: before shifting began, and for an all-at-once rollout.
 */
export function concurrentWindow(
  snapshot: Pick<DeploymentSnapshot, 'createdAt' | 'trafficShiftStartedAt' | 'rollout' | 'newVersionWeight' | 'bake'>,
  now: number,
): Window | null {
  const shifted = snapshot.trafficShiftStartedAt ?? (snapshot.newVersionWeight > 0 || snapshot.bake ? snapshot.createdAt : undefined);
  if (shifted === undefined) return null;
  const minutes = minutesToFinalShift(snapshot.rollout);
  if (minutes === 0) return null;
  const start = Math.floor(shifted / 60_000) * 60_000;
  const end = Math.min(now, shifted + minutes * 60_000);
  return { start, end: Math.max(end, start + 60_000) };
}

/** The last `minutes` minutes before `end`, from the start of that minute. */
export function freshWindow(end: number, minutes: number): Window {
  return { start: Math.floor((end - minutes * 60_000) / 60_000) * 60_000, end };
}

function period(w: Window): number {
  return Math.max(60, Math.ceil((w.end - w.start) / 60_000) * 60);
}

/** `new` and `old` over the judged window; `newb` and `oldb`: both over the concurrent window; `fresh`: the new version lately. */
type Side = 'new' | 'old' | 'newb' | 'fresh';

function queryKey(signal: string, role: string, which: Side): string {
  return `${signal}#${role}#${which}`;
}

/**
 * The reads of one signal: each side with its window. `baselineWindow` undefined means both
 * versions ran over the whole window (the old version is read over it); null means they never
 * served traffic at the same time, so there is nothing to compare with.
 */
/** Signals read from CloudWatch metrics (not alarms, not the state table's telemetry). */
type MetricSignal = Exclude<SignalSpec, { kind: 'alarm' | 'telemetry' | 'inits' }>;

function sidesOf(s: MetricSignal, window: Window, baselineWindow: Window | null | undefined): [Side, Window][] {
  const sides: [Side, Window][] = [['new', window]];
  if (s.baseline && baselineWindow !== null) {
    const bw = baselineWindow ?? window;
    sides.push(['old', bw]);
    if (bw.start !== window.start || bw.end !== window.end) sides.push(['newb', bw]);
  }
  if (s.kind === 'rate' && s.freshMinutes !== undefined) sides.push(['fresh', freshWindow(window.end, s.freshMinutes)]);
  return sides;
}

/** The sides the comparison with the old version reads: the old version's, and the new version's over the same window. */
function comparedSide(which: Side, sides: readonly [Side, Window][]): boolean {
  const has = (x: Side) => sides.some(([w]) => w === x);
  if (!has('old')) return false;
  return which === 'old' || which === 'newb' || (which === 'new' && !has('newb'));
}

function rolesOf(s: MetricSignal): [string, MetricRef][] {
  return s.kind === 'rate' ? [['events', s.events], ['total', s.total]] : [['value', s.value], ['samples', s.samples]];
}

/**
 * The percentile-rank statistic PR(:x): the percentage of data points at or below x (a lower
 * bound is exclusive, an upper one inclusive).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
 */
export function percentileRankStat(x: number): string {
  return `PR(:${x})`;
}

/** A value signal's `max` read as the share at or below it, for the exceedance test: PR(:max). */
function overMaxRef(s: MetricSignal): MetricRef | undefined {
  if (s.kind !== 'value' || s.max === undefined || percentileLevel(s.value.stat) === undefined) return undefined;
  return { ...s.value, stat: percentileRankStat(s.max) };
}

/**
 * How many of `samples` data points lie above the bound of the PR(:x) datapoints `ranks`
 * (percentages), paired with the SampleCount datapoints of the same periods. When the periods
 * cannot be paired, the smallest share above is taken for all: never more than were there.
 */
function countAbove(ranks: readonly number[], counts: readonly number[]): number {
  const total = sum(counts);
  if (!ranks.length) return 0;
  const above = (r: number) => Math.min(1, Math.max(0, 1 - r / 100));
  if (ranks.length === counts.length) return ranks.reduce((n, r, i) => n + counts[i] * above(r), 0);
  return total * Math.min(...ranks.map(above));
}

/**
 * The second read of a value signal whose percentile is below its stable sample count over the
 * window both versions served: the new version's PR(:reference), the reference taken from the
 * old version's percentile the first read returned (exceedanceReference). `observations` are
 * toObservations of the first read. Pure; empty when no signal needs it.
 */
export function planExceedanceReads(
  layers: readonly LayerSpec[],
  versions: { readonly new: string },
  observations: Readonly<Record<string, Observation>>,
  window: Window,
  baselineWindow?: Window | null,
): MetricQuery[] {
  const out: MetricQuery[] = [];
  for (const layer of layers) {
    for (const s of layer.signals) {
      if (s.kind !== 'value' || !s.baseline || baselineWindow === null || percentileLevel(s.value.stat) === undefined) continue;
      const key = signalKey(layer.name, s.name);
      const obs = observations[key];
      if (obs?.kind !== 'value' || !obs.old || obs.old.value === null || !Number.isFinite(obs.old.value) || obs.old.samples <= 0) continue;
      const side = sidesOf(s, window, baselineWindow).find(([which]) => which === 'newb') ?? ['new', window];
      const samples = (obs.baselineNew ?? obs.new).samples;
      // Enough samples for a stable percentile on both sides: the value comparison judges.
      const stable = Math.max(s.minSamples, percentileMinSamples(s.value.stat));
      if (samples <= 0 || (samples >= stable && obs.old.samples >= stable)) continue;
      const ref = exceedanceReference(obs.old.value, s.baseline);
      out.push({ key: queryKey(key, 'overbase', side[0]), metric: resolveMetric({ ...s.value, stat: percentileRankStat(ref) }, versions.new), window: side[1], periodSeconds: period(side[1]) });
    }
  }
  return out;
}

/** Everything to read to judge `layers` for one deployment. Pure. */
export function planReads(
  layers: readonly LayerSpec[],
  versions: { new: string; old: string },
  window: Window,
  baselineWindow?: Window | null,
): ReadPlan {
  const metrics: MetricQuery[] = [];
  const alarmNames: string[] = [];
  for (const layer of layers) {
    for (const s of layer.signals) {
      const key = signalKey(layer.name, s.name);
      if (s.kind === 'alarm') {
        alarmNames.push(resolveAlarmName(s.alarmName, versions.new));
        continue;
      }
      // The telemetry extension's counts (and init reports) come with the watch items, not from CloudWatch.
      if (s.kind === 'telemetry' || s.kind === 'inits') continue;
      const sides = sidesOf(s, window, baselineWindow);
      for (const [which, w] of sides) {
        // The fresh window needs only the new version's rate.
        // A rate compared with the old version is read per minute on both sides of the comparison.
        const perMinute = s.kind === 'rate' && comparedSide(which, sides);
        for (const [role, m] of rolesOf(s)) {
          metrics.push({ key: queryKey(key, role, which), metric: resolveMetric(m, versions[which === 'old' ? 'old' : 'new']), window: w, periodSeconds: perMinute ? 60 : period(w) });
        }
      }
      const overMax = overMaxRef(s);
      if (overMax) metrics.push({ key: queryKey(key, 'overmax', 'new'), metric: resolveMetric(overMax, versions.new), window, periodSeconds: period(window) });
    }
  }
  return { metrics, alarmNames: [...new Set(alarmNames)] };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Both versions' counts per period, oldest first, matched by timestamp: a period missing on one
 * side counted no sample there (CloudWatch returns no datapoint for a Sum of nothing).
 * undefined when a reading came without timestamps (or with one per value missing).
 */
function perMinute(
  got: Readonly<Record<string, readonly number[]>>,
  stamps: Readonly<Record<string, readonly number[] | undefined>>,
  newSide: Side,
  addEventsToTotal: boolean,
): TimeSlice[] | undefined {
  const fields = [['newEvents', `events#${newSide}`], ['newTotal', `total#${newSide}`], ['oldEvents', 'events#old'], ['oldTotal', 'total#old']] as const;
  const rows = new Map<number, { newEvents: number; newTotal: number; oldEvents: number; oldTotal: number }>();
  for (const [field, k] of fields) {
    const ts = stamps[k];
    const vs = got[k];
    if (ts === undefined || ts.length !== vs.length) return undefined;
    ts.forEach((t, i) => {
      const row = rows.get(t) ?? { newEvents: 0, newTotal: 0, oldEvents: 0, oldTotal: 0 };
      row[field] += vs[i];
      rows.set(t, row);
    });
  }
  return [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, r]) => ({
      start,
      ...r,
      ...(addEventsToTotal ? { newTotal: r.newTotal + r.newEvents, oldTotal: r.oldTotal + r.oldEvents } : {}),
    }));
}

/**
 * Turn what was read into observations for `evaluate`. Pure. `alarms` is keyed by alarm name
 * with `{version}` resolved to the new version, as planReads asked for them; `baselineWindow`
 * as for planReads.
 */
export function toObservations(
  layers: readonly LayerSpec[],
  versions: { readonly new: string },
  window: Window,
  metrics: Readonly<Record<string, MetricReading>>,
  alarms: Readonly<Record<string, AlarmReading>>,
  baselineWindow?: Window | null,
): Observations {
  const out: Record<string, Observation> = {};
  for (const layer of layers) {
    for (const s of layer.signals) {
      const key = signalKey(layer.name, s.name);
      if (s.kind === 'alarm') {
        const name = resolveAlarmName(s.alarmName, versions.new);
        const a = alarms[name];
        if (a === undefined) out[key] = { kind: 'unreadable', error: `alarm ${name} was not read` };
        else if ('error' in a) out[key] = { kind: 'unreadable', error: a.error };
        else out[key] = { kind: 'alarm', state: a.state, reason: a.reason, since: a.since };
        continue;
      }
      if (s.kind === 'telemetry' || s.kind === 'inits') continue;
      const sides = sidesOf(s, window, baselineWindow);
      const got: Record<string, readonly number[]> = {};
      const stamps: Record<string, readonly number[] | undefined> = {};
      let error: string | undefined;
      for (const [which] of sides) {
        for (const [role] of rolesOf(s)) {
          const r = metrics[queryKey(key, role, which)];
          if (r === undefined) error ??= `metric ${role} (${which} version) was not read`;
          else if ('error' in r) error ??= r.error;
          else {
            got[`${role}#${which}`] = r.values;
            stamps[`${role}#${which}`] = r.timestamps;
          }
        }
      }
      if (error !== undefined) {
        out[key] = { kind: 'unreadable', error };
        continue;
      }
      const windowOf = new Map(sides);
      const has = (which: Side) => windowOf.has(which);
      if (s.kind === 'rate') {
        const counts = (which: Side) => {
          const events = sum(got[`events#${which}`]);
          const total = sum(got[`total#${which}`]) + (s.addEventsToTotal ? events : 0);
          return { events, total };
        };
        out[key] = {
          kind: 'counts',
          new: counts('new'),
          window,
          ...(has('old') ? { old: counts('old') } : {}),
          ...(has('newb') ? { baselineNew: counts('newb'), baselineWindow: windowOf.get('newb') } : {}),
          ...(has('fresh') ? { fresh: counts('fresh'), freshWindow: windowOf.get('fresh') } : {}),
        };
        const slices = has('old') ? perMinute(got, stamps, has('newb') ? 'newb' : 'new', s.addEventsToTotal === true) : undefined;
        if (slices) out[key] = { ...out[key], slices };
      } else {
        // A percentile cannot be merged across periods; with more than one datapoint (period
        // alignment) the worst one is taken.
        const sample = (which: Side) => {
          const vs = got[`value#${which}`];
          return { value: vs.length ? Math.max(...vs) : null, samples: sum(got[`samples#${which}`]) };
        };
        // The exceedance reads: PR(:max) with the first read, PR(:reference) with the second.
        let overMax: number | undefined;
        if (overMaxRef(s)) {
          const r = metrics[queryKey(key, 'overmax', 'new')];
          if (r === undefined || 'error' in r) {
            out[key] = { kind: 'unreadable', error: r === undefined ? `metric ${percentileRankStat(s.max!)} (new version) was not read` : r.error };
            continue;
          }
          overMax = countAbove(r.values, got['samples#new']);
        }
        const bside: Side = has('newb') ? 'newb' : 'new';
        const rb = metrics[queryKey(key, 'overbase', bside)];
        if (rb !== undefined && 'error' in rb) {
          out[key] = { kind: 'unreadable', error: rb.error };
          continue;
        }
        const old = has('old') ? sample('old') : undefined;
        const overBaseline =
          rb !== undefined && old !== undefined && old.value !== null && s.baseline ? { reference: exceedanceReference(old.value, s.baseline), above: countAbove(rb.values, got[`samples#${bside}`]) } : undefined;
        out[key] = {
          kind: 'value',
          new: sample('new'),
          window,
          ...(old ? { old } : {}),
          ...(has('newb') ? { baselineNew: sample('newb'), baselineWindow: windowOf.get('newb') } : {}),
          ...(overMax !== undefined ? { overMax } : {}),
          ...(overBaseline ? { overBaseline } : {}),
        };
      }
    }
  }
  return out;
}

/**
 * Both versions' cumulative telemetry counts as one watchdog read saw them: `at` (epoch ms), the
 * new version's invocations and errors, the old version's. One BatchGetItem reads both watch items
 * at the same moment, so the differences between two reads are the same stretch of time for both
 * versions: a time slice, as a CloudWatch minute is for the metrics.
 */
export type TelemetryPoint = readonly [at: number, newInvocations: number, newErrors: number, oldInvocations: number, oldErrors: number];

/**
 * The most points a deployment's state keeps: about 2 KB in the state item. The points are kept
 * only in the state writes the watchdog makes anyway (a record that says something new, which
 * every traffic step is), so a canary keeps 2 or 3 and a linear rollout about one per step; past
 * this bound, the slices with the most alike traffic split are merged (withTelemetryPoint).
 */
export const TELEMETRY_POINTS_MAX = 48;

const MINUTE_MS = 60_000;

/**
 * The points to keep after a read: `point` is added when it is from a later minute than the last
 * one kept (the first read of each minute is kept: the first after a traffic step is the one
 * nearest the step), and past TELEMETRY_POINTS_MAX the point between the two slices with the most
 * alike new-version share of traffic is dropped, which merges them (fewer, longer slices stay
 * valid; they only cancel less of what both versions meet). Pure.
 */
export function withTelemetryPoint(points: readonly TelemetryPoint[], point: TelemetryPoint): TelemetryPoint[] {
  const last = points.at(-1);
  if (last && Math.floor(point[0] / MINUTE_MS) <= Math.floor(last[0] / MINUTE_MS)) return [...points];
  const out = [...points, point];
  while (out.length > TELEMETRY_POINTS_MAX) {
    const shares = telemetrySlices(out.slice(0, -1), out.at(-1)!).map((s) => (s.newTotal + s.oldTotal > 0 ? s.newTotal / (s.newTotal + s.oldTotal) : 0));
    // Point i (0-based) ends slice i and begins slice i + 1; the last point is never dropped.
    let drop = 0;
    for (let i = 1; i < out.length - 1; i++) if (Math.abs(shares[i + 1] - shares[i]) < Math.abs(shares[drop + 1] - shares[drop])) drop = i;
    out.splice(drop, 1);
  }
  return out;
}

/**
 * The time slices between consecutive reads of both versions' telemetry counts, from the start of
 * the watch (0 of 0) through `points` to `current`, oldest first, each starting at the read that
 * opens it. A count that falls between two reads (the probe record ahead of the extension, or an
 * item no longer watching this deployment) adds nothing to its slice until it passes its
 * previous high: no count is taken twice. Pure.
 */
export function telemetrySlices(points: readonly TelemetryPoint[], current: TelemetryPoint, start = 0): TimeSlice[] {
  const out: TimeSlice[] = [];
  let high = [0, 0, 0, 0];
  let from = start;
  for (const p of [...points.filter((q) => q[0] < current[0]), current]) {
    const next = high.map((h, i) => Math.max(h, p[i + 1]));
    const [newTotal, newEvents, oldTotal, oldEvents] = next.map((n, i) => n - high[i]);
    out.push({ start: from, newEvents, newTotal, oldEvents, oldTotal });
    high = next;
    from = p[0];
  }
  return out;
}

/** Two series of points as one, in time order, one point per time (the first series' wins). Pure. */
export function mergeTelemetryPoints(a: readonly TelemetryPoint[], b: readonly TelemetryPoint[]): TelemetryPoint[] {
  const byTime = new Map<number, TelemetryPoint>();
  for (const p of [...b, ...a]) byTime.set(p[0], p);
  return [...byTime.values()].sort((x, y) => x[0] - y[0]);
}

/** The points as stored, checked: what is not a list of 5 finite counts >= 0, in time order, is dropped. */
export function parseTelemetryPoints(stored: unknown): TelemetryPoint[] {
  if (!Array.isArray(stored)) return [];
  const out: TelemetryPoint[] = [];
  for (const p of stored) {
    if (!Array.isArray(p) || p.length !== 5 || !p.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) continue;
    if (out.length && p[0] <= out.at(-1)![0]) continue;
    out.push(p as unknown as TelemetryPoint);
  }
  return out;
}
