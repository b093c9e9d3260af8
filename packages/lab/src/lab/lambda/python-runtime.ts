import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { RUNNER_FILES } from '../files';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LabError } from '../kernel';
import { awaitReply, type Deadline, eachLine, type HostAnswer, OutputFence, type Runner, type RunnerReply } from './runner';

/** The host's python3, as the lab runs it: its executable (past any shim) and version. */
interface HostPython {
  readonly executable: string;
  /** major.minor.micro */
  readonly version: string;
}

let host: HostPython | null | undefined;

/** The host's python3, found once per process; undefined when there is none. */
export function hostPython(): HostPython | undefined {
  if (host === undefined) {
    try {
      const out = execFileSync('python3', ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const [executable, version] = out.trim().split('\n');
      host = { executable, version };
    } catch {
      host = null;
    }
  }
  return host ?? undefined;
}

/**
 * Checks, at CreateFunction, that the host can run a Python runtime, and returns the lab's note
 * when the host's minor version is not the runtime's (once per runtime in `noted`): the lab has
 * only the host's python3, so code that needs the runtime's own version may behave differently.
 */
export function hostPythonNote(runtime: string, noted: Set<string>): string | undefined {
  const py = hostPython();
  if (!py) throw new LabError('InvalidParameterValueException', `Runtime ${runtime}: the lab runs Python functions on the host's python3, and this host has none on its PATH`);
  const minor = py.version.split('.').slice(0, 2).join('.');
  if (`python${minor}` === runtime || noted.has(runtime)) return undefined;
  noted.add(runtime);
  return `lab: ${runtime} functions run on this host's Python ${minor} (the lab has no other): code that needs ${runtime.slice('python'.length)} itself may behave differently`;
}

/** What a Python version's process runs with. */
export interface PythonVersionSpec {
  readonly functionName: string;
  readonly version: string;
  /** Its Runtime (python3.x), for AWS_EXECUTION_ENV. */
  readonly runtime: string;
  /** The code folder: LAMBDA_TASK_ROOT, first on sys.path, the working directory. */
  readonly codeDir: string;
  /** module.func */
  readonly handler: string;
  readonly timeoutMs: number;
  readonly logGroup: string;
  /** Lambda's reserved variables, the role's credentials, the lab's endpoint and the version's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The lab's clock (epoch ms in a Float64Array), read for the process on each request. */
  readonly clock: SharedArrayBuffer;
  /** The lab runs on a real clock: the code's compute counts at wall-clock speed. */
  readonly realClock: boolean;
}

/** A log stream name as Lambda makes one: `YYYY/MM/DD/[version]<32 hex>`. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html */
function logStreamName(now: number, version: string): string {
  return `${new Date(now).toISOString().slice(0, 10).replace(/-/g, '/')}/[${version}]${randomBytes(16).toString('hex')}`;
}

/**
 * A published version of a Python function: one host python3 process (python_worker.py), the
 * same bound as a Node.js version's worker thread. Its environments share it; each invocation
 * runs in a thread of its own there. The process asks the lab's clock over its pipe.
 */
export class PythonRunner implements Runner {
  poisoned = false;
  private readonly proc: ChildProcess;
  private readonly toProcess: Writable;
  private readonly pending = new Map<number, (r: RunnerReply) => void>();
  private seq = 0;
  private exited = false;
  private readonly fence = new OutputFence();

  constructor(
    private readonly spec: PythonVersionSpec,
    onLog: (line: string) => void,
  ) {
    const py = hostPython();
    if (!py) throw new LabError('InvalidParameterValueException', `Runtime ${spec.runtime}: the lab runs Python functions on the host's python3, and this host has none on its PATH`);
    const clock = new Float64Array(spec.clock);
    // Lambda's Python runtime variables. https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    const env = {
      ...spec.env,
      LAMBDA_TASK_ROOT: spec.codeDir,
      _HANDLER: spec.handler,
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(clock[0], spec.version),
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
    };
    // -u: each line reaches the log as it is written; -B: no bytecode in the asset folder; -s: not the host user's site-packages.
    this.proc = spawn(py.executable, ['-u', '-B', '-s', join(RUNNER_FILES, 'python_worker.py'), JSON.stringify({ wallClock: spec.realClock, timeoutMs: spec.timeoutMs })], {
      cwd: spec.codeDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const [, stdout, stderr, toProcess, fromProcess] = this.proc.stdio as [null, Readable, Readable, Writable, Readable];
    this.toProcess = toProcess;
    const out = (line: string) => this.fence.take(line) || onLog(line);
    eachLine(stdout, out);
    eachLine(stderr, out);
    eachLine(fromProcess, (line) => {
      const m = JSON.parse(line) as RunnerReply & { type: string; id: number };
      if (m.type === 'clock') this.write({ type: 'clock', id: m.id, now: clock[0] });
      else if (m.type === 'result') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
    // An ended process fails what it was running (the runtime's exit error), and the next invocation in it.
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve(exitError(code, signal));
      this.pending.clear();
    });
    toProcess.on('error', () => undefined);
    this.proc.unref();
    for (const s of [stdout, stderr, toProcess, fromProcess] as unknown as { unref?: () => void }[]) s.unref?.();
  }

  private write(message: unknown): void {
    if (!this.exited) this.toProcess.write(`${JSON.stringify(message)}\n`);
  }

  /** Run one invocation. The process ends a sleep past the timeout itself (python_worker.py); `awaitReply` the rest. */
  invoke(event: unknown, arn: string, network: Readonly<Record<string, HostAnswer>>, deadline: Deadline, startOffset = 0, requestId?: string): Promise<RunnerReply> {
    if (this.exited) return Promise.resolve(exitError(this.proc.exitCode, this.proc.signalCode));
    const id = ++this.seq;
    return awaitReply(this.pending, id, deadline, this.spec.realClock, () => this.write({ type: 'invoke', id, event, arn, requestId: requestId ?? `lab-${id}`, network, startOffset }), this.fence);
  }

  reinit(): void {
    this.write({ type: 'reinit' });
  }

  /** Ends the process (a Python process is never handed to another version). */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

/** The runtime process ended. https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html */
function exitError(code: number | null, signal: NodeJS.Signals | null): RunnerReply {
  return { ok: false, durationMs: 0, payload: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: lab Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}` } };
}
