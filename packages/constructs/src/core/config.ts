import { parseConfigChecks, type ConfigCheck } from './config-checks';
import { DEFAULT_POLICY, FRESH_PROBE_MINUTES, STATE_LAYER } from './evaluate';
import { DEFAULT_INIT_TOLERANCE } from './init-durations';
import { parseProbes, type ProbeSpec } from './probes';
import type { LayerSpec, MetricRef, Policy, SignalSpec } from './types';
import { BUILT_IN_LAYERS, InsufficientAction, PreexistingAlarms, STAGES } from './types';
import { bool, InputError, num, obj, oneOf, onlyKeys, optArr, optNum, str, unique } from './validate';

/** Custom metrics the runtime publishes (namespace configurable, default below). */
export const DEFAULT_NAMESPACE = 'CanaryWatchdog';
export const METRIC = {
  /** 0 or 1 per probe invocation, per function and version, 1-second storage resolution. */
  probeFailure: 'ProbeFailure',
  probeLatency: 'ProbeLatency',
  /** 0 or 1 per configuration check, per function and version. */
  configCheckFailure: 'ConfigCheckFailure',
  /** 1 per completed watchdog run. */
  heartbeat: 'WatchdogHeartbeat',
} as const;

/** AWS/Lambda function URL metrics (FunctionName, Resource, ExecutedVersion).
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html */
export const METRIC_URL = { http5xx: 'Url5xxCount', requests: 'UrlRequestCount' } as const;

/** Thresholds of the built-in layers; each has a default, documented in the README. */
export interface Thresholds {
  /** New version's error rate that fails the release when significantly exceeded. @default 0.05 */
  readonly maxErrorRate: number;
  /** Invocations of the new version needed before its error rate is judged. @default 20 */
  readonly minInvocations: number;
  /** Relative tolerance against the old version's error rate. @default 0.25 */
  readonly baselineTolerance: number;
  /** Significance level of each statistical test per evaluation. @default 0.001 */
  readonly alpha: number;
  /** New version's throttle rate that fails the release. @default 0.05 */
  readonly maxThrottleRate: number;
  /** Absolute p99 latency limit of the new version, ms. @default none */
  readonly maxP99LatencyMs?: number;
  /** The new version's p99 may be at most this multiple of the old version's. @default 1.5 */
  readonly maxLatencyRatio: number;
  /** ... and is a regression only when also at least this many ms slower. @default 100 */
  readonly minLatencyExcessMs: number;
  /** Duration samples needed before p99 is judged. @default 50 */
  readonly minLatencySamples: number;
  /** Share of probe invocations of the new version that must succeed. @default 0.95 */
  readonly minProbeSuccess: number;
  /** Probe invocations needed before the probes layer is judged. @default 3 */
  readonly minProbeSamples: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxErrorRate: 0.05,
  minInvocations: 20,
  baselineTolerance: 0.25,
  alpha: 0.001,
  maxThrottleRate: 0.05,
  maxLatencyRatio: 1.5,
  minLatencyExcessMs: 100,
  minLatencySamples: 50,
  minProbeSuccess: 0.95,
  minProbeSamples: 3,
};

/** One guarded function: its deployment group, alias, checks, probes, alarms and thresholds. */
export interface GuardConfig {
  readonly application: string;
  readonly deploymentGroup: string;
  readonly functionName: string;
  readonly alias: string;
  /** @default 10 */
  readonly bakeMinutes: number;
  readonly thresholds: Thresholds;
  /**
   * Alarm names per built-in layer (`config`, `probes`, `new-version`, `service`). A name may be a
   * template with `{version}`, which stands for the deployment's target version (the
   * version-scoped alarms are named for the version they watch).
   */
  readonly alarms: Readonly<Record<string, readonly string[]>>;
  /** Layers the user declares, evaluated after the built-in ones, in order. */
  readonly customLayers: readonly { readonly name: string; readonly alarms: readonly string[] }[];
  readonly configChecks: readonly ConfigCheck[];
  readonly probes: readonly ProbeSpec[];
  /**
   * `function-url`: users reach the alias through a Lambda function URL, so the new-version layer
   * also judges the URL's HTTP 5xx rate (`http-5xx`), which sees a `statusCode: 500` answered
   * without throwing. Absent: no HTTP signal.
   * https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html
   */
  readonly httpMetrics?: HttpMetrics;
  /**
   * Name of a Lambda function that runs the `reachableWithinMs` checks where the guarded function
   * runs (same VPC subnets and security groups). Absent: the pre-traffic hook fetches directly.
   */
  readonly reachabilityChecker?: string;
  /**
   * `true`: the function carries the telemetry extension (aws/telemetry.ts), which counts the
   * new version's invocations into the state table within seconds; the new-version layer then also
   * judges that count (`telemetry-errors`), and the watchdog looks at it every few seconds.
   */
  readonly telemetry?: boolean;
  /**
   * `false`: the new-version layer judges none of the new version's CloudWatch metrics (errors,
   * throttles, p99, HTTP 5xx), only the telemetry extension's counts and the layer's alarms. What
   * a rehearsal sets to take that part of the layer away (`threat-model`'s ablations). @default true
   */
  readonly newVersionMetrics?: boolean;
}

