import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { RUNNER_FILES } from '../files';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { seededRandom } from 'canary-watchdog/lib/core/random';
import { LAB_ACCOUNT, LAB_REGION, LabError } from '../kernel';
import type { AliasRouting, CloudWatchPort, Datum, LabContext, LambdaPort } from '../ports';
import { ELAPSED_HEADER, type RestRequest, type RestRoute } from '../server';
import { ASYNC_MAX_EVENT_AGE_MS, asyncRetryDelayMs, checkReserved, concurrencyAt, type Environment, freeEnvironment, reap, RESERVED_THROTTLE } from './environments';
import { hostPythonNote, PythonRunner } from './python-runtime';
import { awaitReply, type Deadline, eachLine, type HostAnswer, OutputFence, type Runner, type RunnerReply, runtimeFamily } from './runner';

export type { HostAnswer } from './runner';

/** How a version misbehaves on purpose (rehearsals): applied to every invocation of it. */
export interface Behaviour {
  /** Share of invocations that fail with a function error (0-1). */
  readonly errorRate?: number;
  /** Milliseconds added to every invocation's duration. */
  readonly latencyMs?: number;
  /** Every invocation fails during init, as a module that throws at load. */
  readonly crashOnInit?: boolean;
  /** Share of invocations that time out (0-1). */
  readonly timeoutRate?: number;
  /** Failures start only this many minutes after the version first took traffic (slow burn). */
  readonly startsFailingAfterMinutes?: number;
  /**
   * Share of invocations (0-1) that answer HTTP 500 without throwing: a handled failure, so no
   * function error and no `Errors` datapoint; a function URL counts it as a 5xx.
   */
  readonly httpErrorRate?: number;
  /**
   * User requests a second the version serves; each second's excess fails with a function error
   * (a pool or quota sized too small). Simulated user traffic only: a real invocation (a probe)
   * is one request and never meets it.
   */
  readonly capacityRps?: number;
  /**
   * The version's own init phase, ms, for each execution environment it starts (a heavy
   * dependency, a slow configuration load); without it, the noise's `coldStartMs`. Like Lambda's,
   * it is not part of Duration: only the REPORT line's Init Duration and the Telemetry API's
   * init events carry it.
   */
  readonly initMs?: number;
}

/** What every version of a function meets, old and new alike (rehearsals' `noise`). */
export interface Noise {
  /** Share of invocations (0-1) that fail with a function error, drawn per invocation. */
  readonly transientErrorRate?: number;
  /** Init phase of each execution environment's first invocation, ms (not part of its Duration). */
  readonly coldStartMs?: number;
  /** Spread of each init (the version's `initMs`, or `coldStartMs`): times a log-normal factor exp(σz), median 1. */
  readonly coldStartSigma?: number;
  /** Simulated users' environments are replaced after this long busy (churn: a cold start each); default never. */
  readonly environmentLifetimeMinutes?: number;
  /**
   * Spread of user requests' durations (simulated traffic): each one's duration is multiplied by
   * a log-normal factor exp(σz), median 1; the first request a newly started environment serves
   * takes `firstRequestMs` more (lazy initialisation Init does not cover, so it is in Duration).
   */
  readonly latencyJitter?: { readonly sigma: number; readonly firstRequestMs?: number };
}

/** Told of every finished invocation (InvocationListener's arguments as noteInvocations's). */
export type InvocationListener = (functionName: string, version: string, at: number, invocations: number, errors: number, durationMs: number, initsMs: readonly number[]) => void;

/**
 * One environment's init phase, ms: the version's `initMs`, else the noise's `coldStartMs`, spread
 * by `coldStartSigma` (drawn only then, so that scenarios without it draw as before); undefined
 * when neither is set (the lab then reports no init).
 */
export function initDurationOf(b: Behaviour, noise: Noise, rand: () => number): number | undefined {
  const base = b.initMs ?? noise.coldStartMs;
  if (!base) return undefined;
  if (!noise.coldStartSigma) return base;
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.max(1, Math.round(base * Math.exp(noise.coldStartSigma * z)));
}

/** One request's outcome, as the metrics count it. */
export interface Call {
  /** A function error or timeout (a Lambda `Errors` datapoint). */
  readonly error: boolean;
  /** Answered HTTP 500 without a function error. */
  readonly http5xx?: boolean;
  readonly durationMs: number;
}

/** The payload of an injected HTTP 500 (`httpErrorRate`). */
export const INJECTED_HTTP_500 = { statusCode: 500, body: '{"error":"injected by the lab (httpErrorRate)"}' };

export interface FunctionSpec {
  readonly name: string;
  readonly handler: string;
  /** Folder of the bundled code (the CDK asset). */
  readonly codeDir: string;
  readonly runtime?: string;
  readonly timeoutSeconds?: number;
  readonly memorySize?: number;
  readonly environment?: Readonly<Record<string, string>>;
  readonly description?: string;
  /** Its LoggingConfig.LogGroup; Lambda's default `/aws/lambda/<name>` without one. */
  readonly logGroup?: string;
  /** ReservedConcurrentExecutions: the most invocations in flight at once, across its versions (0 throttles all). */
  readonly reservedConcurrency?: number;
  /** Its execution role's ARN: the function calls AWS as this role. Without one, with the lab's default full-access keys. */
  readonly role?: string;
  /** Its instruction set architecture (described only; the lab runs every function on its host); default x86_64. */
  readonly architectures?: readonly string[];
  /** TracingConfig.Mode (described only: the lab has no X-Ray); default PassThrough. */
  readonly tracingMode?: string;
  /** EphemeralStorage.Size, MB (described only); default 512. */
  readonly ephemeralStorageMb?: number;
  /** Its layers' version ARNs, with each one's size when the lab has its content (described only: the lab runs the telemetry layer's extension itself). */
  readonly layers?: readonly { readonly arn: string; readonly codeSize?: number }[];
  /** VpcConfig (described only: the lab's functions reach what the lab lets them reach); VpcId when the template names the subnets' VPC. */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[]; readonly vpcId?: string; readonly ipv6AllowedForDualStack: boolean };
  /** DeadLetterConfig.TargetArn (described only). */
  readonly deadLetterTargetArn?: string;
  /** KMSKeyArn, the key of its environment variables (described only). */
  readonly kmsKeyArn?: string;
  /** SnapStart.ApplyOn (described only); default None. */
  readonly snapStartApplyOn?: string;
  /** LoggingConfig's format and levels (its LogGroup is `logGroup`); the text format without one. */
  readonly logging?: LoggingSpec;
}

/** How a function's logs are written: Lambda's text format, or JSON records filtered by level. */
export type LoggingSpec = { readonly format: 'Text' } | { readonly format: 'JSON'; readonly applicationLevel: string; readonly systemLevel: string };

/** Application log levels, most detailed first. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html */
const APPLICATION_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** System log levels, most detailed first. */
const SYSTEM_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

/**
 * A template's LoggingConfig as a LoggingSpec: LogFormat Text or JSON; ApplicationLogLevel and
 * SystemLogLevel only with JSON, each INFO by default. A bad value is refused naming the allowed ones.
 * https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html
 */
export function loggingOf(raw: { LogFormat?: unknown; ApplicationLogLevel?: unknown; SystemLogLevel?: unknown } | undefined): LoggingSpec {
  const bad = (m: string) => new LabError('InvalidParameterValueException', m);
  const format = raw?.LogFormat ?? 'Text';
  if (format !== 'Text' && format !== 'JSON') throw bad(`LogFormat: expected Text or JSON, got ${JSON.stringify(format)}`);
  const app = raw?.ApplicationLogLevel;
  const system = raw?.SystemLogLevel;
  if (format === 'Text') {
    if (app !== undefined || system !== undefined) throw bad('LoggingConfig: ApplicationLogLevel and SystemLogLevel need LogFormat JSON');
    return { format };
  }
  if (app !== undefined && !(APPLICATION_LEVELS as readonly unknown[]).includes(app)) throw bad(`ApplicationLogLevel: expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL, got ${JSON.stringify(app)}`);
  if (system !== undefined && !(SYSTEM_LEVELS as readonly unknown[]).includes(system)) throw bad(`SystemLogLevel: expected DEBUG, INFO or WARN, got ${JSON.stringify(system)}`);
  return { format, applicationLevel: (app as string | undefined) ?? 'INFO', systemLevel: (system as string | undefined) ?? 'INFO' };
}

/** Whether a system record of `level` passes the function's SystemLogLevel. */
const systemLogs = (logging: LoggingSpec, level: (typeof SYSTEM_LEVELS)[number]): boolean =>
  logging.format === 'JSON' && SYSTEM_LEVELS.indexOf(level) >= SYSTEM_LEVELS.indexOf(logging.systemLevel as (typeof SYSTEM_LEVELS)[number]);

/** Credentials a function's environment gets for its execution role. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** A function's code: the folder of its bundle and the handler in it. */
export interface FunctionCode {
  readonly dir: string;
  readonly handler: string;
}

interface Version {
  readonly version: string;
  /** The last measure of the most memory its environment has held, bytes (REPORT's Max Memory Used). */
  memoryBytes?: number;
  readonly env: Record<string, string>;
  /** The code a published version keeps (Lambda snapshots code and configuration at publication). */
  readonly code: FunctionCode;
  readonly codeSha256: string;
  readonly publishedAt: number;
  /** Its RevisionId, fixed at publication. */
  readonly revisionId: string;
  /** The configuration a published version keeps (Lambda snapshots it at publication). */
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly description: string;
  behaviour: Behaviour;
  /**
   * The thread its environments share (see `invoke`): one per version, so what the code keeps at
   * module scope is shared by its environments; everything Lambda accounts per environment
   * (concurrency, init, reuse, reset) is accounted in `environments`.
   */
  worker?: Runner;
  /** Its execution environments, alive or ending (environments.ts). */
  environments: Environment[];
  /** Its code's init failed last time: the next environment loads it afresh. */
  initFailed?: boolean;
}

