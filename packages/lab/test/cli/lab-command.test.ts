import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../bin/canary-watchdog.js');

/** `one` answers 1; `judge` logs the decision record it is given, as the watchdog does; `py` (with `python`) answers 2 from Python. */
function oneFunctionAssembly(python?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-app-'));
  const fn = (name: string, code: string, runtime?: string) => ({ Type: 'AWS::Lambda::Function', Properties: { FunctionName: name, Handler: 'index.handler', Code: { ZipFile: code }, ...(runtime ? { Runtime: runtime } : {}) } });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { One: { type: 'aws:cloudformation:stack', properties: { templateFile: 'One.template.json' } } } }));
  writeFileSync(
    join(dir, 'One.template.json'),
    JSON.stringify({
      Resources: {
        Fn: fn('one', 'exports.handler = async () => 1;'),
        Judge: fn('judge', 'exports.handler = async (decision) => { console.log(JSON.stringify({ level: "INFO", message: "decision", decision })); };'),
        Role: { Type: 'AWS::IAM::Role', Properties: {} },
        ...(python ? { Py: fn('py', 'def handler(event, context):\n    return 2\n', python) } : {}),
      },
    }),
  );
  return dir;
}

/** Start the CLI's lab; resolves once it prints its endpoint. */
async function startLab(args: string[], cwd?: string) {
  const child = spawn(process.execPath, [CLI, 'lab', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  const output = { out: '' };
  child.stdout.on('data', (d: Buffer) => (output.out += d.toString()));
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    const timer = setTimeout(() => reject(new Error(`no endpoint after 30 s: ${output.out}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output.out);
      if (m && output.out.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolveEndpoint(m[1]);
      }
    });
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output, endpoint, exited };
}

const invoke = (endpoint: string, fn: string, event: unknown = {}) => fetch(`${endpoint}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: JSON.stringify(event) });

describe('canary-watchdog lab', () => {
  it('--start now starts the virtual clock at the wall clock, so a client\'s current timestamps are accepted', async () => {
    const before = Date.now();
    const { child, endpoint, exited } = await startLab(['--app', oneFunctionAssembly(), '--start', 'now']);
    const { now } = (await (await fetch(`${endpoint}/_lab/clock`)).json()) as { now: string };
    expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(now)).toBeLessThanOrEqual(Date.now());
    const put = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData' },
      body: JSON.stringify({ Namespace: 'Script', MetricData: [{ MetricName: 'Runs', Value: 1, Timestamp: Date.now() / 1000 }] }),
    });
    expect(put.status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it.each([
    [['--start', 'soon'], '--start <time>\' argument \'soon\' is invalid. expected now or an ISO 8601 time with a zone'],
    [['--clock', 'real', '--start', '2026-03-01'], '--start needs --clock virtual'],
  ])('refuses %j as bad input (exit 2), naming what it takes', (args, message) => {
    const r = spawnSync(process.execPath, [CLI, 'lab', '--port', '0', '--app', oneFunctionAssembly(), ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('starts on loopback, prints the endpoint and what it loaded, answers the control API and stops on SIGINT', async () => {
    const { child, output, endpoint, exited } = await startLab(['--app', oneFunctionAssembly()]);
    const out = () => output.out;
    expect(out()).toContain('loaded One');
    expect(out()).toContain('not modelled (no behaviour to emulate or not supported): AWS::IAM::Role x1');
    expect(out()).toContain(`export AWS_ENDPOINT_URL=${endpoint}`);
    expect(await (await fetch(`${endpoint}/_lab/clock`)).json()).toEqual({ now: '2026-01-01T00:00:00.000Z' });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out()).toContain('lab stopped (SIGINT)');
  }, 60_000);

  it('--empty loads no app and --clock real --speed 60 runs lab time sixty times faster', async () => {
    const child = spawn(process.execPath, [CLI, 'lab', '--port', '0', '--empty', '--clock', 'real', '--speed', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
      const timer = setTimeout(() => reject(new Error(`no endpoint after 30 s: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m && out.includes('Ctrl-C')) {
          clearTimeout(timer);
          resolveEndpoint(m[1]);
        }
      });
    });
    expect(out).toContain('clock: real x60');
    expect(out).toContain('no app loaded: waiting for cdk bootstrap and cdk deploy');
    const clock = async () => Date.parse(((await (await fetch(`${endpoint}/_lab/clock`)).json()) as { now: string }).now);
    const [lab0, wall0] = [await clock(), Date.now()];
    await new Promise((r) => setTimeout(r, 1_000));
    const labMs = (await clock()) - lab0;
    const wallMs = Date.now() - wall0;
    expect(labMs / wallMs).toBeGreaterThan(40);
    expect(labMs / wallMs).toBeLessThan(80);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it.each([
    [['--speed', '10'], '--speed needs --clock real: a virtual clock moves only when advanced'],
    [['--empty', '--app', 'cdk.out'], '--empty and --app exclude each other: an empty lab loads no app'],
    [['--clock', 'real', '--speed', '0'], "option '--speed <n>' argument '0' is invalid. expected a number from 1 to 3600 (lab seconds per wall-clock second), got 0"],
  ])('refuses %j with a message naming the flag', async (args, message) => {
    const child = spawn(process.execPath, [CLI, 'lab', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain(message);
  }, 30_000);

  it('loads an app given by a relative path, prints each watchdog decision as it happens, and on SIGTERM stops with every worker thread, leaving no process', async () => {
    const app = oneFunctionAssembly();
    const { child, output, endpoint, exited } = await startLab(['--app', basename(app), '--clock', 'real'], dirname(app));
    expect(output.out).toContain(`loaded One from ${app}`);
    expect(await (await invoke(endpoint, 'one')).json()).toBe(1);
    const decision = {
      type: 'canary-watchdog.decision', deploymentId: 'd-CLI', at: '2026-01-01T00:02:00.000Z', trigger: 'schedule', functionName: 'orders', alias: 'live',
      currentVersion: '1', targetVersion: '2', trafficPercent: 10, stage: 'canary', action: 'rollback', layer: 'new-version', reasons: ['errors failed: 9 of 40'],
      actionTaken: 'stop-and-rollback', actionResult: 'stopped',
    };
    expect((await invoke(endpoint, 'judge', decision)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(output.out).toContain('2026-01-01T00:02:00.000Z decision d-CLI orders:live v1->v2 at 10 % [canary] rollback by new-version: errors failed: 9 of 40 (stop-and-rollback: stopped; trigger schedule)');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.out).toContain('lab stopped (SIGTERM)');
    expect(() => process.kill(child.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 60_000);

  it('runs a Python function, says once that the host\'s Python is not its runtime\'s, and on SIGTERM leaves no python process', async () => {
    const host = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout?.trim();
    if (!host) return void process.stderr.write('*** lab-command Python test SKIPPED: no python3 on this host ***\n');
    // A runtime other than the host's, so that the note is due.
    const runtime = host === '3.13' ? 'python3.12' : 'python3.13';
    const { child, output, endpoint, exited } = await startLab(['--app', oneFunctionAssembly(runtime)]);
    expect(await (await invoke(endpoint, 'py')).json()).toBe(2);
    expect(output.out.split('\n').filter((l) => l.startsWith('lab: '))).toEqual([`lab: ${runtime} functions run on this host's Python ${host} (the lab has no other): code that needs ${runtime.slice(6)} itself may behave differently`]);
    const pythons = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes('python_worker.py'))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(pythons.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pythons) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 60_000);

  it('stops on SIGINT while an invocation is stuck in an endless loop', async () => {
    const app = oneFunctionAssembly();
    writeFileSync(join(app, 'One.template.json'), readFileSync(join(app, 'One.template.json'), 'utf8').replace('async () => 1;', 'async () => { for (;;); };'));
    const { child, output, endpoint, exited } = await startLab(['--app', app]);
    void invoke(endpoint, 'one').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output.out).toContain('lab stopped (SIGINT)');
  }, 60_000);

  it('exits 2 at once, naming the folder, when --app is not a cloud assembly', async () => {
    const notAnApp = mkdtempSync(join(tmpdir(), 'cli-not-an-app-'));
    const child = spawn(process.execPath, [CLI, 'lab', '--port', '0', '--clock', 'real', '--app', notAnApp], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolveCode, reject) => {
      const timer = setTimeout(() => reject(new Error(`still running after 20 s: ${err}`)), 20_000);
      child.on('exit', (c) => (clearTimeout(timer), resolveCode(c)));
    });
    expect(code).toBe(2);
    expect(err).toContain(`error: --app: ${notAnApp} is not a cloud assembly: no manifest.json (run npx cdk synth first)`);
  }, 30_000);

  it('exits 2 at once, naming the field, when the --traffic file is wrong, and says which functions it starts when it is right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-traffic-'));
    writeFileSync(join(dir, 'bad.yaml'), 'functions:\n  one: { rps: 5, events: [42] }\n');
    const bad = spawnSync(process.execPath, [CLI, 'lab', '--port', '0', '--empty', '--traffic', join(dir, 'bad.yaml')], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('error: bad.yaml.functions.one.events[0]: expected a Lambda event (a JSON object) or { event, weight }, got 42');
    writeFileSync(join(dir, 'good.yaml'), 'functions:\n  one: { rps: 5, events: [{ qty: 1 }] }\n');
    const { child, output, endpoint, exited } = await startLab(['--empty', '--traffic', join(dir, 'good.yaml')]);
    expect(output.out).toContain(`user traffic from ${join(dir, 'good.yaml')} (real code): one 5/s; none deployed yet, the others start as a stack deploys them`);
    // It answers (and has set up its signal handlers) before it is stopped.
    expect((await fetch(`${endpoint}/_lab/clock`)).status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);

  it('rejects a bad port with the allowed range', async () => {
    const child = spawn(process.execPath, [CLI, 'lab', '--port', '70000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(err).toContain("option '--port <n>' argument '70000' is invalid. expected a port from 0 to 65535, got 70000");
  }, 30_000);
});

describe('exit status', () => {
  it.each([
    [['rehearse', '--scenario', 'no-such-scenario'], 2],
    [['rehearse', '--parallel', '0'], 2],
    [['no-such-command'], 2],
    [['--help'], 0],
  ])('canary-watchdog %j exits %i', async (args, status) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    expect(await new Promise((r) => child.on('exit', (c) => r(c)))).toBe(status);
  }, 30_000);
});

describe('the installed command', () => {
  it('runs when reached through a link without the .js name, as npx and node_modules/.bin reach it', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'cli-bin-')), 'canary-watchdog');
    symlinkSync(CLI, link);
    const child = spawn(process.execPath, [link, '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    expect(await new Promise((r) => child.on('exit', (c) => r(c)))).toBe(0);
    expect(out).toMatch(/^Usage: canary-watchdog/);
  }, 30_000);
});
