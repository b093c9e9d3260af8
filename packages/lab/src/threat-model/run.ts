/**
 * `threat-model`: for each guarded function and each failure mode, how many layers catch it, how
 * far it gets and at what cost. Each mode is rehearsed on the lab with every layer; when a layer
 * stops it, it is rehearsed again without that layer, and so on until it gets through or nothing
 * that can be taken away is left. The layers that stopped it in turn are the chances it meets:
 * one is a single point of failure, none a blind spot.
 *
 * Taking away a layer that did not stop a run would not change the run (each run is deterministic
 * on its seed, and a layer that never acted changes nothing that the deciding one sees), so this
 * chain is what "each layer disabled in turn" finds, at one rehearsal per chance instead of one
 * per layer.
 */
import { parseWatchdogConfig, type GuardConfig } from 'canary-watchdog/lib/core/config';
import { Lab } from '../lab/lab';
import { runStrategy, type StrategyResult } from '../rehearsal/runner';
import type { StrategyRunner } from '../rehearsal/processes';
import { parseScenario } from '../rehearsal/scenario';
import { configOf, REMOVABLE_LAYERS, RUNTIME_HANDLERS } from '../rehearsal/watchdog-settings';
import { CATALOGUE, type FailureMode, type FunctionFacts } from './catalogue';

/** One function and mode's result: the JSON row. */
export interface ThreatRow {
  readonly function: string;
  readonly mode: string;
  readonly group: string;
  readonly kind: 'bad' | 'good';
  /** Why it was not rehearsed (then every figure is absent). */
  readonly skipped?: string;
  /** The layers that stopped it, in turn, each with the others before it taken away. */
  readonly detectedBy: readonly string[];
  /** How many of them stopped it before the new version had all the traffic (at any share, for a mode that begins only after). */
  readonly redundancy: number;
  /** With every layer: */
  readonly outcome?: StrategyResult['outcome'];
  readonly maxTrafficPercent?: number;
  /** With stages: how many the release entered, and the share of all user requests the new version served. */
  readonly stagesReached?: number;
  readonly fleetExposure?: number;
  readonly failedUserRequests?: number;
  readonly detectionSeconds?: number | null;
  /** With every layer, what stopped it (layer: signal). */
  readonly reason?: string;
  /** What would give it another chance, when it has fewer than two. */
  readonly advice?: string;
}

/** The guarded functions of an assembly as the catalogue needs them. */
export async function functionFacts(assembly: string): Promise<FunctionFacts[]> {
  const lab = new Lab({ warm: false, reuseThreads: true });
  await lab.start();
  try {
    await lab.loadAssembly(assembly);
    const watchdogFn = lab.lambda.functionNames().find((n) => lab.lambda.getConfiguration(n).description === `canary-watchdog ${RUNTIME_HANDLERS[0]}`);
    if (!watchdogFn) throw new Error(`${assembly}: no canary-watchdog watchdog function; guard a function with GuardedFunction first`);
    const source = await configOf(lab, watchdogFn);
    const config = parseWatchdogConfig(JSON.parse(source.raw), source.origin);
    const facts: FunctionFacts[] = [];
    for (const r of lab.releases) {
      const guard = config.guards.find((g) => g.functionName === r.functionName && g.alias === r.alias);
      if (!guard) continue;
      const cd = lab.codedeploy.service.operations;
      const group = (await cd.GetDeploymentGroup({ applicationName: r.application, deploymentGroupName: r.deploymentGroup })) as { deploymentGroupInfo: { deploymentConfigName: string } };
      const routing = ((await cd.GetDeploymentConfig({ deploymentConfigName: group.deploymentGroupInfo.deploymentConfigName })) as { deploymentConfigInfo: { trafficRoutingConfig?: TrafficRouting } }).deploymentConfigInfo.trafficRoutingConfig;
      facts.push({ functionName: r.functionName, logicalId: r.logicalId, guard, env: lab.lambda.getConfiguration(r.functionName).env, ...shift(routing) });
    }
    return facts;
  } finally {
    await lab.stop();
  }
}

interface TrafficRouting {
  readonly type: string;
  readonly timeBasedCanary?: { readonly canaryPercentage: number; readonly canaryInterval: number };
  readonly timeBasedLinear?: { readonly linearPercentage: number; readonly linearInterval: number };
}

/** How long a rollout takes to reach all the traffic, and in words. */
export function shift(r: TrafficRouting | undefined): { shiftMinutes: number; rollout: string } {
  if (r?.type === 'TimeBasedCanary' && r.timeBasedCanary) return { shiftMinutes: r.timeBasedCanary.canaryInterval, rollout: `canary ${r.timeBasedCanary.canaryPercentage} % for ${r.timeBasedCanary.canaryInterval} min` };
  if (r?.type === 'TimeBasedLinear' && r.timeBasedLinear) {
    const steps = Math.ceil(100 / r.timeBasedLinear.linearPercentage) - 1;
    return { shiftMinutes: steps * r.timeBasedLinear.linearInterval, rollout: `linear ${r.timeBasedLinear.linearPercentage} % every ${r.timeBasedLinear.linearInterval} min` };
  }
  return { shiftMinutes: 0, rollout: 'all at once' };
}

