/**
 * How the lab's emulated services reach one another. Each service implements its side; the
 * lab (lib/lab/lab.ts) wires them together.
 */
import type { LabEventBus, Scheduler } from './kernel';

/** A datapoint as PutMetricData takes it, already validated. Timestamps are epoch ms. */
export interface Datum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: number;
  /** Each value with its count (PutMetricData Values/Counts; a single Value has count 1). */
  readonly values: readonly { readonly value: number; readonly count: number }[];
  readonly unit?: string;
  /** 1 (high resolution) or 60. */
  readonly storageResolution: 1 | 60;
}

/** What CloudWatch offers the other services. */
export interface CloudWatchPort {
  /** Store datapoints (Lambda's own metrics, published by the lab itself). */
  put(data: readonly Datum[]): void;
  /** Current state of each named alarm (metric or composite); undefined when it does not exist. */
  alarmStates(names: readonly string[]): Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | undefined>;
}

/** The routing of an alias: the primary version and at most one additional weighted version. */
export interface AliasRouting {
  readonly functionVersion: string;
  readonly additional?: { readonly version: string; readonly weight: number };
}

/** What Lambda offers CodeDeploy. */
export interface LambdaPort {
  getAlias(functionName: string, alias: string): AliasRouting | undefined;
  setAliasRouting(functionName: string, alias: string, routing: AliasRouting): void;
  /** Invoke a function asynchronously (InvocationType Event), as CodeDeploy invokes hooks. */
  invokeAsync(functionName: string, payload: unknown): void;
  functionExists(functionName: string): boolean;
  versionExists(functionName: string, version: string): boolean;
}

export interface LabContext {
  readonly scheduler: Scheduler;
  readonly events: LabEventBus;
}
