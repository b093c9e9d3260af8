import {
  describeRollout,
  minutesToFinalShift,
  PREDEFINED_LAMBDA_CONFIGS,
  rolloutFromTrafficRouting,
  scheduledWeight,
  type TrafficRoutingConfig,
} from '../../src/core/rollout';
import type { RolloutShape } from '../../src/core/types';

const CANARY_10_5: RolloutShape = { type: 'canary', percent: 10, intervalMinutes: 5 };
const LINEAR_10_2: RolloutShape = { type: 'linear', percent: 10, intervalMinutes: 2 };
const LINEAR_30_5: RolloutShape = { type: 'linear', percent: 30, intervalMinutes: 5 };
const ALL_AT_ONCE: RolloutShape = { type: 'all-at-once' };

describe('PREDEFINED_LAMBDA_CONFIGS', () => {
  // https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html
  it.each<{ config: string; minutes: number; description: string }>([
    { config: 'CodeDeployDefault.LambdaAllAtOnce', minutes: 0, description: 'all at once' },
    { config: 'CodeDeployDefault.LambdaCanary10Percent5Minutes', minutes: 5, description: 'canary 10 % for 5 min' },
    { config: 'CodeDeployDefault.LambdaCanary10Percent10Minutes', minutes: 10, description: 'canary 10 % for 10 min' },
    { config: 'CodeDeployDefault.LambdaCanary10Percent15Minutes', minutes: 15, description: 'canary 10 % for 15 min' },
    { config: 'CodeDeployDefault.LambdaCanary10Percent30Minutes', minutes: 30, description: 'canary 10 % for 30 min' },
    { config: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute', minutes: 9, description: 'linear 10 % every 1 min' },
    { config: 'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', minutes: 18, description: 'linear 10 % every 2 min' },
    { config: 'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', minutes: 27, description: 'linear 10 % every 3 min' },
    { config: 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', minutes: 90, description: 'linear 10 % every 10 min' },
  ])('$config shifts its last traffic after $minutes minutes ($description)', ({ config, minutes, description }) => {
    const shape = PREDEFINED_LAMBDA_CONFIGS[config];
    expect(minutesToFinalShift(shape)).toBe(minutes);
    expect(describeRollout(shape)).toBe(description);
    expect(scheduledWeight(shape, minutes)).toBe(1);
  });

  it('knows every predefined Lambda config and no other', () => {
    expect(Object.keys(PREDEFINED_LAMBDA_CONFIGS)).toHaveLength(9);
  });
});

describe('minutesToFinalShift', () => {
  it.each<{ name: string; shape: RolloutShape; minutes: number }>([
    { name: 'a linear config whose steps do not divide 100 finishes on the step that passes it', shape: LINEAR_30_5, minutes: 15 },
    { name: 'a linear config of one 99 % step finishes after one interval', shape: { type: 'linear', percent: 99, intervalMinutes: 4 }, minutes: 4 },
    { name: 'a linear config of 1 % steps takes 99 intervals', shape: { type: 'linear', percent: 1, intervalMinutes: 1 }, minutes: 99 },
    { name: 'a canary finishes after its interval whatever its share', shape: { type: 'canary', percent: 50, intervalMinutes: 7 }, minutes: 7 },
  ])('$name', ({ shape, minutes }) => {
    expect(minutesToFinalShift(shape)).toBe(minutes);
  });
});

describe('scheduledWeight', () => {
  it.each<{ name: string; shape: RolloutShape; elapsed: number; weight: number }>([
    { name: 'gives nothing before shifting begins', shape: CANARY_10_5, elapsed: -0.5, weight: 0 },
    { name: 'gives an all-at-once release everything at once', shape: ALL_AT_ONCE, elapsed: 0, weight: 1 },
    { name: 'gives an all-at-once release nothing before it begins', shape: ALL_AT_ONCE, elapsed: -1, weight: 0 },
    { name: 'gives a canary its share as it begins', shape: CANARY_10_5, elapsed: 0, weight: 0.1 },
    { name: 'keeps a canary at its share during the interval', shape: CANARY_10_5, elapsed: 4.99, weight: 0.1 },
    { name: 'gives a canary everything when the interval ends', shape: CANARY_10_5, elapsed: 5, weight: 1 },
    { name: 'keeps a finished canary at everything', shape: CANARY_10_5, elapsed: 60, weight: 1 },
    { name: 'gives a linear release its first step as it begins', shape: LINEAR_10_2, elapsed: 0, weight: 0.1 },
    { name: 'keeps a linear release on its step within the interval', shape: LINEAR_10_2, elapsed: 1.9, weight: 0.1 },
    { name: 'adds a linear step at each interval', shape: LINEAR_10_2, elapsed: 2, weight: 0.2 },
    { name: 'reaches 70 % after six linear intervals', shape: LINEAR_10_2, elapsed: 12.5, weight: 0.7 },
    { name: 'reaches 90 % one interval before the end', shape: LINEAR_10_2, elapsed: 16, weight: 0.9 },
    { name: 'reaches everything at the final linear shift', shape: LINEAR_10_2, elapsed: 18, weight: 1 },
    { name: 'caps a linear release at everything', shape: LINEAR_10_2, elapsed: 100, weight: 1 },
    { name: 'caps a step that would pass 100 % at everything', shape: LINEAR_30_5, elapsed: 15, weight: 1 },
    { name: 'gives the third of three 30 % steps 90 %', shape: LINEAR_30_5, elapsed: 10, weight: 0.9 },
  ])('$name', ({ shape, elapsed, weight }) => {
    expect(scheduledWeight(shape, elapsed)).toBeCloseTo(weight, 12);
  });
});

describe('rolloutFromTrafficRouting', () => {
  it.each<{ name: string; cfg: TrafficRoutingConfig; shape: RolloutShape }>([
    { name: 'reads AllAtOnce', cfg: { type: 'AllAtOnce' }, shape: ALL_AT_ONCE },
    {
      name: 'reads TimeBasedCanary',
      cfg: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 20, canaryInterval: 15 } },
      shape: { type: 'canary', percent: 20, intervalMinutes: 15 },
    },
    {
      name: 'reads TimeBasedLinear',
      cfg: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 3 } },
      shape: { type: 'linear', percent: 25, intervalMinutes: 3 },
    },
    {
      name: 'accepts the extreme percentages 1 and 99',
      cfg: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 99, canaryInterval: 1 } },
      shape: { type: 'canary', percent: 99, intervalMinutes: 1 },
    },
    {
      name: 'ignores the settings of the other type',
      cfg: { type: 'AllAtOnce', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } },
      shape: ALL_AT_ONCE,
    },
  ])('$name', ({ cfg, shape }) => {
    expect(rolloutFromTrafficRouting(cfg, 'Custom')).toEqual(shape);
  });

  it.each<{ name: string; cfg: TrafficRoutingConfig; message: string }>([
    {
      name: 'rejects an unknown type',
      cfg: { type: 'TimeBasedExponential' },
      message: 'deployment config Custom: trafficRoutingConfig.type is "TimeBasedExponential"; expected one of AllAtOnce, TimeBasedCanary, TimeBasedLinear',
    },
    {
      name: 'rejects a missing type',
      cfg: {},
      message: 'deployment config Custom: trafficRoutingConfig.type is undefined; expected one of AllAtOnce, TimeBasedCanary, TimeBasedLinear',
    },
    {
      name: 'rejects a canary of 0 %',
      cfg: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 0, canaryInterval: 5 } },
      message: 'deployment config Custom: canary needs a percentage of 1-99 and an interval of at least 1 minute, got 0 % every 5 minutes',
    },
    {
      name: 'rejects a canary of 100 %',
      cfg: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 100, canaryInterval: 5 } },
      message: 'deployment config Custom: canary needs a percentage of 1-99 and an interval of at least 1 minute, got 100 % every 5 minutes',
    },
    {
      name: 'rejects a canary interval of 0',
      cfg: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 0 } },
      message: 'deployment config Custom: canary needs a percentage of 1-99 and an interval of at least 1 minute, got 10 % every 0 minutes',
    },
    {
      name: 'rejects a canary without its settings',
      cfg: { type: 'TimeBasedCanary' },
      message: 'deployment config Custom: canary needs a percentage of 1-99 and an interval of at least 1 minute, got NaN % every NaN minutes',
    },
    {
      name: 'rejects a linear step of 0 %',
      cfg: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 0, linearInterval: 1 } },
      message: 'deployment config Custom: linear needs a percentage of 1-99 and an interval of at least 1 minute, got 0 % every 1 minutes',
    },
    {
      name: 'rejects a linear step of 100 %',
      cfg: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 100, linearInterval: 1 } },
      message: 'deployment config Custom: linear needs a percentage of 1-99 and an interval of at least 1 minute, got 100 % every 1 minutes',
    },
    {
      name: 'rejects a linear interval of 0',
      cfg: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 0 } },
      message: 'deployment config Custom: linear needs a percentage of 1-99 and an interval of at least 1 minute, got 10 % every 0 minutes',
    },
    {
      name: 'rejects a linear config whose settings sit under the canary key',
      cfg: { type: 'TimeBasedLinear', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 1 } },
      message: 'deployment config Custom: linear needs a percentage of 1-99 and an interval of at least 1 minute, got NaN % every NaN minutes',
    },
  ])('$name', ({ cfg, message }) => {
    expect(() => rolloutFromTrafficRouting(cfg, 'Custom')).toThrow(message);
  });
});
