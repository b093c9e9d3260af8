import type { InsufficientAction, PreexistingAlarms } from '../core/types';

/**
 * What the watchdog does with its verdicts. The values are the runtime configuration's own
 * strings (`mode` in the watchdog configuration), so the configuration format is unchanged.
 */
export enum WatchdogMode {
  /** Stop bad releases and roll them back. */
  ENFORCE = 'enforce',
  /** Only record what the watchdog would have done; no alarm stops a release. */
  SHADOW = 'shadow',
}

/** Where the runtime functions read the watchdog configuration. */
export enum ConfigDelivery {
  /**
   * In the functions' environment, which Lambda limits to 4 KB in all: about ten guarded functions.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
   */
  ENVIRONMENT = 'environment',
  /**
   * In an item of the state table, written at deploy time by a custom resource: up to DynamoDB's
   * 400 KB item size.
   */
  STATE_TABLE = 'state-table',
}

/** Overrides of the watchdog's decision policy; every field left out keeps its default. */
export interface PolicyOverrides {
  /**
   * Consecutive unreadable evaluations of one layer after which the verdict is rollback ("blind"), 1-60.
   * @default 3
   */
  readonly blindAfter?: number;
  /**
   * Evaluations closer together than this many seconds count once towards `blindAfter`, 0-600.
   * @default 30
   */
  readonly minSecondsBetweenCountedEvaluations?: number;
  /**
   * The stage is `final-shift` when the final shift is due within this many seconds, 0-3600.
   * @default 120
   */
  readonly finalShiftGuardSeconds?: number;
  /**
   * What insufficient evidence means, by stage (`pre-traffic`, `shifting`, `final-shift`, `bake`,
   * `bake-end`, `complete`), then by layer (`config`, `probes`, `new-version`, `service`, a custom
   * layer, or `*` for any other). `{ 'final-shift': { 'new-version': InsufficientAction.ROLLBACK } }`
   * makes the final shift wait for evidence from user traffic on the new version (a guarded
   * function with no probes and little traffic otherwise reaches 100 % on no evidence). A stage
   * given replaces that stage's default entry.
   * @default `final-shift` and `bake-end` roll back on insufficient evidence from `probes`
   */
  readonly insufficient?: { [stage: string]: { [layer: string]: InsufficientAction } };
  /**
   * What an alarm already in ALARM before the release began means. It also decides which alarms
   * go into CodeDeploy's own list: under `IGNORE` the service and custom layers stay out of it
   * (the watchdog still judges them).
   * @default PreexistingAlarms.IGNORE
   * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
   */
  readonly preexistingAlarms?: PreexistingAlarms;
}
