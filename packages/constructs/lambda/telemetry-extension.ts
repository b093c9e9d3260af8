/**
 * The `canary-watchdog-telemetry` Lambda extension: an external extension (its own process, started
 * by Lambda from the layer's `extensions/` folder) that counts the function version's finished
 * invocations from the Telemetry API and adds them to the deployment's state-table item within
 * seconds (src/runtime/telemetry.ts holds the contract and the path's delays).
 *
 * 1. Register for INVOKE and SHUTDOWN. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 * 2. With the table's name in CANARY_WATCHDOG_TELEMETRY_TABLE and a published version: listen on
 *    sandbox.localdomain and subscribe to `platform` telemetry; each `platform.runtimeDone` is one
 *    finished invocation. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
 * 3. On INVOKE events, look for the version's watch item (at most every WATCH_RECHECK_SECONDS);
 *    on INVOKE events and telemetry batches, write the counts when TelemetryTally says so.
 * 4. On SHUTDOWN, write what is left and exit.
 *
 * An extension that exits or fails its init fails the function's environment: nothing here throws
 * out of the event loop, every AWS call is bounded, and a failed write keeps its counts for the next.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { REQUEST_TIMEOUT_MS, sdkClientConfig } from '../src/aws/clients';
import {
  FLUSH_SECONDS,
  isFailedStatus,
  TELEMETRY_BUFFER_MS,
  TELEMETRY_EXTENSION_NAME,
  TELEMETRY_TABLE_ENV,
  TelemetryTally,
  telemetryUpdate,
  WATCH_RECHECK_SECONDS,
  watchedDeployment,
  watchKey,
} from '../src/runtime/telemetry';

/** Overrides for tests only: shorter intervals, and a loopback listener instead of sandbox.localdomain. */
export const TEST_ENV = {
  flushMs: 'CANARY_WATCHDOG_TELEMETRY_FLUSH_MS',
  recheckMs: 'CANARY_WATCHDOG_TELEMETRY_RECHECK_MS',
  listenerHost: 'CANARY_WATCHDOG_TELEMETRY_LISTENER_HOST',
} as const;

/** A bounded DynamoDB call: 2 s per attempt, at most 2 retries, 3 s in all. */
const CALL_DEADLINE_MS = 3000;
/** A lookup that failed (not one that found nothing) is tried again this soon. */
const LOOKUP_RETRY_MS = 5000;
/**
 * At SHUTDOWN, how long to wait for the last buffered telemetry before the final write, and how
 * much of the shutdown phase to keep for that write (external extensions get up to 2,000 ms).
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown
 */
const SHUTDOWN_GRACE_MS = TELEMETRY_BUFFER_MS + 200;
const SHUTDOWN_WRITE_MS = 1000;

const now = (): number => Date.now();

/** One JSON line per notable event, never one per invocation. */
function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'INFO', extension: TELEMETRY_EXTENSION_NAME, event, ...fields })}\n`);
}

const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0) return n;
  log('telemetry.bad-setting', { [name]: raw, expected: 'a positive integer of milliseconds', using: fallback });
  return fallback;
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * One call to the Extensions or Telemetry API over node:http, which sets no timeout of its own:
 * `/event/next` waits as long as the environment is idle (frozen), and must not time out on thaw.
 */
function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`http://${process.env.AWS_LAMBDA_RUNTIME_API}${path}`, { method, headers: { ...headers, ...(text ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Registration {
  readonly id: string;
  readonly functionName: string;
  readonly functionVersion: string;
}