interface LabFunction {
  readonly spec: FunctionSpec;
  readonly arn: string;
  env: Record<string, string>;
  /** $LATEST's code: the spec's, until a code update. */
  code: FunctionCode;
  description: string;
  timeoutSeconds: number;
  memorySize: number;
  /** The base64 SHA-256 of $LATEST's code (a version published from it keeps it). */
  codeSha256: string;
  readonly versions: Map<string, Version>;
  readonly aliases: Map<string, LabAlias>;
  readonly tags: Map<string, string>;
  nextVersion: number;
  /** ReservedConcurrentExecutions, when set. */
  reserved?: number;
  /** When $LATEST's code or configuration last changed, and the id of that revision. */
  lastModified: number;
  revisionId: string;
}

/** The SHA-256 a function's code is known by: its asset folder, and the rehearsed code revision. */
const codeSha = (code: FunctionCode, codeRevision: string) => createHash('sha256').update(code.dir).update(code.handler).update(codeRevision).digest('base64');

interface LabAlias extends AliasRouting {
  /** A fresh id on every change, for UpdateAlias's optimistic locking. */
  readonly revisionId: string;
  readonly description: string;
}

/** One line a function wrote (stdout or stderr). */
export interface LogEntry {
  readonly at: number;
  readonly functionName: string;
  readonly version: string;
  readonly line: string;
}

/** One real invocation, as the lab saw it. */
export interface Invocation {
  readonly at: number;
  readonly functionName: string;
  readonly qualifier?: string;
  readonly executedVersion: string;
  readonly ok: boolean;
  readonly source: string;
  /**
   * Why it failed: the function's own code (`init` when its module did not load or its handler is
   * missing) or the lab's injection (`injected`: a version's behaviour or noise).
   */
  readonly error?: { readonly type: string; readonly message: string; readonly init: boolean; readonly injected: boolean };
  /** The execution environment it ran in (numbered per version from 1), and whether that environment started for it (a cold start). */
  readonly environment: number;
  readonly coldStart: boolean;
}

/** An invocation refused for the function's reserved concurrency (HTTP 429). */
export interface Throttle {
  readonly at: number;
  readonly functionName: string;
  readonly qualifier?: string;
  readonly source: string;
  /** Invocations in flight when it came: the reserved concurrency. */
  readonly concurrency: number;
}

export interface InvokeResult {
  readonly statusCode: number;
  readonly executedVersion: string;
  readonly functionError?: 'Handled' | 'Unhandled';
  readonly payload: unknown;
  readonly durationMs: number;
  /** The init phase this invocation paid (cold start), ms; not part of `durationMs`. */
  readonly initDurationMs?: number;
  /**
   * Where a failure came from: the function's own code (`code`: its error, timeout or HTTP 5xx
   * answer), a version's injected behaviour (`injected`), or the scenario's noise (`noise`).
   */
  readonly failure?: FailureSource;
  /** Its request id, as its START, END and REPORT lines name it. */
  readonly requestId: string;
  /** Its log lines, START to REPORT (LogType Tail), when no other invocation's interleave with them. */
  readonly logLines?: readonly string[];
  /** The most memory its environment had held when it ended, bytes (REPORT's Max Memory Used). */
  readonly memoryBytes?: number;
}

/** Where a failed request's failure came from (`throttled`: refused for the reserved concurrency). */
export type FailureSource = 'code' | 'injected' | 'noise' | 'throttled';

/**
 * Threads that served a version of a lab now stopped, kept for the next lab that asks for one
 * (`reuseThreads`). A thread given a new version drops the old one's modules, environment and
 * handler first, so the version starts with a fresh module scope; what stays loaded is what lies
 * outside its code folder (the SDK the runtime provides, node builtins). That spares each new
 * execution environment the ~250 ms of loading the SDK, which dominates a short rehearsal.
 */
const idleThreads: Worker[] = [];
const MAX_IDLE_THREADS = 16;
/** A thread nobody took for this long ends, so a pool never keeps its process (or a test runner) alive. */
const IDLE_THREAD_MS = 2000;
const idleTimers = new WeakMap<Worker, NodeJS.Timeout>();

function keepIdle(w: Worker): void {
  idleThreads.push(w);
  const timer = setTimeout(() => {
    const i = idleThreads.indexOf(w);
    if (i >= 0) idleThreads.splice(i, 1);
    void w.terminate();
  }, IDLE_THREAD_MS);
  timer.unref();
  idleTimers.set(w, timer);
}

function takeIdle(): Worker | undefined {
  const w = idleThreads.pop();
  if (w) clearTimeout(idleTimers.get(w));
  return w;
}
const RELEASED = '\u0000canary-watchdog-lab:released';

/** Ends the threads kept for reuse (a test runner that waits for every thread, a long-lived host). */
export async function endIdleThreads(): Promise<void> {
  await Promise.all(idleThreads.splice(0).map((w) => (clearTimeout(idleTimers.get(w)), w.terminate())));
}

type WorkerReply = RunnerReply;

/**
 * The environment a function's code runs with: Lambda's reserved variables, the lab's endpoint,
 * then the function's own environment.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
function runtimeEnvironment(fn: LabFunction, v: Version, endpoint: string, credentials: RoleCredentials | undefined): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: LAB_REGION,
    AWS_DEFAULT_REGION: LAB_REGION,
    AWS_ACCESS_KEY_ID: credentials?.accessKeyId ?? 'lab',
    AWS_SECRET_ACCESS_KEY: credentials?.secretAccessKey ?? 'lab',
    ...(credentials ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    AWS_ENDPOINT_URL: endpoint,
    AWS_LAMBDA_FUNCTION_NAME: fn.spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: v.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(v.memorySize),
    AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
    // The runtime writes JSON records at the application log level. https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
    ...(fn.spec.logging?.format === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: fn.spec.logging.applicationLevel } : {}),
    ...v.env,
  };
}

/** A version's worker thread, invoked by message. */
class VersionWorker implements Runner {
  private readonly worker: Worker;
  private seq = 0;
  private dead = false;
  private readonly pending = new Map<number, (r: WorkerReply) => void>();
  private readonly detach: (() => void)[] = [];
  /** An invocation timed out in it: its code may still run, so the thread is never reused. */
  poisoned = false;
  /** Resolves once both output streams passed the release marker. */
  private onReleased?: () => void;
  private readonly fence = new OutputFence();

  constructor(
    fn: LabFunction,
    v: Version,
    clock: SharedArrayBuffer,
    endpoint: string,
    /** The execution role's credentials; the lab's default keys without a role. */
    credentials: RoleCredentials | undefined,
    onLog: (line: string) => void,
    private readonly reuse: boolean,
    /** The lab runs on a real clock: the function's compute counts at wall-clock speed, whatever the clock's speed. */
    private readonly realClock: boolean,
  ) {
    // Not the host's loader flags (tsx, jest): a Lambda runtime runs plain JavaScript bundles.
    this.worker = (reuse && takeIdle()) || new Worker(join(RUNNER_FILES, 'worker.js'), { execArgv: [], env: {}, stdout: true, stderr: true });
    this.worker.postMessage({
      type: 'assign',
      clock,
      codeDir: v.code.dir,
      handler: v.code.handler,
      wallClock: realClock,
      functionName: fn.spec.name,
      version: v.version,
      timeoutMs: v.timeoutSeconds * 1000,
      env: runtimeEnvironment(fn, v, endpoint, credentials),
    });
    let markers = 0;
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      this.detach.push(
        eachLine(stream, (line) => {
          if (line === RELEASED) {
            if (++markers === 2) this.onReleased?.();
          } else if (!this.fence.take(line)) onLog(line);
        }),
      );
    }
    const onMessage = (m: WorkerReply & { type: string; id: number }) => {
      if (m.type === 'result') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    };
    const onError = (err: Error) => {
      this.dead = true;
      for (const resolve of this.pending.values()) resolve({ ok: false, payload: { errorType: 'Runtime.ExitError', errorMessage: String(err) }, durationMs: 0 });
      this.pending.clear();
    };
    this.worker.on('message', onMessage);
    this.worker.on('error', onError);
    this.detach.push(() => this.worker.off('message', onMessage), () => this.worker.off('error', onError));
    this.worker.unref();
  }

  /** Run one invocation. The thread ends a sleep past the timeout itself (worker.js); `awaitReply` the rest. */
  invoke(event: unknown, arn: string, network: Readonly<Record<string, HostAnswer>>, deadline: Deadline, startOffset = 0, requestId?: string): Promise<WorkerReply> {
    const id = ++this.seq;
    return awaitReply(this.pending, id, deadline, this.realClock, () => this.worker.postMessage({ type: 'invoke', id, event, arn, requestId: requestId ?? `lab-${id}`, network, startOffset }), this.fence);
  }

  /** Load the version's code afresh (a new environment after a failed init runs the init again). */
  reinit(): void {
    this.worker.postMessage({ type: 'reinit' });
  }

  /** Ends the environment: its thread is kept for another version when it can be, else ended. */
  async close(): Promise<void> {
    if (this.reuse && !this.dead && !this.poisoned && this.pending.size === 0 && idleThreads.length < MAX_IDLE_THREADS) {
      const released = new Promise<void>((resolve) => (this.onReleased = resolve));
      this.worker.postMessage({ type: 'release' });
      await released;
      for (const d of this.detach) d();
      keepIdle(this.worker);
      return;
    }
    for (const d of this.detach) d();
    await this.worker.terminate();
  }
}

