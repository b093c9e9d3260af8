/**
 * The floor: how long a failed request takes to reach what the watchdog reads, measured on the lab
 * (issue 23). No test, however good, decides before its evidence arrives; the oracle's detection
 * plus this floor is what the watchdog's median detection is compared with.
 *
 * Two paths, each timed per failed request of the new version during a canary:
 * - telemetry: the failure's Telemetry API event (buffered, delivered at the version's next
 *   invocation), the extension's UpdateItem of the state item, the table's stream, the filtered
 *   event source mapping's poll and batching window, and the watchdog's invocation with the record;
 * - CloudWatch: the one-minute `Errors` datapoint of the failure's minute, visible after Lambda's
 *   publishing delay, and the scheduled watchdog run that reads it.
 * The floor is the faster path's median: the watchdog judges whichever arrives first.
 */
import { Lab } from '../src/lab/lab';
import type { Datum } from '../src/lab/ports';
import { applyWatchdogSettings } from '../src/rehearsal/watchdog-settings';
import { quantile } from './safety';

export interface PathDelay {
  /** Failed requests whose arrival was timed. */
  readonly failures: number;
  /** Of them, seen by the watchdog before the measurement ended. */
  readonly seen: number;
  readonly medianSeconds: number | null;
  readonly p90Seconds: number | null;
}

export interface FloorMeasurement {
  readonly rps: number;
  readonly seeds: number;
  readonly telemetry: PathDelay;
  readonly cloudwatch: PathDelay;
  /** The faster path's median seconds (null when neither saw a failure). */
  readonly floorSeconds: number | null;
}

export interface FloorOptions {
  readonly rps: number;
  readonly seeds: number;
  /** The old and new versions' error rates: sparse failures, so each is timed on its own. */
  readonly oldErrorRate: number;
  readonly newErrorRate: number;
  /** Minutes of the release timed (the canary), and minutes more for the last ones to arrive. */
  readonly minutes: number;
  readonly function?: string;
}

/** Failure instants of the new version (one entry per failed request), and when each path showed it. */
export interface PathEvents {
  /** Every failed request of the new version, in order (ms on the lab's clock). */
  readonly failures: readonly number[];
  /** The extension's state-item writes of the new version that added failures: when, how many. */
  readonly writes: readonly { at: number; errors: number }[];
  /** The watchdog's invocations by the state table's stream. */
  readonly deliveries: readonly number[];
  /** When each minute's Errors datapoint of the new version became visible: minute start -> time. */
  readonly published: ReadonlyMap<number, number>;
  /** The watchdog's scheduled runs. */
  readonly runs: readonly number[];
}

/**
 * Per failed request, seconds to the watchdog's first invocation that could read it: by the
 * telemetry path (the k-th failure is in the first write whose running sum of failures reaches k,
 * then the first stream delivery from that write on) and by CloudWatch (its minute's datapoint,
 * then the first scheduled run from its publication on). A failure no invocation read by `until`
 * has no delay. Pure: the lab's records in, delays out.
 */
export function pathDelaySeconds(e: PathEvents, until: number): { telemetry: number[]; cloudwatch: number[] } {
  const telemetry: number[] = [];
  let w = 0;
  let written = 0;
  for (const [k, f] of e.failures.entries()) {
    while (w < e.writes.length && written < k + 1) written += e.writes[w++].errors;
    if (written < k + 1) break;
    const at = Math.max(f, e.writes[w - 1].at);
    const d = e.deliveries.find((x) => x >= at);
    if (d !== undefined && d <= until) telemetry.push((d - f) / 1000);
  }
  const cloudwatch: number[] = [];
  for (const f of e.failures) {
    const visible = e.published.get(Math.floor(f / 60_000) * 60_000);
    const run = visible === undefined ? undefined : e.runs.find((x) => x >= visible);
    if (run !== undefined && run <= until) cloudwatch.push((run - f) / 1000);
  }
  return { telemetry, cloudwatch };
}