/** Sources of an HTTP-level error signal for user traffic. */
export const HTTP_METRICS = ['function-url'] as const;
export type HttpMetrics = (typeof HTTP_METRICS)[number];

export interface WatchdogConfig {
  /** `enforce` stops bad releases; `shadow` only records what it would have done. */
  readonly mode: 'enforce' | 'shadow';
  readonly namespace: string;
  /** Name of the heartbeat's `Watchdog` dimension. */
  readonly name: string;
  readonly policy: Policy;
  readonly guards: readonly GuardConfig[];
}

const AWS_NAME = { pattern: /^[\w.+=,@/:-]{1,140}$/, patternText: 'a name of 1-140 characters [A-Za-z0-9_.+=,@/:-]' };
/** Bake time limit: the AfterAllowTraffic hook must report within one hour.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html */
export const MAX_BAKE_MINUTES = 60;

export function parseWatchdogConfig(v: unknown, path = 'config'): WatchdogConfig {
  const o = obj(v, path);
  onlyKeys(o, path, ['mode', 'namespace', 'name', 'policy', 'guards']);
  const guards = optArr(o.guards, `${path}.guards`, parseGuard);
  unique(guards.map((g) => `${g.application}/${g.deploymentGroup}`), `${path}.guards`, 'deployment group');
  return {
    mode: o.mode === undefined ? 'enforce' : oneOf(o.mode, `${path}.mode`, ['enforce', 'shadow'] as const),
    namespace: o.namespace === undefined ? DEFAULT_NAMESPACE : str(o.namespace, `${path}.namespace`),
    name: o.name === undefined ? 'canary-watchdog' : str(o.name, `${path}.name`),
    policy: parsePolicy(o.policy, `${path}.policy`),
    guards,
  };
}

export function parsePolicy(v: unknown, path: string): Policy {
  if (v === undefined) return DEFAULT_POLICY;
  const o = obj(v, path);
  onlyKeys(o, path, ['blindAfter', 'minSecondsBetweenCountedEvaluations', 'finalShiftGuardSeconds', 'insufficient', 'preexistingAlarms']);
  let insufficient = DEFAULT_POLICY.insufficient;
  if (o.insufficient !== undefined) {
    const ins = obj(o.insufficient, `${path}.insufficient`);
    onlyKeys(ins, `${path}.insufficient`, STAGES);
    const out: Record<string, Record<string, InsufficientAction>> = {};
    for (const [stage, byLayer] of Object.entries(ins)) {
      const m = obj(byLayer, `${path}.insufficient.${stage}`);
      out[stage] = Object.fromEntries(
        Object.entries(m).map(([layer, a]) => {
          if (layer !== '*' && !/^[a-z][a-z0-9-]{0,39}$/.test(layer)) {
            throw new InputError(`${path}.insufficient.${stage}.${layer}: not a layer name; use a layer (config, probes, new-version, service or a custom one) or *`, `${path}.insufficient.${stage}.${layer}`);
          }
          return [layer, oneOf(a, `${path}.insufficient.${stage}.${layer}`, Object.values(InsufficientAction))];
        }),
      );
    }
    // Stages given replace the default table's entry for that stage; the others keep theirs.
    insufficient = { ...DEFAULT_POLICY.insufficient, ...out };
  }
  return {
    blindAfter: optNum(o.blindAfter, `${path}.blindAfter`, { min: 1, max: 60, integer: true }) ?? DEFAULT_POLICY.blindAfter,
    minSecondsBetweenCountedEvaluations:
      optNum(o.minSecondsBetweenCountedEvaluations, `${path}.minSecondsBetweenCountedEvaluations`, { min: 0, max: 600 }) ??
      DEFAULT_POLICY.minSecondsBetweenCountedEvaluations,
    finalShiftGuardSeconds:
      optNum(o.finalShiftGuardSeconds, `${path}.finalShiftGuardSeconds`, { min: 0, max: 3600 }) ?? DEFAULT_POLICY.finalShiftGuardSeconds,
    insufficient,
    preexistingAlarms:
      o.preexistingAlarms === undefined
        ? DEFAULT_POLICY.preexistingAlarms
        : oneOf(o.preexistingAlarms, `${path}.preexistingAlarms`, Object.values(PreexistingAlarms)),
  };
}

