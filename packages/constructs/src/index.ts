/**
 * canary-watchdog's public API: the constructs that guard Lambda releases, and the pure
 * decision core they share with the runtime, the CLI and the lab.
 */
export { ReleaseWatchdog, ReservedConcurrency, type ReleaseWatchdogProps, type GuardRegistration, type RuntimeConcurrency } from './constructs/release-watchdog';
export { GuardedFunction, type GuardedFunctionProps, type ConfigCheckProps, MAX_NATIVE_ALARMS } from './constructs/guarded-function';
export { Rollout, MAX_ROLLOUT_MINUTES } from './constructs/rollout';
export { AlarmLayer } from './constructs/layer';
export { GuardMetrics } from './constructs/alarm-layers';
export { GuardValidationError } from './constructs/errors';
export type { ProbeSpec, ProbeExpectation, BodyExpectation } from './core/probes';
export type { ConfigCheck, ConfigFormat } from './core/config-checks';
export type { Policy, Verdict, Evidence, Outcome } from './core/types';
export type { DecisionRecord } from './core/decision-record';
