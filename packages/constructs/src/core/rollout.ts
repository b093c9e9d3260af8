import type { RolloutShape } from './types';

/**
 * CodeDeploy's predefined Lambda deployment configurations.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html
 */
export const PREDEFINED_LAMBDA_CONFIGS: Readonly<Record<string, RolloutShape>> = {
  'CodeDeployDefault.LambdaAllAtOnce': { type: 'all-at-once' },
  'CodeDeployDefault.LambdaCanary10Percent5Minutes': { type: 'canary', percent: 10, intervalMinutes: 5 },
  'CodeDeployDefault.LambdaCanary10Percent10Minutes': { type: 'canary', percent: 10, intervalMinutes: 10 },
  'CodeDeployDefault.LambdaCanary10Percent15Minutes': { type: 'canary', percent: 10, intervalMinutes: 15 },
  'CodeDeployDefault.LambdaCanary10Percent30Minutes': { type: 'canary', percent: 10, intervalMinutes: 30 },
  'CodeDeployDefault.LambdaLinear10PercentEvery1Minute': { type: 'linear', percent: 10, intervalMinutes: 1 },
  'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes': { type: 'linear', percent: 10, intervalMinutes: 2 },
  'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes': { type: 'linear', percent: 10, intervalMinutes: 3 },
  'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes': { type: 'linear', percent: 10, intervalMinutes: 10 },
};

/**
 * The shape of a custom deployment config, from GetDeploymentConfig's `trafficRoutingConfig`.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_TrafficRoutingConfig.html
 */
export interface TrafficRoutingConfig {
  readonly type?: string;
  readonly timeBasedCanary?: { readonly canaryPercentage?: number; readonly canaryInterval?: number };
  readonly timeBasedLinear?: { readonly linearPercentage?: number; readonly linearInterval?: number };
}

export function rolloutFromTrafficRouting(cfg: TrafficRoutingConfig, configName: string): RolloutShape {
  switch (cfg.type) {
    case 'AllAtOnce':
      return { type: 'all-at-once' };
    case 'TimeBasedCanary': {
      const c = cfg.timeBasedCanary;
      return checked({ type: 'canary', percent: c?.canaryPercentage ?? NaN, intervalMinutes: c?.canaryInterval ?? NaN }, configName);
    }
    case 'TimeBasedLinear': {
      const l = cfg.timeBasedLinear;
      return checked({ type: 'linear', percent: l?.linearPercentage ?? NaN, intervalMinutes: l?.linearInterval ?? NaN }, configName);
    }
    default:
      throw new Error(
        `deployment config ${configName}: trafficRoutingConfig.type is ${JSON.stringify(cfg.type)}; ` +
          `expected one of AllAtOnce, TimeBasedCanary, TimeBasedLinear`,
      );
  }
}

function checked(shape: Extract<RolloutShape, { percent: number }>, configName: string): RolloutShape {
  if (!(shape.percent >= 1 && shape.percent <= 99) || !(shape.intervalMinutes >= 1)) {
    throw new Error(
      `deployment config ${configName}: ${shape.type} needs a percentage of 1-99 and an interval of at least 1 minute, ` +
        `got ${shape.percent} % every ${shape.intervalMinutes} minutes`,
    );
  }
  return shape;
}

/**
 * Minutes from the first traffic shift to the final one (to 100 %). A linear config shifts
 * `percent` at the start of each increment, so 10 % every 10 minutes reaches 100 % at the start
 * of the tenth increment, 90 minutes after the first.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_TimeBasedLinear.html
 */
export function minutesToFinalShift(shape: RolloutShape): number {
  switch (shape.type) {
    case 'all-at-once':
      return 0;
    case 'canary':
      return shape.intervalMinutes;
    case 'linear':
      return (Math.ceil(100 / shape.percent) - 1) * shape.intervalMinutes;
  }
}

/** The share of traffic CodeDeploy gives the new version `elapsedMinutes` after shifting began. */
export function scheduledWeight(shape: RolloutShape, elapsedMinutes: number): number {
  if (elapsedMinutes < 0) return 0;
  switch (shape.type) {
    case 'all-at-once':
      return 1;
    case 'canary':
      return elapsedMinutes >= shape.intervalMinutes ? 1 : shape.percent / 100;
    case 'linear': {
      const steps = Math.floor(elapsedMinutes / shape.intervalMinutes) + 1;
      return Math.min(1, (steps * shape.percent) / 100);
    }
  }
}

export function describeRollout(shape: RolloutShape): string {
  switch (shape.type) {
    case 'all-at-once':
      return 'all at once';
    case 'canary':
      return `canary ${shape.percent} % for ${shape.intervalMinutes} min`;
    case 'linear':
      return `linear ${shape.percent} % every ${shape.intervalMinutes} min`;
  }
}