function parseThresholds(v: unknown, path: string): Thresholds {
  if (v === undefined) return DEFAULT_THRESHOLDS;
  const o = obj(v, path);
  onlyKeys(o, path, Object.keys(DEFAULT_THRESHOLDS).concat('maxP99LatencyMs'));
  const rate = { min: 0, max: 1 };
  const count = { min: 1, integer: true };
  const d = DEFAULT_THRESHOLDS;
  const maxP99 = optNum(o.maxP99LatencyMs, `${path}.maxP99LatencyMs`, { min: 1 });
  return {
    maxErrorRate: optNum(o.maxErrorRate, `${path}.maxErrorRate`, rate) ?? d.maxErrorRate,
    minInvocations: optNum(o.minInvocations, `${path}.minInvocations`, count) ?? d.minInvocations,
    baselineTolerance: optNum(o.baselineTolerance, `${path}.baselineTolerance`, { min: 0, max: 100 }) ?? d.baselineTolerance,
    alpha: optNum(o.alpha, `${path}.alpha`, { min: 1e-9, max: 0.5 }) ?? d.alpha,
    maxThrottleRate: optNum(o.maxThrottleRate, `${path}.maxThrottleRate`, rate) ?? d.maxThrottleRate,
    ...(maxP99 !== undefined ? { maxP99LatencyMs: maxP99 } : {}),
    maxLatencyRatio: optNum(o.maxLatencyRatio, `${path}.maxLatencyRatio`, { min: 1 }) ?? d.maxLatencyRatio,
    minLatencyExcessMs: optNum(o.minLatencyExcessMs, `${path}.minLatencyExcessMs`, { min: 0 }) ?? d.minLatencyExcessMs,
    minLatencySamples: optNum(o.minLatencySamples, `${path}.minLatencySamples`, count) ?? d.minLatencySamples,
    minProbeSuccess: optNum(o.minProbeSuccess, `${path}.minProbeSuccess`, rate) ?? d.minProbeSuccess,
    minProbeSamples: optNum(o.minProbeSamples, `${path}.minProbeSamples`, count) ?? d.minProbeSamples,
  };
}

function parseGuard(v: unknown, path: string): GuardConfig {
  const o = obj(v, path);
  onlyKeys(o, path, [
    'application', 'deploymentGroup', 'functionName', 'alias', 'bakeMinutes', 'thresholds', 'alarms', 'customLayers', 'configChecks', 'probes',
    'httpMetrics', 'reachabilityChecker', 'telemetry', 'newVersionMetrics',
  ]);
  const alarms: Record<string, string[]> = {};
  if (o.alarms !== undefined) {
    const a = obj(o.alarms, `${path}.alarms`);
    onlyKeys(a, `${path}.alarms`, BUILT_IN_LAYERS);
    for (const [layer, names] of Object.entries(a)) alarms[layer] = optArr(names, `${path}.alarms.${layer}`, alarmNameTemplate);
  }
  const customLayers = optArr(o.customLayers, `${path}.customLayers`, (x, p) => {
    const l = obj(x, p);
    onlyKeys(l, p, ['name', 'alarms']);
    const name = str(l.name, `${p}.name`, { pattern: /^[a-z][a-z0-9-]{0,39}$/, patternText: 'a layer name of lowercase letters, digits and dashes' });
    if ((BUILT_IN_LAYERS as readonly string[]).includes(name)) {
      throw new InputError(`${p}.name: ${name} is a built-in layer; custom layers need another name`, `${p}.name`);
    }
    if (name === STATE_LAYER) throw new InputError(`${p}.name: ${name} is the watchdog's own state layer; custom layers need another name`, `${p}.name`);
    return { name, alarms: optArr(l.alarms, `${p}.alarms`, alarmNameTemplate) };
  });
  unique(customLayers.map((l) => l.name), `${path}.customLayers`, 'layer name');
  return {
    application: str(o.application, `${path}.application`, AWS_NAME),
    deploymentGroup: str(o.deploymentGroup, `${path}.deploymentGroup`, AWS_NAME),
    functionName: str(o.functionName, `${path}.functionName`, AWS_NAME),
    alias: str(o.alias, `${path}.alias`, { pattern: /^(?!^\d+$)[a-zA-Z0-9-_]{1,128}$/, patternText: 'an alias name (letters, digits, - and _, not only digits)' }),
    bakeMinutes: o.bakeMinutes === undefined ? 10 : num(o.bakeMinutes, `${path}.bakeMinutes`, { min: 0, max: MAX_BAKE_MINUTES }),
    thresholds: parseThresholds(o.thresholds, `${path}.thresholds`),
    alarms,
    customLayers,
    configChecks: parseConfigChecks(o.configChecks, `${path}.configChecks`),
    probes: parseProbes(o.probes, `${path}.probes`),
    ...(o.httpMetrics !== undefined ? { httpMetrics: oneOf(o.httpMetrics, `${path}.httpMetrics`, HTTP_METRICS) } : {}),
    ...(o.reachabilityChecker !== undefined ? { reachabilityChecker: str(o.reachabilityChecker, `${path}.reachabilityChecker`, FUNCTION_NAME) } : {}),
    ...(o.telemetry !== undefined ? { telemetry: bool(o.telemetry, `${path}.telemetry`) } : {}),
    ...(o.newVersionMetrics !== undefined ? { newVersionMetrics: bool(o.newVersionMetrics, `${path}.newVersionMetrics`) } : {}),
  };
}

