/**
 * Strategy runs in child processes of the CLI: each lab's own event loop (its servers, clock,
 * traffic and the extension's round trips) on a core of its own, where in one process every lab
 * would share one thread. A child runs one strategy at a time and many one after another (its
 * execution environments' threads handed on, as in one process); the results are the same as in
 * process (each lab's virtual clock and seeds make a run deterministic wherever it runs).
 *
 * The child is the CLI's own entry run again with CANARY_WATCHDOG_STRATEGY_RUNNER=1 (the
 * repository's bin/canary-watchdog.js and the installed CLI's bundle alike): `main` then serves
 * runs over the IPC channel (serveStrategyRuns) instead of reading a command line.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { loadEventSource, loadTrafficFile } from '../lab/user-events';
import { RehearsalError, runStrategy, type Progress, type Strategy, type StrategyResult } from './runner';
import type { Scenario, ScenarioEvents } from './scenario';

export const STRATEGY_RUNNER_ENV = 'CANARY_WATCHDOG_STRATEGY_RUNNER';

/** What runs one strategy of one scenario: in process (runStrategy) or in a child (StrategyProcesses.run). */
export type StrategyRunner = (scenario: Scenario, strategy: Strategy, assembly: string, progress?: Progress, signal?: AbortSignal) => Promise<StrategyResult>;

type ToChild = { type: 'run'; id: number; scenario: Scenario; strategy: Strategy; assembly: string; progress: boolean } | { type: 'abort'; id: number; reason: string };
type FromChild =
  | { type: 'progress'; id: number; p: Parameters<Progress>[0] }
  | { type: 'result'; id: number; result: StrategyResult }
  | { type: 'error'; id: number; name: string; message: string; stack?: string };

interface Job {
  readonly id: number;
  readonly message: Extract<ToChild, { type: 'run' }>;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
  resolve(r: StrategyResult): void;
  reject(err: Error): void;
}

/** A scenario as the IPC channel carries it: its events by path (a module of events is code), loaded again in the child. */
function portable(s: Scenario): Scenario {
  if (!s.traffic.events) return s;
  return { ...s, traffic: { ...s.traffic, events: { path: s.traffic.events.path } as ScenarioEvents } };
}

function reloaded(s: Scenario): Scenario {
  const e = s.traffic.events;
  if (!e) return s;
  const label = `${s.name}.traffic.events`;
  const events: ScenarioEvents = ['.yaml', '.yml'].includes(extname(e.path)) ? { path: e.path, file: loadTrafficFile(e.path, label) } : { path: e.path, source: loadEventSource(e.path, label) };
  return { ...s, traffic: { ...s.traffic, events } };
}

/** Up to `size` child processes, started as runs need them, each running one strategy at a time. */
export class StrategyProcesses {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Map<ChildProcess, Job>();
  private readonly queue: Job[] = [];
  private started = 0;
  private next = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    /** The CLI's entry script and the node flags it runs with (process.argv[1], process.execArgv). */
    private readonly entry: { readonly script: string; readonly execArgv: readonly string[] } = { script: process.argv[1], execArgv: process.execArgv },
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`StrategyProcesses: size must be a positive integer, got ${size}`);
  }

  readonly run: StrategyRunner = (scenario, strategy, assembly, progress, signal) =>
    new Promise<StrategyResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('the rehearsal processes are closed'));
      if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      const id = this.next++;
      // The abort listener goes with the run: a long rehearsal runs hundreds on one signal.
      const onAbort = () => this.abort(job);
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const job: Job = {
        id,
        message: { type: 'run', id, scenario: portable(scenario), strategy, assembly, progress: Boolean(progress) },
        progress,
        signal,
        resolve: (r) => (settle(), resolve(r)),
        reject: (e) => (settle(), reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });

  /** Stop every child (their labs end with them). */
  close(): void {
    this.closed = true;
    for (const c of [...this.idle, ...this.busy.keys()]) c.kill('SIGKILL');
    this.idle.length = 0;
    for (const [c, job] of this.busy) {
      this.busy.delete(c);
      job.reject(new Error('the rehearsal processes were closed'));
    }
    for (const job of this.queue.splice(0)) job.reject(new Error('the rehearsal processes were closed'));
  }

  private dispatch(): void {
    while (this.queue.length) {
      const child = this.idle.pop() ?? (this.started < this.size ? this.spawn() : undefined);
      if (!child) return;
      const job = this.queue.shift()!;
      this.busy.set(child, job);
      child.send(job.message);
    }
  }

  private spawn(): ChildProcess {
    this.started++;
    const child = fork(this.entry.script, [], {
      execArgv: [...this.entry.execArgv],
      env: { ...process.env, [STRATEGY_RUNNER_ENV]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: FromChild) => {
      const job = this.busy.get(child);
      if (!job || m.id !== job.id) return;
      if (m.type === 'progress') return job.progress?.(m.p);
      this.busy.delete(child);
      if (m.type === 'result') job.resolve(m.result);
      else job.reject(rebuilt(m));
      if (this.closed) child.kill('SIGKILL');
      else this.idle.push(child);
      this.dispatch();
    });
    child.on('exit', (code, signal) => {
      this.started--;
      const i = this.idle.indexOf(child);
      if (i >= 0) this.idle.splice(i, 1);
      const job = this.busy.get(child);
      if (job) {
        this.busy.delete(child);
        job.reject(new Error(`the process rehearsing ${job.message.scenario.name} (${job.message.strategy}) ended (${signal ?? `exit code ${code}`}) before its result`));
      }
      if (!this.closed) this.dispatch();
    });
    return child;
  }

  private abort(job: Job): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      return job.reject(job.signal!.reason instanceof Error ? job.signal!.reason : new Error(String(job.signal!.reason)));
    }
    // At once: the run's promise rejects now; its child stops it and takes the next run once it has.
    const reason = job.signal!.reason instanceof Error ? job.signal!.reason : new Error(String(job.signal!.reason));
    job.reject(reason);
    for (const [c, j] of this.busy) if (j === job) c.send({ type: 'abort', id: job.id, reason: reason.message } satisfies ToChild);
  }
}

/** The error a child reported, as its class where the CLI tells classes apart. */
function rebuilt(m: Extract<FromChild, { type: 'error' }>): Error {
  const err = m.name === 'RehearsalError' ? new RehearsalError(m.message) : Object.assign(new Error(m.message), { name: m.name });
  if (m.stack) err.stack = m.stack;
  return err;
}

/** The child's side: run what the parent sends, one at a time, until the channel closes. */
export function serveStrategyRuns(): Promise<void> {
  // Ctrl-C reaches the whole process group: the parent decides (it aborts the runs, then ends the children).
  process.on('SIGINT', () => undefined);
  return new Promise<void>((resolve) => {
    const aborts = new Map<number, AbortController>();
    const send = (m: FromChild) => process.send?.(m);
    process.on('message', (m: ToChild) => {
      if (m.type === 'abort') return aborts.get(m.id)?.abort(new Error(m.reason));
      const abort = new AbortController();
      aborts.set(m.id, abort);
      const progress: Progress | undefined = m.progress ? (p) => send({ type: 'progress', id: m.id, p }) : undefined;
      Promise.resolve()
        .then(() => runStrategy(reloaded(m.scenario), m.strategy, m.assembly, progress, abort.signal))
        .then(
          (result) => send({ type: 'result', id: m.id, result }),
          (err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            send({ type: 'error', id: m.id, name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
          },
        )
        .finally(() => aborts.delete(m.id));
    });
    process.on('disconnect', () => resolve());
  });
}
