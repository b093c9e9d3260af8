import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';

const tmp = () => mkdtempSync(join(tmpdir(), 'cli-contract-'));
const README = readFileSync(resolve(__dirname, '../../../../docs/layers-and-statistics.md'), 'utf8');

/** The README's decision-record example, as a user would copy it into a file. */
function readmeDecisionRecord(): string {
  const section = README.slice(README.indexOf('## Decision record'));
  const m = /```json\n([\s\S]*?)\n```/.exec(section);
  expect(m).not.toBeNull();
  return m![1];
}

// Each test starts the CLI as a process (tsx compiles it first): seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

describe('the CLI contract: one exit status table for every command', () => {
  it('prints its package version with --version', async () => {
    const r = await runCli(['--version'], tmp());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')).version);
  });

  it('documents the exit status table in --help', async () => {
    const r = await runCli(['--help'], tmp());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit status \(every command\):\n {4}0 {2}completed.*\n {4}1 {2}rolled back.*\n {4}2 {2}bad input.*\n {4}3 {2}AWS or the lab unreachable.*\n {2}130 {2}interrupted/);
  });

  it.each([
    ['--json into a missing folder', ['--json', '/nonexistent-dir/out.json'], /--json \/nonexistent-dir\/out.json: folder \/nonexistent-dir does not exist/],
    ['--report that is a folder', ['--report', '.'], /--report \.: is a folder; give a file name/],
  ])('rejects %s at once with 2, before synthesizing or rehearsing anything', async (_name, args, message) => {
    const started = Date.now();
    const r = await runCli(['rehearse', '--scenario', 'bad-code', ...args], tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/Bundling/);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('rejects a --json path under a file with 2', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'plain'), '');
    const r = await runCli(['rehearse', '--scenario', 'bad-code', '--json', 'plain/out.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--json plain/out.json: ${join(dir, 'plain')} is not a folder`);
  });

  it('treats a folder with no scenarios as bad input', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.txt'), 'not a scenario');
    const r = await runCli(['rehearse', '--scenario', dir], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--scenario ${dir}: the folder holds no scenario (.yaml, .yml or .json files)`);
    expect(r.stdout).not.toContain('0 of 0');
  });

  it('treats a scenario naming a function the app does not guard as bad input, naming the file, the function and the app\'s functions', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'typo.yaml'), 'name: typo\nfunction: OrdersAPI-typo\ntraffic: { minutes: 5 }\nexpect: { outcome: completed }\n');
    const r = await runCli(['rehearse', '--scenario', join(dir, 'typo.yaml')], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: typo\.yaml: function OrdersAPI-typo is not a guarded function of the app; its guarded functions: \S*OrdersApi\S* \(construct OrdersApi\S+\), \S*PricingApi/);
    expect(r.stdout).not.toMatch(/scenarios met their expectations/);
  }, 60_000);

  it('explains the README\'s own decision-record example', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'record.json'), readmeDecisionRecord());
    const r = await runCli(['explain', join(dir, 'record.json')], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('d-ABCDEF123  orders:live v1 -> v2  10 % new  [shifting]');
    expect(r.stdout).toContain('ROLLBACK by layer new-version; action stop-deployment (ok); trigger schedule');
  });

  it.each([
    [['explain'], /give a file \(or - for standard input\) or --log-group NAME/],
    [['explain', '-', '--log-group', 'g'], /not both and not neither/],
    [['explain', '--log-group', 'g', '--deployment', 'nope'], /--deployment: expected a CodeDeploy deployment id/],
  ])('exits 2 from explain %j', async (args, message) => {
    const r = await runCli(args, tmp(), '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 from explain, saying what it expected, when the input holds no decision record', async () => {
    const r = await runCli(['explain', '-'], tmp(), '{"level":"INFO","message":"hello"}\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: standard input: no decision records found; expected decision records: .*JSON array, JSON lines or pretty-printed JSON/);
  });

  it.each([
    ['not JSON', '{', /^error: configuration is not valid JSON/],
    ['an invalid field', '{"mode":"yolo"}', /^error: config\.mode: expected one of enforce, shadow, got "yolo"/],
    ['a file that cannot be read', undefined, /^error: cannot read \/nonexistent-config\.json/],
  ])('exits 2 from check-config for %s', async (_name, text, message) => {
    const r = await runCli(['check-config', text === undefined ? '/nonexistent-config.json' : '-'], tmp(), text);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 for rehearse --quick with --scenario: the tour or the scenarios named, not both', async () => {
    const r = await runCli(['rehearse', '--quick', '--scenario', 'bad-code'], tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --quick and --scenario exclude each other: --quick rehearses a tour of the built-in scenarios, --scenario the ones you name');
  });

  it('exits 2 for an unknown flag', async () => {
    const r = await runCli(['rehearse', '--no-such-flag'], tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });
});
