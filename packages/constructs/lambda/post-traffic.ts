import { runBakeStart, type BakeStart } from '../src/runtime/bake';
import { failMisconfigured } from './pre-traffic';
import { adapters, log, now, settings } from './shared';

/** AfterAllowTraffic hook (deployed as CodeDeployHook_*): starts the bake the watchdog ends. */
export async function handler(event: unknown): Promise<BakeStart> {
  const s = await settings();
  if ('error' in s) {
    const r = await failMisconfigured(event, s.error);
    return { ...(r.deploymentId ? { deploymentId: r.deploymentId } : {}), status: r.status === 'Failed' ? 'Failed' : 'unreported', reason: s.error };
  }
  return runBakeStart(event, { config: s.settings.config, ...adapters(s.settings), log, now });
}
