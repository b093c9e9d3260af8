import type { WatchdogConfig } from '../core/config';
import { BAKE_SETTLE_MINUTES, HOOK_LIMIT_MINUTES, HOOK_MARGIN_MINUTES } from '../core/evaluate';
import type { ActionPort, DeploymentPort, StatePort } from '../aws/ports';
import { errorText } from '../aws/util';
import { parseHookEvent } from './hook-event';
import { findGuard } from './pre-traffic';
import type { Log } from './watchdog';

/**
 * The hook must report within one hour or CodeDeploy fails the deployment. The watchdog judges a
 * bake's end BAKE_SETTLE_MINUTES after its deadline (once its last minute of metrics is in) and
 * stops waiting HOOK_MARGIN_MINUTES before the hour (a missed run and a retry), so a bake is cut
 * to 60 - 3 - 3 = 54 minutes.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
 */
export const MAX_EFFECTIVE_BAKE_MINUTES = HOOK_LIMIT_MINUTES - HOOK_MARGIN_MINUTES - BAKE_SETTLE_MINUTES;

export interface BakeDeps {
  readonly config: WatchdogConfig;
  readonly deployments: DeploymentPort;
  readonly actions: ActionPort;
  readonly state: StatePort;
  readonly log: Log;
  readonly now: () => number;
}

export interface BakeStart {
  readonly deploymentId?: string;
  readonly status: 'baking' | 'Succeeded' | 'Failed' | 'unreported';
  readonly until?: number;
  readonly reason?: string;
}

/**
 * AfterAllowTraffic: start the bake and return at once. The deadline and the hook execution id
 * are stored durably; the watchdog, which runs every minute anyway, reports Succeeded once the
 * deadline passes with every layer healthy, or Failed as soon as a layer fails. No function sits
 * idle for the bake, and if the watchdog is dead the hook times out and the deployment fails.
 */
export async function runBakeStart(event: unknown, deps: BakeDeps): Promise<BakeStart> {
  const parsed = parseHookEvent(event);
  if ('error' in parsed) {
    deps.log.error('post-traffic hook: malformed event, cannot report', { error: parsed.error });
    return { status: 'unreported', reason: parsed.error };
  }
  const { deploymentId, hookExecutionId } = parsed;
  try {
    const [info] = await deps.deployments.describe([deploymentId]);
    if (!info) throw new Error(`deployment ${deploymentId} not found`);
    if (info.isRollback) return await letRollbackThrough(deps, deploymentId, hookExecutionId);
    const guard = findGuard(deps.config, info.application, info.deploymentGroup);
    const minutes = Math.min(guard.bakeMinutes, MAX_EFFECTIVE_BAKE_MINUTES);
    if (minutes < guard.bakeMinutes) {
      deps.log.warn('bake shortened to fit the one-hour hook limit', { deploymentId, bakeMinutes: guard.bakeMinutes, effective: minutes });
    }
    const startedAt = deps.now();
    const until = startedAt + minutes * 60_000;
    const bake = { hookExecutionId, startedAt, until };
    // Written only if absent: Lambda may deliver an asynchronous invocation twice, and a repeated
    // one must neither move the deadline nor forget that the bake was reported. A bake of another
    // hook execution is replaced; one that cannot be read fails the hook (it could not be kept).
    if (!(await deps.state.updateIfAbsent(deploymentId, 'bake', { bake }))) {
      const first = (await deps.state.get([deploymentId])).get(deploymentId)?.bake;
      if (first?.hookExecutionId === hookExecutionId) {
        deps.log.warn('post-traffic hook: repeated invocation of a bake already started, kept', { deploymentId, hookExecutionId, until: new Date(first.until).toISOString() });
        return { deploymentId, status: 'baking', until: first.until };
      }
      await deps.state.update(deploymentId, { bake });
    }
    deps.log.info('bake started', { deploymentId, hookExecutionId, until: new Date(until).toISOString() });
    return { deploymentId, status: 'baking', until };
  } catch (err) {
    const reason = `post-traffic hook error: ${errorText(err)}`;
    try {
      await deps.actions.reportHook(deploymentId, hookExecutionId, 'Failed');
    } catch (err2) {
      deps.log.error('post-traffic hook: could not report Failed', { deploymentId, error: errorText(err2), reason });
      return { deploymentId, status: 'unreported', reason: `${reason}; report failed: ${errorText(err2)}` };
    }
    deps.log.error('post-traffic hook failed', { deploymentId, reason });
    return { deploymentId, status: 'Failed', reason };
  }
}

/**
 * A rollback deployment runs the hooks too; it is never baked or held: report Succeeded at once.
 * A report that fails is not turned into Failed (that would fail the rollback itself).
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
 */
async function letRollbackThrough(deps: BakeDeps, deploymentId: string, hookExecutionId: string): Promise<BakeStart> {
  const reason = 'rollback deployment: let through at once, without a bake';
  try {
    const reportResult = await deps.actions.reportHook(deploymentId, hookExecutionId, 'Succeeded');
    deps.log.info('post-traffic hook', { record: { type: 'canary-watchdog.post-traffic', deploymentId, status: 'Succeeded', rollback: true, note: reason, reportResult } });
    return { deploymentId, status: 'Succeeded', reason };
  } catch (err) {
    deps.log.error('post-traffic hook: could not report Succeeded for a rollback deployment', { deploymentId, error: errorText(err) });
    return { deploymentId, status: 'unreported', reason: `${reason}; report failed: ${errorText(err)}` };
  }
}
