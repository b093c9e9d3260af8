import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LAB_FILES } from '../lab/files';
import { parsePolicy } from 'canary-watchdog/lib/core/config';
import type { Policy } from 'canary-watchdog/lib/core/types';
import { MAX_FAULT_LATENCY_MS, MAX_FAULT_MINUTE } from '../lab/faults';
import { parseNetwork } from '../lab/network';
import type { HostAnswer } from '../lab/lambda';

export { parseNetwork } from '../lab/network';
import { loadEventSource, loadTrafficFile, type EventSource, type TrafficFile } from '../lab/user-events';
import { arr, bool, InputError, num, obj, oneOf, onlyKeys, optNum, str, unique } from 'canary-watchdog/lib/core/validate';

export interface VersionBehaviour {
  readonly errorRate?: number;
  readonly latencyMs?: number;
  readonly crashOnInit?: boolean;
  readonly timeoutRate?: number;
  readonly startsFailingAfterMinutes?: number;
  /** Share of invocations that answer HTTP 500 without throwing (no Lambda Errors datapoint). */
  readonly httpErrorRate?: number;
  /** User requests a second the version can serve; the excess fails (a bug that shows only under load). */
  readonly capacityRps?: number;
  /** The version's own init phase per new execution environment, ms (0-10,000, Lambda's init limit); default `noise.coldStartMs`. */
  readonly initMs?: number;
}

/** One stage of a multi-stage release (a pipeline wave): its share of all users and its bake. */
export interface Stage {
  readonly name: string;
  /** The stage's share of all user requests, in (0, 1]; its request rate is `traffic.rps` times this. */
  readonly trafficShare: number;
  /** After the stage's release succeeded, the pipeline waits this long before the next stage. */
  readonly bakeMinutes: number;
}


/**
 * Faults of one service's API, met by every caller (the watchdog, the hooks, the prober, the
 * telemetry extension and user code). The window counts in minutes from the release's deployment
 * start: from `fromMinute` (default 0) up to, not including, `toMinute` (default: the end).
 */
export interface ApiFaults {
  readonly errorRate?: number;
  readonly throttleRate?: number;
  /** Each call is answered this much later on the lab's clock (it counts against the caller's time). */
  readonly latencyMs?: number;
  readonly fromMinute?: number;
  readonly toMinute?: number;
}

/** DynamoDB's faults: the API's, and an outage (every call fails with 503 ServiceUnavailable); with `table`, only on that table. */
export interface DynamoDbFaults extends ApiFaults {
  readonly unavailable?: boolean;
  /** One of the app's tables (its name, or its construct id, e.g. the user's own `Orders`); default every table, the watchdog's included. */
  readonly table?: string;
}

