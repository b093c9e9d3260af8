import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { InputError } from 'canary-watchdog/lib/core/validate';
import type { HostAnswer } from '../lab/lambda';
import type { FunctionCode, FailureSource } from '../lab/lambda';
import { LabError } from '../lab/kernel';
import type { GuardedRelease, Lab } from '../lab/lab';
import type { VersionTally } from '../lab/traffic';
import { entryFor, type EventSource } from '../lab/user-events';
import type { Scenario } from './scenario';

/**
 * Real invocations a second a rehearsal runs at most, unless the scenario says `traffic.realRps`;
 * each second's other requests are counted in proportion (docs/rehearsals.md gives the rate that
 * runs fully for real on two cores, and how it was measured).
 */
export const DEFAULT_REAL_RPS = 2;

/** What a version's user requests were and where their failures came from. */
export interface UserTraffic {
  /** Where the events came from; absent when user requests followed the scenario's behaviour only. */
  readonly events?: string;
  readonly requests: number;
  /** The share of `requests` invoked for real (1 without events: every request is simulated in aggregate, nothing is sampled). */
  readonly realShare: number;
  /** Failed requests by source: the real code, injected behaviour, noise, reserved-concurrency throttles. */
  readonly failures: Readonly<Record<FailureSource, number>>;
  /**
   * The 95 % margin the sampling leaves on the failure rate: the rate is known within ± this
   * (0 when every request ran for real).
   */
  readonly failureRateMargin95: number;
}

/** The user-traffic account of a version from the traffic's tallies. */
export function userTrafficOf(tallies: ReadonlyMap<string, VersionTally>, version: string, events: string | undefined): UserTraffic {
  const t = tallies.get(version);
  const failures = { code: 0, injected: 0, noise: 0, throttled: 0, ...(t?.sources ?? {}) };
  if (!t || !events) return { requests: t?.requests ?? 0, realShare: events ? 0 : 1, failures, failureRateMargin95: 0, ...(events ? { events } : {}) };
  return { events, requests: t.requests, realShare: t.requests ? round(t.real / t.requests) : 0, failures, failureRateMargin95: round(samplingMargin95(t.real, t.realFailures, t.requests)) };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The 95 % margin of a failure rate estimated from `k` of `n` requests (`x` failed), drawn without
 * replacement: 1.96 × √(p(1-p)/k × (n-k)/(n-1)), with the Agresti-Coull p = (x+2)/(k+4) so that a
 * sample without failures still leaves a margin.
 */
export function samplingMargin95(k: number, x: number, n: number): number {
  if (!k || k >= n) return 0;
  const p = (x + 2) / (k + 4);
  return 1.96 * Math.sqrt(((p * (1 - p)) / k) * ((n - k) / (n - 1)));
}

/** The scenario's events for its function: its event source, or its traffic file's entry for the function. */
export function userEvents(scenario: Scenario, lab: Lab, guarded: GuardedRelease): EventSource | undefined {
  const e = scenario.traffic.events;
  if (!e) return undefined;
  if ('source' in e) return e.source;
  const entry = entryFor(e.file, (key) => {
    if (key === guarded.functionName) return true;
    try {
      return lab.release(key).functionName === guarded.functionName;
    } catch (err) {
      if (err instanceof LabError) return false;
      throw err;
    }
  });
  if (!entry) throw new InputError(`${basename(scenario.source)}.traffic.events: ${basename(e.path)} has no entry for ${guarded.functionName} (construct ${guarded.logicalId}); its entries: ${[...e.file.keys()].join(', ')}`, `${basename(scenario.source)}.traffic.events`);
  return entry.events;
}

const bundles = new Map<string, FunctionCode>();

/**
 * A release's code change: a `.js`/`.cjs` handler module as it is, or a `.ts` one bundled with
 * esbuild (the AWS SDK left out, as Lambda's Node.js runtime provides it), once per process.
 */
export function codeChange(file: string): FunctionCode {
  const ext = extname(file);
  if (ext !== '.ts') return { dir: dirname(file), handler: `${basename(file, ext)}.handler` };
  const known = bundles.get(file);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), 'canary-watchdog-code-'));
  let esbuild: typeof import('esbuild');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch {
    throw new InputError(`release.code: ${file}: bundling TypeScript needs esbuild (npm install esbuild), or give a bundled .js module`, 'release.code');
  }
  esbuild.buildSync({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['@aws-sdk/*'], outfile: join(dir, 'index.js'), logLevel: 'silent' });
  const code = { dir, handler: 'index.handler' };
  bundles.set(file, code);
  return code;
}

/** A healthy host's answer, outside a scenario's window for it. */
const HEALTHY: HostAnswer = { status: 200 };

/** The network a scenario starts with: a host with a window answers healthily until its window. */
export function initialNetwork(scenario: Scenario): Record<string, HostAnswer> {
  // A traffic file's hosts first (as `lab --traffic` starts them), the scenario's own over them.
  const events = scenario.traffic.events;
  const file = events && 'file' in events ? (events.file.network ?? {}) : {};
  return { ...file, ...scenario.network, ...Object.fromEntries(Object.keys(scenario.networkWindows ?? {}).map((h) => [h, HEALTHY])) };
}

/** Each windowed host answers as the scenario says from `fromMinute` after the deployment start `t0`, healthily again from `toMinute`. */
export function scenarioNetwork(lab: Lab, scenario: Scenario, t0: number): void {
  for (const [host, w] of Object.entries(scenario.networkWindows ?? {})) {
    const answer = scenario.network[host];
    lab.scheduler.at(t0 + (w.fromMinute ?? 0) * 60_000, `${host} answers as the scenario says (network window)`, () => lab.lambda.setNetwork({ [host]: answer }));
    if (w.toMinute !== undefined) lab.scheduler.at(t0 + w.toMinute * 60_000, `${host} answers healthily again (network window)`, () => lab.lambda.setNetwork({ [host]: HEALTHY }));
  }
}