/** A Lambda function name, ARN or partial ARN, as Invoke accepts it.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax */
const FUNCTION_NAME = { pattern: /^[\w:-]{1,140}$/, patternText: 'a Lambda function name or ARN (letters, digits, -, _ and :, at most 140 characters)' };

/**
 * The `{version}` placeholder in a metric dimension or an alarm name, replaced by the version
 * observed (for an alarm name, the deployment's target version).
 */
export const VERSION = '{version}';

/**
 * An alarm name template with `{version}` replaced; a name without it is a plain name.
 * Version-scoped alarms carry the version they watch in their name, so each release replaces
 * them with a new alarm (AlarmName is a replacement property) that starts in INSUFFICIENT_DATA,
 * and no release inherits the old version's ALARM.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html
 */
export function resolveAlarmName(template: string, version: string): string {
  return template.split(VERSION).join(version);
}

/** Whether `name` is an alarm the template names, for some version. */
export function alarmNameMatches(template: string, name: string): boolean {
  const at = template.indexOf(VERSION);
  if (at < 0) return template === name;
  const head = template.slice(0, at);
  const tail = template.slice(at + VERSION.length);
  return name.length > head.length + tail.length && name.startsWith(head) && name.endsWith(tail);
}

/** The part of an alarm name template before `{version}` (the whole name without one). */
export function alarmNamePrefix(template: string): string {
  const at = template.indexOf(VERSION);
  return at < 0 ? template : template.slice(0, at);
}

/** An alarm name or name template: `{version}` at most once, and not first. */
function alarmNameTemplate(x: unknown, path: string): string {
  const name = str(x, path);
  const count = name.split(VERSION).length - 1;
  if (count > 1 || name.startsWith(VERSION)) {
    throw new InputError(`${path}: ${JSON.stringify(name)} is not an alarm name or name template; use a name, or a name with ${VERSION} once after a fixed prefix (name-v${VERSION})`, path);
  }
  return name;
}

function lambdaMetric(g: GuardConfig, metricName: string, stat: string): MetricRef {
  // Through an alias, AWS/Lambda metrics carry FunctionName, Resource (fn:alias) and
  // ExecutedVersion: the only way to tell the new version's errors from the old one's.
  // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
  return {
    namespace: 'AWS/Lambda',
    metricName,
    stat,
    dimensions: { FunctionName: g.functionName, Resource: `${g.functionName}:${g.alias}`, ExecutedVersion: VERSION },
  };
}

function ownMetric(ns: string, g: GuardConfig, metricName: string, stat: string): MetricRef {
  return { namespace: ns, metricName, stat, dimensions: { FunctionName: g.functionName, Version: VERSION } };
}

function alarmSignals(names: readonly string[] | undefined): SignalSpec[] {
  return (names ?? []).map((alarmName) => ({ kind: 'alarm', name: `alarm:${alarmName}`, alarmName }));
}