async function register(): Promise<Registration> {
  const reply = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': TELEMETRY_EXTENSION_NAME }, { events: ['INVOKE', 'SHUTDOWN'] });
  const id = reply.headers['lambda-extension-identifier'];
  if (reply.status !== 200 || typeof id !== 'string') throw new Error(`register answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  const b = JSON.parse(reply.body) as { functionName?: unknown; functionVersion?: unknown };
  return { id, functionName: String(b.functionName ?? ''), functionVersion: String(b.functionVersion ?? '') };
}

/** The next lifecycle event; on an error, try again (backing off to 1 s) rather than exit. */
async function nextEvent(id: string): Promise<{ eventType?: string; deadlineMs?: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const reply = await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
      if (reply.status === 200) return JSON.parse(reply.body) as { eventType?: string };
      if (attempt === 0) log('telemetry.next-failed', { status: reply.status, body: reply.body.slice(0, 200) });
    } catch (err) {
      if (attempt === 0) log('telemetry.next-failed', { error: errorText(err) });
    }
    await sleep(Math.min(1000, 50 * 2 ** attempt));
  }
}

/**
 * The SDK, loaded once registered: registering is on every cold start's path (Lambda starts the
 * runtime's init once each extension has registered), loading the SDK need not be.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
 */
async function loadSdk() {
  const [{ DynamoDBClient }, lib] = await Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/lib-dynamodb')]);
  // Standard retries with 3 attempts (2 retries), each bounded to 2 s; every send adds a 3 s deadline.
  const doc = lib.DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig(REQUEST_TIMEOUT_MS.dynamodb, 1000)));
  return { doc, GetCommand: lib.GetCommand, UpdateCommand: lib.UpdateCommand };
}
type Sdk = Awaited<ReturnType<typeof loadSdk>>;

/** The counting side: the listener, the watch lookup and the writes, for one environment. */
class Counter {
  private readonly tally: TelemetryTally;
  private readonly doc: DynamoDBDocumentClient;
  /** The deployment counted into, once the watch item is found. */
  private deploymentId: string | undefined;
  private lookAt = 0;
  private looked = false;
  private writing: Promise<void> | undefined;
  private failedWrites = 0;

  constructor(
    private readonly table: string,
    private readonly fn: Registration,
    private readonly recheckMs: number,
    flushMs: number,
    private readonly sdk: Sdk,
  ) {
    this.tally = new TelemetryTally(now(), flushMs);
    this.doc = sdk.doc;
  }

  /**
   * A telemetry batch (a JSON array of events): count each finished invocation, then write if due.
   * Invocations that end while no release watches the version belong to none and are not counted.
   */
  onBatch(events: unknown): void {
    if (!Array.isArray(events) || !this.deploymentId) return;
    for (const e of events as { type?: unknown; record?: { status?: unknown } }[]) {
      if (e?.type === 'platform.runtimeDone') this.tally.add(isFailedStatus(e.record?.status));
    }
    void this.flush(false);
  }

  /** An INVOKE event: look for the watch item when due, write when due, and finish before /next. */
  async onInvoke(): Promise<void> {
    if (now() >= this.lookAt) await this.lookup();
    await this.flush(false);
  }

  /** SHUTDOWN: write everything counted, whatever the flush policy says. */
  async onShutdown(): Promise<void> {
    await this.flush(true);
  }

  private async lookup(): Promise<void> {
    try {
      const out = await this.doc.send(new this.sdk.GetCommand({ TableName: this.table, Key: { deploymentId: watchKey(this.fn.functionName, this.fn.functionVersion) }, ConsistentRead: true }), { abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });
      this.lookAt = now() + this.recheckMs;
      const found = watchedDeployment(out.Item);
      // Logged when it changes, and once at the first look.
      if (found !== this.deploymentId || !this.looked) log(found ? 'telemetry.watching' : 'telemetry.unwatched', { functionName: this.fn.functionName, version: this.fn.functionVersion, deploymentId: found ?? this.deploymentId });
      this.deploymentId = found;
      this.looked = true;
      // A release that ended (its watch item gone) leaves nothing to write to.
      if (!found) this.tally.take(now());
    } catch (err) {
      this.lookAt = now() + Math.min(LOOKUP_RETRY_MS, this.recheckMs);
      log('telemetry.lookup-failed', { error: errorText(err) });
    }
  }

  /** Write the counts when due (or `all`); one write at a time, and a caller waits for the one under way. */
  private async flush(all: boolean): Promise<void> {
    while (this.writing) await this.writing;
    const deploymentId = this.deploymentId;
    if (!deploymentId || !this.tally.pending.invocations) return;
    if (!all && !this.tally.due(now())) return;
    const at = now();
    const counts = this.tally.take(at);
    this.writing = this.write(deploymentId, counts, at).finally(() => (this.writing = undefined));
    await this.writing;
  }

  private async write(deploymentId: string, counts: { invocations: number; errors: number }, at: number): Promise<void> {
    // The contract's ADD into the version's own watch item, on condition that it still watches this
    // deployment: a write never counts for another release, nor re-creates an item that expired.
    const input = telemetryUpdate(this.table, this.fn.functionName, this.fn.functionVersion, deploymentId, counts.invocations, counts.errors, at);
    try {
      await this.doc.send(new this.sdk.UpdateCommand(input), { abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });
      if (this.failedWrites) log('telemetry.write-recovered', { failedWrites: this.failedWrites });
      this.failedWrites = 0;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
        log('telemetry.deployment-gone', { deploymentId });
        this.deploymentId = undefined;
        this.lookAt = now() + this.recheckMs;
        return;
      }
      this.tally.restore(counts);
      if (!this.failedWrites++) log('telemetry.write-failed', { deploymentId, error: errorText(err) });
    }
  }
}

/** Start the telemetry listener and subscribe to it; undefined (logged) when either fails. */
async function startCounting(reg: Registration, table: string): Promise<Counter | undefined> {
  // Lambda sends telemetry to sandbox.localdomain only. https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
  const host = process.env[TEST_ENV.listenerHost] || 'sandbox.localdomain';
  let server: Server | undefined;
  try {
    const counter = new Counter(table, reg, positiveIntEnv(TEST_ENV.recheckMs, WATCH_RECHECK_SECONDS * 1000), positiveIntEnv(TEST_ENV.flushMs, FLUSH_SECONDS * 1000), await loadSdk());
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Answer first: Lambda waits for the listener before it sends the next batch.
        res.writeHead(200).end();
        try {
          counter.onBatch(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          log('telemetry.bad-batch', { error: errorText(err) });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const reply = await call(
      'PUT',
      '/2022-07-01/telemetry',
      { 'Lambda-Extension-Identifier': reg.id },
      {
        schemaVersion: '2022-12-13',
        types: ['platform'],
        // The smallest maxItems and maxBytes the API takes; timeoutMs is what bounds the delay.
        buffering: { timeoutMs: TELEMETRY_BUFFER_MS, maxItems: 1000, maxBytes: 262144 },
        destination: { protocol: 'HTTP', URI: `http://${host}:${port}` },
      },
    );
    if (reply.status !== 200) throw new Error(`telemetry subscribe answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    log('telemetry.subscribed', { functionName: reg.functionName, version: reg.functionVersion, table });
    return counter;
  } catch (err) {
    log('telemetry.off', { reason: 'subscribe failed', error: errorText(err) });
    server?.close();
    return undefined;
  }
}

async function main(): Promise<void> {
  let reg: Registration | undefined;
  for (let attempt = 1; !reg; attempt++) {
    try {
      reg = await register();
    } catch (err) {
      // Without a registration there is no event loop to keep: Lambda reports the init failure.
      if (attempt === 3) throw err;
      await sleep(100 * attempt);
    }
  }
  const table = process.env[TELEMETRY_TABLE_ENV];
  let counter: Counter | undefined;
  if (!table) log('telemetry.off', { reason: `${TELEMETRY_TABLE_ENV} is not set` });
  else if (reg.functionVersion === '$LATEST' || !reg.functionVersion) log('telemetry.off', { reason: `version ${JSON.stringify(reg.functionVersion)} is never watched` });
  else counter = await startCounting(reg, table);

  for (;;) {
    const event = await nextEvent(reg.id);
    try {
      if (event.eventType === 'INVOKE') await counter?.onInvoke();
      else if (event.eventType === 'SHUTDOWN') {
        if (counter) {
          const left = typeof event.deadlineMs === 'number' ? event.deadlineMs - now() - SHUTDOWN_WRITE_MS : SHUTDOWN_GRACE_MS;
          await sleep(Math.max(0, Math.min(SHUTDOWN_GRACE_MS, left)));
          await counter.onShutdown();
        }
        process.exit(0);
      }
    } catch (err) {
      log('telemetry.error', { error: errorText(err) });
    }
  }
}

process.on('uncaughtException', (err) => log('telemetry.error', { error: errorText(err) }));
process.on('unhandledRejection', (err) => log('telemetry.error', { error: errorText(err) }));

main().catch((err) => {
  log('telemetry.register-failed', { error: errorText(err) });
  process.exit(1);
});
