/**
 * REPORT's Max Memory Used is measured: the environment's own memory (the worker's V8 heap and
 * the external memory its buffers hold, a Python process's peak RSS), in MB as Lambda prints it,
 * never above Memory Size. https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

const CODE = {
  idle: 'exports.handler = async () => "ok";\n',
  // About 60 MB on the heap (7.5 million doubles), dropped when the invocation returns.
  heap: 'exports.handler = async () => { const a = new Array(7_500_000).fill(1.5); return a.length; };\n',
  // About 60 MB of buffers outside the heap, kept by the module (an environment's cache).
  buffers: 'const kept = []; exports.handler = async () => { kept.push(Buffer.alloc(60 * 1024 * 1024, 1)); return kept.length; };\n',
  // More than its 128 MB Memory Size.
  over: 'exports.handler = async () => { const b = Buffer.alloc(200 * 1024 * 1024, 1); return b.length; };\n',
};

/** Python functions, when this host has python3 (as python-runtime.test.ts). */
const PYTHON = {
  pyidle: 'def handler(event, context):\n    return "ok"\n',
  // About 60 MB held while the invocation runs: the process's peak resident memory keeps it.
  pybig: 'def handler(event, context):\n    b = bytearray(b"x" * (60 * 1024 * 1024))\n    return len(b)\n',
};
const hostPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let lab: Lab;
let client: LambdaClient;
const dirs: string[] = [];
beforeAll(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  for (const [name, code] of Object.entries(CODE)) {
    const dir = mkdtempSync(join(tmpdir(), `lab-max-memory-${name}-`));
    dirs.push(dir);
    writeFileSync(join(dir, 'index.js'), code);
    lab.lambda.createFunction({ name, handler: 'index.handler', codeDir: dir, memorySize: name === 'over' ? 128 : 512 });
  }
  for (const [name, code] of hostPython ? Object.entries(PYTHON) : []) {
    const dir = mkdtempSync(join(tmpdir(), `lab-max-memory-${name}-`));
    dirs.push(dir);
    writeFileSync(join(dir, 'index.py'), code);
    lab.lambda.createFunction({ name, handler: 'index.handler', codeDir: dir, runtime: 'python3.12', memorySize: 512 });
  }
  client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await lab.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The Memory Size and Max Memory Used of an invocation's REPORT line. */
async function report(name: string): Promise<{ size: number; used: number }> {
  const out = await client.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
  const tail = Buffer.from(out.LogResult!, 'base64').toString('utf8');
  const m = /Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB/.exec(tail);
  if (!m) throw new Error(`no REPORT line in ${tail}`);
  return { size: Number(m[1]), used: Number(m[2]) };
}

it('shows a handler that allocates ~60 MB on the heap using more than one that allocates nothing', async () => {
  const idle = await report('idle');
  const heap = await report('heap');
  expect(idle.used).toBeGreaterThan(0);
  expect(heap.used - idle.used).toBeGreaterThanOrEqual(40);
});

it('counts buffers outside the heap, and keeps the environment\'s peak from one invocation to the next', async () => {
  const idle = await report('idle');
  const first = await report('buffers');
  const second = await report('buffers');
  expect(first.used - idle.used).toBeGreaterThanOrEqual(40);
  expect(second.used - first.used).toBeGreaterThanOrEqual(40);
});

it('never reports more than Memory Size', async () => {
  expect(await report('over')).toEqual({ size: 128, used: 128 });
});

(hostPython ? it : it.skip)('measures a Python function\'s process: ~60 MB more for one that allocates it', async () => {
  const idle = await report('pyidle');
  const big = await report('pybig');
  expect(idle.used).toBeGreaterThan(0);
  expect(big.used - idle.used).toBeGreaterThanOrEqual(40);
});