/** A release rehearsal: what users send, how the old and new versions behave, what breaks. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Guarded function (name or construct id); default the app's first. */
  readonly function?: string;
  /** `burstiness`: σ of the log-normal 10-second rate factor (0 steady; see lib/lab/traffic.ts). */
  /** `warmUpMinutes`: traffic before the release starts (default 3), e.g. for an incident already under way. */
  /** `errorBurstiness`: σ of a log-normal 10-second factor (mean 1) on both versions' error rates at once: failures come in bursts. */
  /** With `stages`, `rps` is the rate of the whole fleet and `minutes` the longest a stage runs. */
  /** `events`: user requests invoke the deployed versions' real code with these events (see lab/user-events.ts); `realRps`: at most this many a second run for real, the rest are counted in proportion. */
  readonly traffic: {
    readonly rps: number; readonly minutes: number; readonly burstiness?: number; readonly warmUpMinutes?: number; readonly errorBurstiness?: number;
    readonly events?: ScenarioEvents; readonly realRps?: number;
  };
  /** The same release goes through these stages in order, each its own deployment with its own guard. */
  readonly stages?: readonly Stage[];
  /** The release goes to every stage at the same time: no stage waits for the one before to pass its gate. */
  readonly stagesAtOnce?: boolean;
  readonly seed: number;
  readonly current: VersionBehaviour;
  /** `code`: the new version's handler module (a code change; .js, or .ts bundled with esbuild), its path as given and resolved. */
  readonly release: VersionBehaviour & { readonly env?: Readonly<Record<string, string>>; readonly code?: string };
  /**
   * A failure both versions meet alike, user requests and real invocations (probes) alike (a
   * dependency down), as function errors on top of each version's own: `errorRate` of them fail
   * from `fromMinute` (default 0) up to, not including, `toMinute` (default: the end), in minutes
   * from the release's deployment start, as `faults`.
   */
  readonly shared?: { readonly errorRate: number; readonly fromMinute?: number; readonly toMinute?: number };
  /**
   * Noise both versions meet: transient function errors and cold starts on real invocations
   * (probes included); `latencyJitter` on user requests: each duration times a log-normal factor
   * exp(σz) (median 1), and `firstRequestMs` more for the first request of each newly started
   * execution environment (lazy initialisation, in Duration).
   */
  readonly noise: {
    readonly transientErrorRate?: number;
    readonly coldStartMs?: number;
    /** Spread of each init (a version's `initMs`, or `coldStartMs`): times exp(σz), median 1. */
    readonly coldStartSigma?: number;
    /** Users' execution environments are replaced after this many minutes (churn; Lambda recycles them now and then, compressed here). */
    readonly environmentLifetimeMinutes?: number;
    readonly latencyJitter?: { readonly sigma: number; readonly firstRequestMs?: number };
  };
  /** The watchdog's mode and policy for this scenario (rewrites its configuration and the native alarm lists). */
  readonly watchdog?: { readonly mode?: 'enforce' | 'shadow'; readonly policy?: Policy; readonly disabledLayers?: readonly string[] };
  /** Hosts outside the lab and what they answer, over the template's defaults; with a window, only within it (healthy, 200, outside). */
  readonly network: Readonly<Record<string, HostAnswer>>;
  /** The hosts whose answer holds only for a window of minutes from the deployment start. */
  readonly networkWindows?: Readonly<Record<string, { readonly fromMinute?: number; readonly toMinute?: number }>>;
  readonly faults: {
    readonly watchdog?: 'down';
    /** The prober stops being invoked this many minutes after the deployment starts. */
    readonly prober?: { readonly downAfterMinutes: number };
    readonly cloudwatch?: ApiFaults;
    readonly codedeploy?: ApiFaults;
    readonly lambda?: ApiFaults;
    readonly dynamodb?: DynamoDbFaults;
    /**
     * `hang`: the guarded function's lifecycle hooks never report a status (each invocation runs
     * to its Lambda timeout): CodeDeploy fails the deployment after waiting one hour.
     */
    readonly hooks?: { readonly hang: true };
    /** Alarms of the app (by name) made to watch a metric nothing publishes, as a typo in its name does: they never see data. */
    readonly alarms?: { readonly unpublished: readonly string[] };
  };
  readonly expect: {
    readonly outcome: 'completed' | 'rolled-back';
    readonly maxTrafficPercent?: number;
    readonly maxFailedUserRequests?: number;
    /** The watchdog's decision records say enforce mode would have stopped it (shadow mode). */
    readonly wouldHaveRolledBack?: boolean;
    /** How many stages the release entered (with `stages`). */
    readonly stagesReached?: number;
  };
  /** Where it was read from. */
  readonly source: string;
}

