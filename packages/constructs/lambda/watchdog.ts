import { parseTrigger } from '../src/runtime/triggers';
import { EvaluationMemory } from '../src/runtime/evaluation-memory';
import { runWatchdog, type WatchdogRun } from '../src/runtime/watchdog';
import { adapters, log, now, rereadableConfig, settings, type InvocationContext } from './shared';

/** This execution environment's own record of the evaluations whose state it could not read or write. */
let memory = new EvaluationMemory();

/**
 * Invoked by EventBridge: alarm state changes of the guarded alarms, CodeDeploy deployment state
 * changes, and a one-minute schedule. Never throws: a run that cannot do its job withholds the
 * heartbeat, and CodeDeploy's own check of the heartbeat alarm stops the release.
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<WatchdogRun | { error: string }> {
  const s = await settings();
  if ('error' in s) {
    log.error('watchdog misconfigured: no evaluation, heartbeat withheld', { error: s.error });
    return { error: s.error };
  }
  try {
    return await runWatchdog(parseTrigger(event), { config: s.settings.config, configSource: rereadableConfig(), ...(s.stale ? { staleConfig: s.stale } : {}), ...adapters(s.settings, context), memory, log, now });
  } catch (err) {
    // The runtime turns AWS failures into data; anything reaching here is a bug. Log it fully.
    log.error('watchdog run crashed: heartbeat withheld', { error: err as Error });
    return { error: String(err) };
  }
}

/** For tests: forget what this environment remembers of earlier runs. */
export function resetMemory(): void {
  memory = new EvaluationMemory();
}
