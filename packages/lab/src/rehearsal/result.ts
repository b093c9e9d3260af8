import type { StrategyResult } from './runner';
import type { Scenario } from './scenario';

/** One scenario rehearsed with both strategies: what `rehearse` returns and the summary and report read. */
export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly passed: boolean;
  /** Why `passed` is false, one line per unmet expectation. */
  readonly failures: readonly string[];
  readonly expect: Scenario['expect'];
  /** The scenario's stages, in order, when it has any. */
  readonly stages?: readonly string[];
  readonly strategies: { readonly watchdog: StrategyResult; readonly native: StrategyResult };
}
