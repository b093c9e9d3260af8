import type { EvaluationState } from '../core/types';

/** What one execution environment remembers of a deployment whose state it could not read or write. */
export interface Remembered {
  /** The evaluation state this environment computed last, which the state table may not hold. */
  readonly evaluation: EvaluationState;
  /** Why the last write of it failed, when it did. */
  readonly writeFailed?: string;
}

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
}
