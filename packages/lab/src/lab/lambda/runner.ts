import { LabError } from '../kernel';

/** What a host outside the lab answers function code: an HTTP status, or nothing (DNS fails). */
/** What a host outside the lab answers function code: a status, `latencyMs` later on the invocation's clock; or no such host. */
export type HostAnswer = { readonly status: number; readonly latencyMs?: number } | 'unreachable';

/** One invocation's outcome, as a runner reports it. */
export interface RunnerReply {
  ok: boolean;
  payload: unknown;
  durationMs: number;
  /** The failure was the init phase's (the code did not load). */
  init?: boolean;
  timedOut?: boolean;
  /** Wall ms the runner took to load the code last (its measured init), when it knows. */
  loadMs?: number;
  /** The most memory the environment has held so far, bytes, when the runner measures it. */
  memoryBytes?: number;
}

/** The lab's clock as the caller sees it, and the version's timeout. */
export interface Deadline {
  readonly now: () => number;
  readonly timeoutMs: number;
}

/**
 * What runs a published version's code: a worker thread for Node.js (index.ts), a python3
 * process for Python (python-runtime.ts). One per version; its environments share it.
 */
export interface Runner {
  /** An invocation timed out in it: its code may still run, so it is never reused. */
  poisoned: boolean;
  /** Run one invocation; it resolves once every line the invocation printed has reached the log. */
  invoke(event: unknown, arn: string, network: Readonly<Record<string, HostAnswer>>, deadline: Deadline, startOffset?: number, requestId?: string): Promise<RunnerReply>;
  /** Load the version's code afresh (a new environment after a failed init runs the init again). */
  reinit(): void;
  close(): Promise<void>;
}

/** The runner families the lab has, by a function's Runtime. */
export type RuntimeFamily = 'nodejs' | 'python';

/** Python runtimes the lab runs on the host's python3. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html */
const PYTHON_RUNTIMES = ['python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'];

/** Which runner a Runtime gets (none given: Node.js, the lab's default), or a LabError naming what the lab runs. */
export function runtimeFamily(runtime: string | undefined): RuntimeFamily {
  if (runtime === undefined || runtime.startsWith('nodejs')) return 'nodejs';
  if (PYTHON_RUNTIMES.includes(runtime)) return 'python';
  throw new LabError(
    'InvalidParameterValueException',
    `Runtime ${runtime}: the lab runs nodejs* (in a worker thread) and ${PYTHON_RUNTIMES[0]} to ${PYTHON_RUNTIMES.at(-1)} (on the host's python3), not this runtime`,
  );
}

/**
 * Wait for invocation `id`'s reply. A runner ends a sleep past the timeout itself; code that
 * blocks (a busy loop) or waits on real time is ended here, once the lab's clock passes the
 * deadline; on a real clock, once the timeout has passed on the wall clock (a sped-up clock
 * speeds up the world, not the function's code). `send` posts the invocation.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export async function awaitReply(pending: Map<number, (r: RunnerReply) => void>, id: number, deadline: Deadline, realClock: boolean, send: () => void, fence?: OutputFence): Promise<RunnerReply> {
  const reply = await awaitOnly(pending, id, deadline, realClock, send);
  // A runner that stopped answering writes no marker: wait for its output only briefly.
  await fence?.wait(id, FENCE_CAP_MS);
  return reply;
}

/** The most wall time an invocation waits for its output's markers. */
const FENCE_CAP_MS = 250;

function awaitOnly(pending: Map<number, (r: RunnerReply) => void>, id: number, deadline: Deadline, realClock: boolean, send: () => void): Promise<RunnerReply> {
  const started = deadline.now();
  const wallStarted = performance.now();
  const elapsed = () => (realClock ? performance.now() - wallStarted : deadline.now() - started);
  return new Promise((resolve) => {
    const watch = setInterval(() => {
      if (elapsed() <= deadline.timeoutMs || !pending.has(id)) return;
      pending.delete(id);
      clearInterval(watch);
      resolve({
        ok: false,
        timedOut: true,
        durationMs: deadline.timeoutMs,
        payload: { errorType: 'Sandbox.Timedout', errorMessage: `${new Date(started + deadline.timeoutMs).toISOString()} lab-${id} Task timed out after ${(deadline.timeoutMs / 1000).toFixed(2)} seconds` },
      });
    }, 50);
    watch.unref();
    pending.set(id, (r) => {
      clearInterval(watch);
      resolve(r);
    });
    send();
  });
}

/** Split a stream into lines, each to `onLine`; returns the detacher. */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): () => void {
  let buf = '';
  stream.setEncoding('utf8');
  const onData = (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}

/** Written by a runner on stdout and on stderr once an invocation's code has ended, before its reply. */
export const DONE_MARKER = '\u0000canary-watchdog-lab:done ';

/**
 * Tells when every line an invocation printed has arrived: a runner writes DONE_MARKER and the
 * invocation's id on both its streams before it replies, and the reply may overtake them.
 */
export class OutputFence {
  private readonly seen = new Map<number, number>();
  private readonly waiting = new Map<number, () => void>();

  /** A line from one of the runner's two streams: true when it is a marker, not output. */
  take(line: string): boolean {
    if (!line.startsWith(DONE_MARKER)) return false;
    const id = Number(line.slice(DONE_MARKER.length));
    const n = (this.seen.get(id) ?? 0) + 1;
    this.seen.set(id, n);
    if (n === 2) this.waiting.get(id)?.();
    return true;
  }

  /** Resolves once both markers of invocation `id` arrived, or after `capMs` of wall time (a runner that died writes none). */
  wait(id: number, capMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.seen.delete(id);
        this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, this.seen.get(id) === 2 ? 0 : capMs);
      timer.unref();
      if (this.seen.get(id) === 2) return done();
      this.waiting.set(id, done);
    });
  }
}
