/**
 * The vocabulary of the decision core. Everything here is plain data: the handlers, the CLI
 * and the lab build these values and hand them to `evaluate`.
 */

/**
 * How one signal or layer looks, ranked from best to worst. A layer's outcome is the worst of
 * its signals' outcomes ("worst wins"). `insufficient` (too few samples to judge) and
 * `unreadable` (the watchdog could not read the signal) are kept apart from `failed`.
 */
export type Outcome = 'not-applicable' | 'healthy' | 'insufficient' | 'unreadable' | 'failed';

export const OUTCOME_RANK: Readonly<Record<Outcome, number>> = {
  'not-applicable': 0,
  healthy: 1,
  insufficient: 2,
  unreadable: 3,
  failed: 4,
};

export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  let worst: Outcome = 'not-applicable';
  for (const o of outcomes) if (OUTCOME_RANK[o] > OUTCOME_RANK[worst]) worst = o;
  return worst;
}

/** The built-in layers, in the order they are evaluated. Custom layers follow them. */
export const BUILT_IN_LAYERS = ['config', 'probes', 'new-version', 'service'] as const;

/** Where a release stands, as far as the watchdog's choices go. */
export type Stage =
  /** The BeforeAllowTraffic hook is running: no user traffic reaches the new version. */
  | 'pre-traffic'
  /** The new version takes part of the traffic and the final shift is not due soon. */
  | 'shifting'
  /** The final shift to 100 % is due within the policy's guard window. */
  | 'final-shift'
  /** The new version takes all traffic and the AfterAllowTraffic bake is running. */
  | 'bake'
  /** The bake's time is up: the watchdog decides whether the bake hook succeeds. */
  | 'bake-end'
  /** The new version takes all traffic and no bake is running. */
  | 'complete';

export const STAGES: readonly Stage[] = ['pre-traffic', 'shifting', 'final-shift', 'bake', 'bake-end', 'complete'];

/** A CloudWatch metric, with `{version}` in a dimension value standing for the version observed. */
export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** CloudWatch statistic: Sum, Average, SampleCount, Minimum, Maximum or pNN. */
  readonly stat: string;
}

/** A CloudWatch alarm's state, as a signal: ALARM fails, OK is healthy, INSUFFICIENT_DATA is insufficient. */
export interface AlarmSignal {
  readonly kind: 'alarm';
  readonly name: string;
  readonly alarmName: string;
}

/** A rate of events (errors, failures, throttles) among a total, for the new version. */
export interface RateSignal {
  readonly kind: 'rate';
  readonly name: string;
  readonly events: MetricRef;
  readonly total: MetricRef;
  /** The total metric does not include the events (Invocations excludes Throttles): add them. */
  readonly addEventsToTotal?: boolean;
  /** Fail when the rate is significantly above this (0-1). */
  readonly maxRate: number;
  /** Fewer samples than this is `insufficient`. */
  readonly minSamples: number;
  /** Significance level of the one-sided exact binomial test against `maxRate`. */
  readonly alpha: number;
  /** Also fail when significantly worse than the old version under the same alias. */
  readonly baseline?: {
    /** Relative tolerance: 0.25 accepts up to 25 % above the old version's rate. */
    readonly tolerance: number;
    readonly alpha: number;
    /**
     * Fail only when the rate is significantly above `maxRate` AND significantly worse than the
     * old version: a cause both versions share (function- or account-wide throttling) is not the
     * release's. With too few old-version samples to compare, the absolute test alone decides.
     */
    readonly failOnlyIfWorse?: boolean;
    /**
     * While both versions serve traffic (the comparison covers the whole window) and can be
     * compared, the comparison alone decides: above `maxRate` but not worse than the old version is
     * a cause both meet (a dependency down), not the release's. Otherwise both tests decide, as without it.
     */
    readonly comparedAloneWhileBothServe?: boolean;
  };
  /**
   * At the stages in FRESH_EVIDENCE_STAGES, also require `minSamples` samples from the last
   * this-many minutes: evidence gathered long ago (a prober that has since died) is not evidence now.
   */
  readonly freshMinutes?: number;
}

/** The stages at which a signal with `freshMinutes` needs fresh samples: the irreversible steps. */
export const FRESH_EVIDENCE_STAGES: readonly Stage[] = ['final-shift', 'bake-end'];

/** A value (latency percentile, count) with the number of samples behind it. */
export interface ValueSignal {
  readonly kind: 'value';
  readonly name: string;
  readonly value: MetricRef;
  readonly samples: MetricRef;
  readonly unit: string;
  /** Fail when the value is above this. */
  readonly max?: number;
  readonly minSamples: number;
  /** Fail when above `maxRatio` times the old version's value and at least `minExcess` above it. */
  readonly baseline?: { readonly maxRatio: number; readonly minExcess: number };
  /**
   * Significance level of the exceedance tests that judge a percentile below its stable sample
   * count (core/signals.ts judgeExceedance). @default 0.001
   */
  readonly alpha?: number;
}

