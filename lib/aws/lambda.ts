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
  constructor(
    private readonly client: LambdaClient,
    private readonly clock: () => number = Date.now,
  ) {}

  async environment(functionName: string, version: string): Promise<Record<string, string>> {
    const res = await this.client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    return res.Environment?.Variables ?? {};
  }

  async invoke(functionName: string, version: string, event: unknown): Promise<ProbeResult> {
    const started = this.clock();
    const res = await this.client.send(
      new InvokeCommand({
        FunctionName: functionName,
        Qualifier: version,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event ?? {})),
      }),
    );
    const latencyMs = this.clock() - started;
    const payload = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
    return { ...(res.FunctionError ? { functionError: res.FunctionError } : {}), payload, latencyMs };
  }
}
