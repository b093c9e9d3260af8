/**
 * Python functions run for real in the lab: one host python3 process per published version, with
 * Lambda's handler resolution, context object, error payloads, environment, logs and the lab's
 * virtual clock (lib/lab/lambda/python-runtime.ts, python_worker.py).
 * https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html
 */
import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { LabError } from '../../../src/lab/kernel';

const hostPython = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
const hostHasBoto3 = (() => {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hostPython) process.stderr.write('\n*** python-runtime.test.ts SKIPPED: no python3 on this host; the lab cannot run Python functions here ***\n\n');
const describeWithPython = hostPython ? describe : describe.skip;

const APP = `
import datetime, json, os, sys, time

LOADED_AT = time.time()

def handler(event, context):
    if event.get("raise"):
        raise ValueError("no quote for sku " + event["raise"])
    if event.get("sleep") is not None:
        before = time.time()
        time.sleep(event["sleep"])
        print("woke after", event["sleep"])
        return {"slept_ms": round((time.time() - before) * 1000), "remaining": context.get_remaining_time_in_millis()}
    if event.get("clock"):
        return {"time_ms": round(time.time() * 1000), "now": datetime.datetime.now(datetime.timezone.utc).isoformat(), "utcnow": datetime.datetime.utcnow().isoformat()}
    if event.get("env"):
        return {k: os.environ.get(k) for k in event["env"]} | {"sys_path_0": sys.path[0], "cwd": os.getcwd()}
    if event.get("unmarshallable"):
        return {1, 2}
    print("quote for", json.dumps(event))
    sys.stderr.write("to stderr\\n")
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
    }
`;

describeWithPython('the lab runs Python functions', () => {
  let codeDir: string;
  let lab: Lab;
  beforeAll(() => {
    codeDir = mkdtempSync(join(tmpdir(), 'lab-python-'));
    writeFileSync(join(codeDir, 'shipping.py'), APP);
    writeFileSync(join(codeDir, 'broken_init.py'), 'raise RuntimeError("config missing")\n');
  });
  afterAll(() => rmSync(codeDir, { recursive: true, force: true }));
  beforeEach(async () => {
    lab = new Lab({ warm: false });
    await lab.start();
  });
  afterEach(() => lab.stop());

  const create = (handler = 'shipping.handler', extra: Record<string, unknown> = {}) => {
    lab.lambda.createFunction({ name: 'quote', handler, codeDir, runtime: 'python3.12', timeoutSeconds: 3, memorySize: 256, environment: { CURRENCY: 'EUR' }, ...extra });
    return lab.lambda.publishVersion('quote');
  };

  it('resolves module.func from the code folder and passes the event and the documented context', async () => {
    const v = create();
    const r = await lab.lambda.invoke('quote', { sku: 'sku-1' }, 'test', v);
    expect(r.functionError).toBeUndefined();
    const p = r.payload as Record<string, unknown>;
    expect(p).toMatchObject({
      event: { sku: 'sku-1' },
      function_name: 'quote',
      function_version: '1',
      invoked_function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:quote:1',
      memory_limit_in_mb: 256,
      log_group_name: '/aws/lambda/quote',
    });
    expect(p.aws_request_id).toEqual(expect.any(String));
    expect(p.log_stream_name).toMatch(/^2026\/01\/01\/\[1\][0-9a-f]{32}$/);
    expect(p.remaining).toBeGreaterThan(2900);
    expect(p.remaining).toBeLessThanOrEqual(3000);
    // stdout and stderr lines go to the function's log, as the Node.js runtime's do.
    const lines = lab.lambda.logs.filter((l) => l.functionName === 'quote').map((l) => l.line);
    expect(lines).toEqual(expect.arrayContaining(['quote for {"sku": "sku-1"}', 'to stderr']));
  });

  it('writes START, its output, END and REPORT for each invocation, the request id the context\'s; Init Duration on the cold start only', async () => {
    const v = create();
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push(((await lab.lambda.invoke('quote', { sku: `s${i}` }, 'test', v)).payload as { aws_request_id: string }).aws_request_id);
      // The first has ended by the second (calls at one instant are concurrent: each a cold start).
      await lab.advance(1);
    }
    const lines = lab.lambda.logs.filter((l) => l.functionName === 'quote').map((l) => l.line);
    for (const [i, id] of ids.entries()) {
      const start = lines.indexOf(`START RequestId: ${id} Version: 1`);
      const report = lines.findIndex((l) => l.startsWith(`REPORT RequestId: ${id}\t`));
      expect(start).toBeGreaterThanOrEqual(0);
      expect(lines.slice(start, report + 1)).toEqual([`START RequestId: ${id} Version: 1`, `quote for {"sku": "s${i}"}`, 'to stderr', `END RequestId: ${id}`, lines[report]]);
      expect(/Init Duration: \d+\.\d\d ms\t$/.test(lines[report])).toBe(i === 0);
    }
  });

  it('answers an uncaught exception with the documented payload: errorMessage, errorType, requestId, stackTrace', async () => {
    const v = create();
    const r = await lab.lambda.invoke('quote', { raise: 'sku-9' }, 'test', v);
    expect(r.functionError).toBe('Unhandled');
    const p = r.payload as { errorMessage: string; errorType: string; requestId: string; stackTrace: string[] };
    expect(Object.keys(p).sort()).toEqual(['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    expect(p).toMatchObject({ errorMessage: 'no quote for sku sku-9', errorType: 'ValueError' });
    expect(p.requestId).toMatch(/\S/);
    expect(p.stackTrace.join('')).toContain('raise ValueError("no quote for sku " + event["raise"])');
    // It starts at the function's own code, as the runtime's does: the lab's runner is not in it.
    // The code is where Lambda puts it, /var/task, not in the lab host's folder.
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime (LAMBDA_TASK_ROOT)
    expect(p.stackTrace[0]).toContain('File "/var/task/shipping.py", line');
    expect(p.stackTrace.join('')).not.toContain(codeDir);
    expect(p.stackTrace.join('')).not.toContain('python_worker.py');
    expect(lab.lambda.invocations.at(-1)).toMatchObject({ ok: false, error: { type: 'ValueError', init: false, injected: false } });
    // The process lives on: the next request is served.
    expect((await lab.lambda.invoke('quote', { sku: 'sku-2' }, 'test', v)).functionError).toBeUndefined();
  });

  it('a response that is not JSON is Runtime.MarshalError', async () => {
    const r = await lab.lambda.invoke('quote', { unmarshallable: true }, 'test', create());
    expect(r.payload).toMatchObject({ errorType: 'Runtime.MarshalError', errorMessage: expect.stringContaining('Unable to marshal response') });
  });

  it('a module that cannot be imported is Runtime.ImportModuleError, an init failure; a missing function is Runtime.HandlerNotFound', async () => {
    const v = create('no_such_module.handler');
    const r = await lab.lambda.invoke('quote', {}, 'test', v);
    expect(r.payload).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: "Unable to import module 'no_such_module': No module named 'no_such_module'" });
    expect(lab.lambda.invocations.at(-1)).toMatchObject({ ok: false, error: { init: true } });

    lab.lambda.updateCode('quote', { dir: codeDir, handler: 'shipping.nope' });
    const missing = await lab.lambda.invoke('quote', {}, 'test', lab.lambda.publishVersion('quote'));
    expect(missing.payload).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: "Handler 'nope' missing on module 'shipping'" });

    // Code that raises while it loads: its own exception, as an init failure.
    lab.lambda.updateCode('quote', { dir: codeDir, handler: 'broken_init.handler' });
    const broken = await lab.lambda.invoke('quote', {}, 'test', lab.lambda.publishVersion('quote'));
    expect(broken.payload).toMatchObject({ errorType: 'RuntimeError', errorMessage: 'config missing' });
    expect(lab.lambda.invocations.at(-1)).toMatchObject({ ok: false, error: { init: true } });
  });

  it('follows the lab clock: time.time() and datetime.now() read it, a sleep advances the invocation by its length at no wall-clock cost', async () => {
    const v = create();
    const clock = (await lab.lambda.invoke('quote', { clock: true }, 'test', v)).payload as { time_ms: number; now: string; utcnow: string };
    expect(clock.time_ms).toBe(Date.UTC(2026, 0, 1));
    expect(clock.now).toBe('2026-01-01T00:00:00+00:00');
    expect(clock.utcnow).toBe('2026-01-01T00:00:00');
    await lab.advance(90);
    expect(((await lab.lambda.invoke('quote', { clock: true }, 'test', v)).payload as { time_ms: number }).time_ms).toBe(Date.UTC(2026, 0, 1, 0, 1, 30));

    const wall = Date.now();
    const slept = await lab.lambda.invoke('quote', { sleep: 2 }, 'test', v);
    expect(slept.payload).toEqual({ slept_ms: 2000, remaining: 1000 });
    expect(slept.durationMs).toBe(2000);
    expect(Date.now() - wall).toBeLessThan(1500);
  });

  it('a sleep past the timeout is Sandbox.Timedout at the timeout; the code after it never runs', async () => {
    const v = create();
    const wall = Date.now();
    const r = await lab.lambda.invoke('quote', { sleep: 10 }, 'test', v);
    expect(r).toMatchObject({ functionError: 'Unhandled', durationMs: 3000, payload: { errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 3\.00 seconds$/) } });
    expect(Date.now() - wall).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lab.lambda.logs.some((l) => l.line.startsWith('woke after'))).toBe(false);
    // Lambda starts the next invocation in a fresh environment.
    expect((await lab.lambda.invoke('quote', { sku: 'sku-1' }, 'test', v)).functionError).toBeUndefined();
  });

  it('sees the version\'s environment, its role\'s credentials, Lambda\'s reserved variables and the lab\'s endpoint', async () => {
    lab.lambda.credentialsFor = (role, fn) => ({ accessKeyId: `ASIA-${fn}`, secretAccessKey: `secret-of-${role}`, sessionToken: 'token' });
    const v = create('shipping.handler', { role: 'arn:aws:iam::123456789012:role/quote-role' });
    const keys = ['CURRENCY', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_ENDPOINT_URL', 'LAMBDA_TASK_ROOT', '_HANDLER'];
    const r = await lab.lambda.invoke('quote', { env: keys }, 'test', v);
    expect(r.payload).toEqual({
      CURRENCY: 'EUR',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'ASIA-quote',
      AWS_SECRET_ACCESS_KEY: 'secret-of-arn:aws:iam::123456789012:role/quote-role',
      AWS_SESSION_TOKEN: 'token',
      AWS_LAMBDA_FUNCTION_NAME: 'quote',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_ENDPOINT_URL: lab.endpoint,
      LAMBDA_TASK_ROOT: codeDir,
      _HANDLER: 'shipping.handler',
      sys_path_0: codeDir,
      cwd: codeDir,
    });
  });

  it('calls the lab through boto3 at AWS_ENDPOINT_URL, and a call\'s virtual duration is in its round trip', async () => {
    if (!hostHasBoto3) return void process.stderr.write('*** boto3 round trip SKIPPED: the host python3 has no boto3 (Lambda\'s Python runtime ships it) ***\n');
    writeFileSync(join(codeDir, 'caller.py'), [
      'import json, time, boto3',
      'client = boto3.client("lambda")',
      'def handler(event, context):',
      '    t = time.time()',
      '    out = client.invoke(FunctionName="quote", Qualifier="1", Payload=json.dumps({"sleep": 1.5}))',
      '    return {"round_trip_ms": round((time.time() - t) * 1000), "executed": out["ExecutedVersion"], "answer": json.loads(out["Payload"].read())}',
    ].join('\n'));
    const v = create();
    lab.lambda.createFunction({ name: 'caller', handler: 'caller.handler', codeDir, runtime: 'python3.12', timeoutSeconds: 10 });
    const r = await lab.lambda.invoke('caller', {}, 'test', lab.lambda.publishVersion('caller'));
    const p = r.payload as { round_trip_ms: number; executed: string; answer: unknown };
    expect(p).toMatchObject({ executed: v, answer: { slept_ms: 1500, remaining: 1500 } });
    expect(p.round_trip_ms).toBeGreaterThanOrEqual(1500);
    expect(p.round_trip_ms).toBeLessThan(1500 + 1000);
  });

  it('reaches hosts outside the lab only as the lab\'s network map says: a mapped host answers its status, any other fails as DNS does', async () => {
    writeFileSync(join(codeDir, 'fetcher.py'), [
      'import urllib.request, urllib.error',
      'def handler(event, context):',
      '    try:',
      '        return {"status": urllib.request.urlopen(event["url"], timeout=2).status}',
      '    except urllib.error.HTTPError as e:',
      '        return {"status": e.code}',
      '    except urllib.error.URLError as e:',
      '        return {"error": type(e.reason).__name__}',
    ].join('\n'));
    lab.lambda.setNetwork({ 'payments.internal': { status: 503 }, 'carrier.example': { status: 200 } });
    const v = create('fetcher.handler');
    expect((await lab.lambda.invoke('quote', { url: 'https://carrier.example/rates' }, 'test', v)).payload).toEqual({ status: 200 });
    expect((await lab.lambda.invoke('quote', { url: 'http://payments.internal/v2' }, 'test', v)).payload).toEqual({ status: 503 });
    expect((await lab.lambda.invoke('quote', { url: 'https://example.org/' }, 'test', v)).payload).toEqual({ error: 'gaierror' });
  });

  it('plays a host\'s latency on the invocation\'s own clock, and times the function out when it outlasts the timeout, as for Node.js', async () => {
    writeFileSync(join(codeDir, 'slowcall.py'), [
      'import time, urllib.request',
      'def handler(event, context):',
      '    t = time.time()',
      '    status = urllib.request.urlopen("https://payments.internal/v1", timeout=30).status',
      '    return {"status": status, "took_ms": round((time.time() - t) * 1000), "remaining": context.get_remaining_time_in_millis()}',
    ].join('\n'));
    lab.lambda.setNetwork({ 'payments.internal': { status: 200, latencyMs: 1200 } });
    const v = create('slowcall.handler');
    const r = await lab.lambda.invoke('quote', {}, 'test', v);
    expect(r.payload).toMatchObject({ status: 200 });
    const p = r.payload as { took_ms: number; remaining: number };
    expect(p.took_ms).toBeGreaterThanOrEqual(1200);
    expect(p.took_ms).toBeLessThan(1200 + 500);
    lab.lambda.setNetwork({ 'payments.internal': { status: 200, latencyMs: 60_000 } });
    const late = await lab.lambda.invoke('quote', {}, 'test', v);
    expect(late).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after/) } });
  });

  it('says once, at create time, when the host\'s Python is not the runtime\'s minor version', () => {
    create();
    lab.lambda.createFunction({ name: 'other', handler: 'shipping.handler', codeDir, runtime: 'python3.12' });
    const notes = lab.lambda.logs.filter((l) => l.line.startsWith('lab: ') && l.line.includes('python3.12'));
    if (hostPython === '3.12') expect(notes).toEqual([]);
    else expect(notes.map((n) => n.line)).toEqual([`lab: python3.12 functions run on this host's Python ${hostPython} (the lab has no other): code that needs 3.12 itself may behave differently`]);
  });
});

