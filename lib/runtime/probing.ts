import { judgeProbe, type ProbeJudgement, type ProbeSpec } from '../core/probes';
import type { FunctionPort } from '../aws/ports';
import { errorText } from '../aws/util';

/**
 * Invoke one version with one probe's event and judge the answer. An invocation the Lambda API
 * refuses (throttled, not found) is a failed probe: a user's request would have failed too.
 */
export async function probeOnce(functions: FunctionPort, functionName: string, version: string, spec: ProbeSpec, now: () => number): Promise<ProbeJudgement> {
  const started = now();
  try {
    return judgeProbe(spec, await functions.invoke(functionName, version, spec.event));
  } catch (err) {
    return { probe: spec.name, passed: false, latencyMs: now() - started, failures: [`invoke failed: ${errorText(err)}`] };
  }
}