/** The layers guarding one function, in evaluation order. Pure. */
export function buildLayers(g: GuardConfig, namespace: string): LayerSpec[] {
  const t = g.thresholds;
  const baseline = { tolerance: t.baselineTolerance, alpha: t.alpha };
  const config: SignalSpec[] = g.configChecks.length
    ? [
        {
          kind: 'rate',
          name: 'config-checks',
          events: ownMetric(namespace, g, METRIC.configCheckFailure, 'Sum'),
          total: ownMetric(namespace, g, METRIC.configCheckFailure, 'SampleCount'),
          maxRate: 0,
          minSamples: 1,
          alpha: t.alpha,
        },
      ]
    : [];
  const probes: SignalSpec[] = g.probes.length
    ? [
        {
          kind: 'rate',
          name: 'probe-failures',
          events: ownMetric(namespace, g, METRIC.probeFailure, 'Sum'),
          total: ownMetric(namespace, g, METRIC.probeFailure, 'SampleCount'),
          maxRate: Math.round((1 - t.minProbeSuccess) * 1e9) / 1e9,
          minSamples: t.minProbeSamples,
          alpha: t.alpha,
          baseline,
          freshMinutes: FRESH_PROBE_MINUTES,
        },
      ]
    : [];
  const newVersion: SignalSpec[] = g.newVersionMetrics === false ? [] : [
    {
      kind: 'rate',
      name: 'errors',
      events: lambdaMetric(g, 'Errors', 'Sum'),
      total: lambdaMetric(g, 'Invocations', 'Sum'),
      maxRate: t.maxErrorRate,
      minSamples: t.minInvocations,
      alpha: t.alpha,
      // An outage both versions meet (a dependency down) is not the release's while both serve.
      baseline: { ...baseline, comparedAloneWhileBothServe: true },
    },
    {
      kind: 'rate',
      name: 'throttles',
      events: lambdaMetric(g, 'Throttles', 'Sum'),
      // Invocations does not count throttled requests, so the total adds them back.
      total: lambdaMetric(g, 'Invocations', 'Sum'),
      addEventsToTotal: true,
      maxRate: t.maxThrottleRate,
      minSamples: t.minInvocations,
      alpha: t.alpha,
      // Throttling is often function- or account-wide: only what the old version escapes is the release's.
      baseline: { ...baseline, failOnlyIfWorse: true },
    },
    {
      kind: 'value',
      name: 'p99-duration',
      value: lambdaMetric(g, 'Duration', 'p99'),
      samples: lambdaMetric(g, 'Duration', 'SampleCount'),
      unit: 'ms',
      ...(t.maxP99LatencyMs !== undefined ? { max: t.maxP99LatencyMs } : {}),
      minSamples: t.minLatencySamples,
      baseline: { maxRatio: t.maxLatencyRatio, minExcess: t.minLatencyExcessMs },
      alpha: t.alpha,
    },
  ];
  if (g.telemetry) {
    // The new version's own invocations as they end, counted by the telemetry extension: the same
    // requests as `errors`, seconds instead of minutes late (aws/telemetry.ts). Its own test at
    // alpha, and against the old version's counts (the same extension, the same deployment): a
    // cause both versions share (an outage downstream) fails only when the new version is also worse.
    // Each environment's init, which Duration leaves out, from the init reports the same extension
    // counts for both versions: a slower cold start (a heavy dependency, a slow config load).
    newVersion.unshift({ kind: 'inits', name: 'telemetry-inits', ...DEFAULT_INIT_TOLERANCE, alpha: t.alpha });
    newVersion.unshift({ kind: 'telemetry', name: 'telemetry-errors', maxRate: t.maxErrorRate, minSamples: t.minInvocations, alpha: t.alpha, baseline: { ...baseline, failOnlyIfWorse: true } });
  }
  if (g.httpMetrics === 'function-url' && g.newVersionMetrics !== false) {
    // Function URL requests that end in HTTP 5xx (a `statusCode: 500` answered without throwing,
    // errors and timeouts too), per ExecutedVersion; judged like the error rate.
    // https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html
    newVersion.push({
      kind: 'rate',
      name: 'http-5xx',
      events: lambdaMetric(g, METRIC_URL.http5xx, 'Sum'),
      total: lambdaMetric(g, METRIC_URL.requests, 'Sum'),
      maxRate: t.maxErrorRate,
      minSamples: t.minInvocations,
      alpha: t.alpha,
      baseline: { ...baseline, comparedAloneWhileBothServe: true },
    });
  }
  return [
    { name: 'config', signals: [...config, ...alarmSignals(g.alarms.config)] },
    { name: 'probes', signals: [...probes, ...alarmSignals(g.alarms.probes)] },
    { name: 'new-version', signals: [...newVersion, ...alarmSignals(g.alarms['new-version'])] },
    { name: 'service', signals: alarmSignals(g.alarms.service) },
    ...g.customLayers.map((l) => ({ name: l.name, signals: alarmSignals(l.alarms) })),
  ];
}
