import { CodeDeployActions } from '../lib/aws/codedeploy';
import { errorText } from '../lib/aws/util';
import { parseHookEvent } from '../lib/runtime/hook-event';
import { runPreTraffic, type HttpCheck, type PreTrafficResult } from '../lib/runtime/pre-traffic';
import { adapters, clients, log, now, settings } from './shared';

/** GET the URL with a time limit; any HTTP answer counts, the body is not read. */
export const httpCheck: HttpCheck = async (url, timeoutMs) => {
  const started = now();
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { status: res.status, elapsedMs: now() - started };
  } catch (err) {
    return { error: errorText(err), elapsedMs: now() - started };
  }
};

/** BeforeAllowTraffic hook (deployed as CodeDeployHook_*): config checks and probes, then report. */
export async function handler(event: unknown): Promise<PreTrafficResult> {
  const s = await settings();
  if ('error' in s) return failMisconfigured(event, s.error);
  return runPreTraffic(event, { config: s.settings.config, ...adapters(s.settings), http: httpCheck, log, now });
}

/** A hook that cannot read its configuration still reports Failed: fail closed. */
export async function failMisconfigured(event: unknown, error: string): Promise<PreTrafficResult> {
  const parsed = parseHookEvent(event);
  log.error('hook misconfigured', { error });
  if ('error' in parsed) return { status: 'unreported', reasons: [error, parsed.error], configChecks: [], probes: [] };
  try {
    await new CodeDeployActions(clients.codedeploy).reportHook(parsed.deploymentId, parsed.hookExecutionId, 'Failed');
    return { deploymentId: parsed.deploymentId, status: 'Failed', reasons: [error], configChecks: [], probes: [] };
  } catch (err) {
    return { deploymentId: parsed.deploymentId, status: 'unreported', reasons: [error, errorText(err)], configChecks: [], probes: [] };
  }
}