/**
 * The Lambda platform's lines around one invocation in its log stream: START before the
 * function's output; END and REPORT after it, the REPORT's Init Duration on a cold start only
 * (the init phase is outside Duration). Max Memory Used is the environment's measured peak: an
 * injected outcome, which runs no code, reports the last measure of the version's environment.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export function platformLines(requestId: string, version: string, r?: PlatformReport, memorySize = 128, logging: LoggingSpec = TEXT_LOGS, at = 0): string[] {
  const memoryUsed = maxMemoryUsedMb(r?.memoryBytes ?? 0, memorySize);
  if (logging.format === 'JSON') {
    // JSON records: platform.start and platform.report at INFO, platform.runtimeDone at DEBUG.
    // https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
    const time = new Date(at).toISOString();
    const record = (type: string, body: Record<string, unknown>) => JSON.stringify({ time, type, record: { requestId, ...body } });
    if (!r) return systemLogs(logging, 'INFO') ? [record('platform.start', { version })] : [];
    const status = r.status ?? 'success';
    const metrics = { durationMs: r.durationMs, billedDurationMs: Math.ceil(r.durationMs), memorySizeMB: memorySize, maxMemoryUsedMB: memoryUsed, ...(r.initDurationMs ? { initDurationMs: r.initDurationMs } : {}) };
    return [
      ...(systemLogs(logging, 'DEBUG') ? [record('platform.runtimeDone', { status, metrics: { durationMs: r.durationMs } })] : []),
      ...(systemLogs(logging, 'INFO') ? [record('platform.report', { metrics, status })] : []),
    ];
  }
  if (!r) return [`START RequestId: ${requestId} Version: ${version}`];
  return [
    `END RequestId: ${requestId}`,
    `REPORT RequestId: ${requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(r.durationMs)} ms\tMemory Size: ${memorySize} MB\tMax Memory Used: ${memoryUsed} MB\t${r.initDurationMs ? `Init Duration: ${r.initDurationMs.toFixed(2)} ms\t` : ''}`,
  ];
}

/** What an invocation's END and REPORT lines (or platform records) say of it. */
export interface PlatformReport {
  readonly durationMs: number;
  readonly initDurationMs?: number;
  readonly memoryBytes?: number;
  /** success, error (the function's), or timeout. */
  readonly status?: 'success' | 'error' | 'timeout';
}

const TEXT_LOGS: LoggingSpec = { format: 'Text' };

/** Whether a log line starts another invocation than `requestId` (a text START line or a platform.start record). */
function startsOther(line: string, requestId: string): boolean {
  if (line.startsWith('START RequestId: ')) return !line.startsWith(`START RequestId: ${requestId} `);
  if (!line.startsWith('{"time":') || !line.includes('"type":"platform.start"')) return false;
  return !line.includes(`"requestId":"${requestId}"`);
}

const maxMemoryUsedMb = (bytes: number, memorySize: number): number => Math.min(memorySize, Math.round(bytes / 2 ** 20));

/** A line of the lab's own (a note for whoever runs the lab, `lab: ...`): never in a function's log group. */
export const isLabNote = (line: string): boolean => line.startsWith('lab: ');

/**
 * LogType Tail: the last 4 KB of the invocation's log, base64, ending with its REPORT line: its
 * own lines, or its platform lines alone when another invocation's interleaved with them.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
function logTail(r: InvokeResult, memorySize: number, logging: LoggingSpec | undefined, at: number): string {
  const lines = r.logLines ?? [...platformLines(r.requestId, r.executedVersion, undefined, memorySize, logging, at), ...platformLines(r.requestId, r.executedVersion, r, memorySize, logging, at)];
  return Buffer.from([...lines, ''].join('\n').slice(-4096)).toString('base64');
}

/** Lambda's timestamps: ISO 8601 with milliseconds and +0000 (2026-01-01T00:00:00.000+0000). */
const lambdaTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

const codeSizes = new Map<string, number>();
/** CodeSize: the bytes of the code's folder (Lambda counts its deployment package's), read once a folder. */
export function codeSize(dir: string): number {
  let size = codeSizes.get(dir);
  if (size === undefined) {
    size = 0;
    try {
      for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) size += statSync(join(e.parentPath, e.name)).size;
    } catch {
      // A folder that is gone (a stopped rehearsal's) has no size left to count.
    }
    codeSizes.set(dir, size);
  }
  return size;
}

