import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judge, renderMarkdown, type Results, type SafetyRow } from '../../bench/report';
import { kindDetectionLimit as matrixLimit, KINDS, type FalseRollbackRow, type Kind } from '../../bench/safety';

/** The limit with 200 runs, not the matrix's 2,000: simulations run ~50x slower under jest than under tsx. */
const kindDetectionLimit = (kind: Kind, rps: number) => matrixLimit(kind, rps, 200);

/** The committed results, stripped of what issues 16 and 23 added: a results.json from before them. */
function oldResults(): Results {
  const r = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as Results;
  const strip = (rows: SafetyRow[]) =>
    rows.map((row) => {
      const { detectionLimitSeconds: _s, detectionLimitRejected: _r, detectionRatio: _d, oracle: _o, oracleRatio: _or, oracleCatchShare: _oc, ...rest } = row as SafetyRow & Record<string, unknown>;
      return rest as SafetyRow;
    });
  const { noisy: _noisy, floor: _floor, ...rest } = r;
  const { seeds: _seeds, noisySeeds: _ns, trials: _trials, ...settings } = r.settings;
  return { ...rest, settings, safety: strip(r.safety), safetyNoisy: r.safetyNoisy && strip(r.safetyNoisy) };
}

/** Rows with the limit, and the watchdog's median detection set per cell by `detect`. */
function withLimit(rows: readonly SafetyRow[], detect: (row: SafetyRow, limit: number | null) => number | null): SafetyRow[] {
  return rows.map((row) => {
    const limit = kindDetectionLimit(KINDS.find((k) => k.name === row.kind)!, row.rps);
    const median = detect(row, limit.seconds);
    return {
      ...row,
      detectionLimitSeconds: limit.seconds,
      detectionLimitRejected: limit.rejected,
      detectionRatio: median !== null && limit.seconds ? median / limit.seconds : null,
      strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, detectionMedian: median } },
    };
  });
}

const goal = (r: Results, starts: string) => judge(r).find((g) => g.goal.startsWith(starts))!;

describe('BENCHMARKS.md', () => {
  it('says when the run was smaller than the full one, and its sizes', () => {
    const r = oldResults();
    expect(renderMarkdown({ ...r, settings: { ...r.settings, seeds: 4, noisySeeds: 2, trials: 12 } })).toContain('by `npm run bench` with `--seeds 4 --trials 12` (4 seeds per safety cell, 2 under noise, 12 good releases per false-rollback row; the full run takes 20, 10 and 200)');
    expect(renderMarkdown({ ...r, settings: { ...r.settings, seeds: 20, noisySeeds: 10, trials: 200 } })).toMatch(/by `npm run bench` \(\d+ s\)/);
    expect(renderMarkdown(r).split('\n')[2]).not.toContain('--seeds');
  });

  it('renders results from before the detection-time limit, with "-" where the limit is missing', () => {
    const md = renderMarkdown(oldResults());
    expect(md).toContain('| release | req/s | oracle power | oracle detect s | floor s | watchdog caught | catch / oracle | native caught | watchdog detect s | ratio to oracle + floor | native detect s | fixed-alpha power (one look) | fixed-alpha detect s (every request) | ratio to fixed-alpha |');
    expect(md).toMatch(/\| 20 % errors \| 20 \| - \| - \| - \| [^|]+ \| - \| [^|]+ \| [^|]+ \| - \| [^|]+ \| 100 % \| - \| - \|/);
    expect(md).toContain('## Under noise');
    expect(goal(oldResults(), 'Median detection')).toMatchObject({ met: false, measured: 'not measured (results from before the detection-time limit)' });
  });

  it('shows the limit, the ratio, and for the good release the share of false rejections', () => {
    const r = oldResults();
    const md = renderMarkdown({ ...r, safety: withLimit(r.safety, () => 120) });
    const limit = kindDetectionLimit(KINDS[3], 20).seconds as number;
    expect(md).toContain(`| 100 % | ${limit.toFixed(1)} | ${(120 / limit).toFixed(1)}x |`);
    expect(md).toMatch(/\| good \(0\.5 %\) \| 20 \|.*\| 0 % \| \d+ \(false rejections in \d+\.\d % of runs\) \|/);
  });

  it('renders the noisy matrix from `noisy` before `safetyNoisy`', () => {
    const r = oldResults();
    const noisy = withLimit(r.safety, () => 7);
    const md = renderMarkdown({ ...r, noisy });
    const under = md.slice(md.indexOf('## Under noise'));
    expect(under).toMatch(new RegExp(`\\| 20 % errors \\| 20 \\|.*\\| 100 % \\| ${(kindDetectionLimit(KINDS[3], 20).seconds as number).toFixed(1)} \\|`));
  });
});

