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
import { CloudWatchMetrics, CloudWatchSignals } from '../lib/aws/cloudwatch';
import { CodeDeployActions, CodeDeployDeployments } from '../lib/aws/codedeploy';
import { LogAndEventBridgeDecisions } from '../lib/aws/decisions';
import { LambdaAliases, LambdaFunctions } from '../lib/aws/lambda';
import { DynamoStateStore } from '../lib/aws/state';
import { errorText } from '../lib/aws/util';
import { loadSettings, type RuntimeSettings } from '../lib/runtime/env';
import type { Log } from '../lib/runtime/watchdog';

export const logger = new Logger({ serviceName: 'canary-watchdog' });

export const log: Log = {
  info: (m, extra) => logger.info(m, extra ?? {}),
  warn: (m, extra) => logger.warn(m, extra ?? {}),
  error: (m, extra) => logger.error(m, extra ?? {}),
};

// Standard retry mode with 3 attempts backs off on throttling and 5xx; what still fails is
// handled by the runtime as data (unreadable signals, withheld heartbeat).
const clientConfig = { maxAttempts: 3, retryMode: 'standard' as const };
export const clients = {
  cloudwatch: new CloudWatchClient(clientConfig),
  codedeploy: new CodeDeployClient(clientConfig),
  dynamodb: new DynamoDBClient(clientConfig),
  eventbridge: new EventBridgeClient(clientConfig),
  lambda: new LambdaClient(clientConfig),
};

export const now = (): number => Date.now();

export function adapters(settings: Pick<RuntimeSettings, 'stateTable' | 'eventBus'>) {
  return {
    deployments: new CodeDeployDeployments(clients.codedeploy),
    actions: new CodeDeployActions(clients.codedeploy),
    aliases: new LambdaAliases(clients.lambda),
    functions: new LambdaFunctions(clients.lambda, now),
    signals: new CloudWatchSignals(clients.cloudwatch),
    metrics: new CloudWatchMetrics(clients.cloudwatch),
    state: new DynamoStateStore(clients.dynamodb, settings.stateTable, now),
    decisions: new LogAndEventBridgeDecisions(log, clients.eventbridge, settings.eventBus),
  };
}

/** Settings are read once per environment; a bad configuration is reported by every invocation. */
let cached: { settings: RuntimeSettings } | { error: string } | undefined;
export function settings(): { settings: RuntimeSettings } | { error: string } {
  if (!cached) {
    try {
      cached = { settings: loadSettings(process.env) };
    } catch (err) {
      cached = { error: errorText(err) };
    }
  }
  return cached;
}

/** For tests: forget the cached settings so a changed environment is read again. */
export function resetSettings(): void {
  cached = undefined;
}
