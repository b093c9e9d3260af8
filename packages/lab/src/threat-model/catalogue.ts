/**
 * The failure modes `threat-model` rehearses for each guarded function: what can break in a
 * release (the code, its configuration, the release process, its dependencies), each as the
 * scenario fields that make it happen on the lab.
 */
import type { GuardConfig } from 'canary-watchdog/lib/core/config';
import { HOOK_TIMEOUT_MS } from '../lab/codedeploy';
import type { Stage } from '../rehearsal/scenario';

/** What the catalogue needs to know of a guarded function to build its modes. */
export interface FunctionFacts {
  /** The Lambda function's name. */
  readonly functionName: string;
  /** Its construct's logical id in the template. */
  readonly logicalId: string;
  readonly guard: GuardConfig;
  /** The function's environment as deployed. */
  readonly env: Readonly<Record<string, string>>;
  /** Minutes from the deployment's start until the new version has all the traffic (0 all at once). */
  readonly shiftMinutes: number;
  /** The rollout in words ("canary 10 % for 5 min"). */
  readonly rollout: string;
  /** The app's stages (pipeline waves) as the user declares them (`--stages`); absent: one stage. */
  readonly stages?: readonly Stage[];
}

export type ModeGroup = 'code' | 'configuration' | 'release process' | 'dependencies';

/** The scenario fields of a mode, as a scenario file gives them (the threat model adds name, function, traffic and expect). */
export type ModeScenario = Record<string, unknown>;

export interface FailureMode {
  readonly id: string;
  readonly group: ModeGroup;
  /** What it stands for, in a sentence. */
  readonly explain: string;
  /**
   * `bad`: a release that must be stopped; `good`: a good release under trouble that must not be
   * rolled back (what catches it is a false rollback).
   */
  readonly kind: 'bad' | 'good';
  /** In `--quick` (a pull request's subset). */
  readonly quick: boolean;
  /** It begins only once the new version has all the traffic: every layer that stops it counts, at any share. */
  readonly afterFullTraffic?: boolean;
  /** Minutes the rehearsal runs beyond the rollout and bake (a mode that needs longer to end). */
  readonly extraMinutes?: number;
  /** Why no layer can be a second chance here (the layers all depend on what the mode breaks): said in the advice. */
  readonly noSecondLayer?: string;
  /** The scenario fields for a function, or why this mode cannot be rehearsed for it. */
  build(f: FunctionFacts): ModeScenario | { readonly skip: string };
}

/** A bad release's effect on user requests, for the modes that break something else. */
const BAD = { errorRate: 0.2 };

/** A value that fails a configuration check's format, by format. */
function malformed(format: string | undefined): string {
  switch (format) {
    case 'url':
      return 'htp//payments';
    case 'integer':
    case 'number':
      return '2.5s';
    case 'json':
      return '{"eu": 8,}';
    case 'boolean':
      return 'yes';
    default:
      return 'TYPO';
  }
}

/** The first configuration check of a function, or the first variable of its environment. */
function configKey(f: FunctionFacts): { key: string; format?: string; oneOf?: readonly string[]; checked: boolean } | undefined {
  const check = f.guard.configChecks[0] as { key: string; format?: string; oneOf?: readonly string[] } | undefined;
  if (check) return { key: check.key, ...(check.format ? { format: check.format } : {}), ...(check.oneOf ? { oneOf: check.oneOf } : {}), checked: true };
  const key = Object.keys(f.env).find((k) => !k.startsWith('AWS_') && !k.startsWith('CANARY_WATCHDOG'));
  return key ? { key, checked: false } : undefined;
}

/**
 * The user's own alarms a guard judges: its custom layers' and the service layer's, less the
 * built-in ones (named with the guard's prefix, as its new-version alarms are).
 */