function behaviour(v: unknown, path: string, allowEnv: boolean, source = ''): VersionBehaviour & { env?: Record<string, string>; code?: string } {
  if (v === undefined) return {};
  const o = obj(v, path);
  onlyKeys(o, path, ['errorRate', 'latencyMs', 'crashOnInit', 'timeoutRate', 'startsFailingAfterMinutes', 'httpErrorRate', 'capacityRps', 'initMs', ...(allowEnv ? ['env', 'code'] : [])]);
  const rate = { min: 0, max: 1 };
  const out: VersionBehaviour & { env?: Record<string, string> } = {
    ...(o.errorRate !== undefined ? { errorRate: num(o.errorRate, `${path}.errorRate`, rate) } : {}),
    ...(o.httpErrorRate !== undefined ? { httpErrorRate: num(o.httpErrorRate, `${path}.httpErrorRate`, rate) } : {}),
    ...(o.timeoutRate !== undefined ? { timeoutRate: num(o.timeoutRate, `${path}.timeoutRate`, rate) } : {}),
    ...(o.latencyMs !== undefined ? { latencyMs: num(o.latencyMs, `${path}.latencyMs`, { min: 0, max: 900_000 }) } : {}),
    ...(o.crashOnInit !== undefined ? { crashOnInit: bool(o.crashOnInit, `${path}.crashOnInit`) } : {}),
    ...(o.startsFailingAfterMinutes !== undefined ? { startsFailingAfterMinutes: num(o.startsFailingAfterMinutes, `${path}.startsFailingAfterMinutes`, { min: 0 }) } : {}),
    ...(o.capacityRps !== undefined ? { capacityRps: num(o.capacityRps, `${path}.capacityRps`, { min: 0, max: 10_000 }) } : {}),
    // Lambda's init phase is limited to 10 s. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
    ...(o.initMs !== undefined ? { initMs: num(o.initMs, `${path}.initMs`, { min: 0, max: 10_000 }) } : {}),
  };
  if (o.env !== undefined) {
    const env = obj(o.env, `${path}.env`);
    for (const [k, x] of Object.entries(env)) {
      if (!/^[a-zA-Z]\w*$/.test(k)) throw new InputError(`${path}.env.${k}: not an environment variable name ([a-zA-Z][a-zA-Z0-9_]*)`, `${path}.env.${k}`);
      if (typeof x !== 'string') throw new InputError(`${path}.env.${k}: expected a string value, got ${JSON.stringify(x)}`, `${path}.env.${k}`);
    }
    out.env = env as Record<string, string>;
  }
  if (o.code !== undefined) {
    const given = relativeTo(source, str(o.code, `${path}.code`));
    // The installed CLI carries the built-in scenarios' TypeScript changes bundled, as .js beside where the .ts would be.
    const built = given.replace(/\.ts$/, '.js');
    const code = extname(given) === '.ts' && !existsSync(given) && existsSync(built) ? built : given;
    if (!existsSync(code) || !['.js', '.cjs', '.ts'].includes(extname(code))) throw new InputError(`${path}.code: expected a handler module (.js, .cjs or .ts) exporting handler, got ${o.code}${existsSync(code) ? '' : ' (no such file)'}`, `${path}.code`);
    (out as { code?: string }).code = code;
  }
  return out;
}

/** A path in a scenario: as given when absolute, else relative to the scenario's file. */
const relativeTo = (source: string, p: string) => (isAbsolute(p) ? p : join(dirname(source), p));

/** A scenario's events: an event source, or a traffic file whose entry for the scenario's function is used. */
export type ScenarioEvents = { readonly path: string; readonly source: EventSource } | { readonly path: string; readonly file: TrafficFile };

function scenarioEvents(v: unknown, path: string, source: string): ScenarioEvents | undefined {
  if (v === undefined) return undefined;
  const p = relativeTo(source, str(v, path));
  return ['.yaml', '.yml'].includes(extname(p)) ? { path: p, file: loadTrafficFile(p, path) } : { path: p, source: loadEventSource(p, path) };
}

function apiFaults(v: unknown, path: string, outage = false): DynamoDbFaults | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, path, ['errorRate', 'throttleRate', 'latencyMs', ...(outage ? ['unavailable', 'table'] : []), 'fromMinute', 'toMinute']);
  const from = optNum(o.fromMinute, `${path}.fromMinute`, { min: 0, max: MAX_FAULT_MINUTE });
  const to = optNum(o.toMinute, `${path}.toMinute`, { min: 0, max: MAX_FAULT_MINUTE });
  if (to !== undefined && !(to > (from ?? 0))) throw new InputError(`${path}.toMinute: expected a minute after fromMinute (${from ?? 0}) and at most ${MAX_FAULT_MINUTE}, got ${to}`, `${path}.toMinute`);
  return {
    ...(o.errorRate !== undefined ? { errorRate: num(o.errorRate, `${path}.errorRate`, { min: 0, max: 1 }) } : {}),
    ...(o.throttleRate !== undefined ? { throttleRate: num(o.throttleRate, `${path}.throttleRate`, { min: 0, max: 1 }) } : {}),
    ...(o.latencyMs !== undefined ? { latencyMs: num(o.latencyMs, `${path}.latencyMs`, { min: 0, max: MAX_FAULT_LATENCY_MS }) } : {}),
    ...(o.unavailable !== undefined ? { unavailable: bool(o.unavailable, `${path}.unavailable`) } : {}),
    ...(o.table !== undefined ? { table: str(o.table, `${path}.table`) } : {}),
    ...(from !== undefined ? { fromMinute: from } : {}),
    ...(to !== undefined ? { toMinute: to } : {}),
  };
}

