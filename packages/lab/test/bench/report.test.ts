import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judge, renderMarkdown, type Results, type SafetyRow } from '../../bench/report';
import { kindDetectionLimit as matrixLimit, KINDS, type Kind } from '../../bench/safety';

/** The limit with 200 runs, not the matrix's 2,000: simulations run ~50x slower under jest than under tsx. */
const kindDetectionLimit = (kind: Kind, rps: number) => matrixLimit(kind, rps, 200);

/** The committed results, stripped of what issue 16 added: a results.json from before it. */
function oldResults(): Results {
  const r = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as Results;
  const strip = (rows: SafetyRow[]) => rows.map(({ detectionLimitSeconds: _s, detectionLimitRejected: _r, detectionRatio: _d, ...row }) => row);
  const { noisy: _noisy, ...rest } = r;
  return { ...rest, safety: strip(r.safety), safetyNoisy: r.safetyNoisy && strip(r.safetyNoisy) };
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
    ['meets', { scenarios: 16, wallMs: 31_108, virtualMinutes: 422 }, true, '31.1 s: the bench\'s run of the 16 built-in scenarios'],
    ['misses', { scenarios: 16, wallMs: 60_000, virtualMinutes: 422 }, false, '60.0 s'],
    ['cannot judge in quick mode', null, false, 'not measured (quick mode)'],
  ])('%s the rehearsal goal from the timed built-in rehearsal', (_name, builtIn, met, measured) => {
    const r = oldResults();
    expect(goal({ ...r, throughput: { ...r.throughput, builtIn } }, '`npm run rehearse`')).toMatchObject({ met, measured: expect.stringContaining(measured) });
  });
});
