import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { synthSampleApp } from '../../src/lab/sample-app';
import { runCli as run } from './run-cli';

/** The sample app synthesized, with one function's template properties changed. */
function brokenApp(match: (description: string, logicalId: string) => boolean, change: (props: Record<string, unknown>) => void): string {
  const dir = synthSampleApp();
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string } }> };
  const file = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack')!.properties!.templateFile!;
  const template = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const hits = Object.entries(template.Resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && match(String(r.Properties.Description ?? ''), id));
  expect(hits).toHaveLength(1);
  change(hits[0][1].Properties);
  writeFileSync(join(dir, file), JSON.stringify(template));
  return dir;
}

describe('canary-watchdog rehearse: a rehearsal whose watchdog, hooks or prober could not run is not a result', () => {
  it('resolves a relative --app against the current directory, so the watchdog (not its silent heartbeat) decides', async () => {
    const app = synthSampleApp();
    const json = join(mkdtempSync(join(tmpdir(), 'rehearse-json-')), 'out.json');
    const r = await run(['rehearse', '--app', basename(app), '--scenario', 'bad-code', '--json', json], dirname(app));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')).scenarios[0];
    // The watchdog's own layers decide (probes or new-version), not CodeDeploy's heartbeat alarm.
    expect(['probes', 'new-version']).toContain(result.strategies.watchdog.decidedBy.layer);
    // The JSON keeps the watchdog's decision records (those that say something new) and a failed
    // pre-traffic hook's record, so explain reads it and shows what decided.
    const explained = await run(['explain', '--rollbacks-only', json], dirname(app));
    expect({ code: explained.code, stderr: explained.stderr }).toEqual({ code: 0, stderr: '' });
    expect(explained.stdout).toMatch(/ROLLBACK by layer (probes|new-version)|PRE-TRAFFIC HOOK Failed/);
    expect(explained.stdout).toContain(result.strategies.watchdog.decidedBy.signal);
  }, 120_000);

  it.each<[string, (d: string, id: string) => boolean, (p: Record<string, unknown>) => void, RegExp]>([
    ['the watchdog function cannot load its handler', (d) => d === 'canary-watchdog watchdog', (p) => (p.Handler = 'index.nothere'), /canary-watchdog watchdog.*Handler 'nothere' missing/s],
    ['the prober crashes on every run', (d) => d === 'canary-watchdog prober', (p) => Object.assign((p.Environment as { Variables: Record<string, unknown> }).Variables, { CANARY_WATCHDOG_CONFIG_SOURCE: 'environment', CANARY_WATCHDOG_CONFIG: '{' }), /canary-watchdog prober.*CANARY_WATCHDOG_CONFIG/s],
    ['the guarded function cannot load its handler', (_d, id) => id.startsWith('OrdersApi'), (p) => (p.Handler = 'index.nothere'), /OrdersApi.*Handler 'nothere' missing/s],
  ])('exits 3 (no verdict) with the error when %s', async (_name, match, change, message) => {
    const app = brokenApp(match, change);
    const r = await run(['rehearse', '--app', app, '--scenario', 'bad-code'], tmpdir());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/scenarios met their expectations/);
  }, 120_000);
});
