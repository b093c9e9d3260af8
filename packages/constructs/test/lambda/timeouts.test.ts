/**
 * Every AWS call is bounded: against a loopback endpoint that accepts connections and never
 * answers, a call ends with a TimeoutError within its attempts' request timeouts, and a watchdog
 * run whose state table hangs so ends on its own terms, withholding the heartbeat.
 */
import 'aws-sdk-client-mock-jest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetDeploymentsCommand, CodeDeployClient, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { adapters, log } from '../../lambda/shared';
import { CONNECTION_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS, sdkClientConfig } from '../../src/aws/clients';
import { DynamoStateStore } from '../../src/aws/state';
import { loadSettings } from '../../src/runtime/env';
import { runWatchdog } from '../../src/runtime/watchdog';
import { answerAlarms, answerMetrics, GOOD } from './aws-fakes';
import { deploymentInfo, setEnv, T0 } from './env';

let server: Server;
let endpoint = '';
beforeAll(async () => {
  // Accepts every request and never answers it.
  server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const elapsed = async <T>(f: () => Promise<T>): Promise<{ result: T | unknown; ms: number }> => {
  const t = performance.now();
  const result = await f().catch((e: unknown) => e);
  return { result, ms: performance.now() - t };
};

describe('bounded AWS calls', () => {
  it("ends a handler's DynamoDB call to an endpoint that never answers with TimeoutError, within its attempts' request timeouts", async () => {
    // Prepare: the handlers' own clients, pointed at the silent endpoint.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    let shared: typeof import('../../lambda/shared') | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      shared = require('../../lambda/shared');
    });
    // Act
    const { result, ms } = await elapsed(() => shared!.clients.dynamodb.send(new GetItemCommand({ TableName: 'watchdog-state', Key: { deploymentId: { S: '#config' } } })));
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    // Assess: every attempt timed out; none waited past its timeout by more than the retry backoff.
    expect(result).toMatchObject({ name: 'TimeoutError' });
    expect(ms).toBeGreaterThanOrEqual(MAX_ATTEMPTS * REQUEST_TIMEOUT_MS.dynamodb - 50);
    expect(ms).toBeLessThan(MAX_ATTEMPTS * REQUEST_TIMEOUT_MS.dynamodb + 1_500);
  }, 15_000);

  it('bounds every client the handlers share, and lets a synchronous Invoke (a probe, a reachability check) wait for the function it runs', async () => {
    // Prepare: every client pointed at an endpoint that answers at once (the handler's options resolve on first use).
    const quick = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => quick.listen(0, '127.0.0.1', r));
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(quick.address() as AddressInfo).port}`;
    let shared: typeof import('../../lambda/shared') | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      shared = require('../../lambda/shared');
    });
    // Act
    const configs: Record<string, { requestTimeout?: number; connectionTimeout?: number; throwOnRequestTimeout?: boolean }> = {};
    for (const [name, client] of Object.entries(shared!.clients)) {
      await (client as { send(c: unknown): Promise<unknown> }).send(new GetItemCommand({ TableName: 't', Key: { deploymentId: { S: 'x' } } })).catch(() => undefined);
      configs[name] = (client.config.requestHandler as unknown as { httpHandlerConfigs(): (typeof configs)[string] }).httpHandlerConfigs();
    }
    delete process.env.AWS_ENDPOINT_URL;
    quick.closeAllConnections();
    quick.close();
    // Assess: each bounded, within the watchdog's 50 s; an Invoke outlasts the reachability checker's 70 s timeout.
    for (const [name, c] of Object.entries(configs)) expect([name, c.throwOnRequestTimeout, c.connectionTimeout]).toEqual([name, true, CONNECTION_TIMEOUT_MS]);
    const control = Object.entries(configs).filter(([name]) => name !== 'lambdaInvoke');
    expect(control.filter(([, c]) => !c.requestTimeout || MAX_ATTEMPTS * c.requestTimeout > 15_000)).toEqual([]);
    expect(configs.lambdaInvoke.requestTimeout).toBeGreaterThan(70_000);
    expect(Object.keys(configs).sort()).toEqual(['cloudwatch', 'codedeploy', 'dynamodb', 'eventbridge', 'lambda', 'lambdaInvoke']);
  });

  it('guard: a client with a request timeout but without throwOnRequestTimeout would keep waiting (the reason for the flag)', async () => {
    const lax = new DynamoDBClient({ ...sdkClientConfig(100), maxAttempts: 1, endpoint, requestHandler: { requestTimeout: 100, connectionTimeout: 100 } });
    const outcome = await Promise.race([
      lax.send(new GetItemCommand({ TableName: 't', Key: { deploymentId: { S: 'x' } } })).then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 600)),
    ]);
    lax.destroy();
    expect(outcome).toBe('still waiting');
  });
});

describe('a watchdog run whose state table hangs', () => {
  const cd = mockClient(CodeDeployClient);
  const cw = mockClient(CloudWatchClient);
  const lambda = mockClient(LambdaClient);
  const eb = mockClient(EventBridgeClient);

  it('ends within its time, withholds the heartbeat and says why, rather than running out its time', async () => {
    // Prepare: CodeDeploy, CloudWatch and Lambda answer; the state table accepts and never answers.
    setEnv();
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-BAD1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-BAD1')] });
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
    answerMetrics(cw, GOOD);
    answerAlarms(cw);
    cw.on(PutMetricDataCommand).resolves({});
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const timeoutMs = 200;
    const store = new DynamoStateStore(new DynamoDBClient({ ...sdkClientConfig(timeoutMs, timeoutMs), endpoint }), 'watchdog-state', () => T0 + 5 * 60_000);
    const settings = loadSettings(process.env);
    // Act
    const { result: run, ms } = await elapsed(() =>
      runWatchdog({ kind: 'schedule' }, { ...adapters(settings), state: store, registry: store, config: settings.config, log, now: () => T0 + 5 * 60_000 }),
    );
    // Assess: two state calls (the registry and the deployment's item), each of 3 timed-out attempts.
    expect(run).toMatchObject({
      heartbeat: false,
      heartbeats: { published: [], withheld: { 'orders-app/orders-dg': expect.stringMatching(/state read d-BAD1: TimeoutError/) } },
      decisions: [{ deploymentId: 'd-BAD1', layers: expect.arrayContaining([{ name: 'watchdog-state', outcome: 'unreadable', consecutiveUnreadable: 1 }]) }],
    });
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    expect(ms).toBeLessThan(2 * MAX_ATTEMPTS * timeoutMs + 2_000);
  }, 15_000);
});
