import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { INITIAL_STATE } from '../../src/core/evaluate';
import type { DeploymentSnapshot, EvaluationState, LayerSpec, Observation, Observations } from '../../src/core/types';
import { signalKey } from '../../src/core/types';

export const T0 = Date.parse('2026-11-28T10:00:00Z');
export const MIN = 60_000;

export const WATCHDOG_CONFIG = parseWatchdogConfig({
  guards: [
    {
      application: 'orders-app',
      deploymentGroup: 'orders-dg',
      functionName: 'orders',
      alias: 'live',
      configChecks: [{ key: 'TABLE_NAME' }],
      probes: [{ name: 'list', event: { path: '/orders' }, expect: { status: 'success' } }],
      alarms: { service: ['orders-5xx'] },
      customLayers: [{ name: 'downstream', alarms: ['payments-latency'] }],
    },
  ],
});
export const GUARD = WATCHDOG_CONFIG.guards[0];
export const LAYERS: LayerSpec[] = buildLayers(GUARD, WATCHDOG_CONFIG.namespace);

export function snapshot(over: Partial<DeploymentSnapshot> = {}): DeploymentSnapshot {
  return {
    deploymentId: 'd-ABCDEF123',
    application: 'orders-app',
    deploymentGroup: 'orders-dg',
    functionName: 'orders',
    alias: 'live',
    status: 'InProgress',
    currentVersion: '1',
    targetVersion: '2',
    createdAt: T0,
    newVersionWeight: 0.1,
    rollout: { type: 'canary', percent: 10, intervalMinutes: 10 },
    trafficShiftStartedAt: T0 + MIN,
    ...over,
  };
}

const window = { start: T0, end: T0 + 5 * MIN };

/** Healthy observations for every signal of LAYERS: a good release with plenty of traffic. */
export function healthy(): Record<string, Observation> {
  const o: Record<string, Observation> = {};
  for (const l of LAYERS) {
    for (const s of l.signals) {
      const k = signalKey(l.name, s.name);
      if (s.kind === 'alarm') o[k] = { kind: 'alarm', state: 'OK', reason: 'Threshold Crossed: no datapoints breaching', since: T0 - 60 * MIN };
      else if (s.kind === 'rate' && s.maxRate === 0) o[k] = { kind: 'counts', new: { events: 0, total: 1 }, window };
      else if (s.kind === 'rate') {
        // A prober alive to the end: 18 samples (one probe, 6 rounds a minute) in its last 2 minutes.
        const fresh = s.freshMinutes !== undefined ? { fresh: { events: 0, total: 18 }, freshWindow: { start: window.end - 2 * MIN, end: window.end } } : {};
        o[k] = { kind: 'counts', new: { events: 1, total: 600 }, old: { events: 30, total: 5400 }, window, ...fresh };
      } else o[k] = { kind: 'value', new: { value: 120, samples: 1200 }, old: { value: 110, samples: 5400 }, window };
    }
  }
  return o;
}

export function obs(over: Record<string, Observation> = {}): Observations {
  return { ...healthy(), ...over };
}

export const counts = (newE: number, newT: number, oldE = 30, oldT = 5400): Observation => ({
  kind: 'counts',
  new: { events: newE, total: newT },
  old: { events: oldE, total: oldT },
  window,
});

export const alarm = (state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', since = T0 + 2 * MIN): Observation => ({
  kind: 'alarm',
  state,
  reason: `Threshold Crossed: 1 datapoint was ${state === 'ALARM' ? 'greater' : 'not greater'} than the threshold`,
  since,
});

export const unreadable: Observation = { kind: 'unreadable', error: 'ThrottlingException: Rate exceeded' };

export const state = (over: Partial<EvaluationState> = {}): EvaluationState => ({ ...INITIAL_STATE, ...over });