/**
 * The new version's invocations and failures as the telemetry extension counted them into the
 * deployment's state item (aws/telemetry.ts): judged like a rate signal, read from the state
 * table instead of CloudWatch.
 */
export interface TelemetrySignal {
  readonly kind: 'telemetry';
  readonly name: string;
  readonly maxRate: number;
  readonly minSamples: number;
  readonly alpha: number;
  /** The old version's counts, taken by the same extension for the same deployment (RateSignal's). */
  readonly baseline?: RateSignal['baseline'];
}

/**
 * Both versions' cold starts as the telemetry extension counted their init reports into their
 * watch items (aws/telemetry.ts): the new version fails when its median init is significantly
 * above max(maxRatio x the old median, old median + minExcessMs) (core/init-durations.ts).
 */
export interface InitSignal {
  readonly kind: 'inits';
  readonly name: string;
  readonly maxRatio: number;
  readonly minExcessMs: number;
  readonly alpha: number;
}

export type SignalSpec = AlarmSignal | RateSignal | ValueSignal | TelemetrySignal | InitSignal;

export interface LayerSpec {
  readonly name: string;
  readonly signals: readonly SignalSpec[];
}

/** A time window, epoch milliseconds. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

export interface Counts {
  readonly events: number;
  readonly total: number;
}

/** Both versions' counts over one time slice in which both could serve traffic. */
export interface CountSlice {
  readonly newEvents: number;
  readonly newTotal: number;
  readonly oldEvents: number;
  readonly oldTotal: number;
}

/** A CountSlice of one CloudWatch period, from `start` (epoch ms). */
export interface TimeSlice extends CountSlice {
  readonly start: number;
}

export interface ValueSample {
  /** null when there were no samples. */
  readonly value: number | null;
  readonly samples: number;
}

/** What the watchdog read for one signal. A failed read is data, not an exception. */
export type Observation =
  | {
      readonly kind: 'alarm';
      readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
      readonly reason: string;
      /** When the alarm entered its current state, epoch ms. */
      readonly since: number;
    }
  | {
      readonly kind: 'counts';
      /** The new version over `window`: what the absolute test judges. */
      readonly new: Counts;
      /** The old version over `baselineWindow` (or `window` when that is absent). */
      readonly old?: Counts;
      readonly window: Window;
      /** The new version over `baselineWindow`, the window both versions served traffic in; absent: `new`. */
      readonly baselineNew?: Counts;
      readonly baselineWindow?: Window;
      /** The new version over `freshWindow`, the last few minutes (signals with `freshMinutes`). */
      readonly fresh?: Counts;
      readonly freshWindow?: Window;
      /**
       * Both versions per minute over `baselineWindow` (or `window`), oldest first: the comparison
       * is made within each minute (telemetry: within each stretch between the watchdog's reads).
       * Absent (older observations, telemetry before a read was kept): pooled.
       */
      readonly slices?: readonly TimeSlice[];
      /** Telemetry: why the old version's counts are still awaited (its extension has not looked yet). */
      readonly baselinePending?: string;
      /**
       * Telemetry: when both versions stopped serving together (the final shift), epoch ms, once
       * passed: the comparison no longer speaks for the new version's counts after it.
       */
      readonly bothServedUntil?: number;
    }
  | {
      readonly kind: 'inits';
      /** The new version's inits counted so far in the release (count, and histogram buckets). */
      readonly new: { readonly count: number; readonly buckets: readonly number[] };
      /** The old version's, over the same release (its baseline watch). */
      readonly old?: { readonly count: number; readonly buckets: readonly number[] };
      readonly window: Window;
    }
  | {
      readonly kind: 'value';
      readonly new: ValueSample;
      readonly old?: ValueSample;
      readonly window: Window;
      readonly baselineNew?: ValueSample;
      readonly baselineWindow?: Window;
      /** The new version's samples over `window` above the signal's `max` (read as PR(:max)). */
      readonly overMax?: number;
      /**
       * The new version's samples over the baseline window above `reference`, the old version's
       * percentile stretched by the baseline's ratio and excess (read as PR(:reference)).
       */
      readonly overBaseline?: { readonly reference: number; readonly above: number };
    }
  | { readonly kind: 'unreadable'; readonly error: string };

/** Observations keyed by `signalKey(layer, signal)`. */
export type Observations = Readonly<Record<string, Observation>>;

