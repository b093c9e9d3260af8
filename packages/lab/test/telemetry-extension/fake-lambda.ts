/**
 * Lambda's side of an external extension, over loopback: the Extensions API (register, event/next)
 * and the Telemetry API (subscribe, then POSTs of event batches to the extension's listener), as
 * documented. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 * https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api-reference.html
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** The native extension for this machine's architecture, as its layer ships it (`npm run bundle` builds it). */
export const EXTENSION = join(__dirname, '..', '..', '..', 'constructs', 'assets', `telemetry-layer-${process.arch === 'arm64' ? 'arm64' : 'x86_64'}`, 'extensions', 'canary-watchdog-telemetry');

const EXTENSION_ID = 'ext-7f3c';

export interface Subscription {
  readonly headers: IncomingMessage['headers'];
  readonly body: { schemaVersion: string; types: string[]; buffering: Record<string, number>; destination: { protocol: string; URI: string } };
}

/** A `platform.runtimeDone` event as the 2022-12-13 schema gives it. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html */
export const runtimeDone = (status: 'success' | 'error' | 'failure' | 'timeout', requestId = `req-${Math.random().toString(36).slice(2)}`) => ({
  time: new Date().toISOString(),
  type: 'platform.runtimeDone',
  record: { requestId, status, ...(status === 'success' ? {} : { errorType: 'Runtime.Unknown' }), metrics: { durationMs: 12.5, producedBytes: 40 } },
});

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** Wait until `ready()` holds, polling every 20 ms, or fail after `ms`. */
export async function until(ready: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One execution environment with the extension in it: start the fake APIs, run the binary as a
 * child process with `env`, and drive it with `invoke`, `telemetry` and `shutdown`.
 */
export class FakeLambda {
  registrations: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  subscriptions: Subscription[] = [];
  /** Calls of event/next so far (the extension asks for the next event once it is done with one). */
  nextCalls = 0;
  stdout = '';
  exit: Promise<number | null> = Promise.resolve(null);
  private server!: Server;
  private waiting: ((event: unknown) => void) | undefined;
  private child: ChildProcess | undefined;

  constructor(private readonly fn: { functionName: string; functionVersion: string }) {}

  async start(env: Record<string, string>): Promise<void> {
    if (!existsSync(EXTENSION)) throw new Error(`${EXTENSION} is missing: run \`npm run bundle\` first`);
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const api = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const child = spawn(EXTENSION, [], {
      env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_RUNTIME_API: api, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', CANARY_WATCHDOG_TELEMETRY_LISTENER_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString('utf8')));
    this.exit = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** The extension's log lines, parsed. */
  get logs(): { event: string; [k: string]: unknown }[] {
    return this.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string });
  }

  /** Wait for the extension's first event/next: the end of its init. */
  ready(): Promise<void> {
    return until(() => this.nextCalls > 0 && this.waiting !== undefined, 10_000, 'the extension to finish its init');
  }

  /** Hand out an INVOKE event and wait until the extension asks for the next one. */
  async invoke(): Promise<void> {
    await this.send({ eventType: 'INVOKE', deadlineMs: Date.now() + 3000, requestId: `req-${this.nextCalls}`, invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${this.fn.functionName}`, tracing: { type: 'X-Amzn-Trace-Id', value: 'Root=1-0-0' } });
    await until(() => this.waiting !== undefined, 10_000, 'the extension to ask for the next event');
  }

  /** Hand out SHUTDOWN and wait for the process to exit; answers its exit code. */
  async shutdown(): Promise<number | null> {
    await this.send({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: Date.now() + 2000 });
    return this.exit;
  }

  /** POST one batch to the subscribed listener; answers the listener's status. */
  async telemetry(events: unknown[] | string): Promise<number> {
    const uri = this.subscriptions.at(-1)?.body.destination.URI;
    if (!uri) throw new Error('the extension has not subscribed');
    const res = await fetch(uri, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof events === 'string' ? events : JSON.stringify(events) });
    await res.arrayBuffer();
    return res.status;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exit;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async send(event: unknown): Promise<void> {
    await until(() => this.waiting !== undefined, 10_000, 'the extension to wait on event/next');
    const w = this.waiting!;
    this.waiting = undefined;
    w(event);
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method === 'POST' && req.url === '/2020-01-01/extension/register') {
      this.registrations.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Lambda-Extension-Identifier': EXTENSION_ID });
      return void res.end(JSON.stringify({ ...this.fn, handler: 'index.handler' }));
    }
    if (req.headers['lambda-extension-identifier'] !== EXTENSION_ID) {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ errorMessage: 'Invalid extension identifier', errorType: 'Extension.Forbidden' }));
    }
    if (req.method === 'PUT' && req.url === '/2022-07-01/telemetry') {
      this.subscriptions.push({ headers: req.headers, body: JSON.parse(body) as Subscription['body'] });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end('"OK"');
    }
    if (req.method === 'GET' && req.url === '/2020-01-01/extension/event/next') {
      this.nextCalls++;
      this.waiting = (event) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': `evt-${this.nextCalls}` });
        res.end(JSON.stringify(event));
      };
      return;
    }
    res.writeHead(404).end();
  }
}