describe('the lab chooses the runner by Runtime', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ warm: false });
    await lab.start();
  });
  afterEach(() => lab.stop());

  it.each(['java21', 'dotnet8', 'ruby3.3', 'provided.al2023', 'python2.7', 'python3.8'])('refuses %s at CreateFunction with a LabError naming the runtimes it runs', (runtime) => {
    const create = () => lab.lambda.createFunction({ name: 'f', handler: 'index.handler', codeDir: tmpdir(), runtime });
    expect(create).toThrow(LabError);
    expect(create).toThrow(`Runtime ${runtime}: the lab runs nodejs* (in a worker thread) and python3.9 to python3.14 (on the host's python3), not this runtime`);
  });

  it.each(['nodejs20.x', 'nodejs24.x', ...(hostPython ? ['python3.9', 'python3.13', 'python3.14'] : []), undefined])('accepts %s', (runtime) => {
    expect(() => lab.lambda.createFunction({ name: 'f', handler: 'index.handler', codeDir: tmpdir(), ...(runtime ? { runtime } : {}) })).not.toThrow();
  });
});

/** A one-stack cloud assembly with these functions (inline code). */
function assembly(functions: Record<string, { runtime?: string; code: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-python-stack-'));
  const resources = Object.fromEntries(
    Object.entries(functions).map(([id, f]) => [id, { Type: 'AWS::Lambda::Function', Properties: { FunctionName: id.toLowerCase(), Handler: 'index.handler', ...(f.runtime ? { Runtime: f.runtime } : {}), Code: { ZipFile: f.code } } }]),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

describe('a stack with Python functions', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ warm: false });
    await lab.start();
  });
  afterEach(() => lab.stop());

  (hostPython ? it : it.skip)('runs inline Python code as index.py, beside inline Node.js code as index.js', async () => {
    await lab.loadAssembly(assembly({
      Py: { runtime: 'python3.12', code: 'def handler(event, context):\n    return {"statusCode": 200, "body": "from python"}\n' },
      Js: { runtime: 'nodejs24.x', code: 'exports.handler = async () => ({ statusCode: 200, body: "from node" });' },
    }));
    expect((await lab.lambda.invoke('py', {}, 'test')).payload).toEqual({ statusCode: 200, body: 'from python' });
    expect((await lab.lambda.invoke('js', {}, 'test')).payload).toEqual({ statusCode: 200, body: 'from node' });
  });

  it('fails the stack, naming the function and its runtime, before any function exists, when one has a runtime the lab cannot run', async () => {
    const load = lab.loadAssembly(assembly({ Ok: { runtime: 'nodejs24.x', code: 'exports.handler = async () => 1;' }, Billing: { runtime: 'java21', code: '' } }));
    await expect(load).rejects.toThrow(LabError);
    await expect(lab.loadAssembly(assembly({ Billing: { runtime: 'java21', code: '' } }))).rejects.toThrow(/^Billing: Runtime java21: the lab runs nodejs\* \(in a worker thread\) and python3\.9 to python3\.14/);
    expect(lab.lambda.functionNames()).toEqual([]);
  });

  it('through the CloudFormation API (cdk deploy), such a runtime ends the stack CREATE_FAILED with the reason, and the lab serves on', async () => {
    const cfn = new CloudFormationClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
    const TemplateBody = JSON.stringify({ Resources: { Billing: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'billing', Handler: 'index.handler', Runtime: 'java21', Role: 'arn:aws:iam::123456789012:role/r', Code: { ZipFile: 'x' } } } } });
    await cfn.send(new CreateChangeSetCommand({ StackName: 'app', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody }));
    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'app', ChangeSetName: 'cs' }));
    let stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'app' }))).Stacks![0];
    for (let i = 0; i < 200 && stack.StackStatus!.endsWith('IN_PROGRESS'); i++) {
      await new Promise((r) => setTimeout(r, 10));
      stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'app' }))).Stacks![0];
    }
    expect(stack.StackStatus).toBe('CREATE_FAILED');
    expect(stack.StackStatusReason).toContain('Billing: Runtime java21: the lab runs nodejs* (in a worker thread) and python3.9 to python3.14');
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'app' }))).Stacks).toHaveLength(1);
  });
});
