import { Writable } from 'node:stream';
import { synthSampleApp } from '../../src/lab/sample-app';
import { rehearse, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { combineStages, type ReleaseRun } from '../../src/rehearsal/runner';
import { renderReport } from '../../src/rehearsal/report';
import { loadScenarios, type Stage } from '../../src/rehearsal/scenario';
import { summaryTable, TABLE_COLUMNS } from '../../src/rehearsal/summary';
import { strategyResult } from './fixtures';

const out = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;

const stage = (name: string, trafficShare: number): Stage => ({ name, trafficShare, bakeMinutes: 1 });
const run = (over: Partial<ReleaseRun['result']>, requests: number, passed: boolean): ReleaseRun => ({ result: strategyResult(over), requests, passed });

describe('a staged release\'s result', () => {
  it('weighs each stage\'s new-version share of its requests by its traffic share, and counts the stages it entered', () => {
    const r = combineStages([
      { stage: stage('beta', 0.01), run: run({ outcome: 'completed', userRequestsToNewVersion: 90, failedUserRequests: 1 }, 100, true) },
      { stage: stage('prod-1', 0.3), run: run({ outcome: 'rolled-back', userRequestsToNewVersion: 300, failedUserRequests: 50, deploymentIds: ['d-3', 'd-4'] }, 3000, false) },
    ]);
    expect(r).toMatchObject({ outcome: 'rolled-back', stagesReached: 2, userRequestsToNewVersion: 390, failedUserRequests: 51, deploymentIds: ['d-1', 'd-2', 'd-3', 'd-4'] });
    // 0.01 x 90/100 + 0.3 x 300/3000
    expect(r.fleetExposure).toBeCloseTo(0.039, 9);
    expect(r.stages!.map((s) => [s.name, s.outcome, s.exposure])).toEqual([
      ['beta', 'passed', 0.9],
      ['prod-1', 'rolled-back', 0.1],
    ]);
  });

  it('calls a completed release whose stage did not bake within the window unfinished, not passed', () => {
    const r = combineStages([{ stage: stage('beta', 0.5), run: run({ outcome: 'completed' }, 100, false) }]);
    expect(r.outcome).toBe('unfinished');
    expect(r.stages![0].outcome).toBe('unfinished');
  });

  it('completes only when every stage passed', () => {
    const ok = run({ outcome: 'completed', userRequestsToNewVersion: 50 }, 100, true);
    const r = combineStages([
      { stage: stage('beta', 0.2), run: ok },
      { stage: stage('prod', 0.8), run: ok },
    ]);
    expect(r).toMatchObject({ outcome: 'completed', stagesReached: 2, fleetExposure: 0.5 });
  });
});

describe('rehearse a bad release through stages', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    [result] = await rehearse({ scenarios: loadScenarios(['staged-bug-caught-in-beta']), app: synthSampleApp(), out });
  }, 180_000);

  it('stops a release caught in beta there: it never reaches prod-1, and it served less of the fleet than beta\'s share', () => {
    expect(result.passed).toBe(true);
    const w = result.strategies.watchdog;
    expect(w).toMatchObject({ outcome: 'rolled-back', stagesReached: 1 });
    expect(w.stages!.map((s) => s.name)).toEqual(['beta']);
    expect(w.fleetExposure).toBeGreaterThan(0);
    expect(w.fleetExposure).toBeLessThan(0.01);
    // Beta's deployment only: the next stage's lab never ran.
    expect(w.deploymentIds).toHaveLength(2);
  });

  it('runs the native strategy through the same waves, each with its own alarm rollback', () => {
    const n = result.strategies.native;
    expect(n.stages![0]).toMatchObject({ name: 'beta', trafficShare: 0.01 });
    expect(n.stagesReached).toBe(n.stages!.length);
    expect(n.fleetExposure).toBeGreaterThanOrEqual(result.strategies.watchdog.fleetExposure);
  });

  it('shows stages reached and fleet exposure under the terminal table, within its width, and in the report', () => {
    const w = result.strategies.watchdog;
    const table = summaryTable([result]);
    expect(table).toContain(`stages reached and fleet exposure`);
    expect(table).toContain(`staged-bug-caught-in-beta, watchdog: 1 of 3 stages (beta rolled-back), ${+(w.fleetExposure * 100).toPrecision(2)} % of the fleet`);
    expect(Math.max(...table.split('\n').map((l) => l.length))).toBeLessThanOrEqual(TABLE_COLUMNS);
    const html = renderReport([result]);
    expect(html).toContain('<th>stages reached</th><th>fleet exposure</th>');
    expect(html).toContain(`<td>1 of 3</td><td>${+(w.fleetExposure * 100).toPrecision(2)} %</td>`);
    expect(html).toMatch(/<table class="stages">.*<td>beta<\/td><td>1 %<\/td><td>rolled-back<\/td>/s);
  });
});
