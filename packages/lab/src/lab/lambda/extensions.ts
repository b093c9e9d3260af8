import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ELAPSED_HEADER } from '../server';

/**
 * The Lambda Extensions API and Telemetry API, served by the lab to the real extension binary of
 * every function whose layers hold one (the fast signal's `canary-watchdog-telemetry`, built from
 * packages/constructs/extension). Nothing here knows what the extension does: it runs the layer's
 * own executable as Lambda does and speaks the documented protocol to it.
 *
 * - Registration, /event/next with INVOKE and SHUTDOWN, init and exit errors:
 *   https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 * - Telemetry subscription with buffering, and delivery of `platform.initStart`,
 *   `platform.initRuntimeDone` and `platform.initReport` for each environment started (a cold
 *   start), then `platform.start`, `platform.runtimeDone` and `platform.report` (the first
 *   invocation of a new environment with its `initDurationMs`) to the subscriber's HTTP listener:
 *   https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
 *   https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
 *
 * Bound: one extension process per published version (as the lab runs one worker thread per
 * version): every invocation of the version, real or simulated, passes through it. On AWS each
 * execution environment runs its own; the lab's one sees the sum of their events.
 *
 * Time: the process runs on the lab's clock through the events it is given (an INVOKE's
 * deadlineMs less the function's timeout), with the binary's event clock switched on
 * (CANARY_WATCHDOG_TELEMETRY_CLOCK_*). The lab runs a version's environment at the lab time of its
 * invocations: it delivers the telemetry the buffer has released, sends INVOKE, and waits until
 * the process has called /next again and has gone quiet (no call of its own in flight, and none
 * of its threads runnable), so the lab's clock moves only once the extension has done what that
 * instant made it do. Optimistic: on AWS the environment freezes at once, and a call still in
 * flight then finishes only at a later thaw.
 *
 * DynamoDB: the process's AWS_ENDPOINT_URL_DYNAMODB is this environment's port, which forwards to
 * the lab's endpoint (its IAM, faults and capacity accounting) and plays the network: a fault's
 * latency, which the lab's server only states (x-lab-elapsed-ms), is held here in wall time (up to
 * MAX_HOLD_MS), so the extension's own call timeouts meet it as they would on AWS.
 */

/** The longest a forwarded call's stated latency is held in wall time: past any timeout of the extension's (500 ms). */
export const MAX_HOLD_MS = 1000;
/** How long the lab waits for an extension to register and reach its first /next, or to settle after an event. */
const INIT_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 10_000;
/** SHUTDOWN: extensions get 2,000 ms in all. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown */
const SHUTDOWN_LIMIT_MS = 2000;

/** Telemetry API buffering limits. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api-reference.html */
const BUFFERING = { maxItems: [1000, 10_000, 10_000], maxBytes: [262_144, 1_048_576, 262_144], timeoutMs: [25, 30_000, 1000] } as const;

export interface ExtensionSpec {
  readonly functionName: string;
  readonly version: string;
  /** The executable, from the layer's extensions/ folder. */
  readonly binary: string;
  /** The version's environment: its variables, credentials and Lambda's reserved variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memorySize: number;
  readonly arn: string;
}

export interface ExtensionWrite {
  at: number;
  functionName: string;
  version: string;
  deploymentId: string;
  invocations: number;
  errors: number;
}

interface Pending {
  at: number;
  events: string[];
}

/** One execution environment's extension: its process, its API port, what the buffer holds. */
class ExtensionEnvironment {
  private server?: Server;
  private proc?: ChildProcess;
  private id?: string;
  private name?: string;
  private events = new Set<string>();
  /** A /next waiting for the next event. */
  private waiting?: ServerResponse;
  private nextArrived?: () => void;
  private subscription?: { uri: string; maxItems: number; maxBytes: number; timeoutMs: number };
  private buffered: Pending[] = [];
  /** Requests being read or served (a /next counts until it waits), and connections not yet past their first request. */
  private inflight = 0;
  private readonly opening = new Set<import('node:net').Socket>();
  private readonly threads = new Threads();
  private seq = 0;
  private exited?: string;
  port = 0;
  /** Its init failed: Lambda would fail the environment; the lab records and stops running it. */
  failed?: string;
  chain: Promise<void> = Promise.resolve();
  /** The run waiting its turn, which later invocations may join (TelemetryExtensionHost.coalesce). */
  queued?: { at: number; invocations: number; errors: number; initsMs: number[] };