/** The delays of `failures` failed requests, summed up. */
export function summarizeDelays(delays: readonly number[], failures: number): PathDelay {
  return { failures, seen: delays.length, medianSeconds: quantile(delays, 0.5), p90Seconds: quantile(delays, 0.9) };
}

/**
 * Releases the sample app's function in shadow mode (the watchdog judges but never stops, so the
 * whole canary is timed) at `rps`, once per seed, and times each failure's paths.
 */
export async function measureFloor(assembly: string, o: FloorOptions): Promise<FloorMeasurement> {
  const all: PathEvents[] = [];
  const untils: number[] = [];
  for (let seed = 1; seed <= o.seeds; seed++) {
    const lab = new Lab({ seed, warm: true, reuseThreads: true });
    await lab.start();
    try {
      await lab.loadAssembly(assembly);
      const guarded = lab.release(o.function ?? 'OrdersApi');
      const fn = guarded.functionName;
      const names = lab.lambda.functionNames();
      const scheduled = names.find((n) => lab.lambda.getConfiguration(n).description === 'canary-watchdog watchdog');
      const byStream = names.find((n) => lab.lambda.getConfiguration(n).description === 'canary-watchdog watchdog (events)') ?? scheduled;
      await applyWatchdogSettings(lab, { mode: 'shadow' });
      lab.lambda.setBehaviour(fn, lab.lambda.getAlias(fn, guarded.alias)!.functionVersion, { errorRate: o.oldErrorRate });
      lab.traffic.set(fn, guarded.alias, o.rps);
      await lab.advance(180);
      let version = '';
      const failures: number[] = [];
      lab.lambda.onInvocations((f, v, at, _n, errors) => {
        if (f === fn && v === version) for (let i = 0; i < errors; i++) failures.push(at);
      });
      const published = new Map<number, number>();
      const put = lab.cloudwatch.put.bind(lab.cloudwatch);
      lab.cloudwatch.put = (data: readonly Datum[]) => {
        for (const d of data) {
          if (d.metricName === 'Errors' && d.dimensions.ExecutedVersion === version && d.values.some((x) => x.value > 0) && !published.has(d.timestamp)) published.set(d.timestamp, lab.now());
        }
        put(data);
      };
      const t0 = lab.now();
      ({ version } = await lab.deploy(fn, { behaviour: { errorRate: o.newErrorRate } }));
      const end = t0 + o.minutes * 60_000;
      const until = end + 3 * 60_000;
      while (lab.now() < until) await lab.advance(10);
      const during = failures.filter((f) => f < end);
      all.push({
        failures: during,
        writes: lab.telemetry.writes.filter((x) => x.functionName === fn && x.version === version && x.errors > 0).map((x) => ({ at: x.at, errors: x.errors })),
        deliveries: lab.lambda.invocations.filter((i) => i.functionName === byStream && i.source === 'event-source-mapping').map((i) => i.at),
        published,
        runs: lab.lambda.invocations.filter((i) => i.functionName === scheduled).map((i) => i.at),
      });
      untils.push(until);
    } finally {
      await lab.stop();
    }
  }
  const telemetry: number[] = [];
  const cloudwatch: number[] = [];
  for (const [i, e] of all.entries()) {
    const d = pathDelaySeconds(e, untils[i]);
    telemetry.push(...d.telemetry);
    cloudwatch.push(...d.cloudwatch);
  }
  const failures = all.reduce((n, e) => n + e.failures.length, 0);
  const t = summarizeDelays(telemetry, failures);
  const c = summarizeDelays(cloudwatch, failures);
  const medians = [t.medianSeconds, c.medianSeconds].filter((x): x is number => x !== null);
  return { rps: o.rps, seeds: o.seeds, telemetry: t, cloudwatch: c, floorSeconds: medians.length ? Math.min(...medians) : null };
}
