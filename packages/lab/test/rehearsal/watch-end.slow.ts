/**
 * The telemetry extension writes only while a release is watched (issue 22): after a good release
 * ends, the watchdog removes the version's watch item and the extension stops writing within 30 s,
 * measured with the lab's capacity accounting on the sample app.
 */
import { Writable } from 'node:stream';
import { synthSampleApp } from '../../src/lab/sample-app';
import { rehearse, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { loadScenarios } from '../../src/rehearsal/scenario';

const out = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
let result: ScenarioResult;

beforeAll(async () => {
  const [good] = loadScenarios(['good-release']);
  [result] = await rehearse({ scenarios: [{ ...good, traffic: { ...good.traffic, rps: 100 } }], app: synthSampleApp(), out });
}, 120_000);

describe('a good release at 100 requests/s on the sample app', () => {
  const watchdog = () => result.strategies.watchdog;
  const endedAt = () => watchdog().timeline.find((e) => e.what === 'deployment Succeeded')!.t;
  const lastWatchWrite = () => Math.max(...watchdog().cost.map((m) => m.lastWriteT.watch ?? -Infinity));

  it('completes, with the extension writing its counts while the release is watched (guard: the fast signal still runs)', () => {
    expect(watchdog().outcome).toBe('completed');
    const during = watchdog().cost.filter((m) => m.t >= 0 && m.t + 60 <= endedAt());
    expect(during.length).toBeGreaterThan(10);
    for (const m of during) expect(m.writesByKind.watch).toBeGreaterThan(0);
  });

  it('writes no watch item more than 30 s after the release ended, and nothing at all in the minutes after', () => {
    expect(lastWatchWrite()).toBeLessThanOrEqual(endedAt() + 30);
    const after = watchdog().cost.filter((m) => m.t >= endedAt() + 60);
    expect(after.length).toBeGreaterThan(5);
    for (const m of after) expect(m.writesByKind.watch).toBe(0);
  });
});