  constructor(
    readonly spec: ExtensionSpec,
    private readonly host: TelemetryExtensionHost,
  ) {}

  async start(now: number): Promise<void> {
    this.server = createServer((req, res) => void this.serve(req, res));
    // A connection made but whose first request has not been read yet is a call on its way.
    this.server.on('connection', (socket) => {
      this.opening.add(socket);
      socket.once('close', () => this.opening.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    const arrived = this.nextEvent();
    this.proc = spawn(this.spec.binary, [], {
      env: {
        ...this.spec.env,
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${this.port}`,
        // The lab plays the network: the listener's sandbox.localdomain is loopback here, and
        // DynamoDB is this environment's port (forwarded to the lab's endpoint).
        CANARY_WATCHDOG_TELEMETRY_LISTENER_HOST: '127.0.0.1',
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${this.port}`,
        CANARY_WATCHDOG_TELEMETRY_CLOCK_TIMEOUT_MS: String(this.spec.timeoutMs),
        CANARY_WATCHDOG_TELEMETRY_CLOCK_START_MS: String(Math.round(now)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The lab's process never waits for its extensions to end, and takes them with it when it exits.
    const proc = this.proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    proc.unref();
    for (const stream of [proc.stdout, proc.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
    this.server.unref();
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) this.host.log(this.spec, l);
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.proc.on('error', (err) => {
      this.exited = `could not start: ${err.message}`;
      this.nextArrived?.();
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = signal ? `killed by ${signal}` : `exited with ${code}`;
      this.nextArrived?.();
    });
    const ok = await Promise.race([arrived.then(() => true), sleep(INIT_TIMEOUT_MS).then(() => false)]);
    if (!ok || !this.waiting) {
      this.failed = this.exited ? `the extension ${this.exited} before its first /next` : `the extension did not reach its first /next within ${INIT_TIMEOUT_MS} ms`;
      // As Lambda reports an extension's failed init in the function's log group.
      this.host.log(this.spec, `EXTENSION\tName: ${this.name ?? 'canary-watchdog-telemetry'}\tState: InitError\tEvents: ${[...this.events].join(',')}\t(${this.failed})`);
      await this.kill();
      return;
    }
    await this.settle();
  }

  /** A promise of the next /next (or of the process's end). */
  private nextEvent(): Promise<void> {
    return new Promise<void>((resolve) => (this.nextArrived = resolve));
  }

  /**
   * Invocations of the version that started at `at`, `initsMs` the init phase of each environment
   * started for them: deliver what the buffer released, INVOKE, settle.
   */
  async invoke(at: number, invocations: number, errors: number, durationMs: number, initsMs: readonly number[] = []): Promise<void> {
    if (this.failed || this.exited) return;
    await this.deliver(at);
    const events: string[] = [];
    const time = new Date(at).toISOString();
    // Each new environment's Init phase ends before its first invocation starts. An extension
    // gets its own environment's init events when it subscribed during that Init phase (Lambda
    // holds them for a subscription made before the extension's first /next); the lab's one
    // process per version subscribes before its first /next, and so gets every environment's.
    // https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-initReport
    for (const ms of initsMs) {
      const record = { initializationType: 'on-demand', phase: 'init' };
      const started = new Date(at - ms).toISOString();
      events.push(
        JSON.stringify({ time: started, type: 'platform.initStart', record: { ...record, runtimeVersion: 'lab', runtimeVersionArn: 'arn:aws:lambda:lab::runtime:lab', functionName: this.spec.functionName, functionVersion: this.spec.version } }),
        JSON.stringify({ time, type: 'platform.initRuntimeDone', record: { ...record, status: 'success' } }),
        JSON.stringify({ time, type: 'platform.initReport', record: { ...record, status: 'success', metrics: { durationMs: ms } } }),
      );
    }
    for (let i = 0; i < invocations; i++) {
      const requestId = `${this.spec.functionName}-${this.spec.version}-${++this.seq}`;
      const status = i < errors ? 'error' : 'success';
      // The first invocation of a new environment reports its Init Duration too.
      const init = i < initsMs.length ? { initDurationMs: initsMs[i] } : {};
      events.push(
        JSON.stringify({ time, type: 'platform.start', record: { requestId, version: this.spec.version } }),
        JSON.stringify({ time, type: 'platform.runtimeDone', record: { requestId, status, metrics: { durationMs, producedBytes: 0 } } }),
        JSON.stringify({ time, type: 'platform.report', record: { requestId, status, metrics: { durationMs, billedDurationMs: Math.ceil(durationMs), memorySizeMB: this.spec.memorySize, maxMemoryUsedMB: 0, ...init } } }),
      );
    }
    if (this.subscription && events.length) this.buffered.push({ at, events });
    if (!this.events.has('INVOKE')) return;
    const sent = performance.now();
    await this.send({ eventType: 'INVOKE', deadlineMs: at + this.spec.timeoutMs, requestId: `${this.spec.functionName}-${this.spec.version}-${this.seq}`, invokedFunctionArn: this.spec.arn, tracing: { type: 'X-Amzn-Trace-Id', value: `Root=1-${Math.floor(at / 1000).toString(16)}-lab` } });
    this.host.holds.push({ at, functionName: this.spec.functionName, version: this.spec.version, ms: performance.now() - sent });
    await this.settle();
  }

  /** Send the batches whose buffering time has passed by `now` (all of them with `all`), each answered before the next. */
  async deliver(now: number, all = false): Promise<void> {
    const s = this.subscription;
    if (!s) return;
    const due: string[] = [];
    while (this.buffered.length && (all || this.buffered[0].at + s.timeoutMs <= now)) due.push(...this.buffered.shift()!.events);
    for (let i = 0; i < due.length; ) {
      let bytes = 2;
      let j = i;
      while (j < due.length && j - i < s.maxItems && bytes + due[j].length + 1 <= s.maxBytes) bytes += due[j++].length + 1;
      if (j === i) j++;
      await this.post(s.uri, `[${due.slice(i, j).join(',')}]`);
      i = j;
    }
    if (due.length) await this.settle();
  }

  private post(uri: string, body: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const req = httpRequest(uri, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      // A listener that does not answer loses the batch, as on AWS; the lab says so.
      req.on('error', (err) => {
        this.host.log(this.spec, `lab: telemetry delivery to ${uri} failed: ${err.message}`);
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.end(body);
    });
  }

  /** Answer the waiting /next with `event`, and wait for the next /next. */
  private async send(event: Record<string, unknown>): Promise<void> {
    const res = this.waiting;
    if (!res) return;
    this.waiting = undefined;
    const arrived = this.nextEvent();
    res.writeHead(200, { 'content-type': 'application/json', 'lambda-extension-event-identifier': randomUUID() }).end(JSON.stringify(event));
    await Promise.race([arrived, sleep(SETTLE_TIMEOUT_MS)]);
  }

  /**
   * Wait until the process is quiet: a /next waiting, no forwarded call in flight, and none of its
   * threads runnable, three looks in a row across turns of the lab's event loop (so that a call
   * it just sent has reached the lab before the lab concludes there is none).
   */
  private async settle(): Promise<void> {
    const pid = this.proc?.pid;
    const end = performance.now() + SETTLE_TIMEOUT_MS;
    let quiet = 0;
    let looks = 0;
    for (;;) {
      if (this.exited || pid === undefined) return;
      if (performance.now() > end) {
        this.host.log(this.spec, `lab: the extension did not settle within ${SETTLE_TIMEOUT_MS} ms (a /next ${this.waiting ? 'waiting' : 'not waiting'}, ${this.inflight} calls in flight)`);
        return;
      }
      quiet = this.waiting && this.inflight === 0 && this.opening.size === 0 ? quiet + 1 : 0;
      // Quiet on the wire for three turns: then whether a thread of its own is still at work (the
      // costly look, once), and a last turn for a call that thread sent to reach the lab.
      if (quiet === 3 && this.threads.runnable(pid)) quiet = 0;
      if (quiet === 4) return;
      // Busy at first (most settle within a few turns), then a millisecond apart.
      await (quiet === 0 && ++looks > 50 ? sleep(1) : new Promise((r) => setImmediate(r)));
    }
  }

  /** SHUTDOWN (reason `spindown`): deliver what is buffered, then let it end within Lambda's limit. */
  async shutdown(now: number): Promise<void> {
    if (this.failed || this.exited) return this.kill();
    await this.deliver(now, true);
    const exited = new Promise<void>((resolve) => (this.proc!.exitCode !== null ? resolve() : this.proc!.once('exit', () => resolve())));
    if (this.events.has('SHUTDOWN') && this.waiting) {
      const res = this.waiting;
      this.waiting = undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: now + SHUTDOWN_LIMIT_MS }));
    }
    const inTime = await Promise.race([exited.then(() => true), sleep(SHUTDOWN_LIMIT_MS).then(() => false)]);
    // Past the limit Lambda kills the process.
    if (!inTime) this.host.log(this.spec, `lab: the extension did not exit within the ${SHUTDOWN_LIMIT_MS} ms SHUTDOWN limit: killed`);
    await this.kill();
  }

  async kill(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    this.waiting?.destroy();
    this.waiting = undefined;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.opening.delete(req.socket);
    this.inflight++;
    res.once('close', () => this.inflight--);
    const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
    const body = await readBody(req);
    if (path.startsWith('/2020-01-01/extension/') || path === '/2022-07-01/telemetry') this.api(req, res, path, body);
    else this.forward(req, res, body);
  }

  private api(req: IncomingMessage, res: ServerResponse, path: string, body: string): unknown {
    const reply = (status: number, out: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof out === 'string' ? out : JSON.stringify(out));
    const fail = (status: number, errorType: string, errorMessage: string) => reply(status, { errorMessage, errorType });
    const id = req.headers['lambda-extension-identifier'];
    if (path === '/2020-01-01/extension/register' && req.method === 'POST') {
      const name = req.headers['lambda-extension-name'];
      if (typeof name !== 'string' || !name) return fail(400, 'Extension.InvalidRequest', 'Lambda-Extension-Name header is required');
      if (this.id) return fail(403, 'Extension.AlreadyRegistered', `extension ${this.name} is already registered`);
      let events: unknown;
      try {
        events = (JSON.parse(body || '{}') as { events?: unknown }).events;
      } catch {
        return fail(400, 'Extension.InvalidRequest', 'the body is not JSON');
      }
      // External extensions may register for INVOKE and SHUTDOWN.
      if (!Array.isArray(events) || events.some((e) => e !== 'INVOKE' && e !== 'SHUTDOWN')) return fail(400, 'Extension.InvalidEventType', `events: expected a list of INVOKE and SHUTDOWN, got ${JSON.stringify(events)}`);
      this.id = randomUUID();
      this.name = name;
      this.events = new Set(events as string[]);
      return reply(200, { functionName: this.spec.functionName, functionVersion: this.spec.version, handler: this.spec.env._HANDLER ?? '' }, { 'lambda-extension-identifier': this.id });
    }
    if (!this.id || id !== this.id) return fail(403, 'Extension.UnknownExtensionIdentifier', `unknown Lambda-Extension-Identifier ${JSON.stringify(id ?? null)}`);
    if (path === '/2020-01-01/extension/event/next' && req.method === 'GET') {
      // Waiting for an event is not work in flight.
      this.inflight--;
      res.once('close', () => this.inflight++);
      this.waiting = res;
      this.nextArrived?.();
      return;
    }
    if ((path === '/2020-01-01/extension/init/error' || path === '/2020-01-01/extension/exit/error') && req.method === 'POST') {
      this.host.log(this.spec, `EXTENSION\tName: ${this.name}\t${path.endsWith('init/error') ? 'InitError' : 'ExitError'}: ${req.headers['lambda-extension-function-error-type'] ?? ''} ${body.slice(0, 500)}`);
      return reply(202, { status: 'OK' });
    }
    if (path === '/2022-07-01/telemetry' && req.method === 'PUT') {
      const problem = this.subscribe(body);
      return problem ? fail(400, 'ValidationError', problem) : reply(200, '"OK"');
    }
    return fail(404, 'InvalidRequest', `no ${req.method} ${path} in the Extensions or Telemetry API`);
  }

  /** A Telemetry API subscription, checked as the reference states; answers the problem, if any. */
  private subscribe(body: string): string | undefined {
    let b: { schemaVersion?: unknown; destination?: { protocol?: unknown; URI?: unknown }; types?: unknown; buffering?: Record<string, unknown> };
    try {
      b = JSON.parse(body) as typeof b;
    } catch {
      return 'the body is not JSON';
    }
    if (!['2022-07-01', '2022-12-13', '2025-01-29'].includes(String(b.schemaVersion))) return `schemaVersion: expected 2022-07-01, 2022-12-13 or 2025-01-29, got ${JSON.stringify(b.schemaVersion)}`;
    if (!Array.isArray(b.types) || b.types.length === 0 || b.types.some((t) => !['platform', 'function', 'extension'].includes(t as string))) return `types: expected a list of platform, function, extension, got ${JSON.stringify(b.types)}`;
    if (b.destination?.protocol !== 'HTTP') return `destination.protocol: the lab delivers over HTTP only, got ${JSON.stringify(b.destination?.protocol)}`;
    let uri: URL;
    try {
      uri = new URL(String(b.destination.URI));
    } catch {
      return `destination.URI: expected http://sandbox.localdomain:PORT, got ${JSON.stringify(b.destination?.URI)}`;
    }
    // Lambda delivers to sandbox.localdomain only; the lab's sandbox is loopback.
    if (!['sandbox.localdomain', '127.0.0.1'].includes(uri.hostname)) return `destination.URI: telemetry goes to sandbox.localdomain only, got ${uri.hostname}`;
    const buffering: Record<string, number> = {};
    for (const [k, [lo, hi, dflt]] of Object.entries(BUFFERING)) {
      const v = b.buffering?.[k];
      if (v === undefined) buffering[k] = dflt;
      else if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) return `buffering.${k}: expected an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`;
      else buffering[k] = v;
    }
    if (!b.types.includes('platform')) return undefined;
    this.subscription = { uri: `http://127.0.0.1:${uri.port || 80}${uri.pathname}`, maxItems: buffering.maxItems, maxBytes: buffering.maxBytes, timeoutMs: buffering.timeoutMs };
    return undefined;
  }

  /** A call of the process to DynamoDB: forwarded to the lab, its stated latency held here. */
  private forward(req: IncomingMessage, res: ServerResponse, body: string): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    let cut = false;
    res.on('close', () => {
      if (!res.writableFinished) cut = true;
    });
    const up = httpRequest(this.host.endpoint + (req.url ?? '/'), { method: req.method, headers: req.headers }, (answer) => {
      void readBody(answer).then(async (out) => {
        const latency = Number(answer.headers[ELAPSED_HEADER] ?? 0);
        // Held until the latency has passed, or the caller has given up.
        if (latency > 0) await Promise.race([sleep(Math.min(latency, MAX_HOLD_MS)), new Promise((r) => res.once('close', r))]);
        const at = this.host.now();
        if (cut || res.destroyed) {
          // The caller gave up first: whatever the call did, its answer is lost.
          this.host.cut(this.spec, at, operation, body);
        } else {
          const headers = { ...answer.headers };
          delete headers[ELAPSED_HEADER];
          res.writeHead(answer.statusCode ?? 500, headers).end(out);
        }
        this.host.answered(this.spec, at, operation, body, answer.statusCode ?? 500, out, cut || res.destroyed);
      });
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(err.message);
    });
    up.end(body);
  }
}

function readBody(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Every extension process the lab runs: killed when the lab's process exits, whatever way it exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A wait that never keeps the lab's process alive by itself. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** A process's threads, as Linux's /proc shows them (the list kept between looks, read again when it changes). */
class Threads {
  private tids: string[] = [];
  private listed = 0;

  /** Whether any thread of the process is runnable: it still has work of its own to do. */
  runnable(pid: number): boolean {
    // Go starts threads as it needs them: the list is read again every 50 looks.
    if (this.listed++ % 50 === 0) this.list(pid);
    for (const t of this.tids) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      } catch {
        // The thread ended: list them again.
        this.listed = 0;
        continue;
      }
      if (stat[stat.lastIndexOf(')') + 2] === 'R') return true;
    }
    return false;
  }

  private list(pid: number): void {
    try {
      this.tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      this.tids = [];
    }
  }
}

/** What the host needs from the lab. */
export interface ExtensionLab {
  now(): number;
  /** The lab's endpoint, where the extension's DynamoDB calls go. */
  endpoint(): string;
  /** The version's environment as Lambda gives it to every process of the function, or undefined when it no longer exists. */
  environmentOf(functionName: string, version: string): Omit<ExtensionSpec, 'binary'> | undefined;
  /** A line the extension (or the lab about it) writes to the function's log group. */
  log(functionName: string, version: string, line: string): void;
}

/**
 * The extensions of the lab's functions: one environment per published version of every function
 * whose layers hold the telemetry extension, started at the version's first invocation.
 */
export class TelemetryExtensionHost {
  private readonly binaries = new Map<string, string>();
  private readonly envs = new Map<string, ExtensionEnvironment>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  /** Merge invocations that arrive while a version's run waits into that run (a real clock); off on a virtual clock, where each instant is its own run. */
  coalesce = false;
  /** Writes the extensions made (UpdateItem answered 200): when, which deployment, what they added. */
  readonly writes: ExtensionWrite[] = [];
  /** Calls the extension gave up on before their answer (its 500 ms timeout): a write among them may have been applied. */
  readonly dropped: (ExtensionWrite & { operation: string })[] = [];
  /** Calls its function's role may not make: AccessDenied answers. */
  readonly denied: { at: number; functionName: string; version: string; operation: string; message: string }[] = [];
  /** Every DynamoDB call an extension made, with its status (200, 400 ...), for tests and the report. */
  readonly calls: { at: number; functionName: string; version: string; operation: string; status: number; cut: boolean }[] = [];
  /** Wall time between INVOKE and the extension's next /next: what it added to the Invoke phase (ms). */
  readonly holds: { at: number; functionName: string; version: string; ms: number }[] = [];
  /** Environments whose extension failed its init. */
  readonly initFailures: { functionName: string; version: string; reason: string }[] = [];

  constructor(private readonly lab: ExtensionLab) {}

  get endpoint(): string {
    return this.lab.endpoint();
  }

  now(): number {
    return this.lab.now();
  }

  /** A function whose layers hold the extension, at `binary`. */
  enable(functionName: string, binary: string): void {
    if (!existsSync(binary)) throw new Error(`lab: the telemetry extension of ${functionName} is not at ${binary} (run npm run bundle in packages/constructs)`);
    this.binaries.set(functionName, binary);
  }

  /** A function runs without the extension from now on (a rehearsal's native strategy: no canary-watchdog layer). */
  disable(functionName: string): void {
    this.binaries.delete(functionName);
  }

  enabled(functionName: string): boolean {
    return this.binaries.has(functionName);
  }

  /** Invocations of one version that started at `at` (real ones, or a second of simulated users); run on the version's environment in order. */
  invoked(functionName: string, version: string, at: number, invocations: number, errors: number, durationMs = 0, initsMs: readonly number[] = []): void {
    const binary = this.binaries.get(functionName);
    if (!binary || version === '$LATEST' || invocations <= 0 || this.closed) return;
    const key = `${functionName}:${version}`;
    let env = this.envs.get(key);
    if (!env) {
      const spec = this.lab.environmentOf(functionName, version);
      if (!spec) return;
      env = new ExtensionEnvironment({ ...spec, binary }, this);
      this.envs.set(key, env);
      const e = env;
      this.track(
        (e.chain = e.start(at).then(() => {
          if (e.failed) this.initFailures.push({ functionName, version, reason: e.failed });
        })),
      );
    }
    const e = env;
    // Coalescing (a real clock): invocations that arrive while a run waits join it, so a busy
    // machine delays the counts instead of queueing a run per second of traffic without bound.
    if (this.coalesce && e.queued) {
      e.queued.invocations += invocations;
      e.queued.errors += errors;
      e.queued.initsMs.push(...initsMs);
      return;
    }
    const run = { at, invocations, errors, initsMs: [...initsMs] };
    if (this.coalesce) e.queued = run;
    this.track(
      (e.chain = e.chain.then(() => {
        if (e.queued === run) e.queued = undefined;
        return e.invoke(run.at, run.invocations, run.errors, durationMs, run.initsMs);
      })),
    );
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => console.error(`lab: telemetry extension: ${err instanceof Error ? err.stack : String(err)}`)).finally(() => this.running.delete(q));
    this.running.add(q);
  }

  /** Undefined when every environment is quiet; otherwise a promise of that. The lab's clock waits on it. */
  settled(): Promise<void> | undefined {
    if (this.running.size === 0) return undefined;
    return Promise.all([...this.running]).then(() => this.settled());
  }

  /** SHUTDOWN one version's environment (its final flush), as Lambda does when it ends it. */
  async shutdown(functionName: string, version: string): Promise<void> {
    const env = this.envs.get(`${functionName}:${version}`);
    if (!env) return;
    this.envs.delete(`${functionName}:${version}`);
    await env.chain;
    await env.shutdown(this.lab.now());
  }

  /** End every process: with SHUTDOWN (`graceful`), or at once when the lab closes. */
  async close(graceful = false): Promise<void> {
    this.closed = true;
    const envs = [...this.envs.values()];
    this.envs.clear();
    await Promise.all(envs.map(async (e) => (graceful ? e.chain.then(() => e.shutdown(this.lab.now())) : e.kill())));
  }

  log(spec: ExtensionSpec, line: string): void {
    this.lab.log(spec.functionName, spec.version, line);
  }

  cut(spec: ExtensionSpec, at: number, operation: string, body: string): void {
    const w = parseWrite(spec, at, operation, body);
    this.dropped.push({ ...(w ?? { at, functionName: spec.functionName, version: spec.version, deploymentId: '', invocations: 0, errors: 0 }), operation });
  }

  answered(spec: ExtensionSpec, at: number, operation: string, body: string, status: number, out: string, cut: boolean): void {
    this.calls.push({ at, functionName: spec.functionName, version: spec.version, operation, status, cut });
    if (cut) return;
    if (status === 200) {
      const w = parseWrite(spec, at, operation, body);
      if (w) this.writes.push(w);
    } else if (/AccessDenied/.test(out)) {
      let message = out;
      try {
        const e = JSON.parse(out) as { message?: string; Message?: string };
        message = e.message ?? e.Message ?? out;
      } catch {
        // Not JSON: the raw answer.
      }
      this.denied.push({ at, functionName: spec.functionName, version: spec.version, operation, message });
    }
  }
}

/** The counts an UpdateItem of the extension adds (its :n, :e and :w values); undefined for other calls. */
function parseWrite(spec: ExtensionSpec, at: number, operation: string, body: string): ExtensionWrite | undefined {
  if (operation !== 'UpdateItem') return undefined;
  try {
    const v = (JSON.parse(body) as { ExpressionAttributeValues?: Record<string, { N?: string; S?: string }> }).ExpressionAttributeValues ?? {};
    return { at, functionName: spec.functionName, version: spec.version, deploymentId: v[':w']?.S ?? '', invocations: Number(v[':n']?.N ?? 0), errors: Number(v[':e']?.N ?? 0) };
  } catch {
    return undefined;
  }
}