export function signalKey(layer: string, signal: string): string {
  return `${layer}/${signal}`;
}

export type RolloutShape =
  | { readonly type: 'all-at-once' }
  | { readonly type: 'canary'; readonly percent: number; readonly intervalMinutes: number }
  | { readonly type: 'linear'; readonly percent: number; readonly intervalMinutes: number };

/** One deployment, as the watchdog sees it at one moment. */
export interface DeploymentSnapshot {
  readonly deploymentId: string;
  readonly application: string;
  readonly deploymentGroup: string;
  readonly functionName: string;
  readonly alias: string;
  /** CodeDeploy status: Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped. */
  readonly status: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** When the deployment was created, epoch ms. */
  readonly createdAt: number;
  /** Share of the alias's traffic routed to the target version, 0-1. */
  readonly newVersionWeight: number;
  readonly rollout: RolloutShape;
  /**
   * When traffic shifting began (the BeforeAllowTraffic hook succeeded), epoch ms.
   * Unknown means the earliest possible time, `createdAt`, is assumed.
   */
  readonly trafficShiftStartedAt?: number;
  /**
   * The AfterAllowTraffic bake, once its hook has been invoked: when it ends, and when the hook
   * was invoked (epoch ms; the hook must be reported within an hour of it). Without `startedAt`
   * (state written before it was recorded) the final shift's time is taken instead.
   */
  readonly bake?: { readonly until: number; readonly startedAt?: number };
}

/** What insufficient evidence from a layer means at a stage. */
export enum InsufficientAction {
  /** Go on: too little evidence is no evidence against the release. */
  PROCEED = 'proceed',
  /** Roll back: the release may not go further without evidence. */
  ROLLBACK = 'rollback',
}

/** What an alarm already in ALARM before a release began means for that release. */
export enum PreexistingAlarms {
  /** Count it as insufficient evidence (it is not the release's); keep the service and custom layers out of CodeDeploy's list. */
  IGNORE = 'ignore',
  /** Count it against the release, and hand every layer's alarms to CodeDeploy's list. */
  ROLLBACK = 'rollback',
}

/** The watchdog's decision policy, every field set (the defaults with any overrides). */
export interface Policy {
  /** Consecutive unreadable evaluations of one layer after which the verdict is rollback ("blind"). */
  readonly blindAfter: number;
  /** Evaluations closer together than this count once towards `blindAfter` (concurrent triggers). */
  readonly minSecondsBetweenCountedEvaluations: number;
  /** The stage is `final-shift` when the final shift is due within this many seconds. */
  readonly finalShiftGuardSeconds: number;
  /**
   * What an `insufficient` layer means, by stage (pre-traffic, shifting, final-shift, bake,
   * bake-end, complete), then by layer; `*` is the fallback for a stage.
   */
  readonly insufficient: { [stage: string]: { [layer: string]: InsufficientAction } };
  /** An alarm already in ALARM before the deployment began: `ignore` counts it as insufficient evidence. */
  readonly preexistingAlarms: PreexistingAlarms;
}

/** State carried from one evaluation of a deployment to the next. */
export interface EvaluationState {
  readonly lastEvaluatedAt?: number;
  readonly consecutiveUnreadable: Readonly<Record<string, number>>;
}

export interface Evidence {
  readonly layer: string;
  readonly signal: string;
  readonly outcome: Outcome;
  /** The observed value: a rate (0-1), a value in `unit`, or an alarm state. */
  readonly observed: number | string | null;
  /** What the value was held against, in words a human reads: "> 0.05 (p < 0.001)". */
  readonly threshold: string | null;
  readonly unit?: string;
  readonly sampleSize: number | null;
  readonly window: { readonly start: string; readonly end: string } | null;
  readonly pValue?: number;
  readonly baseline?: { readonly observed: number | null; readonly sampleSize: number; readonly pValue?: number };
  readonly note: string;
}

export interface LayerResult {
  readonly name: string;
  readonly outcome: Outcome;
  readonly consecutiveUnreadable: number;
}

export interface Verdict {
  readonly action: 'proceed' | 'rollback';
  /**
   * The layer that decided a rollback (the first in order), or null on proceed, and on a bake
   * failed because its end could not be observed before the hook's one-hour limit.
   */
  readonly layer: string | null;
  /**
   * At `bake-end` with action `proceed`: why the bake hook is not reported Succeeded yet (the
   * bake's last minutes are not yet published and evaluated, or a layer is unreadable or short
   * of the evidence the policy asks for). Absent when the bake may end now.
   */
  readonly deferred?: string;
  readonly stage: Stage;
  readonly reasons: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly layers: readonly LayerResult[];
}
