import type { StrategyResult } from '../../src/rehearsal/runner';

/** A strategy's result: rolled back at 10 % by the new-version layer, with `over` changed. */
export const strategyResult = (over: Partial<StrategyResult>): StrategyResult => ({
  outcome: 'rolled-back',
  maxTrafficPercent: 10,
  detectionSeconds: 60,
  userRequestsToNewVersion: 100,
  failedUserRequests: 20,
  decidedBy: { layer: 'new-version', signal: 'errors' },
  wouldHaveRolledBack: false,
  deploymentIds: ['d-1', 'd-2'],
  timeline: [],
  series: { t: [], weight: [], minutes: [] },
  layers: [],
  cost: [],
  virtualMinutes: 10,
  wallMs: 100,
  stagesReached: 1,
  fleetExposure: 0.1,
  decisions: [],
  ...over,
});