/**
 * The threat model's layer that a strategy's deciding layer stands for: the fast signal is the
 * new-version layer's telemetry signals; a CodeDeploy alarm is the heartbeat or its layer's alarm;
 * a hook that failed closed (it could not run or read its configuration) cannot be taken away.
 */
export function layerOf(decidedBy: StrategyResult['decidedBy'], guard: GuardConfig): string {
  if (!decidedBy) return 'none';
  const { layer, signal } = decidedBy;
  if (layer === 'new-version') return signal.startsWith('telemetry') ? 'fast-signal' : 'new-version';
  if (layer === 'codedeploy-alarm') {
    if (/-heartbeat\b/.test(signal)) return 'heartbeat';
    const names = signal.split(', ');
    for (const [l, alarms] of Object.entries(guard.alarms)) if (alarms.some((a) => names.some((n) => n.startsWith(a.replace(/\{version\}.*$/, ''))))) return l;
    for (const c of guard.customLayers) if (c.alarms.some((a) => names.some((n) => n.startsWith(a.replace(/\{version\}.*$/, ''))))) return c.name;
    return 'codedeploy-alarm';
  }
  if (layer === 'hook') return 'fail-closed';
  return layer;
}

/** Removable in a rehearsal: a built-in layer or one of the function's custom layers. */
const removable = (layer: string, guard: GuardConfig) => (REMOVABLE_LAYERS as readonly string[]).includes(layer) || guard.customLayers.some((c) => c.name === layer);

export interface ThreatModelOptions {
  readonly assembly: string;
  readonly facts: readonly FunctionFacts[];
  readonly modes: readonly FailureMode[];
  /** User requests a second the rehearsals send (what the user declares). */
  readonly rps: number;
  readonly seed: number;
  /** Trials at once. */
  readonly parallel: number;
  /** `[i, n]`: only every trial whose index is i-1 modulo n. */
  readonly shard?: readonly [number, number];
  /** Called as each row is ready. */
  readonly onRow?: (row: ThreatRow) => void;
  readonly signal?: AbortSignal;
  /** What runs each rehearsal: in this process (default), or in child processes (the CLI's). */
  readonly runner?: StrategyRunner;
}

/** The (function, mode) trials of a threat model, in a fixed order, then this shard's share. */
export function trials(facts: readonly FunctionFacts[], modes: readonly FailureMode[], shard?: readonly [number, number]): { facts: FunctionFacts; mode: FailureMode }[] {
  const all = facts.flatMap((f) => modes.map((mode) => ({ facts: f, mode })));
  return shard ? all.filter((_, i) => i % shard[1] === shard[0] - 1) : all;
}

/** Rehearse one mode for one function until it gets through. */
export async function modelOne(assembly: string, f: FunctionFacts, mode: FailureMode, opts: { rps: number; seed: number; signal?: AbortSignal; runner?: StrategyRunner }): Promise<ThreatRow> {
  const base = { function: f.functionName, mode: mode.id, group: mode.group, kind: mode.kind };
  const built = mode.build(f);
  if ('skip' in built) return { ...base, skipped: String(built.skip), detectedBy: [], redundancy: 0, advice: String(built.skip) };
  const minutes = Math.ceil(f.shiftMinutes + f.guard.bakeMinutes + 6 + (mode.extraMinutes ?? 0));
  const detectedBy: string[] = [];
  let before100 = 0;
  let first: StrategyResult | undefined;
  for (let i = 0; i < REMOVABLE_LAYERS.length + f.guard.customLayers.length + 1; i++) {
    const raw = {
      name: `${mode.id}`,
      description: mode.explain,
      function: f.functionName,
      seed: opts.seed,
      current: { errorRate: 0.005 },
      ...built,
      // A mode's own traffic fields (a user's events) over the trial's rate and length.
      traffic: { rps: opts.rps, minutes, ...(built.traffic as object | undefined) },
      ...(detectedBy.length ? { watchdog: { disabledLayers: detectedBy.filter((l) => removable(l, f.guard)) } } : {}),
      expect: { outcome: mode.kind === 'bad' ? 'rolled-back' : 'completed' },
    };
    const scenario = parseScenario(raw, `threat-model ${f.functionName} ${mode.id}`);
    const r = await (opts.runner ?? runStrategy)(scenario, 'watchdog', assembly, undefined, opts.signal);
    first ??= r;
    if (r.outcome !== 'rolled-back') break;
    const layer = layerOf(r.decidedBy, f.guard);
    detectedBy.push(layer);
    if (r.maxTrafficPercent < 100 || mode.afterFullTraffic) before100++;
    if (!removable(layer, f.guard)) break;
  }
  const row: ThreatRow = {
    ...base,
    detectedBy,
    redundancy: mode.kind === 'bad' ? before100 : 0,
    outcome: first!.outcome,
    maxTrafficPercent: first!.maxTrafficPercent,
    ...('stages' in built ? { stagesReached: first!.stagesReached, fleetExposure: first!.fleetExposure } : {}),
    failedUserRequests: first!.failedUserRequests,
    detectionSeconds: first!.detectionSeconds,
    ...(first!.decidedBy ? { reason: `${first!.decidedBy.layer}: ${first!.decidedBy.signal}` } : {}),
  };
  const advice = adviceFor(row, f);
  return advice ? { ...row, advice } : row;
}

