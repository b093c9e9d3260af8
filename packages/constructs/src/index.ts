/**
 * canary-watchdog's public API: the constructs that guard Lambda releases and the types they
 * expose. This module is what jsii compiles into the bindings for other languages, so every
 * type here is jsii-compatible. The pure decision core (evaluate, Verdict, DecisionRecord, ...)
 * is TypeScript-only: import it from `canary-watchdog/lib/core`.
 */
export { ReleaseWatchdog, ReservedConcurrency, type ReleaseWatchdogProps, type GuardRegistration, type RuntimeConcurrency } from './constructs/release-watchdog';
export { WatchdogMode, ConfigDelivery, type PolicyOverrides } from './constructs/watchdog-options';
export { UNGUARDED_INTEGRATION } from './constructs/integration-guard';
export { GuardedFunction, type GuardedFunctionProps, type ConfigCheckProps, type CustomLayer, MAX_NATIVE_ALARMS } from './constructs/guarded-function';
export { Rollout, type CanaryOptions, type LinearOptions, MAX_ROLLOUT_MINUTES } from './constructs/rollout';
export { ReleaseWaves, MAX_WAVE_BAKE_MINUTES, type ReleaseWave, type ReleaseWavesProps } from './constructs/release-waves';
export { AlarmLayer } from './constructs/layer';
export { GuardMetrics, ProbeStatistic, type GuardedRateOptions, type LayerAlarmSpec } from './constructs/alarm-layers';
export { ProbeStatus, type ProbeSpec, type ProbeExpectation, type BodyExpectation } from './constructs/probe-spec';
export { ConfigFormat, type ConfigCheck } from './core/config-checks';
export { InsufficientAction, PreexistingAlarms, type Policy } from './core/types';
