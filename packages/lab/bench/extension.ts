/**
 * `npm run bench:extension`: the telemetry extension as Lambda runs it, measured. One harness for
 * every build of the extension (`--node FILE`, `--go FILE`, either or both): it plays Lambda's
 * Extensions and Telemetry APIs over loopback and a DynamoDB endpoint (the lab's, behind a proxy
 * that makes it slow, hanging, throttled or unreachable in real time), and measures per build:
 * - peak resident memory (VmHWM of the process, Linux);
 * - time from process start to its first /event/next (its share of every cold start);
 * - the added Invoke-phase time: from INVOKE handed out to the extension's next /event/next
 *   (Lambda ends the Invoke phase only then), p50 / p99 / max, in each DynamoDB condition.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-invoke
 * Every telemetry batch holds a failure, so every event wants a write: the worst case for the hold.
 * `--floor FILE` runs a build with telemetry off (no table: it only answers /next), the harness's
 * and the machine's own noise, measured alongside. Prints a Markdown table; `--json FILE` writes the
 * figures, `--markdown FILE` the BENCHMARKS.md section (bench/extension.md, which report.ts includes).
 */
import { execSync, fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { watchItem } from 'canary-watchdog/lib/aws/telemetry';
import { DynamoDbLab } from '../src/lab/dynamodb';
import { LabServer } from '../src/lab/server';

export type Condition = 'healthy' | 'slow (2 s)' | 'hanging' | 'throttled' | 'unreachable';
export const CONDITIONS: readonly Condition[] = ['healthy', 'slow (2 s)', 'hanging', 'throttled', 'unreachable'];

export interface Figures {
  readonly build: string;
  readonly condition: Condition;
  readonly peakRssMb: number;
  readonly firstNextMs: number;
  readonly invokes: number;
  readonly holdMs: { p50: number; p99: number; max: number };
}

const TABLE = 'watchdog-state';
const ID = 'ext-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const body = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

interface DynamoSide {
  readonly endpoint: string;
  readonly unreachable: string;
  set(c: Condition): Promise<void>;
  close(): Promise<void>;
}

/**
 * The DynamoDB side in a process of its own, so that its work (the lab's request handling) never
 * delays the harness's clock on the Extensions API side.
 */
async function dynamo(): Promise<DynamoSide> {
  const child = fork(__filename, ['--dynamo-side'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = () => new Promise<{ endpoint?: string; unreachable?: string }>((r) => child.once('message', (m) => r(m as { endpoint?: string })));
  const ready = await next();
  return {
    endpoint: ready.endpoint!,
    unreachable: ready.unreachable!,
    set: async (c) => {
      const ack = next();
      child.send({ set: c });
      await ack;
    },
    close: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill();
      await gone;
    },
  };
}

/** The lab's DynamoDB, behind a proxy that applies the condition in real time. */
async function serveDynamo(): Promise<{ endpoint: string; unreachable: string; set(c: Condition): void; close(): Promise<void> }> {
  const ddb = new DynamoDbLab({ now: () => Date.now() });
  ddb.createTable(TABLE, 'deploymentId');
  const lab = new LabServer([ddb.service], []);
  const labUrl = new URL(await lab.listen(0, '127.0.0.1'));
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: labUrl.origin, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  await doc.send(new PutCommand({ TableName: TABLE, Item: watchItem({ deploymentId: 'd-BENCH0001', functionName: 'orders', version: '7' }) }));
  doc.destroy();
  let condition: Condition = 'healthy';
  const proxy = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      if (condition === 'hanging') return; // never answered; the client gives up
      if (condition === 'throttled') {
        res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
        return void res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }));
      }
      if (condition === 'slow (2 s)') await sleep(2000);
      const up = request({ host: labUrl.hostname, port: labUrl.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(payload);
    })();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  // A port nothing listens on.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const unreachable = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    unreachable,
    set: (c) => (condition = c),
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      await lab.close();
    },
  };
}

