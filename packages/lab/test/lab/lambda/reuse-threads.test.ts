import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { endIdleThreads } from '../../../src/lab/lambda';

// A function whose module keeps state: a counter of its invocations and when it was loaded.
let codeDir: string;
beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-reuse-'));
  writeFileSync(
    join(codeDir, 'index.js'),
    `let calls = 0; const loadedAt = Date.now();
     exports.handler = async () => ({ calls: ++calls, loadedAt, colour: process.env.COLOUR, stale: process.env.STALE ?? null, endpoint: process.env.AWS_ENDPOINT_URL });`,
  );
});
afterAll(async () => {
  rmSync(codeDir, { recursive: true, force: true });
  await endIdleThreads();
});

async function run(env: Record<string, string>, invocations: number, reuseThreads: boolean) {
  const lab = new Lab({ seed: 1, reuseThreads });
  await lab.start();
  try {
    lab.lambda.createFunction({ name: 'counter', handler: 'index.handler', codeDir, environment: env });
    await lab.advance(90);
    const out = [];
    for (let i = 0; i < invocations; i++) out.push((await lab.lambda.invoke('counter', {}, 'test')).payload as Record<string, unknown>);
    return { out, endpoint: lab.endpoint, now: lab.now() };
  } finally {
    await lab.stop();
  }
}

describe('worker threads handed from one lab to the next (reuseThreads)', () => {
  it('gives each new environment a fresh module scope, its own variables and its own clock', async () => {
    const first = await run({ COLOUR: 'red', STALE: 'from the first lab' }, 3, true);
    expect(first.out.map((o) => o.calls)).toEqual([1, 2, 3]);
    const second = await run({ COLOUR: 'blue' }, 2, true);
    // Module state starts again, the first lab's variables are gone, and the endpoint is the new lab's.
    expect(second.out.map((o) => o.calls)).toEqual([1, 2]);
    expect(second.out[0]).toMatchObject({ colour: 'blue', stale: null, endpoint: second.endpoint });
    expect(second.out[0].loadedAt).toBeLessThanOrEqual(second.now);
  }, 30_000);

  it('answers exactly as a lab with threads of its own', async () => {
    const reused = await run({ COLOUR: 'green' }, 2, true);
    const fresh = await run({ COLOUR: 'green' }, 2, false);
    expect(reused.out.map(({ endpoint: _e, ...o }) => o)).toEqual(fresh.out.map(({ endpoint: _e, ...o }) => o));
  }, 30_000);
});
