import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetDeploymentsCommand, CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loopbackEndpoint } from './endpoint';
import { handler as preTraffic } from '../../lambda/pre-traffic';
import { handler as reachCheck } from '../../lambda/reach-check';
import { stateTable } from './aws-fakes';
import { deploymentInfo, guard, payload, setEnv } from './env';

describe('reachability checker handler', () => {
  const endpoint = loopbackEndpoint();

  it.each([
    { path: '/up', status: 200 },
    { path: '/broken', status: 503 },
  ])('answers the status of $path', async ({ path, status }) => {
    const r = await reachCheck({ url: `${endpoint.base}${path}`, timeoutMs: 2000 });
    expect(r).toEqual({ status, elapsedMs: expect.any(Number) });
  });

  it('answers an error for an endpoint that does not answer', async () => {
    const r = await reachCheck({ url: 'http://127.0.0.1:1/', timeoutMs: 500 });
    expect(r.error).toBeDefined();
    expect(r.status).toBeUndefined();
  });

  it.each([
    { event: { timeoutMs: 100 }, error: 'url: expected an http(s) URL, got undefined' },
    { event: { url: 'ftp://x', timeoutMs: 100 }, error: 'url: expected an http(s) URL, got "ftp://x"' },
    { event: { url: 'https://x', timeoutMs: 0 }, error: 'timeoutMs: expected an integer from 1 to 60000, got 0' },
  ])('answers bad input with an error naming the field: $error', async ({ event, error }) => {
    expect(await reachCheck(event)).toEqual({ error, elapsedMs: 0 });
  });
});

describe('pre-traffic hook with a reachability checker', () => {
  const cd = mockClient(CodeDeployClient);
  const cw = mockClient(CloudWatchClient);
  const lambda = mockClient(LambdaClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  const hookEvent = { DeploymentId: 'd-NEW1', LifecycleEventHookExecutionId: 'hook-exec-1' };
  const CHECKER = 'Shop-Orders-ReachabilityChecker';

  beforeEach(() => {
    for (const m of [cd, cw, lambda, ddb]) m.reset();
    setEnv({ guards: [guard({ configChecks: [{ key: 'PAYMENTS_URL', format: 'url', reachableWithinMs: 2000 }], reachabilityChecker: CHECKER })] });
    stateTable(ddb);
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1')] });
    cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'hook-exec-1' });
    // A private endpoint the hook itself cannot resolve: only the checker in the VPC reaches it.
    lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { PAYMENTS_URL: 'https://payments.internal/v2' } } });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(JSON.stringify({ statusCode: 200, body: '{}' })) });
    cw.on(PutMetricDataCommand).resolves({});
  });

  it('asks the checker with the URL and time limit, and passes on its answer', async () => {
    lambda.on(InvokeCommand, { FunctionName: CHECKER }).resolves({ StatusCode: 200, Payload: payload(JSON.stringify({ status: 200, elapsedMs: 12 })) });
    const r = await preTraffic(hookEvent);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: CHECKER, Payload: payload(JSON.stringify({ url: 'https://payments.internal/v2', timeoutMs: 2000 })) });
    expect(r.status).toBe('Succeeded');
  });

  it.each([
    { name: 'the checker answers a server error', answer: { StatusCode: 200, Payload: payload(JSON.stringify({ status: 503, elapsedMs: 5 })) }, reason: /answered HTTP 503/ },
    { name: 'the checker crashes', answer: { StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"boom"}') }, reason: /reachability checker Shop-Orders-ReachabilityChecker: Unhandled/ },
    { name: 'the checker answers nonsense', answer: { StatusCode: 200, Payload: payload('"yes"') }, reason: /reachability checker Shop-Orders-ReachabilityChecker: unexpected answer/ },
  ])('fails the release when $name', async ({ answer, reason }) => {
    lambda.on(InvokeCommand, { FunctionName: CHECKER }).resolves(answer);
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons.join('\n')).toMatch(reason);
  });
});
