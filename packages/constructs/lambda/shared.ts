/**
 * What every handler shares, created once per execution environment (module scope): the logger,
 * the SDK clients and the adapters over them. Handlers stay thin: parse, call the runtime, return.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { REQUEST_TIMEOUT_MS, sdkClientConfig } from '../src/aws/clients';
import { CloudWatchMetrics, CloudWatchSignals } from '../src/aws/cloudwatch';
import { CodeDeployActions, CodeDeployDeployments } from '../src/aws/codedeploy';
import { LogAndEventBridgeDecisions } from '../src/aws/decisions';
import { LambdaAliases, LambdaFunctions } from '../src/aws/lambda';
import { DynamoStateStore } from '../src/aws/state';
import { errorText } from '../src/aws/util';
import { CONFIG_ITEM_ID, CONFIG_TTL_MS, configSource, ENV, loadSettings, type RuntimeSettings } from '../src/runtime/env';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ConfigSource } from '../src/runtime/discover';
import type { Log } from '../src/runtime/watchdog';

export const logger = new Logger({ serviceName: 'canary-watchdog' });

export const log: Log = {
  info: (m, extra) => logger.info(m, extra ?? {}),
  warn: (m, extra) => logger.warn(m, extra ?? {}),
  error: (m, extra) => logger.error(m, extra ?? {}),
};

// Standard retry mode with 3 attempts backs off on throttling, 5xx and timeouts, each attempt
// bounded (src/aws/clients.ts); what still fails is handled by the runtime as data (unreadable
// signals, withheld heartbeat).
export const clients = {
  cloudwatch: new CloudWatchClient(sdkClientConfig()),
  codedeploy: new CodeDeployClient(sdkClientConfig()),
  dynamodb: new DynamoDBClient(sdkClientConfig(REQUEST_TIMEOUT_MS.dynamodb)),
  eventbridge: new EventBridgeClient(sdkClientConfig()),
  lambda: new LambdaClient(sdkClientConfig()),
  /** For synchronous invocations only, which last as long as the function invoked. */
  lambdaInvoke: new LambdaClient(sdkClientConfig(REQUEST_TIMEOUT_MS.invoke)),
};

export const now = (): number => Date.now();

/** What Lambda tells a handler about its invocation that the runtime uses: the time left. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The time a run keeps back from retrying state reads, for what follows them: reading the
 * signals, acting, writing the state and publishing the heartbeats, each call bounded by the
 * clients' request timeouts.
 */
export const STATE_RETRY_RESERVE_MS = 20_000;

export function adapters(settings: Pick<RuntimeSettings, 'stateTable' | 'eventBus'>, context?: InvocationContext) {
  // One store serves both the deployments' state and the registry of active deployments.
  const remainingMs = context ? () => context.getRemainingTimeInMillis() - STATE_RETRY_RESERVE_MS : undefined;
  const store = new DynamoStateStore(clients.dynamodb, settings.stateTable, now, remainingMs ? { remainingMs } : {});
  return {
    deployments: new CodeDeployDeployments(clients.codedeploy),
    actions: new CodeDeployActions(clients.codedeploy),
    aliases: new LambdaAliases(clients.lambda),
    functions: new LambdaFunctions(clients.lambda, now, clients.lambdaInvoke),
    signals: new CloudWatchSignals(clients.cloudwatch),
    metrics: new CloudWatchMetrics(clients.cloudwatch),
    state: store,
    registry: store,
    watch: store,
    watchEnd: store,
    probeCounts: store,
    decisions: new LogAndEventBridgeDecisions(log, clients.eventbridge, settings.eventBus),
  };
}

/**
 * Settings are read once per environment from the environment variables; with the state-table
 * source the configuration is read from the state table and refreshed every minute (a deploy
 * changes it without restarting the functions). A bad configuration is reported by every
 * invocation, never thrown.
 */
let cached: { value: { settings: RuntimeSettings } | { error: string }; until: number; readAt: number } | undefined;
export async function settings(): Promise<{ settings: RuntimeSettings; stale?: string } | { error: string }> {
  if (cached && now() < cached.until) return cached.value;
  let value: { settings: RuntimeSettings } | { error: string };
  let until = Infinity;
  const readAt = now();
  try {
    if (configSource(process.env) === 'state-table') {
      until = now() + CONFIG_TTL_MS;
      const table = process.env[ENV.stateTable];
      const item = table
        ? await DynamoDBDocumentClient.from(clients.dynamodb).send(new GetCommand({ TableName: table, Key: { deploymentId: CONFIG_ITEM_ID }, ConsistentRead: true }))
        : undefined;
      value = { settings: loadSettings(process.env, { text: item?.Item?.config as string | undefined, origin: `state table item ${CONFIG_ITEM_ID}.config` }) };
    } else {
      value = { settings: loadSettings(process.env) };
    }
  } catch (err) {
    const invalid = err instanceof Error && err.name === 'InputError';
    if (!invalid && cached && 'settings' in cached.value) {
      // A refresh that could not read the table (an outage, a throttle) keeps the configuration
      // last read, so the watchdog still judges on what it can see; the caller is told, and the
      // table is read again at the next invocation. A configuration that reads but is invalid is
      // never replaced by an older one: that is a deploy's mistake, reported as such.
      cached = { ...cached, until: 0 };
      return { ...cached.value, stale: `configuration: reading it again failed (kept the one read at ${new Date(cached.readAt).toISOString()}): ${errorText(err)}` };
    }
    value = { error: errorText(err) };
    // A read that failed is tried again on the next invocation.
    if (!invalid) until = 0;
  }
  cached = { value, until, readAt };
  return value;
}

/**
 * The configuration's source for a run, when it can change under a running function (the state
 * table): when it was read, and how to read it again (see currentConfig).
 */
export function rereadableConfig(): ConfigSource | undefined {
  if (configSource(process.env) !== 'state-table' || !cached) return undefined;
  return {
    readAt: cached.readAt,
    reread: async () => {
      cached = undefined;
      const s = await settings();
      if ('error' in s) throw new Error(s.error);
      return s.settings.config;
    },
  };
}

/** For tests: forget the cached settings so a changed environment is read again. */
export function resetSettings(): void {
  cached = undefined;
}