/** What would give a mode a second chance, when it has fewer than two (or rolls a good release back). */
export function adviceFor(row: ThreatRow, f: FunctionFacts): string | undefined {
  if (row.skipped) return row.skipped;
  if (row.mode === 'all-stages-at-once' && row.stagesReached !== undefined) {
    const said = `every stage met it at once (${row.stagesReached} of ${f.stages?.length ?? row.stagesReached} stages, fleet exposure ${+((row.fleetExposure ?? 0) * 100).toFixed(3)} %): no layer can give the second chance waves give, since each judges one stage; release through ReleaseWaves, a stage at a time`;
    const more = chancesAdvice(row, f);
    return more ? `${said}; ${more}` : said;
  }
  return chancesAdvice(row, f);
}

/** What would add a chance to a bad release that meets fewer than two (or a good one rolled back). */
function chancesAdvice(row: ThreatRow, f: FunctionFacts): string | undefined {
  if (row.kind === 'good') {
    return row.outcome === 'rolled-back' ? `a false rollback by ${row.detectedBy[0]}: give that layer a baseline (compare with the old version) or a longer window` : undefined;
  }
  if (row.redundancy >= 2) return undefined;
  const closed = CATALOGUE.find((m) => m.id === row.mode)?.noSecondLayer;
  if (closed && row.detectedBy.length && row.detectedBy.every((l) => l === 'fail-closed')) return `only fail-closed stops it; no layer can add a second chance: ${closed}`;
  const has = (l: string) => row.detectedBy.includes(l);
  const ideas: string[] = [];
  if (!f.guard.probes.length) ideas.push('a probe that sends the requests this breaks');
  else if (!has('probes')) ideas.push('a probe that reaches what this breaks');
  if (row.group === 'configuration' && !f.guard.configChecks.length) ideas.push('a configuration check of the value');
  if (!f.guard.telemetry && !has('fast-signal')) ideas.push('the telemetry extension (the fast signal)');
  if (f.shiftMinutes < 10) ideas.push(`a longer canary than ${f.rollout}`);
  ideas.push('an alarm of your own on what users see (addAlarm)', 'a pipeline wave before production');
  return `${row.redundancy === 0 ? 'no layer stops it before 100 %' : `only ${row.detectedBy[0]} stops it before 100 %`}: add ${ideas.slice(0, 3).join(', or ')}`;
}

/** Every trial of this shard, `parallel` at once, rows in trial order. */
export async function threatModel(opts: ThreatModelOptions): Promise<ThreatRow[]> {
  const list = trials(opts.facts, opts.modes, opts.shard);
  const rows: ThreatRow[] = new Array(list.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(opts.parallel, list.length)) }, async () => {
      while (next < list.length && !opts.signal?.aborted) {
        const i = next++;
        rows[i] = await modelOne(opts.assembly, list[i].facts, list[i].mode, { rps: opts.rps, seed: opts.seed, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.runner ? { runner: opts.runner } : {}) });
        opts.onRow?.(rows[i]);
      }
    }),
  );
  return rows.filter(Boolean);
}

/**
 * The modes to rehearse: the named ones, or the catalogue's (`--quick`: its subset) and the user's.
 * A user's mode with a catalogue mode's id takes its place (the catalogue's real-traffic-bug is
 * one the user supplies).
 */
export function selectModes(names: readonly string[] | undefined, quick: boolean, mine: readonly FailureMode[] = []): FailureMode[] {
  const all = [...CATALOGUE.map((m) => mine.find((x) => x.id === m.id) ?? m), ...mine.filter((x) => !CATALOGUE.some((m) => m.id === x.id))];
  if (names?.length) {
    return names.map((n) => {
      const m = all.find((x) => x.id === n);
      if (!m) throw new Error(`--mode ${n}: no such failure mode; modes: ${all.map((x) => x.id).join(', ')}`);
      return m;
    });
  }
  return all.filter((m) => !quick || m.quick || mine.includes(m));
}
