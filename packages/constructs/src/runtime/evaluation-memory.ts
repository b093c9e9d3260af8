import type { TelemetryPoint } from '../core/observe';
import type { EvaluationState } from '../core/types';

/** What one execution environment remembers of a deployment whose state it could not read or write. */
export interface Remembered {
  /** The evaluation state this environment computed last, which the state table may not hold. */
  readonly evaluation: EvaluationState;
  /** Why the last write of it failed, when it did. */
  readonly writeFailed?: string;
}

/** Reads of one deployment's telemetry kept in memory, at least POINT_GAP_MS apart: 5 minutes of them. */
const RECENT_POINTS = 30;
const POINT_GAP_MS = 10_000;

/** Enough for every deployment CodeDeploy allows in progress per account (1,000). */
const MAX_REMEMBERED = 1_000;

/**
 * The watchdog's fallback for its own state, kept in memory by one execution environment (module
 * scope, so across the runs that environment serves). The blindness count lives in the state
 * item; when that item cannot be read or written, the count would restart from zero on every
 * run, and a watchdog blind to its own state would never count itself blind. What is here
 * carries the count from run to run instead. It is best effort (another environment starts from
 * nothing), which is why a run that cannot read or write a deployment's state also withholds
 * that group's heartbeat: the heartbeat alarm stops the release whichever environment runs.
 */
export class EvaluationMemory {
  private readonly byId = new Map<string, Remembered>();

  get(deploymentId: string): Remembered | undefined {
    return this.byId.get(deploymentId);
  }

  set(deploymentId: string, remembered: Remembered): void {
    this.byId.delete(deploymentId);
    this.byId.set(deploymentId, remembered);
    // Maps iterate in insertion order: the first key is the one written longest ago.
    if (this.byId.size > MAX_REMEMBERED) this.byId.delete(this.byId.keys().next().value!);
  }

  forget(deploymentId: string): void {
    this.byId.delete(deploymentId);
  }

  private readonly points = new Map<string, TelemetryPoint[]>();

  /**
   * This environment's recent reads of a deployment's telemetry counts, oldest first. The state
   * keeps a read only in the writes made anyway (about one a traffic step); the event-driven runs
   * read the counts every few seconds while failures come, so their reads put slice edges next
   * to each traffic step, where a failure both versions meet would otherwise be charged at the
   * average split of a slice that spans the step.
   */
  recentPoints(deploymentId: string): readonly TelemetryPoint[] {
    return this.points.get(deploymentId) ?? [];
  }

  /** Keep a read: at least POINT_GAP_MS after the last kept, at most RECENT_POINTS per deployment. */
  rememberPoint(deploymentId: string, point: TelemetryPoint): void {
    const kept = this.points.get(deploymentId) ?? [];
    this.points.delete(deploymentId);
    const last = kept.at(-1);
    const next = last && point[0] - last[0] < POINT_GAP_MS ? kept : [...kept, point].slice(-RECENT_POINTS);
    this.points.set(deploymentId, next);
    if (this.points.size > MAX_REMEMBERED) this.points.delete(this.points.keys().next().value!);
  }
}