function shared(v: unknown, path: string): Scenario['shared'] {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, path, ['errorRate', 'fromMinute', 'toMinute']);
  const from = optNum(o.fromMinute, `${path}.fromMinute`, { min: 0, max: MAX_FAULT_MINUTE });
  const to = optNum(o.toMinute, `${path}.toMinute`, { min: 0, max: MAX_FAULT_MINUTE });
  if (to !== undefined && !(to > (from ?? 0))) throw new InputError(`${path}.toMinute: expected a minute after fromMinute (${from ?? 0}) and at most ${MAX_FAULT_MINUTE}, got ${to}`, `${path}.toMinute`);
  return { errorRate: num(o.errorRate, `${path}.errorRate`, { min: 0, max: 1 }), ...(from !== undefined ? { fromMinute: from } : {}), ...(to !== undefined ? { toMinute: to } : {}) };
}

function noise(v: unknown, path: string): Scenario['noise'] {
  if (v === undefined) return {};
  const o = obj(v, path);
  onlyKeys(o, path, ['transientErrorRate', 'coldStartMs', 'coldStartSigma', 'environmentLifetimeMinutes', 'latencyJitter']);
  const transient = optNum(o.transientErrorRate, `${path}.transientErrorRate`, { min: 0, max: 1 });
  const cold = optNum(o.coldStartMs, `${path}.coldStartMs`, { min: 0, max: 10_000 });
  const coldSigma = optNum(o.coldStartSigma, `${path}.coldStartSigma`, { min: 0, max: 2 });
  const lifetime = optNum(o.environmentLifetimeMinutes, `${path}.environmentLifetimeMinutes`, { min: 1, max: 1440 });
  let jitter: Scenario['noise']['latencyJitter'];
  if (o.latencyJitter !== undefined) {
    const j = obj(o.latencyJitter, `${path}.latencyJitter`);
    onlyKeys(j, `${path}.latencyJitter`, ['sigma', 'firstRequestMs']);
    const first = optNum(j.firstRequestMs, `${path}.latencyJitter.firstRequestMs`, { min: 0, max: 10_000 });
    jitter = { sigma: num(j.sigma, `${path}.latencyJitter.sigma`, { min: 0, max: 3 }), ...(first !== undefined ? { firstRequestMs: first } : {}) };
  }
  return {
    ...(transient !== undefined ? { transientErrorRate: transient } : {}),
    ...(cold !== undefined ? { coldStartMs: cold } : {}),
    ...(coldSigma !== undefined ? { coldStartSigma: coldSigma } : {}),
    ...(lifetime !== undefined ? { environmentLifetimeMinutes: lifetime } : {}),
    ...(jitter ? { latencyJitter: jitter } : {}),
  };
}

function watchdogSettings(v: unknown, path: string): Scenario['watchdog'] {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, path, ['mode', 'policy', 'disabledLayers']);
  // Which names a layer may have is the app's to say (custom layers): checked when applied.
  const disabledLayers = o.disabledLayers === undefined ? undefined : arr(o.disabledLayers, `${path}.disabledLayers`, (x, p) => str(x, p, { pattern: /^[a-z][a-z0-9-]{0,39}$/, patternText: 'a layer name' }));
  if (disabledLayers) unique(disabledLayers, `${path}.disabledLayers`, 'layer');
  return {
    ...(o.mode !== undefined ? { mode: oneOf(o.mode, `${path}.mode`, ['enforce', 'shadow'] as const) } : {}),
    ...(o.policy !== undefined ? { policy: parsePolicy(o.policy, `${path}.policy`) } : {}),
    ...(disabledLayers ? { disabledLayers } : {}),
  };
}

