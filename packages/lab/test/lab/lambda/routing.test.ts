import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

let codeDir: string;
beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-routing-'));
  writeFileSync(join(codeDir, 'index.js'), 'exports.handler = async (e) => e;');
});
afterAll(() => rmSync(codeDir, { recursive: true, force: true }));

/** Invoke `live` concurrently with events 0..n-1, sent in `order`; the executed version of each event. */
async function routeAll(order: number[], seed = 7): Promise<string[]> {
  const lab = new Lab({ seed, warm: false });
  await lab.start();
  try {
    lab.lambda.createFunction({ name: 'fn', handler: 'index.handler', codeDir, environment: { V: '1' } });
    lab.lambda.publishVersion('fn');
    lab.lambda.updateConfiguration('fn', { V: '2' });
    lab.lambda.publishVersion('fn');
    lab.lambda.createAlias('fn', 'live', { functionVersion: '1', additional: { version: '2', weight: 0.5 } });
    const results = await Promise.all(order.map(async (i) => [i, (await lab.lambda.invoke('fn', { i }, 'test', 'live')).executedVersion] as const));
    return results.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  } finally {
    await lab.stop();
  }
}

describe('weighted alias routing of invocations through the API', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
  const n = 40;
  const forward = [...Array(n).keys()];

  it('routes each invocation by its own seeded draw: the same whatever order concurrent requests arrive in', async () => {
    const a = await routeAll(forward);
    const b = await routeAll([...forward].reverse());
    expect(b).toEqual(a);
    // Both versions take a share near the 50 % weight.
    const onNew = a.filter((v) => v === '2').length;
    expect(onNew).toBeGreaterThan(n * 0.2);
    expect(onNew).toBeLessThan(n * 0.8);
  }, 30_000);

  it('routes differently under another seed', async () => {
    expect(await routeAll(forward, 8)).not.toEqual(await routeAll(forward, 7));
  }, 30_000);
});
