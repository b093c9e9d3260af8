import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOutput } from '../../bench/output';

const committed = { resultsJson: '/repo/packages/lab/bench/results.json', benchmarksMd: '/repo/BENCHMARKS.md' };
const scratch = () => '/tmp/scratch-1';

describe('where npm run bench writes', () => {
  it.each<[string, string[], { resultsJson: string; benchmarksMd: string; committed: boolean; quick: boolean }]>([
    ['a full run writes the committed figures', [], { ...committed, committed: true, quick: false }],
    ['a quick run writes to a scratch folder', ['--quick'], { resultsJson: '/tmp/scratch-1/results.json', benchmarksMd: '/tmp/scratch-1/BENCHMARKS.md', committed: false, quick: true }],
    ['a quick run with --write writes the committed figures', ['--quick', '--write'], { ...committed, committed: true, quick: true }],
  ])('%s', (_name, argv, expected) => {
    expect(benchOutput(argv, committed, scratch)).toMatchObject(expected);
  });

  it('sizes a run with --seeds and --trials; smaller than the full run, it writes to scratch unless --write', () => {
    expect(benchOutput([], committed, scratch)).not.toHaveProperty('seeds');
    expect(benchOutput(['--seeds', '6', '--trials', '12'], committed, scratch)).toMatchObject({ seeds: 6, trials: 12, committed: false, resultsJson: '/tmp/scratch-1/results.json' });
    expect(benchOutput(['--seeds', '6', '--trials', '12', '--write'], committed, scratch)).toMatchObject({ seeds: 6, trials: 12, ...committed, committed: true });
  });

  it('writes into --out DIR, checked before anything is measured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-out-'));
    expect(benchOutput(['--quick', '--out', dir], committed, scratch)).toMatchObject({ resultsJson: join(dir, 'results.json'), benchmarksMd: join(dir, 'BENCHMARKS.md'), committed: false });
    writeFileSync(join(dir, 'file'), '');
    expect(() => benchOutput(['--out', join(dir, 'file')], committed, scratch)).toThrow(`--out ${join(dir, 'file')}: is a file; give a folder`);
    expect(() => benchOutput(['--out', '/nonexistent-parent/x'], committed, scratch)).toThrow('--out /nonexistent-parent/x: folder /nonexistent-parent does not exist');
  });

  it.each([
    [['--quik'], '--quik: unknown flag; allowed: --quick, --write, --out DIR, --render, --seeds N, --trials N'],
    [['--seeds'], '--seeds: expected a whole number from 1 to 1000, got nothing'],
    [['--trials', '0'], '--trials: expected a whole number from 1 to 1000, got 0'],
    [['--trials', '2.5'], '--trials: expected a whole number from 1 to 1000, got 2.5'],
    [['--quick', '--seeds', '3'], '--quick and --seeds exclude each other'],
    [['--out'], '--out: expected a folder, got nothing'],
    [['--write', '--out', '/tmp'], '--write and --out exclude each other'],
  ])('rejects %j as bad input', (argv, message) => {
    expect(() => benchOutput(argv, committed, scratch)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringContaining(message) }));
  });
});