export function userAlarms(g: GuardConfig): string[] {
  const prefix = g.alarms['new-version']?.[0]?.replace(/-new-version-.*$/, '-');
  const builtIn = (a: string) => (prefix ? a.startsWith(prefix) : /-alias-error-rate$/.test(a));
  return [...(g.alarms.service ?? []).filter((a) => !builtIn(a)), ...g.customLayers.flatMap((c) => c.alarms)];
}

const urlKey = (f: FunctionFacts): string | undefined => Object.entries(f.env).find(([k, v]) => !k.startsWith('CANARY_WATCHDOG') && /^https?:\/\//.test(v))?.[0];

export const CATALOGUE: readonly FailureMode[] = [
  { id: 'crash-on-init', group: 'code', kind: 'bad', quick: true, explain: 'the new code throws while loading: every request fails', build: () => ({ release: { crashOnInit: true } }) },
  { id: 'errors-2', group: 'code', kind: 'bad', quick: false, explain: 'the new code fails 2 % of requests (the old one 0.5 %)', build: () => ({ release: { errorRate: 0.02 } }) },
  { id: 'errors-5', group: 'code', kind: 'bad', quick: false, explain: 'the new code fails 5 % of requests', build: () => ({ release: { errorRate: 0.05 } }) },
  { id: 'errors-20', group: 'code', kind: 'bad', quick: true, explain: 'the new code fails 20 % of requests', build: () => ({ release: { errorRate: 0.2 } }) },
  { id: 'latency-regression', group: 'code', kind: 'bad', quick: false, explain: 'the new code answers 1.5 s slower', build: () => ({ release: { latencyMs: 1500 } }) },
  {
    id: 'silent-http-500s',
    group: 'code',
    kind: 'bad',
    quick: false,
    explain: 'the new code answers HTTP 500 to 20 % of requests without throwing (no Lambda error)',
    build: () => ({ release: { httpErrorRate: 0.2 } }),
  },
  {
    id: 'slow-burn-after-100',
    group: 'code',
    kind: 'bad',
    quick: false,
    afterFullTraffic: true,
    explain: 'the new code starts failing 20 % of requests a minute after it has all the traffic',
    build: (f) => ({ release: { errorRate: 0.2, startsFailingAfterMinutes: f.shiftMinutes + 1 } }),
  },
  {
    id: 'real-traffic-bug',
    group: 'code',
    kind: 'bad',
    quick: false,
    explain: 'a bug only real users\' requests reach (probes never send them)',
    build: () => ({ skip: 'needs your own traffic events and a code change only real requests reach: give them with --scenario (a scenario with traffic.events and release.code, named real-traffic-bug to take this mode\'s place; the sample\'s scenarios/40-real-traffic-bug.yaml is one)' }),
  },
  {
    id: 'config-typo',
    group: 'configuration',
    kind: 'bad',
    quick: true,
    explain: 'a typo in a configuration value: the code fails on every request that reads it',
    build: (f) => {
      const k = configKey(f);
      if (!k) return { skip: 'the function has no environment variable to get wrong' };
      return { release: { env: { [k.key]: k.oneOf ? `${k.oneOf[0]}x` : malformed(k.format) }, errorRate: 1 } };
    },
  },
  {
    id: 'unreachable-dependency',
    group: 'configuration',
    kind: 'bad',
    quick: false,
    explain: 'a configuration value points to a host that does not answer',
    build: (f) => {
      const key = urlKey(f);
      if (!key) return { skip: 'no environment variable holds a URL' };
      return { release: { env: { [key]: 'https://unreachable.invalid/v1' }, errorRate: 1 } };
    },
  },
  {
    id: 'valid-but-wrong',
    group: 'configuration',
    kind: 'bad',
    quick: false,
    explain: 'a value valid in form but wrong in meaning: every check passes, 20 % of requests go wrong',
    build: (f) => {
      const k = configKey(f);
      if (!k) return { skip: 'the function has no environment variable to get wrong' };
      const value = k.oneOf?.find((x) => x !== f.env[k.key]) ?? f.env[k.key] ?? '';
      return { release: { env: { [k.key]: value }, ...BAD } };
    },
  },
  {
    id: 'environment-change',
    group: 'configuration',
    kind: 'bad',
    quick: false,
    explain: 'a new environment variable changes behaviour: 20 % of requests fail',
    build: () => ({ release: { env: { FEATURE_FLAGS: '{"newCheckout":true}' }, ...BAD } }),
  },
  { id: 'watchdog-down', group: 'release process', kind: 'bad', quick: true, explain: 'a bad release (20 % errors) while the watchdog function is dead', build: () => ({ release: BAD, faults: { watchdog: 'down' } }) },
  {
    id: 'cloudwatch-failing',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release while every CloudWatch call fails',
    noSecondLayer: 'every layer reads or publishes through CloudWatch, so the pre-traffic hook failing closed is the only stop',
    build: () => ({ release: BAD, faults: { cloudwatch: { errorRate: 1 } } }),
  },
  {
    id: 'state-table-unavailable',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release while the watchdog\'s state table (DynamoDB) is down',
    noSecondLayer: 'every layer reads its configuration from the state table, so the pre-traffic hook failing closed is the only stop',
    build: () => ({ release: BAD, faults: { dynamodb: { unavailable: true } } }),
  },
  {
    id: 'hook-timeout',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release while its pre-traffic hook hangs and never reports a status',
    // CodeDeploy waits up to an hour for PutLifecycleEventHookExecutionStatus, then fails the deployment.
    // https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
    extraMinutes: HOOK_TIMEOUT_MS / 60_000,
    build: () => ({ release: BAD, faults: { hooks: { hang: true } } }),
  },
  { id: 'prober-down', group: 'release process', kind: 'bad', quick: false, explain: 'a bad release while the prober is dead', build: () => ({ release: BAD, faults: { prober: { downAfterMinutes: 0 } } }) },
  {
    id: 'lambda-api-failing',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release while Lambda\'s API throttles half of the calls of the hooks, prober and watchdog',
    build: () => ({ release: BAD, faults: { lambda: { throttleRate: 0.5 } } }),
  },
  {
    id: 'alarm-never-fires',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release (20 % errors) while your own alarms watch a metric nothing publishes (a typo in its name): they never fire',
    build: (f) => {
      const alarms = userAlarms(f.guard);
      if (!alarms.length) return { skip: 'the function has no alarm of yours (extraAlarms, addAlarm, customLayers) to break' };
      return { release: BAD, faults: { alarms: { unpublished: alarms } } };
    },
  },
  {
    id: 'old-version-above-threshold',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release while the old version already fails more than the threshold',
    build: (f) => ({ current: { errorRate: Math.min(0.5, f.guard.thresholds.maxErrorRate * 1.5) }, release: { errorRate: Math.min(1, f.guard.thresholds.maxErrorRate * 1.5 + 0.2) } }),
  },
  {
    id: 'all-stages-at-once',
    group: 'release process',
    kind: 'bad',
    quick: false,
    explain: 'a bad release (20 % errors) pushed to every stage at once, no wave waiting for the one before',
    build: (f) => {
      if (!f.stages || f.stages.length < 2) return { skip: 'a single-stage app: declare its waves with --stages NAME:SHARE:BAKE_MINUTES... to rehearse this' };
      return { release: BAD, stages: f.stages, stagesAtOnce: true };
    },
  },
  {
    id: 'dependency-outage',
    group: 'dependencies',
    kind: 'good',
    quick: true,
    explain: 'a good release while a dependency both versions use fails 10 % of requests: must not roll back',
    build: () => ({ shared: { errorRate: 0.1, fromMinute: 1 } }),
  },
];

/** A mode by id, or an error naming the allowed ones. */
export function modeById(id: string): FailureMode {
  const m = CATALOGUE.find((x) => x.id === id);
  if (!m) throw new Error(`no failure mode ${id}; modes: ${CATALOGUE.map((x) => x.id).join(', ')}`);
  return m;
}
