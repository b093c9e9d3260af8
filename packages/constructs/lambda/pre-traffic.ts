import { CodeDeployActions } from '../src/aws/codedeploy';
import { errorText } from '../src/aws/util';
import { parseHookEvent } from '../src/runtime/hook-event';
import { runPreTraffic, type HttpCheck, type PreTrafficResult } from '../src/runtime/pre-traffic';
import { checkerCheck, fetchCheck } from './http-check';
import { adapters, clients, log, now, rereadableConfig, settings, type InvocationContext } from './shared';

/** GET the URL with a time limit from the hook's own network. */
export const httpCheck: HttpCheck = fetchCheck(now);

/** BeforeAllowTraffic hook (deployed as CodeDeployHook_*): config checks and probes, then report. */
export async function handler(event: unknown, context?: InvocationContext): Promise<PreTrafficResult> {
  const s = await settings();
  if ('error' in s) return failMisconfigured(event, s.error);
  const a = adapters(s.settings, context);
  // A guard that names a reachability checker has its URLs checked where its function runs.
  const http: HttpCheck = (url, timeoutMs, checker) => (checker ? checkerCheck(a.functions, checker, now)(url, timeoutMs) : httpCheck(url, timeoutMs));
  return runPreTraffic(event, { config: s.settings.config, configSource: rereadableConfig(), ...a, http, log, now });
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
