import { GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ProbeResult } from '../core/probes';
import type { AliasPort, FunctionPort } from './ports';

export class LambdaAliases implements AliasPort {
  constructor(private readonly client: LambdaClient) {}

  /**
   * CodeDeploy shifts traffic by giving the target version an additional weight on the alias,
   * then pointing the alias at it.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
   */
  async weightOf(functionName: string, alias: string, version: string): Promise<number> {
    const res = await this.client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
    const extra = res.RoutingConfig?.AdditionalVersionWeights ?? {};
    if (res.FunctionVersion === version) {
      return Math.max(0, 1 - Object.values(extra).reduce((a, b) => a + b, 0));
    }
    return extra[version] ?? 0;
  }
}

export class LambdaFunctions implements FunctionPort {
  private readonly invoker: LambdaClient;

  /** `invokeClient`: for synchronous invocations, whose requests last as long as the function (see aws/clients.ts). */
  constructor(
    private readonly client: LambdaClient,
    private readonly clock: () => number = Date.now,
    invokeClient?: LambdaClient,
  ) {
    this.invoker = invokeClient ?? client;
  }

  async environment(functionName: string, version: string): Promise<Record<string, string>> {
    const res = await this.client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    return res.Environment?.Variables ?? {};
  }

  async invoke(functionName: string, version: string, event: unknown): Promise<ProbeResult> {
    const started = this.clock();
    const res = await this.invoker.send(
      new InvokeCommand({
        FunctionName: functionName,
        Qualifier: version,
        InvocationType: 'RequestResponse',
        // The log tail's REPORT line gives the function's own duration.
        // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-LogType
        LogType: 'Tail',
        Payload: Buffer.from(JSON.stringify(event ?? {})),
      }),
    );
    // The function's own time: the REPORT line's Duration, which on a cold start leaves out the
    // init phase (reported apart as `Init Duration`), so a brand-new version's first invocations
    // are not failed on init latency. Without a REPORT line, the round trip (init included) is
    // all there is; the pre-traffic hook retries a failed probe (lib/runtime/probing.ts).
    // https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
    const latencyMs = reportedDurationMs(res.LogResult) ?? this.clock() - started;
    const payload = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
    return { ...(res.FunctionError ? { functionError: res.FunctionError } : {}), payload, latencyMs };
  }
}

/**
 * The invocation's duration in an Invoke's base64 log tail: `Duration: N ms` of the REPORT line
 * (the text log format), or `record.metrics.durationMs` of the platform.report record (JSON).
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
 */
export function reportedDurationMs(logResult: string | undefined): number | undefined {
  if (!logResult) return undefined;
  const text = Buffer.from(logResult, 'base64').toString('utf8');
  const m = /^REPORT RequestId: \S+\s+Duration: ([\d.]+) ms/m.exec(text);
  if (m) return Number(m[1]);
  for (const line of text.split('\n')) {
    if (!line.includes('"platform.report"')) continue;
    try {
      const r = JSON.parse(line) as { type?: unknown; record?: { metrics?: { durationMs?: unknown } } };
      const ms = r.record?.metrics?.durationMs;
      if (r.type === 'platform.report' && typeof ms === 'number' && Number.isFinite(ms)) return ms;
    } catch {
      // Not a JSON record: not a report.
    }
  }
  return undefined;
}