describe('the goal table', () => {
  it('misses the detection goal in the cells slower than 3x a limit under 60 s, and lists the cells whose limit is 0 s', () => {
    const r = oldResults();
    const quiet = withLimit(r.safety, (row, limit) => (row.kind === '5 % errors' && row.rps === 20 ? 100 : limit === null ? null : 2 * limit));
    const g = goal({ ...r, safety: quiet, noisy: quiet }, 'Median detection');
    const limit = kindDetectionLimit(KINDS[2], 20).seconds as number;
    expect(g.met).toBe(false);
    expect(g.measured).toContain(`missed in 1 of `);
    expect(g.measured).toContain(`5 % errors @ 20 (100 s vs ${limit.toFixed(1)} s, ${(100 / limit).toFixed(1)}x)`);
    expect(g.measured).toContain('limit 0 s, no ratio (crash on init, config mistake, p99 latency +1.5 s: they show on the first request): watchdog median 0 s in all 9 cells');
    expect(g.measured).toMatch(new RegExp(`noisy: missed in 1 of \\d+ cells: 5 % errors @ 20 ${(100 / limit).toFixed(1)}x`));
  });

  it('meets the detection goal when every cell under 60 s is within 3x, and counts a cell that never stopped as a miss', () => {
    const r = oldResults();
    const fast = withLimit(r.safety, (_row, limit) => (limit === null ? null : 3 * limit));
    expect(goal({ ...r, safety: fast }, 'Median detection').met).toBe(true);
    const never = withLimit(r.safety, (row, limit) => (row.kind === '20 % errors' && row.rps === 200 ? null : limit === null ? null : limit));
    expect(goal({ ...r, safety: never }, 'Median detection').measured).toContain('20 % errors @ 200 (no detection, limit');
  });

  it('judges the catch rate quiet and noisy, each against its own native', () => {
    const r = oldResults();
    const caughtAll = r.safety.map((row) => ({ ...row, strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, caught: 1 } } }));
    const noisyShort = caughtAll.map((row) => (row.kind === '5 % errors' && row.rps === 1 ? { ...row, strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, caught: 0.3 } } } : row));
    const goals = judge({ ...r, safety: caughtAll, noisy: noisyShort });
    expect(goals.find((g) => g.goal.endsWith('(quiet)'))).toMatchObject({ met: true, measured: 'met in all 18 cells' });
    expect(goals.find((g) => g.goal.endsWith('(noisy)'))).toMatchObject({ met: false, measured: expect.stringContaining('short in 1 of 18 cells: 5 % errors @ 1 req/s (30 % vs limit 45 %') });
  });

  it.each<[string, Results['throughput']['builtIn'], boolean, string]>([
    ['meets', { scenarios: 16, wallMs: 31_108, virtualMinutes: 422 }, true, '31.1 s: the bench\'s run of the 16 scenarios of the built-in tour'],
    ['misses', { scenarios: 16, wallMs: 60_000, virtualMinutes: 422 }, false, '60.0 s'],
    ['cannot judge in quick mode', null, false, 'not measured (quick mode)'],
  ])('%s the rehearsal goal from the timed built-in rehearsal', (_name, builtIn, met, measured) => {
    const r = oldResults();
    expect(goal({ ...r, throughput: { ...r.throughput, builtIn } }, '`npm run rehearse`')).toMatchObject({ met, measured: expect.stringContaining(measured) });
  });
});