/** A pipeline's waves may not cover more than all users; rounding of decimal shares is forgiven. */
const SHARE_SUM_SLACK = 1e-9;

/**
 * `[{ name, trafficShare, bakeMinutes }]`: unique names, shares in (0, 1] summing to at most 1
 * (below 1, the rest of the fleet is not part of this release and keeps the old version), bakes
 * of 0-1440 minutes (AppConfig's FinalBakeTimeInMinutes range).
 */
export function parseStages(v: unknown, path: string): Stage[] | undefined {
  if (v === undefined) return undefined;
  const stages = arr(v, path, (x, p) => {
    const o = obj(x, p);
    onlyKeys(o, p, ['name', 'trafficShare', 'bakeMinutes']);
    const trafficShare = num(o.trafficShare, `${p}.trafficShare`, { min: 0, max: 1 });
    if (trafficShare === 0) throw new InputError(`${p}.trafficShare: expected a number above 0 and at most 1, got 0`, `${p}.trafficShare`);
    return {
      name: str(o.name, `${p}.name`, { pattern: /^[a-z0-9][a-z0-9-]{0,30}$/, patternText: 'a name of lowercase letters, digits and dashes (at most 31)' }),
      trafficShare,
      bakeMinutes: num(o.bakeMinutes, `${p}.bakeMinutes`, { min: 0, max: 1440 }),
    };
  });
  if (!stages.length || stages.length > 10) throw new InputError(`${path}: expected 1 to 10 stages, got ${stages.length}`, path);
  unique(stages.map((s) => s.name), `${path}[].name`, 'stage name');
  const sum = stages.reduce((a, s) => a + s.trafficShare, 0);
  if (sum > 1 + SHARE_SUM_SLACK) throw new InputError(`${path}[].trafficShare: the stages' shares add up to ${+sum.toFixed(6)}; they may cover at most all users (1)`, `${path}[].trafficShare`);
  return stages;
}

