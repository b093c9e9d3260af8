import { VERSION } from './config';
import type { LayerSpec, MetricRef, Observation, Observations, Window } from './types';
import { signalKey } from './types';

/** One metric to read over one window, with `{version}` already resolved. */
export interface MetricQuery {
  readonly key: string;
  readonly metric: MetricRef;
  readonly window: Window;
  /** One period spanning the whole window, a multiple of 60 s, so percentiles cover it all. */
  readonly periodSeconds: number;
}

/** What a metric read returned: its datapoints, or why it could not be read. */
export type MetricReading = { readonly values: readonly number[] } | { readonly error: string };

export type AlarmReading =
  | { readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; readonly reason: string; readonly since: number }
  | { readonly error: string };

export interface ReadPlan {
  readonly metrics: readonly MetricQuery[];
  readonly alarmNames: readonly string[];
}

export function resolveMetric(m: MetricRef, version: string): MetricRef {
  const dimensions: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.dimensions)) dimensions[k] = v.split(VERSION).join(version);
  return { ...m, dimensions };
}

/**
 * The window a deployment is judged over: from the minute it was created to now. Both versions
 * are read over the same window, so the old version is a baseline running at the same time.
 */
export function deploymentWindow(createdAt: number, now: number): Window {
  const start = Math.floor(createdAt / 60_000) * 60_000;
  return { start, end: Math.max(now, start + 60_000) };
}

function period(w: Window): number {
  return Math.max(60, Math.ceil((w.end - w.start) / 60_000) * 60);
}

function queryKey(signal: string, role: string, which: 'new' | 'old'): string {
  return `${signal}#${role}#${which}`;
}

/** Everything to read to judge `layers` for one deployment. Pure. */
export function planReads(layers: readonly LayerSpec[], versions: { new: string; old: string }, window: Window): ReadPlan {
  const metrics: MetricQuery[] = [];
  const alarmNames: string[] = [];
  const p = period(window);
  for (const layer of layers) {
    for (const s of layer.signals) {
      const key = signalKey(layer.name, s.name);
      if (s.kind === 'alarm') {
        alarmNames.push(s.alarmName);
        continue;
      }
      const roles: [string, MetricRef][] = s.kind === 'rate' ? [['events', s.events], ['total', s.total]] : [['value', s.value], ['samples', s.samples]];
      const sides: ('new' | 'old')[] = s.baseline ? ['new', 'old'] : ['new'];
      for (const which of sides) {
        for (const [role, m] of roles) {
          metrics.push({ key: queryKey(key, role, which), metric: resolveMetric(m, versions[which]), window, periodSeconds: p });
        }
      }
    }
  }
  return { metrics, alarmNames: [...new Set(alarmNames)] };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Turn what was read into observations for `evaluate`. Pure. */
export function toObservations(
  layers: readonly LayerSpec[],
  window: Window,
  metrics: Readonly<Record<string, MetricReading>>,
  alarms: Readonly<Record<string, AlarmReading>>,
): Observations {
  const out: Record<string, Observation> = {};
  for (const layer of layers) {
    for (const s of layer.signals) {
      const key = signalKey(layer.name, s.name);
      if (s.kind === 'alarm') {
        const a = alarms[s.alarmName];
        if (a === undefined) out[key] = { kind: 'unreadable', error: `alarm ${s.alarmName} was not read` };
        else if ('error' in a) out[key] = { kind: 'unreadable', error: a.error };
        else out[key] = { kind: 'alarm', state: a.state, reason: a.reason, since: a.since };
        continue;
      }
      const read = (role: string, which: 'new' | 'old'): readonly number[] | string => {
        const r = metrics[queryKey(key, role, which)];
        if (r === undefined) return `metric ${role} (${which} version) was not read`;
        return 'error' in r ? r.error : r.values;
      };
      const roles = s.kind === 'rate' ? ['events', 'total'] : ['value', 'samples'];
      const sides: ('new' | 'old')[] = s.baseline ? ['new', 'old'] : ['new'];
      const got: Record<string, readonly number[]> = {};
      let error: string | undefined;
      for (const which of sides) {
        for (const role of roles) {
          const r = read(role, which);
          if (typeof r === 'string') error ??= r;
          else got[`${role}#${which}`] = r;
        }
      }
      if (error !== undefined) {
        out[key] = { kind: 'unreadable', error };
        continue;
      }
      if (s.kind === 'rate') {
        const counts = (which: 'new' | 'old') => {
          const events = sum(got[`events#${which}`]);
          const total = sum(got[`total#${which}`]) + (s.addEventsToTotal ? events : 0);
          return { events, total };
        };
        out[key] = { kind: 'counts', new: counts('new'), ...(s.baseline ? { old: counts('old') } : {}), window };
      } else {
        // A percentile cannot be merged across periods; with more than one datapoint (period
        // alignment) the worst one is taken.
        const sample = (which: 'new' | 'old') => {
          const vs = got[`value#${which}`];
          return { value: vs.length ? Math.max(...vs) : null, samples: sum(got[`samples#${which}`]) };
        };
        out[key] = { kind: 'value', new: sample('new'), ...(s.baseline ? { old: sample('old') } : {}), window };
      }
    }
  }
  return out;
}