/** Peak resident memory of a process so far, MB (VmHWM). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? NaN;

/** One extension process through one condition. */
async function measure(build: string, argv: readonly string[], condition: Condition, ddb: DynamoSide, opts: { invokes: number; capMs: number; counting: boolean }): Promise<Figures> {
  let waiting: ServerResponse | undefined;
  let subscribed: string | undefined;
  let firstNextAt = 0;
  let sentAt = 0;
  const holds: number[] = [];
  const api: Server = createServer((req, res) => {
    void (async () => {
      const b = await body(req);
      if (req.url === '/2020-01-01/extension/register') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Lambda-Extension-Identifier': ID });
        return void res.end(JSON.stringify({ functionName: 'orders', functionVersion: '7', handler: 'index.handler' }));
      }
      if (req.url === '/2022-07-01/telemetry') {
        subscribed = (JSON.parse(b.toString('utf8')) as { destination: { URI: string } }).destination.URI;
        res.writeHead(200);
        return void res.end('"OK"');
      }
      if (req.url === '/2020-01-01/extension/event/next') {
        const now = performance.now();
        if (!firstNextAt) firstNextAt = now;
        if (sentAt) holds.push(now - sentAt);
        sentAt = 0;
        waiting = res;
        return;
      }
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  await ddb.set('healthy');
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_NO_WARNINGS: '1',
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(api.address() as AddressInfo).port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...(opts.counting ? { CANARY_WATCHDOG_TELEMETRY_TABLE: TABLE } : {}),
      CANARY_WATCHDOG_TELEMETRY_LISTENER_HOST: '127.0.0.1',
      AWS_ENDPOINT_URL_DYNAMODB: condition === 'unreachable' ? ddb.unreachable : ddb.endpoint,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const until = async (ok: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`${build} ${condition}: timed out`);
      await sleep(1);
    }
  };
  const send = (event: object) => {
    const res = waiting!;
    waiting = undefined;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(event));
  };
  const invoke = () => {
    sentAt = performance.now();
    send({ eventType: 'INVOKE', deadlineMs: Date.now() + 3000, requestId: 'r', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders' });
  };
  const telemetry = async () => {
    if (!subscribed) return;
    const now = new Date().toISOString();
    await fetch(subscribed!, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ time: now, type: 'platform.runtimeDone', record: { requestId: 'r', status: 'error', errorType: 'Runtime.Unknown' } }]) }).then((r) => r.arrayBuffer());
  };
  try {
    await until(() => waiting !== undefined && (subscribed !== undefined || !opts.counting), 15_000);
    const firstNextMs = firstNextAt - started;
    // The first INVOKE finds the watch item (DynamoDB healthy), then the condition begins.
    invoke();
    await until(() => waiting !== undefined, 15_000);
    await sleep(300);
    holds.length = 0;
    await ddb.set(condition);
    const end = Date.now() + opts.capMs;
    for (let i = 0; i < opts.invokes && Date.now() < end; i++) {
      await telemetry();
      invoke();
      await until(() => waiting !== undefined, 30_000);
      await sleep(10);
    }
    const rss = peakRssMb(child.pid!);
    const sorted = [...holds].sort((a, b) => a - b);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return { build, condition, peakRssMb: rss, firstNextMs: r2(firstNextMs), invokes: holds.length, holdMs: { p50: r2(pct(sorted, 0.5)), p99: r2(pct(sorted, 0.99)), max: r2(sorted.at(-1) ?? NaN) } };
  } finally {
    child.kill('SIGKILL');
    await exited;
    api.closeAllConnections();
    await new Promise<void>((r) => api.close(() => r()));
  }
}

/** The goals the issue set for the extension (BENCHMARKS.md). */
export const GOALS = { peakRssMb: 16, firstNextMs: 50, holdP99Ms: 5, holdMaxMs: 20 } as const;

/** Whether one build's rows meet each goal, and the worst figure behind it. */
export function goalsOf(rows: readonly Figures[]): { goal: string; met: boolean; worst: number }[] {
  const worst = (f: (r: Figures) => number) => Math.max(...rows.map(f));
  const g = [
    { goal: `peak RSS <= ${GOALS.peakRssMb} MB`, worst: worst((r) => r.peakRssMb), limit: GOALS.peakRssMb },
    { goal: `start to first /next <= ${GOALS.firstNextMs} ms`, worst: worst((r) => r.firstNextMs), limit: GOALS.firstNextMs },
    { goal: `added Invoke time p99 <= ${GOALS.holdP99Ms} ms`, worst: worst((r) => r.holdMs.p99), limit: GOALS.holdP99Ms },
    { goal: `added Invoke time max <= ${GOALS.holdMaxMs} ms`, worst: worst((r) => r.holdMs.max), limit: GOALS.holdMaxMs },
  ];
  return g.map((x) => ({ goal: x.goal, met: x.worst <= x.limit, worst: x.worst }));
}