/** A request id (a UUID's shape) from an invocation's seeded draws. */
function uuidOf(draw: () => number): string {
  const hex = Array.from({ length: 4 }, () => Math.floor(draw() * 0x100000000).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Mark environments dead (their code or configuration is gone): they finish what they run and take nothing more. */
function retire(envs: Environment[]): Environment[] {
  for (const e of envs) e.dead = true;
  return envs;
}

/** Response header of Invoke: the call's virtual duration, ms, init included (read by worker.js). */
export const LAB_ELAPSED_HEADER = ELAPSED_HEADER;
/** Request header worker.js adds to a function's calls to the lab: the function's own time, epoch ms. */
export const LAB_CALLER_NOW_HEADER = 'x-lab-caller-now';

const FN_ARN = (name: string) => `arn:aws:lambda:${LAB_REGION}:${LAB_ACCOUNT}:function:${name}`;

/**
 * Lambda: functions running their real bundled code in worker threads, published versions,
 * weighted aliases, Invoke with `X-Amz-Executed-Version`, and AWS/Lambda metrics with the
 * FunctionName, Resource and ExecutedVersion dimensions.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 */
export class LambdaLab implements LambdaPort {
  private readonly functions = new Map<string, LabFunction>();
  private readonly rand: () => number;
  readonly logs: LogEntry[] = [];
  /** Told of every line a function writes, as it arrives. */
  private readonly logListeners: ((entry: LogEntry) => void)[] = [];
  /** Real invocations, for rehearsal accounting. */
  readonly invocations: Invocation[] = [];
  /** Invocations refused for reserved concurrency. */
  readonly throttles: Throttle[] = [];
  /**
   * The time of callers outside the lab (tests, the CLI, boto3): the lab's clock, or later, the end
   * of the last invocation that had answered. Such a caller sees each answer before its next call,
   * while the lab's clock may stand still (a virtual clock moves only when advanced), so its next
   * call starts after what it waited for; calls it makes at once all start at the same time. (The
   * lab's own callers, scheduled at an instant, are concurrent at that instant whatever order they
   * run in; a function's calls carry its own time.)
   */
  private outsideClock = 0;
  endpoint = 'http://127.0.0.1:0';
  /** Credentials for a function's execution role (session named after the function, as Lambda names it). */
  credentialsFor?: (roleArn: string, functionName: string) => RoleCredentials;

  constructor(
    private readonly ctx: LabContext,
    private readonly cloudwatch: CloudWatchPort,
    private readonly clock: SharedArrayBuffer,
    private readonly opts: { seed?: number; metricDelaySeconds?: number; warm?: boolean; reuseThreads?: boolean } = {},
  ) {
    this.rand = seededRandom(opts.seed ?? 1);
  }

  onLog(fn: (entry: LogEntry) => void): void {
    this.logListeners.push(fn);
  }

  createFunction(spec: FunctionSpec): void {
    if (this.functions.has(spec.name)) throw new LabError('ResourceConflictException', `Function already exist: ${spec.name}`, 409);
    // A runtime the lab cannot run is refused here, never at the first invocation.
    const note = runtimeFamily(spec.runtime) === 'python' ? hostPythonNote(spec.runtime!, this.notedRuntimes) : undefined;
    if (spec.reservedConcurrency !== undefined) {
      const problem = checkReserved(spec.reservedConcurrency, `${spec.name}: ReservedConcurrentExecutions`, this.reservedByOthers(spec.name));
      if (problem) throw new LabError('InvalidParameterValueException', problem);
    }
    this.functions.set(spec.name, {
      spec,
      arn: FN_ARN(spec.name),
      env: { ...(spec.environment ?? {}) },
      code: { dir: spec.codeDir, handler: spec.handler },
      description: spec.description ?? '',
      timeoutSeconds: spec.timeoutSeconds ?? 3,
      memorySize: spec.memorySize ?? 128,
      codeSha256: codeSha({ dir: spec.codeDir, handler: spec.handler }, ''),
      versions: new Map(),
      aliases: new Map(),
      tags: new Map(),
      nextVersion: 1,
      lastModified: this.ctx.scheduler.now(),
      revisionId: randomUUID(),
      ...(spec.reservedConcurrency !== undefined ? { reserved: spec.reservedConcurrency } : {}),
    });
    if (note) this.log(spec.name, '$LATEST', note);
  }

  /** Runtimes whose host mismatch the lab's log has noted (once each). */
  private readonly notedRuntimes = new Set<string>();

  /** Reserved concurrency of every function but one. */
  private reservedByOthers(name: string): number {
    return [...this.functions.values()].reduce((n, f) => n + (f.spec.name === name ? 0 : (f.reserved ?? 0)), 0);
  }

  /**
   * Set (a number) or remove (undefined) a function's reserved concurrency, as
   * PutFunctionConcurrency and DeleteFunctionConcurrency do; 0 is Lambda's kill switch.
   * https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
   */
  setReservedConcurrency(name: string, value: number | undefined): void {
    const f = this.fn(name);
    if (value === undefined) {
      f.reserved = undefined;
      return;
    }
    const problem = checkReserved(value, 'ReservedConcurrentExecutions', this.reservedByOthers(f.spec.name));
    if (problem) throw new LabError('InvalidParameterValueException', problem);
    f.reserved = value;
  }

  reservedConcurrency(name: string): number | undefined {
    return this.fn(name).reserved;
  }

  /** A version's execution environments alive at the lab's time, and how many it ever started. */
  environments(name: string, version: string): { alive: number; busy: number; started: number } {
    const v = this.fn(name).versions.get(version);
    if (!v) throw new LabError('ResourceNotFoundException', `Function not found: ${FN_ARN(name)}:${version}`, 404);
    const now = this.ctx.scheduler.now();
    const alive = reap(v.environments, now).filter((e) => !e.dead);
    return { alive: alive.length, busy: alive.filter((e) => e.startedAt <= now && now < e.busyUntil).length, started: this.started.get(`${name}:${version}`) ?? 0 };
  }

  /** Environments started per `function:version`. */
  private readonly started = new Map<string, number>();

  functionExists(name: string): boolean {
    return this.functions.has(parseName(name).name);
  }

  versionExists(name: string, version: string): boolean {
    return this.fn(name).versions.has(version);
  }

  /** The log group a function writes to. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html */
  logGroupOf(name: string): string {
    const f = this.fn(name);
    return f.spec.logGroup ?? `/aws/lambda/${f.spec.name}`;
  }

  functionNames(): string[] {
    return [...this.functions.keys()];
  }

  private fn(nameOrArn: string): LabFunction {
    const { name } = parseName(nameOrArn);
    const f = this.functions.get(name);
    if (!f) throw new LabError('ResourceNotFoundException', `Function not found: ${FN_ARN(name)}`, 404);
    return f;
  }

  /** The function's current ($LATEST) configuration. */
  /** A function's execution role, if it has one. */
  roleOf(name: string): string | undefined {
    return this.functions.get(name)?.spec.role;
  }

  getConfiguration(name: string): { env: Record<string, string>; description: string; code: FunctionCode; timeoutSeconds: number; memorySize: number } {
    const f = this.fn(name);
    return { env: { ...f.env }, description: f.description, code: f.code, timeoutSeconds: f.timeoutSeconds, memorySize: f.memorySize };
  }

  /** Replace $LATEST's code (UpdateFunctionCode, or a CloudFormation update of the function's Code or Handler). */
  updateCode(name: string, code: FunctionCode): void {
    const f = this.fn(name);
    f.code = code;
    f.codeSha256 = codeSha(code, '');
    this.touch(f);
  }

  /** $LATEST changed: a new revision. https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html */
  private touch(f: LabFunction): void {
    f.lastModified = this.ctx.scheduler.now();
    f.revisionId = randomUUID();
  }

  updateConfiguration(name: string, env: Record<string, string> | undefined, description?: string, limits: { timeoutSeconds?: number; memorySize?: number } = {}): void {
    const f = this.fn(name);
    if (env) f.env = { ...env };
    if (description !== undefined) f.description = description;
    if (limits.timeoutSeconds !== undefined) f.timeoutSeconds = limits.timeoutSeconds;
    if (limits.memorySize !== undefined) f.memorySize = limits.memorySize;
    this.touch(f);
  }

  /**
   * Publish $LATEST as a new version; an unchanged $LATEST returns the last version, as AWS does.
   * `codeRevision` stands for new code (a rehearsed release changes code without a new asset).
   */
  publishVersion(name: string, behaviour: Behaviour = {}, codeRevision = '', description?: string): string {
    const f = this.fn(name);
    const sha = codeSha(f.code, codeRevision);
    // Publishing a code revision stands for updating $LATEST's code, then publishing it.
    f.codeSha256 = sha;
    const config = JSON.stringify([f.env, f.timeoutSeconds, f.memorySize]);
    const last = [...f.versions.values()].filter((v) => v.version !== '$LATEST').at(-1);
    // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html: no new version while code and configuration are unchanged.
    if (last && last.codeSha256 === sha && JSON.stringify([last.env, last.timeoutSeconds, last.memorySize]) === config) return last.version;
    const version = String(f.nextVersion++);
    const v: Version = {
      version, env: { ...f.env }, code: f.code, codeSha256: sha, publishedAt: this.ctx.scheduler.now(), revisionId: randomUUID(), behaviour,
      timeoutSeconds: f.timeoutSeconds, memorySize: f.memorySize, description: description ?? f.description, environments: [],
    };
    f.versions.set(version, v);
    // Start the version's worker now (its init runs alongside whatever comes next), as an
    // execution environment would be ready by the time CodeDeploy's hooks invoke it.
    if (this.opts.warm !== false) this.workerOf(f, v);
    return version;
  }

  setBehaviour(name: string, version: string, behaviour: Behaviour): void {
    const v = this.fn(name).versions.get(version);
    if (!v) throw new LabError('ResourceNotFoundException', `Function not found: ${FN_ARN(name)}:${version}`, 404);
    v.behaviour = behaviour;
  }

  behaviourOf(name: string, version: string): Behaviour {
    return this.fn(name).versions.get(version)?.behaviour ?? {};
  }

  createAlias(name: string, alias: string, routing: AliasRouting, description = ''): void {
    const f = this.fn(name);
    if (f.aliases.has(alias)) throw new LabError('ResourceConflictException', `Alias already exists: ${f.arn}:${alias}`, 409);
    this.checkRouting(f, routing);
    f.aliases.set(alias, { ...routing, revisionId: randomUUID(), description });
  }

  getAlias(name: string, alias: string): AliasRouting | undefined {
    const a = this.fn(name).aliases.get(alias);
    return a ? { functionVersion: a.functionVersion, ...(a.additional ? { additional: a.additional } : {}) } : undefined;
  }

  /**
   * Change an alias's routing (and description). `revisionId`, when given, must be the alias's
   * current one, else PreconditionFailedException; every change gives the alias a new one.
   * https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html
   */
  setAliasRouting(name: string, alias: string, routing: AliasRouting, change: { description?: string; revisionId?: string } = {}): void {
    const f = this.fn(name);
    const a = f.aliases.get(alias);
    if (!a) throw new LabError('ResourceNotFoundException', `Alias not found: ${f.arn}:${alias}`, 404);
    if (change.revisionId !== undefined && change.revisionId !== a.revisionId) {
      throw new LabError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id', 412);
    }
    this.checkRouting(f, routing);
    f.aliases.set(alias, { ...routing, revisionId: randomUUID(), description: change.description ?? a.description });
  }

  /**
   * An alias routes to one version plus at most one more with a weight from 0 to 1; both must
   * be published versions.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
   */
  private checkRouting(f: LabFunction, r: AliasRouting): void {
    // An alias may point at $LATEST, though not with a weighted routing configuration.
    if (r.functionVersion === '$LATEST') {
      if (r.additional) throw new LabError('InvalidParameterValueException', 'RoutingConfig: an alias on $LATEST cannot route to an additional version; point it at a published version');
      return;
    }
    if (!f.versions.has(r.functionVersion)) throw new LabError('ResourceNotFoundException', `Function not found: ${f.arn}:${r.functionVersion}`, 404);
    if (r.additional) {
      if (!f.versions.has(r.additional.version)) throw new LabError('ResourceNotFoundException', `Function not found: ${f.arn}:${r.additional.version}`, 404);
      if (!(r.additional.weight >= 0 && r.additional.weight <= 1)) {
        throw new LabError('InvalidParameterValueException', `AdditionalVersionWeights: weight must be from 0.0 to 1.0, got ${r.additional.weight}`);
      }
      if (r.additional.version === r.functionVersion) throw new LabError('InvalidParameterValueException', 'AdditionalVersionWeights: the additional version must differ from FunctionVersion');
    }
  }

  /** The version an alias sends one request to, drawn by weight. */
  route(name: string, alias: string, draw: number = this.rand()): string {
    const a = this.fn(name).aliases.get(alias);
    if (!a) throw new LabError('ResourceNotFoundException', `Alias not found: ${FN_ARN(name)}:${alias}`, 404);
    return a.additional && draw < a.additional.weight ? a.additional.version : a.functionVersion;
  }

  /**
   * Queue an asynchronous invocation (Invoke with InvocationType Event, EventBridge targets,
   * CodeDeploy's hooks). Callers check the target exists first (Invoke answers 404 before
   * queueing); one that vanished since is dropped with a log line, as Lambda drops an event it
   * cannot deliver, and never fails the scheduler. A throttled event goes back to the queue and is
   * retried after 1 s, 2 s, 4 s ... at most 5 minutes apart, until it is 6 hours old
   * (environments.ts cites the page). Each wait is drawn from [d, 2d): AWS does not document how its
   * queue spreads retries, and events throttled together must not all come back at one instant
   * (on a virtual clock they would be throttled together again, wave after wave).
   */
  invokeAsync(name: string, payload: unknown, source = 'event', qualifier?: string): void {
    const queuedAt = this.ctx.scheduler.now();
    const spread = this.drawFor(`async-retry|${name}|${qualifier ?? ''}|${queuedAt}|${JSON.stringify(payload)}`);
    const attempt = (n: number, at: number) =>
      this.ctx.scheduler.at(at, `invoke ${name} (Event)`, async () => {
        try {
          await this.invoke(name, payload, source, qualifier);
        } catch (err) {
          if (!(err instanceof LabError)) throw err;
          const retryAt = this.ctx.scheduler.now() + Math.round(asyncRetryDelayMs(n) * (1 + spread()));
          if (err.code === RESERVED_THROTTLE.code && retryAt - queuedAt <= ASYNC_MAX_EVENT_AGE_MS) return void attempt(n + 1, retryAt);
          this.log(parseName(name).name, qualifier ?? '$LATEST', `lab: asynchronous invocation dropped: ${err.code}: ${err.message}`);
        }
      });
    attempt(1, queuedAt);
  }

  /** The version an invocation with this qualifier runs ($LATEST, a version, or an alias's), or ResourceNotFoundException. */
  checkQualifier(name: string, qualifier: string | undefined): void {
    const f = this.fn(name);
    if (qualifier === undefined || qualifier === '$LATEST' || f.versions.has(qualifier) || f.aliases.has(qualifier)) return;
    throw new LabError('ResourceNotFoundException', `Function not found: ${f.arn}:${qualifier}`, 404);
  }

  private readonly noise = new Map<string, Noise>();
  private network: Record<string, HostAnswer> = {};

  /**
   * What hosts outside the lab answer function code (lib/lab/lambda/worker.js): merged into the
   * current map, host names in lower case. A host not in it fails as DNS does; loopback always
   * reaches the lab.
   */
  setNetwork(hosts: Readonly<Record<string, HostAnswer>>): void {
    for (const [host, a] of Object.entries(hosts)) this.network[host.toLowerCase()] = a;
  }

  networkMap(): Readonly<Record<string, HostAnswer>> {
    return { ...this.network };
  }
  /** `fn:qualifier` (or `fn` for $LATEST) of every function URL. */
  private readonly urls = new Set<string>();

  addUrl(name: string, qualifier?: string): void {
    const f = this.fn(name);
    this.urls.add(qualifier && qualifier !== '$LATEST' ? `${f.spec.name}:${qualifier}` : f.spec.name);
  }

  hasUrl(name: string, qualifier?: string): boolean {
    return this.urls.has(qualifier && qualifier !== '$LATEST' ? `${name}:${qualifier}` : name);
  }

  /** Noise every version of a function meets from now on (undefined: none). */
  /** The noise a function's versions meet (none: an empty object). */
  noiseOf(name: string): Noise {
    return this.noise.get(this.fn(name).spec.name) ?? {};
  }

  setNoise(name: string, noise: Noise | undefined): void {
    const f = this.fn(name);
    if (noise) this.noise.set(f.spec.name, noise);
    else this.noise.delete(f.spec.name);
  }

  /**
   * Invoke a function, a version or an alias with the real code, applying the version's behaviour.
   * `startAt` is the caller's time when it is ahead of the lab's clock (a function's own clock, a
   * caller outside the lab); it places the invocation among the others in flight. Over the
   * function's reserved concurrency it throws the 429 Lambda answers.
   */
  async invoke(nameOrArn: string, event: unknown, source: string, qualifier?: string, startAt?: number, opts: { record?: boolean } = {}): Promise<InvokeResult> {
    const parsed = parseName(nameOrArn);
    const f = this.fn(parsed.name);
    const q = qualifier ?? parsed.qualifier;
    const at = this.ctx.scheduler.now();
    const start = Math.max(at, startAt ?? at);
    let version: string;
    let alias: string | undefined;
    if (q === undefined || q === '$LATEST') {
      version = this.publishLatestShadow(f);
    } else if (f.versions.has(q)) {
      version = q;
    } else if (f.aliases.has(q)) {
      alias = q;
      // Drawn from the invocation itself, like its behaviour below: concurrent invocations
      // through an alias are routed the same whatever order they arrive in.
      version = this.route(f.spec.name, q, this.drawFor(`route|${f.spec.name}|${q}|${at}|${JSON.stringify(event)}`)());
      if (version === '$LATEST') version = this.publishLatestShadow(f);
    } else {
      throw new LabError('ResourceNotFoundException', `Function not found: ${f.arn}:${q}`, 404);
    }
    const v = f.versions.get(version)!;
    const noise = this.noise.get(f.spec.name) ?? {};
    // Reserved concurrency caps the invocations in flight across every version of the function.
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    for (const x of f.versions.values()) x.environments = reap(x.environments, start);
    const inFlight = concurrencyAt([...f.versions.values()].map((x) => x.environments), start);
    if (f.reserved !== undefined && inFlight >= f.reserved) {
      this.throttles.push({ at, functionName: f.spec.name, ...(q ? { qualifier: q } : {}), source, concurrency: inFlight });
      if (opts.record !== false) this.recordMetrics(f.spec.name, alias, version, at, [], 1);
      throw new LabError(RESERVED_THROTTLE.code, RESERVED_THROTTLE.message, RESERVED_THROTTLE.status, RESERVED_THROTTLE.fields);
    }
    // A free environment of the version takes it; else a new one starts and pays its init phase.
    const reused = freeEnvironment(v.environments, start);
    const key = `${f.spec.name}:${version}`;
    const env: Environment = reused ?? { id: (this.started.get(key) ?? 0) + 1, startedAt: start, busyUntil: Infinity, dead: false };
    if (!reused) {
      this.started.set(key, env.id);
      v.environments.push(env);
      // The code's init failed in the last environment: this one runs it again.
      if (v.initFailed && v.worker) v.worker.reinit();
    }
    env.startedAt = start;
    env.busyUntil = Infinity;
    let ended = start;
    try {
      const result = await this.runIn(f, v, alias, event, source, q, at, !reused, env, noise, opts.record !== false);
      ended = start + (result.initDurationMs ?? 0) + result.durationMs;
      return result;
    } finally {
      env.busyUntil = ended;
      this.outsideClock = Math.max(this.outsideClock, ended);
    }
  }

  /** Run one invocation in an environment (`cold`: it starts for it), applying behaviour and noise. */
  private async runIn(f: LabFunction, v: Version, alias: string | undefined, event: unknown, source: string, q: string | undefined, at: number, cold: boolean, env: Environment, noise: Noise, record: boolean): Promise<InvokeResult> {
    const { version, behaviour: b } = v;
    // Draws depend on what is invoked and when, not on the order concurrent requests arrive in.
    const draw = this.drawFor(`${f.spec.name}|${version}|${at}|${JSON.stringify(event)}`);
    const failing = b.startsFailingAfterMinutes === undefined || at - this.firstTrafficAt(f, version) >= b.startsFailingAfterMinutes * 60_000;
    // A new environment pays its init phase: the version's own, else the noise's.
    const initDurationMs = cold ? initDurationOf(b, noise, draw) : undefined;
    const requestId = uuidOf(this.drawFor(`request|${f.spec.name}|${version}|${at}|${JSON.stringify(event)}`));
    const coldInit = { requestId, ...(initDurationMs ? { initDurationMs } : {}) };
    const firstLine = this.logs.length;
    for (const line of platformLines(requestId, version, undefined, v.memorySize, f.spec.logging, this.ctx.scheduler.now())) this.log(f.spec.name, version, line);
    const injected = (errorType: string, errorMessage: string, durationMs: number, failure: FailureSource = 'injected'): InvokeResult => ({
      statusCode: 200, executedVersion: version, functionError: 'Unhandled', payload: { errorType, errorMessage }, durationMs, ...coldInit, failure,
    });
    let result: InvokeResult;
    let error: Invocation['error'];
    let measuredInitMs: number | undefined;
    if (b.crashOnInit) {
      result = injected('Runtime.ExitError', 'RequestId: lab Error: Runtime exited with error: exit status 1', 50);
    } else if (failing && b.timeoutRate && draw() < b.timeoutRate) {
      const t = v.timeoutSeconds * 1000;
      result = injected('Sandbox.Timedout', `Task timed out after ${t / 1000}.00 seconds`, t);
    } else if (failing && b.errorRate && draw() < b.errorRate) {
      result = injected('LabInjectedError', 'error injected by the lab (behaviour.errorRate)', 20 + (b.latencyMs ?? 0));
    } else if (noise.transientErrorRate && draw() < noise.transientErrorRate) {
      result = injected('LabTransientError', 'transient error injected by the lab (noise.transientErrorRate)', 20 + (b.latencyMs ?? 0), 'noise');
    } else if (failing && b.httpErrorRate && draw() < b.httpErrorRate) {
      result = { statusCode: 200, executedVersion: version, payload: INJECTED_HTTP_500, durationMs: 20 + (b.latencyMs ?? 0), ...coldInit, failure: 'injected' };
    } else {
      const worker = this.workerOf(f, v);
      // The function's clock starts at the invocation's start (a caller may be ahead of the lab's clock).
      const r = await worker.invoke(event, alias ? `${f.arn}:${alias}` : `${f.arn}:${version}`, this.network, { now: () => this.ctx.scheduler.now(), timeoutMs: v.timeoutSeconds * 1000 }, env.startedAt - at, requestId);
      if (r.timedOut) {
        // Lambda stops the invocation at its timeout and starts the next in a fresh environment.
        // https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
        worker.poisoned = true;
        v.worker = undefined;
        env.dead = true;
        void worker.close();
      }
      // An init that failed resets the environment: the next invocation starts another, whose
      // init runs (and may fail) again. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
      v.initFailed = Boolean(r.init);
      if (r.init) env.dead = true;
      // A cold start's REPORT names an init phase: the modelled one, else the code's measured load.
      if (cold && !initDurationMs && typeof r.loadMs === 'number') measuredInitMs = Math.max(0.01, r.loadMs);
      if (typeof r.memoryBytes === 'number') v.memoryBytes = r.memoryBytes;
      result = {
        statusCode: 200,
        executedVersion: version,
        ...(r.ok ? {} : { functionError: 'Unhandled' as const }),
        payload: r.payload,
        durationMs: Math.max(1, Math.round(r.durationMs)) + (b.latencyMs ?? 0),
        ...coldInit,
        ...(!r.ok || httpStatusOf(r.payload) >= 500 ? { failure: 'code' as const } : {}),
      };
      if (!r.ok) {
        const p = (r.payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
        error = { type: String(p.errorType ?? 'Error'), message: String(p.errorMessage ?? ''), init: Boolean(r.init), injected: false };
      }
    }
    if (v.memoryBytes !== undefined) result = { ...result, memoryBytes: v.memoryBytes };
    const status = !result.functionError ? 'success' : (result.payload as { errorType?: unknown } | null)?.errorType === 'Sandbox.Timedout' ? 'timeout' : 'error';
    const report: PlatformReport = { durationMs: result.durationMs, memoryBytes: v.memoryBytes, status, ...((result.initDurationMs ?? measuredInitMs) ? { initDurationMs: result.initDurationMs ?? measuredInitMs } : {}) };
    for (const line of platformLines(requestId, version, report, v.memorySize, f.spec.logging, this.ctx.scheduler.now())) this.log(f.spec.name, version, line);
    const logLines = this.invocationLog(f.spec.name, version, requestId, firstLine);
    if (logLines) result = { ...result, logLines };
    // An injected init crash ends its environment as a real one does: every new one crashes again.
    if (b.crashOnInit) env.dead = true;
    if (result.functionError && !error) {
      const p = result.payload as { errorType: string; errorMessage: string };
      error = { type: p.errorType, message: p.errorMessage, init: Boolean(b.crashOnInit), injected: true };
    }
    this.invocations.push({ at, functionName: f.spec.name, ...(q ? { qualifier: q } : {}), executedVersion: version, ok: !result.functionError, source, ...(error ? { error } : {}), environment: env.id, coldStart: cold });
    this.noteInvocations(f.spec.name, version, at, 1, result.functionError ? 1 : 0, result.durationMs, initDurationMs ? [initDurationMs] : []);
    // Lambda's Duration metric, like the REPORT line's, leaves the init phase out.
    if (record) this.recordMetrics(f.spec.name, alias, version, at, [{ error: Boolean(result.functionError), durationMs: result.durationMs }], 0);
    return result;
  }

  /**
   * The lines one invocation wrote, START to REPORT, from the log since `from`; undefined when
   * another invocation of the version ran meanwhile (their lines cannot be told apart).
   */
  private invocationLog(fn: string, version: string, requestId: string, from: number): string[] | undefined {
    const lines = this.logs.slice(from).filter((e) => e.functionName === fn && e.version === version && !isLabNote(e.line)).map((e) => e.line);
    return lines.some((l) => startsOther(l, requestId)) ? undefined : lines;
  }

  /**
   * A published version's environment as Lambda gives it to every process of the function (its
   * runtime and its extensions alike): Lambda's reserved variables, the role's credentials, the
   * lab's endpoint, then the version's own variables.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
   */
  environmentOf(name: string, version: string): { functionName: string; version: string; env: Record<string, string>; timeoutMs: number; memorySize: number; arn: string } | undefined {
    const f = this.functions.get(name);
    const v = f?.versions.get(version);
    if (!f || !v) return undefined;
    const credentials = f.spec.role && this.credentialsFor ? this.credentialsFor(f.spec.role, f.spec.name) : undefined;
    return {
      functionName: name,
      version,
      timeoutMs: v.timeoutSeconds * 1000,
      memorySize: v.memorySize,
      arn: `${f.arn}:${version}`,
      env: { ...runtimeEnvironment(f, v, this.endpoint, credentials), _HANDLER: v.code.handler },
    };
  }

  private workerOf(f: LabFunction, v: Version): Runner {
    const onLog = (line: string) => this.log(f.spec.name, v.version, line);
    const credentials = f.spec.role && this.credentialsFor ? this.credentialsFor(f.spec.role, f.spec.name) : undefined;
    const realClock = this.ctx.scheduler.mode === 'real';
    // The runner of the function's Runtime (checked at createFunction).
    v.worker ??=
      runtimeFamily(f.spec.runtime) === 'python'
        ? new PythonRunner(
            {
              functionName: f.spec.name, version: v.version, runtime: f.spec.runtime!, codeDir: v.code.dir, handler: v.code.handler, timeoutMs: v.timeoutSeconds * 1000,
              logGroup: this.logGroupOf(f.spec.name), env: runtimeEnvironment(f, v, this.endpoint, credentials), clock: this.clock, realClock,
            },
            onLog,
          )
        : new VersionWorker(f, v, this.clock, this.endpoint, credentials, onLog, this.opts.reuseThreads === true, realClock);
    return v.worker;
  }

  /** One line of a function's log (its output, or a note of the lab's, `lab: ...`). */
  /** A line in a version's log group, from any process of its environment (its runtime, an extension). */
  log(functionName: string, version: string, line: string): void {
    const entry = { at: this.ctx.scheduler.now(), functionName, version, line };
    this.logs.push(entry);
    for (const l of this.logListeners) l(entry);
  }

  private readonly drawCounts = new Map<string, number>();

  /** A seeded generator for one invocation, keyed by its function, version, time and event. */
  private drawFor(key: string): () => number {
    const n = this.drawCounts.get(key) ?? 0;
    this.drawCounts.set(key, n + 1);
    let i = 0;
    return () => {
      const h = createHash('sha256').update(`${this.opts.seed ?? 1}|${key}|${n}|${i++}`).digest();
      return h.readUInt32BE(0) / 4294967296;
    };
  }

  private readonly firstTraffic = new Map<string, number>();

  /** When a version first took traffic (its publication if never routed), for slow-burn bugs. */
  firstTrafficAt(f: LabFunction | string, version: string): number {
    const fn = typeof f === 'string' ? this.fn(f) : f;
    const key = `${fn.spec.name}:${version}`;
    return this.firstTraffic.get(key) ?? fn.versions.get(version)?.publishedAt ?? 0;
  }

  private readonly invocationListeners: InvocationListener[] = [];

  /** Listen to every finished invocation of every version: real ones, and simulated users' per second. */
  onInvocations(listener: InvocationListener): void {
    this.invocationListeners.push(listener);
  }

  /**
   * `invocations` of a version that started at `at`, `errors` of them failed (a function error or a
   * timeout), taking `durationMs` on average; `initsMs`: the init phase of each execution
   * environment that started for them (a cold start each).
   */
  noteInvocations(functionName: string, version: string, at: number, invocations: number, errors: number, durationMs = 0, initsMs: readonly number[] = []): void {
    for (const l of this.invocationListeners) l(functionName, version, at, invocations, errors, durationMs, initsMs);
  }


  markTraffic(name: string, version: string, at: number): void {
    const key = `${name}:${version}`;
    if (!this.firstTraffic.has(key)) this.firstTraffic.set(key, at);
  }

  /** $LATEST runs as a version record that follows the function's current environment. */
  private publishLatestShadow(f: LabFunction): string {
    const cur = f.versions.get('$LATEST');
    if (!cur || JSON.stringify([cur.env, cur.code, cur.timeoutSeconds, cur.memorySize]) !== JSON.stringify([f.env, f.code, f.timeoutSeconds, f.memorySize])) {
      void cur?.worker?.close();
      const v: Version = {
        version: '$LATEST', env: { ...f.env }, code: f.code, codeSha256: f.codeSha256, publishedAt: this.ctx.scheduler.now(), revisionId: f.revisionId, behaviour: {},
        timeoutSeconds: f.timeoutSeconds, memorySize: f.memorySize, description: f.description,
        // The environments running the old $LATEST end as they finish; new invocations start new ones.
        environments: retire(cur?.environments ?? []),
      };
      f.versions.set('$LATEST', v);
      this.workerOf(f, v);
    }
    return '$LATEST';
  }

  /** Start $LATEST's execution environment ahead of its first invocation (hooks, the watchdog). */
  warm(name: string): void {
    if (this.opts.warm === false) return;
    this.publishLatestShadow(this.fn(name));
  }

  /**
   * Publish AWS/Lambda metrics for invocations that started at `at`: per function, per
   * resource (alias or version) and, through an alias, per executed version. They become visible
   * after the publishing delay, timestamped at the invocation's start. Requests that came through
   * the alias's function URL (`url`) add UrlRequestCount, Url4xxCount and Url5xxCount with the same
   * dimensions; a 5xx is a function error or timeout, or an HTTP 500 the function answered.
   * https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html
   */
  recordMetrics(name: string, alias: string | undefined, version: string, at: number, calls: readonly Call[], throttles: number, url = false): void {
    if (!calls.length && !throttles) return;
    const dimsets: Record<string, string>[] = [{ FunctionName: name }, { FunctionName: name, Resource: alias ? `${name}:${alias}` : `${name}:${version}` }];
    // A throttled request executes no version: Throttles go by function and resource only.
    if (alias && calls.length) dimsets.push({ FunctionName: name, Resource: `${name}:${alias}`, ExecutedVersion: version });
    const errors = calls.filter((c) => c.error).length;
    const durations = new Map<number, number>();
    for (const c of calls) durations.set(c.durationMs, (durations.get(c.durationMs) ?? 0) + 1);
    const data: Datum[] = [];
    const count = (metricName: string, value: number, base: Omit<Datum, 'metricName' | 'values'>) => data.push({ ...base, metricName, values: [{ value, count: 1 }], unit: 'Count' });
    for (const dimensions of dimsets) {
      const base = { namespace: 'AWS/Lambda', dimensions, timestamp: at, storageResolution: 60 as const };
      if (calls.length) {
        count('Invocations', calls.length, base);
        count('Errors', errors, base);
        data.push({ ...base, metricName: 'Duration', values: [...durations].map(([value, n]) => ({ value, count: n })), unit: 'Milliseconds' });
        if (url) {
          count('UrlRequestCount', calls.length, base);
          count('Url4xxCount', 0, base);
          count('Url5xxCount', errors + calls.filter((c) => !c.error && c.http5xx).length, base);
        }
      }
      if (throttles) count('Throttles', throttles, base);
    }
    const delay = (this.opts.metricDelaySeconds ?? 60) * 1000;
    this.ctx.scheduler.at(this.ctx.scheduler.now() + delay, `publish AWS/Lambda metrics of ${name}`, () => this.cloudwatch.put(data));
  }

  async close(): Promise<void> {
    await Promise.all([...this.functions.values()].flatMap((f) => [...f.versions.values()].map((v) => v.worker?.close())));
  }

  /** Lambda's REST API (restJson1), the operations the runtime and the SDK tests use. */
  routes(): RestRoute[] {
    const base = '/2015-03-31/functions';
    /**
     * A function's configuration ($LATEST without `v`; its ARN qualified with :$LATEST when
     * `latestQualified`, as ListVersionsByFunction gives it), field by field as the response
     * syntax lists them, where the lab knows the value.
     * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
     */
    const config = (f: LabFunction, v?: Version, latestQualified = false) => ({
      FunctionName: f.spec.name,
      FunctionArn: v ? `${f.arn}:${v.version}` : latestQualified ? `${f.arn}:$LATEST` : f.arn,
      // The execution role, so that a client can find the role to assume.
      ...(f.spec.role ? { Role: f.spec.role } : {}),
      Runtime: f.spec.runtime ?? 'nodejs24.x',
      Handler: (v ?? f).code.handler,
      CodeSize: codeSize((v ?? f).code.dir),
      Timeout: v?.timeoutSeconds ?? f.timeoutSeconds,
      MemorySize: v?.memorySize ?? f.memorySize,
      LastModified: lambdaTime(v?.publishedAt ?? f.lastModified),
      Version: v?.version ?? '$LATEST',
      Description: v?.description ?? f.description,
      Environment: { Variables: v ? v.env : f.env },
      CodeSha256: v?.codeSha256 ?? f.codeSha256,
      RevisionId: v?.revisionId ?? f.revisionId,
      PackageType: 'Zip',
      Architectures: [...(f.spec.architectures ?? ['x86_64'])],
      EphemeralStorage: { Size: f.spec.ephemeralStorageMb ?? 512 },
      TracingConfig: { Mode: f.spec.tracingMode ?? 'PassThrough' },
      // What the template sets and AWS leaves out when it is not set.
      ...(f.spec.layers?.length ? { Layers: f.spec.layers.map((l) => ({ Arn: l.arn, ...(l.codeSize !== undefined ? { CodeSize: l.codeSize } : {}) })) } : {}),
      ...(f.spec.vpc ? { VpcConfig: { SubnetIds: [...f.spec.vpc.subnetIds], SecurityGroupIds: [...f.spec.vpc.securityGroupIds], ...(f.spec.vpc.vpcId ? { VpcId: f.spec.vpc.vpcId } : {}), Ipv6AllowedForDualStack: f.spec.vpc.ipv6AllowedForDualStack } } : {}),
      ...(f.spec.deadLetterTargetArn ? { DeadLetterConfig: { TargetArn: f.spec.deadLetterTargetArn } } : {}),
      ...(f.spec.kmsKeyArn ? { KMSKeyArn: f.spec.kmsKeyArn } : {}),
      // https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html: the levels only with JSON.
      LoggingConfig: {
        LogFormat: f.spec.logging?.format ?? 'Text',
        ...(f.spec.logging?.format === 'JSON' ? { ApplicationLogLevel: f.spec.logging.applicationLevel, SystemLogLevel: f.spec.logging.systemLevel } : {}),
        LogGroup: this.logGroupOf(f.spec.name),
      },
      // SnapStart applies to published versions only: $LATEST stays Off. https://docs.aws.amazon.com/lambda/latest/api/API_SnapStartResponse.html
      SnapStart: { ApplyOn: f.spec.snapStartApplyOn ?? 'None', OptimizationStatus: v && f.spec.snapStartApplyOn === 'PublishedVersions' ? 'On' : 'Off' },
      State: 'Active',
      LastUpdateStatus: 'Successful',
    });
    const aliasOut = (f: LabFunction, name: string) => {
      const a = f.aliases.get(name)!;
      return {
        AliasArn: `${f.arn}:${name}`,
        Name: name,
        FunctionVersion: a.functionVersion,
        Description: a.description,
        RevisionId: a.revisionId,
        ...(a.additional ? { RoutingConfig: { AdditionalVersionWeights: { [a.additional.version]: a.additional.weight } } } : {}),
      };
    };
    const qualified = (req: RestRequest) => {
      const p = parseName(req.params.fn);
      return { f: this.fn(p.name), q: req.query.get('Qualifier') ?? p.qualifier };
    };
    const versionOf = (f: LabFunction, q: string | undefined): Version | undefined => {
      if (q === undefined || q === '$LATEST') return undefined;
      const target = f.aliases.get(q)?.functionVersion ?? q;
      if (target === '$LATEST') return undefined;
      const v = f.versions.get(target);
      if (!v) throw new LabError('ResourceNotFoundException', `Function not found: ${f.arn}:${q}`, 404);
      return v;
    };
    /**
     * An alias's routing from a CreateAlias / UpdateAlias body: FunctionVersion a version number or
     * $LATEST, RoutingConfig an object whose AdditionalVersionWeights maps one version to a weight.
     * https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html
     */
    const routingIn = (body: Record<string, unknown>, current?: AliasRouting): AliasRouting => {
      const fv = body.FunctionVersion === undefined ? current?.functionVersion : body.FunctionVersion;
      if (typeof fv !== 'string' || !/^(\$LATEST|[0-9]+)$/.test(fv)) throw new LabError('ValidationException', `FunctionVersion: expected a version number or $LATEST, got ${JSON.stringify(fv)}`);
      const rc = body.RoutingConfig;
      if (rc === undefined) return { functionVersion: fv, ...(current?.additional && body.FunctionVersion === undefined ? { additional: current.additional } : {}) };
      if (rc === null || typeof rc !== 'object' || Array.isArray(rc)) throw new LabError('ValidationException', `RoutingConfig: expected an object with AdditionalVersionWeights, got ${JSON.stringify(rc)}`);
      const { AdditionalVersionWeights: weights = {} } = rc as { AdditionalVersionWeights?: unknown };
      if (weights === null || typeof weights !== 'object' || Array.isArray(weights)) throw new LabError('ValidationException', `RoutingConfig.AdditionalVersionWeights: expected a map of version to weight, got ${JSON.stringify(weights)}`);
      const entries = Object.entries(weights);
      if (entries.length > 1) throw new LabError('InvalidParameterValueException', 'RoutingConfig.AdditionalVersionWeights: at most one additional version');
      for (const [k, w] of entries) {
        if (!/^[0-9]+$/.test(k)) throw new LabError('ValidationException', `RoutingConfig.AdditionalVersionWeights: keys are published version numbers, got ${JSON.stringify(k)}`);
        if (typeof w !== 'number') throw new LabError('ValidationException', `RoutingConfig.AdditionalVersionWeights.${k}: expected a weight from 0.0 to 1.0, got ${JSON.stringify(w)}`);
      }
      return entries.length ? { functionVersion: fv, additional: { version: entries[0][0], weight: entries[0][1] as number } } : { functionVersion: fv };
    };
    const optionalString = (body: Record<string, unknown>, field: string, max: number): string | undefined => {
      const v = body[field];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v.length > max) throw new LabError('ValidationException', `${field}: expected a string of at most ${max} characters, got ${JSON.stringify(v)?.slice(0, 80)}`);
      return v;
    };
    const optionalInt = (body: Record<string, unknown>, field: string, min: number, max: number): number | undefined => {
      const v = body[field];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new LabError('ValidationException', `${field}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return v;
    };
    /** A list page: `Marker` is the index to start at, as a string; `MaxItems` 1 to 10,000. */
    const page = <T>(req: RestRequest, items: readonly T[]): { items: T[]; NextMarker?: string } => {
      const marker = req.query.get('Marker');
      const start = marker === null ? 0 : Number(marker);
      if (!Number.isInteger(start) || start < 0 || start > items.length) throw new LabError('InvalidParameterValueException', `Marker: not a marker this lab returned: ${marker}`);
      const maxRaw = req.query.get('MaxItems');
      const max = maxRaw === null ? 50 : Number(maxRaw);
      if (!Number.isInteger(max) || max < 1 || max > 10_000) throw new LabError('ValidationException', `MaxItems: expected an integer from 1 to 10000, got ${maxRaw}`);
      const end = start + max;
      return { items: items.slice(start, end), ...(end < items.length ? { NextMarker: String(end) } : {}) };
    };
    /** The function a tagging call names: its unqualified ARN (tags belong to functions, not versions or aliases). */
    const tagged = (req: RestRequest): LabFunction => {
      const arn = /^arn:[^:]+:lambda:[^:]+:\d+:function:([^:]+)$/.exec(req.params.arn);
      if (!arn) throw new LabError('ValidationException', `Resource: expected an unqualified function ARN, got ${req.params.arn}`);
      return this.fn(arn[1]);
    };
    return [
      { name: 'Lambda.ListFunctions', method: 'GET', pattern: `${base}/`, handle: () => ({ body: { Functions: [...this.functions.values()].map((f) => config(f)) } }) },
      { name: 'Lambda.ListFunctions', method: 'GET', pattern: `${base}`, handle: () => ({ body: { Functions: [...this.functions.values()].map((f) => config(f)) } }) },
      {
        name: 'Lambda.GetFunction', method: 'GET',
        pattern: `${base}/:fn`,
        handle: (req) => {
          const { f, q } = qualified(req);
          return {
            body: {
              Configuration: config(f, versionOf(f, q)),
              Code: { RepositoryType: 'Lab', Location: (versionOf(f, q) ?? f).code.dir },
              ...(f.reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: f.reserved } } : {}),
              // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html: the function's tags, when it has any.
              ...(f.tags.size ? { Tags: Object.fromEntries(f.tags) } : {}),
            },
          };
        },
      },
      {
        name: 'Lambda.GetFunctionConfiguration', method: 'GET',
        pattern: `${base}/:fn/configuration`,
        handle: (req) => {
          const { f, q } = qualified(req);
          return { body: config(f, versionOf(f, q)) };
        },
      },
      {
        name: 'Lambda.UpdateFunctionConfiguration', method: 'PUT',
        pattern: `${base}/:fn/configuration`,
        handle: (req) => {
          const { f } = qualified(req);
          const body = req.json();
          // What the lab models of a function's configuration; any other field would change how the
          // function runs in ways the lab does not emulate, so it is refused rather than ignored.
          // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
          const modelled = ['Environment', 'Description', 'Timeout', 'MemorySize'];
          const other = Object.keys(body).filter((k) => !modelled.includes(k));
          if (other.length) throw new LabError('InvalidParameterValueException', `${other.join(', ')}: the lab does not model this; it models ${modelled.join(', ')}`);
          const vars = (body.Environment as { Variables?: unknown } | undefined)?.Variables;
          if (vars !== undefined && (typeof vars !== 'object' || vars === null || Object.values(vars).some((x) => typeof x !== 'string'))) {
            throw new LabError('InvalidParameterValueException', 'Environment.Variables: expected a map of strings');
          }
          // Timeout 1-900 s, MemorySize 128-10,240 MB.
          const timeoutSeconds = optionalInt(body, 'Timeout', 1, 900);
          const memorySize = optionalInt(body, 'MemorySize', 128, 10_240);
          this.updateConfiguration(f.spec.name, vars as Record<string, string> | undefined, optionalString(body, 'Description', 256), {
            ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
            ...(memorySize !== undefined ? { memorySize } : {}),
          });
          return { body: config(f) };
        },
      },
      {
        name: 'Lambda.PublishVersion', method: 'POST',
        pattern: `${base}/:fn/versions`,
        handle: (req) => {
          const { f } = qualified(req);
          const body = req.json();
          const unmodelled = Object.keys(body).filter((k) => k !== 'Description');
          if (unmodelled.length) throw new LabError('InvalidParameterValueException', `${unmodelled.join(', ')}: the lab does not model this on PublishVersion; it models Description`);
          const v = this.publishVersion(f.spec.name, {}, '', optionalString(body, 'Description', 256));
          return { status: 201, body: config(f, f.versions.get(v)) };
        },
      },
      {
        name: 'Lambda.ListVersionsByFunction', method: 'GET',
        pattern: `${base}/:fn/versions`,
        handle: (req) => {
          const { f } = qualified(req);
          return { body: { Versions: [config(f, undefined, true), ...[...f.versions.values()].filter((v) => v.version !== '$LATEST').map((v) => config(f, v))] } };
        },
      },
      {
        name: 'Lambda.CreateAlias', method: 'POST',
        pattern: `${base}/:fn/aliases`,
        handle: (req) => {
          const { f } = qualified(req);
          const body = req.json();
          if (typeof body.Name !== 'string' || !/^(?!^\d+$)[a-zA-Z0-9-_]{1,128}$/.test(body.Name)) {
            throw new LabError('InvalidParameterValueException', 'Name: expected an alias name (letters, digits, - and _, not only digits)');
          }
          this.createAlias(f.spec.name, body.Name, routingIn(body), optionalString(body, 'Description', 256) ?? '');
          return { status: 201, body: aliasOut(f, body.Name) };
        },
      },
      {
        name: 'Lambda.ListAliases', method: 'GET',
        pattern: `${base}/:fn/aliases`,
        handle: (req) => {
          // https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
          const { f } = qualified(req);
          const fv = req.query.get('FunctionVersion');
          const names = [...f.aliases.keys()].sort().filter((n) => fv === null || f.aliases.get(n)!.functionVersion === fv || f.aliases.get(n)!.additional?.version === fv);
          const { items, NextMarker } = page(req, names);
          return { body: { Aliases: items.map((n) => aliasOut(f, n)), ...(NextMarker ? { NextMarker } : {}) } };
        },
      },
      {
        name: 'Lambda.GetAlias', method: 'GET',
        pattern: `${base}/:fn/aliases/:alias`,
        handle: (req) => {
          const { f } = qualified(req);
          if (!f.aliases.has(req.params.alias)) throw new LabError('ResourceNotFoundException', `Alias not found: ${f.arn}:${req.params.alias}`, 404);
          return { body: aliasOut(f, req.params.alias) };
        },
      },
      {
        name: 'Lambda.UpdateAlias', method: 'PUT',
        pattern: `${base}/:fn/aliases/:alias`,
        handle: (req) => {
          const { f } = qualified(req);
          const current = this.getAlias(f.spec.name, req.params.alias);
          if (!current) throw new LabError('ResourceNotFoundException', `Alias not found: ${f.arn}:${req.params.alias}`, 404);
          const body = req.json();
          const revisionId = optionalString(body, 'RevisionId', 1024);
          const description = optionalString(body, 'Description', 256);
          this.setAliasRouting(f.spec.name, req.params.alias, routingIn(body, current), { ...(revisionId !== undefined ? { revisionId } : {}), ...(description !== undefined ? { description } : {}) });
          return { body: aliasOut(f, req.params.alias) };
        },
      },
      // Reserved concurrency. https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
      {
        name: 'Lambda.PutFunctionConcurrency', method: 'PUT',
        pattern: '/2017-10-31/functions/:fn/concurrency',
        handle: (req) => {
          const { f } = qualified(req);
          const body = req.json();
          const other = Object.keys(body).filter((k) => k !== 'ReservedConcurrentExecutions');
          if (other.length) throw new LabError('InvalidParameterValueException', `${other.join(', ')}: unknown field; PutFunctionConcurrency takes ReservedConcurrentExecutions`);
          this.setReservedConcurrency(f.spec.name, body.ReservedConcurrentExecutions as number);
          return { body: { ReservedConcurrentExecutions: f.reserved } };
        },
      },
      {
        // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html
        name: 'Lambda.GetFunctionConcurrency', method: 'GET',
        pattern: '/2019-09-30/functions/:fn/concurrency',
        handle: (req) => {
          const { f } = qualified(req);
          return { body: f.reserved !== undefined ? { ReservedConcurrentExecutions: f.reserved } : {} };
        },
      },
      {
        // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunctionConcurrency.html
        name: 'Lambda.DeleteFunctionConcurrency', method: 'DELETE',
        pattern: '/2017-10-31/functions/:fn/concurrency',
        handle: (req) => {
          this.setReservedConcurrency(qualified(req).f.spec.name, undefined);
          return { status: 204 };
        },
      },
      // Tags on a function. https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html
      {
        name: 'Lambda.ListTags', method: 'GET',
        pattern: '/2017-03-31/tags/:arn',
        handle: (req) => ({ body: { Tags: Object.fromEntries(tagged(req).tags) } }),
      },
      {
        name: 'Lambda.TagResource', method: 'POST',
        pattern: '/2017-03-31/tags/:arn',
        handle: (req) => {
          const f = tagged(req);
          const tags = req.json().Tags;
          if (tags === null || typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
            throw new LabError('ValidationException', `Tags: expected a map of string to string, got ${JSON.stringify(tags)}`);
          }
          const merged = new Map([...f.tags, ...Object.entries(tags as Record<string, string>)]);
          // At most 50 tags on a resource. https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html
          if (merged.size > 50) throw new LabError('InvalidParameterValueException', `Tags: a function has at most 50 tags; this call would give it ${merged.size}`);
          for (const [k, v] of merged) f.tags.set(k, v);
          return { status: 204 };
        },
      },
      {
        name: 'Lambda.UntagResource', method: 'DELETE',
        pattern: '/2017-03-31/tags/:arn',
        handle: (req) => {
          const f = tagged(req);
          for (const k of req.query.getAll('tagKeys')) f.tags.delete(k);
          return { status: 204 };
        },
      },
      {
        name: 'Lambda.Invoke', method: 'POST',
        pattern: '/2015-03-31/functions/:fn/invocations',
        handle: async (req) => {
          const { f, q } = qualified(req);
          const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
          if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
            throw new LabError('InvalidParameterValueException', `X-Amz-Invocation-Type: expected RequestResponse, Event or DryRun, got ${type}`);
          }
          let event: unknown = {};
          if (req.body.length) {
            try {
              event = JSON.parse(req.body.toString('utf8'));
            } catch {
              throw new LabError('InvalidRequestContentException', 'Could not parse request body into json');
            }
          }
          // Every invocation type names an existing function, version or alias, or answers 404.
          // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
          this.checkQualifier(f.spec.name, q);
          if (type === 'DryRun') return { status: 204 };
          if (type === 'Event') {
            this.invokeAsync(f.spec.name, event, 'api-event', q);
            return { status: 202 };
          }
          const logType = String(req.headers['x-amz-log-type'] ?? 'None');
          if (!['None', 'Tail'].includes(logType)) throw new LabError('InvalidParameterValueException', `X-Amz-Log-Type: expected None or Tail, got ${logType}`);
          // A function in the lab says its own time (worker.js); a caller outside has the outside clock.
          const now = this.ctx.scheduler.now();
          const callerNow = Number(req.headers[LAB_CALLER_NOW_HEADER]);
          const outside = !Number.isFinite(callerNow);
          const start = outside ? Math.max(now, this.outsideClock) : Math.max(now, callerNow);
          const r = await this.invoke(f.spec.name, event, 'api', q, start);
          return {
            status: 200,
            headers: {
              'x-amz-executed-version': r.executedVersion,
              ...(r.functionError ? { 'x-amz-function-error': r.functionError } : {}),
              ...(logType === 'Tail' ? { 'x-amz-log-result': logTail(r, f.versions.get(r.executedVersion)?.memorySize ?? f.memorySize, f.spec.logging, this.ctx.scheduler.now()) } : {}),
              // The lab's own header: how long the call took in virtual time (init included), so
              // a caller running in the lab sees it in its round trip (lib/lab/lambda/worker.js).
              [LAB_ELAPSED_HEADER]: String(r.durationMs + (r.initDurationMs ?? 0)),
            },
            body: Buffer.from(JSON.stringify(r.payload)),
          };
        },
      },
    ];
  }
}

/** The HTTP status a function URL answers for a handler's result (payload format 2.0's `statusCode`); 200 when it has none. https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html */
export function httpStatusOf(payload: unknown): number {
  const s = (payload as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : 200;
}

/** `name`, `name:qualifier`, or an ARN with or without qualifier. */
export function parseName(s: string): { name: string; qualifier?: string } {
  const arn = /^arn:[^:]+:lambda:[^:]+:\d+:function:([^:]+)(?::(.+))?$/.exec(s);
  if (arn) return { name: arn[1], ...(arn[2] ? { qualifier: arn[2] } : {}) };
  const [name, qualifier] = s.split(':');
  return { name, ...(qualifier ? { qualifier } : {}) };
}