describe('the goals against the oracle (issue 23)', () => {
  /** Rows with an oracle: a bad release's oracle detects in 4 s with power 90 %, the floor 2 s; the watchdog's median set by `detect`. */
  function withOracle(rows: readonly SafetyRow[], detect: (row: SafetyRow) => number | null, power = (_row: SafetyRow) => 0.9): SafetyRow[] {
    return rows.map((row) => {
      const bad = KINDS.find((k) => k.name === row.kind)!.bad;
      const oracle = bad ? { detectionSeconds: 4, power: power(row), floorSeconds: 2 } : { detectionSeconds: null, power: 0, floorSeconds: 2 };
      const median = detect(row);
      return {
        ...row,
        oracle,
        oracleRatio: median !== null && oracle.detectionSeconds !== null ? median / 6 : null,
        oracleCatchShare: bad && oracle.power > 0 ? row.strategies.watchdog.caught / oracle.power : null,
        strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, detectionMedian: median } },
      };
    });
  }

  it('meets the detection goal within 2x (oracle + floor), and misses it in a slower cell or one that never stopped', () => {
    const r = oldResults();
    const within = withOracle(r.safety, () => 12);
    expect(goal({ ...r, safety: within, noisy: within }, 'Median detection at most 2x (oracle + floor)')).toMatchObject({ met: true, measured: 'met in all 18 cells' });
    const slow = withOracle(r.safety, (row) => (row.kind === '5 % errors' && row.rps === 20 ? 13 : row.kind === '2 % errors' && row.rps === 200 ? null : 12));
    const g = goal({ ...r, safety: slow, noisy: within }, 'Median detection at most 2x (oracle + floor)');
    expect(g.met).toBe(false);
    expect(g.measured).toContain('missed in 2 of 18 cells: 2 % errors @ 200 (no detection vs 4.0 + 2.0 s); 5 % errors @ 20 (13 s vs 4.0 + 2.0 s, 2.2x)');
    // The fixed-alpha goal is not judged once the oracle is there.
    expect(judge({ ...r, safety: within, noisy: within }).some((x) => x.goal.includes('detection-time limit'))).toBe(false);
  });

  it('judges only the cells where the oracle detects within the canary, and names the others', () => {
    const r = oldResults();
    const rows = withOracle(r.safety, () => 500, (row) => (row.rps === 1 ? 0.3 : 0.9));
    const g = goal({ ...r, safety: rows, noisy: rows }, 'Median detection at most 2x (oracle + floor)');
    expect(g.measured).toMatch(/^missed in 12 of 12 cells/);
    expect(g.measured).toContain('not judged (the oracle detects in under half its runs within the canary): 2 % errors @ 1 (oracle power 30 %)');
  });

  it('meets the catch goal at 90 % of the oracle\'s power, and misses it below', () => {
    const r = oldResults();
    const caught = (c: number) => r.safety.map((row) => ({ ...row, strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, caught: row.kind === '2 % errors' && row.rps === 20 ? c : 1 } } }));
    const at = (c: number) => withOracle(caught(c), () => 1);
    expect(goal({ ...r, safety: at(0.81), noisy: at(0.81) }, 'Catch rate at least 90 % of the oracle')).toMatchObject({ met: true });
    expect(goal({ ...r, safety: at(0.8), noisy: at(0.81) }, 'Catch rate at least 90 % of the oracle')).toMatchObject({ met: false, measured: 'short in 1 of 18 cells: 2 % errors @ 20 req/s (80 % vs oracle 90 %)' });
  });

  it('does not judge the catch rate where the oracle itself rejects in under 1 % of canaries, and names those cells', () => {
    const r = oldResults();
    const none = r.safety.map((row) => ({ ...row, strategies: { ...row.strategies, watchdog: { ...row.strategies.watchdog, caught: row.kind === '2 % errors' && row.rps === 1 ? 0 : 1 } } }));
    const rows = withOracle(none, () => 1, (row) => (row.kind === '2 % errors' && row.rps === 1 ? 0.003 : 0.9));
    expect(goal({ ...r, safety: rows, noisy: rows }, 'Catch rate at least 90 % of the oracle')).toMatchObject({ met: true, measured: 'met in all 17 cells. not judged (the oracle rejects in under 1 % of canaries): 2 % errors @ 1 (0.3 %)' });
  });

  const row = (kind: string, rps: number, watchdog: number): FalseRollbackRow => ({ kind, rps, burstiness: 1, trials: 100, rolledBack: { watchdog, native: 0.5 }, decidedBy: { watchdog: watchdog ? { 'new-version': watchdog * 100 } : {}, native: {} } });

  it('judges false rollbacks per kind of noise: at most 1 % at 1, 20 and 200 req/s each', () => {
    const r = oldResults();
    const rows = [row('shared-outage', 1, 0), row('shared-outage', 20, 0.01), row('shared-outage', 200, 0), row('bursty-errors', 1, 0), row('bursty-errors', 20, 0.03), row('bursty-errors', 200, 0), row('flaky-probes-low-traffic', 1, 0)];
    const goals = judge({ ...r, falseRollbacksNoisy: rows });
    expect(goals.find((g) => g.goal.endsWith('shared-outage'))).toMatchObject({ met: true });
    expect(goals.find((g) => g.goal.endsWith('bursty-errors'))).toMatchObject({ met: false, measured: expect.stringContaining('3.0 % at 20 req/s (native 50.0 %; 100 trials; decided by new-version 3)') });
    expect(goals.find((g) => g.goal.endsWith('flaky-probes-low-traffic'))).toMatchObject({ met: false, measured: expect.stringContaining('not run at 20, 200 req/s') });
  });

  it('renders the oracle columns, the signal path and the noise column', () => {
    const r = oldResults();
    const floor = [{ rps: 20, seeds: 3, telemetry: { failures: 99, seen: 99, medianSeconds: 2.25, p90Seconds: 2.25 }, cloudwatch: { failures: 99, seen: 98, medianSeconds: 155, p90Seconds: 180 }, floorSeconds: 2.25 }];
    const md = renderMarkdown({ ...r, floor, safety: withOracle(r.safety, () => 12), falseRollbacksNoisy: [row('shared-outage', 20, 0)] });
    expect(md).toMatch(/\| 20 % errors \| 20 \| 90 % \| 4\.0 \| 2\.0 \| [^|]+ \| \d+ % \| [^|]+ \| 12 \/ [^|]+ \| 2\.0x \|/);
    expect(md).toContain('### Signal path');
    expect(md).toContain('| 20 | 3 | 99 (telemetry saw 99, CloudWatch 98) | 2.3 / 2.3 | 155 / 180 | 2.3 |');
    expect(md).toContain('| noise | req/s | trials |');
    expect(md).toContain('| shared-outage | 20 | 100 | 0.0 % | 50.0 % |');
    expect(md).toContain('- *shared-outage*: a dependency fails 10 %');
  });
});