/** Validate one scenario; every error names the field and what it allows. */
export function parseScenario(v: unknown, source: string): Scenario {
  const path = basename(source);
  const o = obj(v, path);
  onlyKeys(o, path, ['name', 'description', 'function', 'traffic', 'stages', 'stagesAtOnce', 'seed', 'current', 'release', 'shared', 'noise', 'watchdog', 'network', 'faults', 'expect']);
  const traffic = obj(o.traffic ?? {}, `${path}.traffic`);
  onlyKeys(traffic, `${path}.traffic`, ['rps', 'minutes', 'burstiness', 'warmUpMinutes', 'errorBurstiness', 'events', 'realRps']);
  const events = scenarioEvents(traffic.events, `${path}.traffic.events`, source);
  const realRps = optNum(traffic.realRps, `${path}.traffic.realRps`, { min: 1, max: 10_000 });
  if (realRps !== undefined && !events) throw new InputError(`${path}.traffic.realRps: only with traffic.events (requests without events invoke no code)`, `${path}.traffic.realRps`);
  const windows: Record<string, { fromMinute?: number; toMinute?: number }> = {};
  const network = parseNetwork(o.network, `${path}.network`, windows);
  const faults = obj(o.faults ?? {}, `${path}.faults`);
  onlyKeys(faults, `${path}.faults`, ['watchdog', 'prober', 'cloudwatch', 'codedeploy', 'lambda', 'dynamodb', 'hooks', 'alarms']);
  let unpublished: string[] | undefined;
  if (faults.alarms !== undefined) {
    const a = obj(faults.alarms, `${path}.faults.alarms`);
    onlyKeys(a, `${path}.faults.alarms`, ['unpublished']);
    unpublished = arr(a.unpublished, `${path}.faults.alarms.unpublished`, (x, p) => str(x, p));
    if (!unpublished.length) throw new InputError(`${path}.faults.alarms.unpublished: expected at least one alarm name`, `${path}.faults.alarms.unpublished`);
  }
  let hooksHang = false;
  if (faults.hooks !== undefined) {
    const h = obj(faults.hooks, `${path}.faults.hooks`);
    onlyKeys(h, `${path}.faults.hooks`, ['hang']);
    hooksHang = bool(h.hang, `${path}.faults.hooks.hang`);
  }
  let prober: { downAfterMinutes: number } | undefined;
  if (faults.prober !== undefined) {
    const p = obj(faults.prober, `${path}.faults.prober`);
    onlyKeys(p, `${path}.faults.prober`, ['downAfterMinutes']);
    prober = { downAfterMinutes: num(p.downAfterMinutes, `${path}.faults.prober.downAfterMinutes`, { min: 0, max: 3000 }) };
  }
  const expect = obj(o.expect, `${path}.expect`);
  onlyKeys(expect, `${path}.expect`, ['outcome', 'maxTrafficPercent', 'maxFailedUserRequests', 'wouldHaveRolledBack', 'stagesReached']);
  const stages = parseStages(o.stages, `${path}.stages`);
  const atOnce = o.stagesAtOnce === undefined ? false : bool(o.stagesAtOnce, `${path}.stagesAtOnce`);
  if (atOnce && !stages) throw new InputError(`${path}.stagesAtOnce: only with stages (a release with one stage is always at once)`, `${path}.stagesAtOnce`);
  const sharedFailure = shared(o.shared, `${path}.shared`);
  const stagesReached = optNum(expect.stagesReached, `${path}.expect.stagesReached`, { min: 1, max: stages?.length ?? 1, integer: true });
  const watchdog = watchdogSettings(o.watchdog, `${path}.watchdog`);
  const cw = apiFaults(faults.cloudwatch, `${path}.faults.cloudwatch`);
  const cd = apiFaults(faults.codedeploy, `${path}.faults.codedeploy`);
  const lf = apiFaults(faults.lambda, `${path}.faults.lambda`);
  const ddb = apiFaults(faults.dynamodb, `${path}.faults.dynamodb`, true);
  const maxTraffic = optNum(expect.maxTrafficPercent, `${path}.expect.maxTrafficPercent`, { min: 0, max: 100 });
  const maxFailed = optNum(expect.maxFailedUserRequests, `${path}.expect.maxFailedUserRequests`, { min: 0, integer: true });
  return {
    name: str(o.name, `${path}.name`, { pattern: /^[a-z0-9][a-z0-9-]{0,62}$/, patternText: 'a name of lowercase letters, digits and dashes' }),
    description: o.description === undefined ? '' : str(o.description, `${path}.description`),
    ...(o.function !== undefined ? { function: str(o.function, `${path}.function`) } : {}),
    traffic: {
      rps: traffic.rps === undefined ? 20 : num(traffic.rps, `${path}.traffic.rps`, { min: 0, max: 10_000 }),
      minutes: traffic.minutes === undefined ? 30 : num(traffic.minutes, `${path}.traffic.minutes`, { min: 1, max: 3000 }),
      ...(traffic.burstiness !== undefined ? { burstiness: num(traffic.burstiness, `${path}.traffic.burstiness`, { min: 0, max: 3 }) } : {}),
      ...(traffic.warmUpMinutes !== undefined ? { warmUpMinutes: num(traffic.warmUpMinutes, `${path}.traffic.warmUpMinutes`, { min: 1, max: 60 }) } : {}),
      ...(traffic.errorBurstiness !== undefined ? { errorBurstiness: num(traffic.errorBurstiness, `${path}.traffic.errorBurstiness`, { min: 0, max: 3 }) } : {}),
      ...(events ? { events } : {}),
      ...(realRps !== undefined ? { realRps } : {}),
    },
    ...(stages ? { stages } : {}),
    ...(atOnce ? { stagesAtOnce: true } : {}),
    seed: o.seed === undefined ? 1 : num(o.seed, `${path}.seed`, { integer: true }),
    current: behaviour(o.current, `${path}.current`, false),
    release: behaviour(o.release, `${path}.release`, true, source),
    ...(sharedFailure ? { shared: sharedFailure } : {}),
    noise: noise(o.noise, `${path}.noise`),
    ...(watchdog ? { watchdog } : {}),
    network,
    ...(Object.keys(windows).length ? { networkWindows: windows } : {}),
    faults: {
      ...(faults.watchdog !== undefined ? { watchdog: oneOf(faults.watchdog, `${path}.faults.watchdog`, ['down'] as const) } : {}),
      ...(prober ? { prober } : {}),
      ...(cw ? { cloudwatch: cw } : {}),
      ...(cd ? { codedeploy: cd } : {}),
      ...(lf ? { lambda: lf } : {}),
      ...(ddb ? { dynamodb: ddb } : {}),
      ...(hooksHang ? { hooks: { hang: true as const } } : {}),
      ...(unpublished ? { alarms: { unpublished } } : {}),
    },
    expect: {
      outcome: oneOf(expect.outcome, `${path}.expect.outcome`, ['completed', 'rolled-back'] as const),
      ...(maxTraffic !== undefined ? { maxTrafficPercent: maxTraffic } : {}),
      ...(maxFailed !== undefined ? { maxFailedUserRequests: maxFailed } : {}),
      ...(expect.wouldHaveRolledBack !== undefined ? { wouldHaveRolledBack: bool(expect.wouldHaveRolledBack, `${path}.expect.wouldHaveRolledBack`) } : {}),
      ...(stagesReached !== undefined ? { stagesReached } : {}),
    },
    source,
  };
}