/** The BENCHMARKS.md section: method, the table, and the goals per build. */
export function section(rows: readonly Figures[], meta: { commit: string; at: string; load: string }): string {
  const builds = [...new Set(rows.filter((r) => !r.build.startsWith('floor')).map((r) => r.build))];
  return [
    '## Telemetry extension',
    '',
    `Measured on commit \`${meta.commit}\`, ${meta.at}, by \`packages/lab/bench/extension.ts\` (\`npm run bench:extension\`), every build in the same run on the same machine (load average ${meta.load} on 2 cores, shared).`,
    '',
    "Method: the harness plays Lambda's Extensions and Telemetry APIs over loopback and runs each build as Lambda does (its own process). DynamoDB is the lab's, in a process of its own, behind a proxy that makes it slow (2 s before each answer), hanging (never answers), throttled (400 ProvisionedThroughputExceededException) or unreachable (a closed port). Each run: start the process, one INVOKE with DynamoDB healthy (the extension finds its watch item), then the condition; then up to 200 rounds (or 30 s) of a telemetry batch holding one failed `platform.runtimeDone` (so every event wants a write: the worst case) followed by an INVOKE. *Added Invoke time* is from the INVOKE handed out to the extension's next `/event/next`: Lambda ends the Invoke phase only then, so that time is billed and counts toward the function's timeout. *Peak RSS* is the process's VmHWM. The *floor* row is the Go binary with telemetry off (it only answers `/next`): the harness's and the machine's own noise in the same figures.",
    '',
    table(rows),
    '',
    ...builds.flatMap((b) => [
      `Goals, ${b}: ` + goalsOf(rows.filter((r) => r.build === b)).map((g) => `${g.goal}: ${g.met ? 'met' : '**not met**'} (worst ${g.worst})`).join('; ') + '.',
      '',
    ]),
  ].join('\n');
}

export function table(rows: readonly Figures[]): string {
  const lines = ['| extension | DynamoDB | peak RSS (MB) | start to first /next (ms) | invokes | added Invoke time p50 / p99 / max (ms) |', '|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.build} | ${r.condition} | ${r.peakRssMb} | ${r.firstNextMs} | ${r.invokes} | ${r.holdMs.p50} / ${r.holdMs.p99} / ${r.holdMs.max} |`);
  return lines.join('\n');
}

if (require.main === module && process.argv.includes('--dynamo-side')) {
  void serveDynamo().then((d) => {
    process.send!({ endpoint: d.endpoint, unreachable: d.unreachable });
    process.on('message', (m: { set: Condition }) => {
      d.set(m.set);
      process.send!({ ok: true });
    });
  });
} else if (require.main === module) {
  void (async () => {
    const args = process.argv.slice(2);
    const builds: [string, string[], boolean][] = [];
    let json: string | undefined;
    let markdown: string | undefined;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--node') builds.push(['Node.js (bundle)', [process.execPath, args[++i]], true]);
      else if (args[i] === '--go') builds.push(['Go (native)', [args[++i]], true]);
      else if (args[i] === '--floor') builds.push(['floor: Go, telemetry off', [args[++i]], false]);
      else if (args[i] === '--json') json = args[++i];
      else if (args[i] === '--markdown') markdown = args[++i];
      else throw new Error(`unknown option ${args[i]}; allowed: --node FILE, --go FILE, --floor FILE, --json FILE, --markdown FILE`);
    }
    if (!builds.length) throw new Error('give --node FILE and/or --go FILE');
    const ddb = await dynamo();
    const rows: Figures[] = [];
    try {
      for (const [build, argv, counting] of builds) {
        for (const c of counting ? CONDITIONS : CONDITIONS.slice(0, 1)) {
          const f = await measure(build, argv, c, ddb, { invokes: 200, capMs: 30_000, counting });
          process.stderr.write(`${JSON.stringify(f)}\n`);
          rows.push(f);
        }
      }
    } finally {
      await ddb.close();
    }
    if (json) writeFileSync(json, `${JSON.stringify(rows, null, 2)}\n`);
    if (markdown) {
      const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
      writeFileSync(markdown, `${section(rows, { commit, at: new Date().toISOString(), load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') })}\n`);
    }
    process.stdout.write(`${table(rows)}\n`);
  })().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
