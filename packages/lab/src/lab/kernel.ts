
/**
 * The lab's kernel: its clock and scheduler, its error type, its service interface and its
 * internal event bus. Every emulated service is built on these, and nothing here knows HTTP.
 */

/** An error in AWS's shape: a code (`__type`), a message, an HTTP status, and any members the error carries (DynamoDB's `Item`). */
export class LabError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status = 400,
    public readonly fields?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = code;
  }
}

export const validation = (message: string) => new LabError('ValidationException', message);
export const notFound = (code: string, message: string) => new LabError(code, message, code === 'ResourceNotFoundException' ? 404 : 400);

interface Task {
  readonly id: number;
  readonly at: number;
  readonly label: string;
  readonly run: () => void | Promise<void>;
}

/**
 * Time for the whole lab. In virtual mode time moves only through `advance`, and every task
 * that falls due runs in time order (ties in the order they were scheduled), so a run is
 * deterministic. In real mode a timer drives the same queue from the wall clock, or from the
 * wall clock sped up `speed` times (time since the start flows `speed` times faster).
 */
/** Lab time a real clock's task may start after it fell due before the lab says it cannot keep up. */
const LATE_MS = 30_000;

export class Scheduler {
  private current: number;
  private seq = 0;
  private queue: Task[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private readonly wallStart = Date.now();
  private readonly origin: number;
  private readonly failures = new Map<string, { count: number; first: string }>();
  private readonly barriers: (() => Promise<void> | undefined)[] = [];
  private report: (label: string, err: unknown) => void = (label, err) => console.error(`lab: scheduled task "${label}" failed (later failures of this task are counted, not printed): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);

  constructor(
    public readonly mode: 'virtual' | 'real',
    start: number = Date.UTC(2026, 0, 1, 0, 0, 0),
    /** Told every time the clock moves (the lab mirrors it into the functions' shared clock). */
    private readonly onTime?: (now: number) => void,
    /** Real mode: lab seconds per wall-clock second. */
    public readonly speed = 1,
  ) {
    if (!(Number.isFinite(speed) && speed >= 1 && speed <= 3600)) throw validation(`speed: expected a number from 1 to 3600 (lab seconds per wall-clock second), got ${speed}`);
    if (mode === 'virtual' && speed !== 1) throw validation('speed: only a real clock runs at a speed; a virtual clock moves only when advanced');
    this.origin = mode === 'real' ? this.wallStart : start;
    this.current = this.origin;
    this.onTime?.(this.current);
    // Ticks of 250 ms of lab time, at least 10 ms of wall time apart.
    if (mode === 'real') this.timer = setInterval(() => void this.advanceTo(this.realNow()), Math.max(10, 250 / speed));
  }

  /** Real mode: the wall clock's time since the start, `speed` times over. */
  private realNow(): number {
    return this.origin + (Date.now() - this.wallStart) * this.speed;
  }

  now(): number {
    return this.mode === 'real' ? Math.max(this.current, this.realNow()) : this.current;
  }

  /** Run `run` at `at` (epoch ms); returns an id for `cancel`. */
  at(at: number, label: string, run: () => void | Promise<void>): number {
    const id = ++this.seq;
    const task = { id, at: Math.max(at, this.current), label, run };
    // Keep the queue sorted by time, then by scheduling order.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].at > task.at) i--;
    this.queue.splice(i, 0, task);
    return id;
  }

  after(ms: number, label: string, run: () => void | Promise<void>): number {
    return this.at(this.now() + ms, label, run);
  }

  /** Run `run` at every multiple of `intervalMs` of the epoch from now on (aligned ticks). */
  every(intervalMs: number, label: string, run: (at: number) => void | Promise<void>, offsetMs = 0): { cancel(): void } {
    let cancelled = false;
    let id = 0;
    const next = (from: number) => {
      const at = Math.floor((from - offsetMs) / intervalMs) * intervalMs + intervalMs + offsetMs;
      id = this.at(at, label, async () => {
        if (cancelled) return;
        next(at);
        await run(at);
      });
    };
    next(this.now());
    return {
      cancel: () => {
        cancelled = true;
        this.cancel(id);
      },
    };
  }

  cancel(id: number): void {
    this.queue = this.queue.filter((t) => t.id !== id);
  }

  pending(): number {
    return this.queue.length;
  }

  /** Move virtual time forward, running everything that falls due, in order. */
  async advance(ms: number): Promise<number> {
    if (this.mode === 'real') throw new LabError('InvalidClockOperation', 'the clock is real: time flows by itself and cannot be advanced');
    if (!(ms >= 0) || !Number.isFinite(ms)) throw validation(`seconds must be a number >= 0, got ${ms / 1000}`);
    await this.advanceTo(this.current + ms);
    return this.current;
  }

  /**
   * Something outside the lab's own code that must finish what an instant made it do before time
   * moves on (an extension process running at that instant): the clock waits for the promise
   * `barrier` answers, after every task; undefined means nothing to wait for.
   */
  addBarrier(barrier: () => Promise<void> | undefined): void {
    this.barriers.push(barrier);
  }

  private async barrier(): Promise<void> {
    for (const b of this.barriers) {
      const p = b();
      if (p) await p;
    }
  }

  private async advanceTo(target: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.barrier();
      while (this.queue.length && this.queue[0].at <= target) {
        const task = this.queue.shift()!;
        if (this.mode === 'real') this.checkLate(task);
        this.current = Math.max(this.current, task.at);
        this.onTime?.(this.current);
        await this.runTask(task);
        await this.barrier();
      }
      this.current = Math.max(this.current, target);
      this.onTime?.(this.current);
    } finally {
      this.running = false;
    }
  }

  /**
   * A task that throws is one failure of that task, not of the clock: it is reported (printed once
   * per task label, with the error) and counted, and time and the other tasks go on. Otherwise a
   * real clock's tick would reject with nobody to catch it, ending the lab's process, and a virtual
   * clock would stop half-way through an advance with the tasks after it never run.
   */
  private async runTask(task: Task): Promise<void> {
    try {
      await task.run();
    } catch (err) {
      const seen = this.failures.get(task.label);
      if (seen) seen.count++;
      else {
        this.failures.set(task.label, { count: 1, first: err instanceof Error ? err.message : String(err) });
        this.report(task.label, err);
      }
    }
  }

  /**
   * A real clock does not wait for the lab: when the machine is too busy for the speed asked, tasks
   * run late in lab time and a release's timers move on while the functions judging it still run,
   * which AWS never does. Said (by default on stderr) when a task starts more than LATE_MS of lab
   * time after it fell due (beyond two ticks), at most once a wall second.
   */
  private checkLate(task: Task): void {
    // Beyond the ticks' own granularity (10 ms of wall time at least, 36 s of lab time at x3600).
    const late = this.realNow() - task.at - 2 * Math.max(250, 10 * this.speed);
    if (late <= LATE_MS || Date.now() - this.lateSaidAt < 1000) return;
    this.lateSaidAt = Date.now();
    this.sayLate(`lab: "${task.label}" ran ${Math.round(late / 1000)} s of lab time late at --speed ${this.speed}: this machine cannot keep up, so releases move on faster than the functions judging them, as they would not on AWS; lower --speed`);
  }

  private lateSaidAt = 0;
  private sayLate: (line: string) => void = (line) => console.error(line);

  /** Replace how running late is said (by default, a line on stderr). */
  onLate(say: (line: string) => void): void {
    this.sayLate = say;
  }

  /** Replace how a task's first failure is reported (by default, one line on stderr). */
  onTaskError(report: (label: string, err: unknown) => void): void {
    this.report = report;
  }

  /** The scheduled tasks that failed: each label with how many times and its first error. */
  taskFailures(): { label: string; count: number; first: string }[] {
    return [...this.failures].map(([label, f]) => ({ label, ...f }));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.queue = [];
  }
}

/** An event as EventBridge carries it. */
export interface LabEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly resources?: readonly string[];
}

/** The lab's internal bus: alarm and deployment state changes go here, rules take them from here. */
export class LabEventBus {
  private readonly listeners: ((e: LabEvent, at: number) => void | Promise<void>)[] = [];
  readonly log: { at: number; event: LabEvent }[] = [];

  constructor(private readonly clock: { now(): number }) {}

  subscribe(fn: (e: LabEvent, at: number) => void | Promise<void>): void {
    this.listeners.push(fn);
  }

  async publish(e: LabEvent): Promise<void> {
    const at = this.clock.now();
    this.log.push({ at, event: e });
    for (const l of this.listeners) await l(e, at);
  }
}

/** Who made a call, as far as the lab's server can tell. */
export interface CallContext {
  /** The access key id that signed the request. */
  readonly accessKeyId?: string;
}

/** An operation of a JSON-protocol service: takes the parsed input (and who called), returns the output. */
export type Operation = (input: Record<string, unknown>, caller?: CallContext) => unknown | Promise<unknown>;

/** What a service needs to be spoken to over awsQuery. */
export interface QueryShapes {
  /** The `Version` parameter the service's clients send (its API version). */
  readonly version: string;
  /** The XML namespace of its answers. */
  readonly xmlns: string;
  /** Input members whose values are numbers (lists of numbers included). */
  readonly numbers: ReadonlySet<string>;
  /** Input members whose values are booleans. */
  readonly booleans: ReadonlySet<string>;
  /** Input members that are lists: an empty one travels as `Name=` with no members. */
  readonly lists: ReadonlySet<string>;
  /** Output members that are timestamps (epoch seconds in JSON, ISO 8601 in XML). */
  readonly timestamps: ReadonlySet<string>;
  /** Output members that are maps (JSON objects written as `<entry>`s, not as structures). */
  readonly maps: ReadonlySet<string>;
}

/** A service spoken over awsJson1_0 / awsJson1_1: its X-Amz-Target prefix and its operations. */
export interface JsonService {
  readonly name: string;
  readonly targetPrefix: string;
  readonly operations: Readonly<Record<string, Operation>>;
  /** Set when the service's clients may also speak awsQuery to it (CloudWatch). */
  readonly query?: QueryShapes;
}

/** Account and region the lab answers for. */
export const LAB_ACCOUNT = '123456789012';
export const LAB_REGION = 'us-east-1';
