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
  invoke(event: unknown, arn: string, network: Readonly<Record<string, HostAnswer>>, deadline: Deadline, startOffset?: number): Promise<RunnerReply>;
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
export function awaitReply(pending: Map<number, (r: RunnerReply) => void>, id: number, deadline: Deadline, realClock: boolean, send: () => void): Promise<RunnerReply> {
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