export const BUILT_IN_DIR = join(LAB_FILES, 'scenarios');

/** Read scenarios from files, folders (every .yaml/.yml/.json in it) or built-in names. */
/**
 * `rehearse --quick` (the repository's `npm run rehearse`): a tour of the built-in scenarios, each
 * showing something the others do not: a good release, a release stopped first by each of the
 * config, probes and new-version layers, a slow burn after 100 %, the watchdog down (the heartbeat),
 * silent HTTP 500s, a Python function, waves, and a bug only real users' requests reach.
 */
export const QUICK_SCENARIOS: readonly string[] = [
  'good-release',
  'bad-code',
  'config-mistake',
  'latency-regression',
  'crash-on-init',
  'slow-burn',
  'watchdog-down',
  'silent-http-500s',
  'python-bad-code',
  'staged-bug-caught-in-beta',
  'real-traffic-bug',
];

export function loadScenarios(refs: readonly string[]): Scenario[] {
  const files: string[] = [];
  for (const ref of refs.length ? refs : [BUILT_IN_DIR]) {
    const builtIn = readdirSync(BUILT_IN_DIR).find((f) => f.replace(/^\d+-/, '') === `${ref}.yaml`);
    const path = existsSync(ref) ? ref : builtIn ? join(BUILT_IN_DIR, builtIn) : undefined;
    if (!path) {
      const names = readdirSync(BUILT_IN_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/^\d+-/, '').replace(/\.yaml$/, ''));
      throw new InputError(`--scenario ${ref}: no such file or folder, nor a built-in scenario; built-in: ${names.join(', ')}`, 'scenario');
    }
    if (statSync(path).isDirectory()) {
      const inFolder = readdirSync(path).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)));
      // An empty folder rehearses nothing, which must not read as "all passed".
      if (!inFolder.length) throw new InputError(`--scenario ${ref}: the folder holds no scenario (.yaml, .yml or .json files)`, 'scenario');
      files.push(...inFolder.sort().map((f) => join(path, f)));
    } else {
      files.push(path);
    }
  }
  const scenarios = files.map((f) => {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(f, 'utf8'));
    } catch (err) {
      throw new InputError(`${basename(f)}: not valid YAML or JSON: ${(err as Error).message}`, f);
    }
    return parseScenario(doc, f);
  });
  const seen = new Set<string>();
  for (const s of scenarios) {
    if (seen.has(s.name)) throw new InputError(`${basename(s.source)}: name ${s.name} is used by another scenario; names must be unique`, s.source);
    seen.add(s.name);
  }
  return scenarios;
}
