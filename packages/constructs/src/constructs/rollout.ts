import { Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { Construct } from 'constructs';
import { minutesToFinalShift, PREDEFINED_LAMBDA_CONFIGS } from '../core/rollout';
import type { PropProblem } from './errors';
import type { RolloutShape } from '../core/types';

/**
 * CodeDeploy limits for Lambda traffic shifting: at most 99 % in one increment, and at most
 * 2,880 minutes from the first shift to the last.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations-create.html
 */
export const MAX_ROLLOUT_MINUTES = 2880;

/** A canary rollout: `percent` of traffic for `minutes`, then the rest. */
export interface CanaryOptions {
  /** Share of traffic the new version takes first, 1-99. */
  readonly percent: number;
  /** Minutes before the rest of the traffic moves, at least 1. */
  readonly minutes: number;
}

/** A linear rollout: `percent` more traffic every `everyMinutes` until all of it. */
export interface LinearOptions {
  /** Share of traffic added each step, 1-99. */
  readonly percent: number;
  /** Minutes between steps, at least 1. */
  readonly everyMinutes: number;
}

/** How traffic moves to the new version. */
export class Rollout {
  /** `percent` of traffic for `minutes`, then the rest. */
  static canary(opts: CanaryOptions): Rollout {
    return new Rollout({ type: 'canary', percent: opts.percent, intervalMinutes: opts.minutes });
  }

  /** `percent` more traffic every `everyMinutes` until all of it. */
  static linear(opts: LinearOptions): Rollout {
    return new Rollout({ type: 'linear', percent: opts.percent, intervalMinutes: opts.everyMinutes });
  }

  /** Everything at once (after the pre-traffic hook). */
  static allAtOnce(): Rollout {
    return new Rollout({ type: 'all-at-once' });
  }

  /** One of CodeDeploy's predefined Lambda configurations, by name. */
  static predefined(name: string): Rollout {
    const shape = PREDEFINED_LAMBDA_CONFIGS[name];
    if (!shape) {
      throw new Error(`Rollout.predefined: unknown config ${JSON.stringify(name)}; allowed: ${Object.keys(PREDEFINED_LAMBDA_CONFIGS).join(', ')}`);
    }
    return new Rollout(shape);
  }

  /**
   * The shape the core computes with.
   * @internal
   */
  readonly _shape: RolloutShape;

  private constructor(shape: RolloutShape) {
    this._shape = shape;
  }

  /**
   * Problems with this rollout, as `{prop, message}`; empty when valid. Pure.
   * @internal
   */
  _problems(): PropProblem[] {
    const s = this._shape;
    if (s.type === 'all-at-once') return [];
    const out: PropProblem[] = [];
    const what = s.type === 'canary' ? 'Rollout.canary' : 'Rollout.linear';
    if (!Number.isInteger(s.percent) || s.percent < 1 || s.percent > 99) {
      out.push({ prop: 'rollout', message: `${what} percent must be an integer from 1 to 99, got ${s.percent}` });
    }
    if (!Number.isInteger(s.intervalMinutes) || s.intervalMinutes < 1) {
      out.push({ prop: 'rollout', message: `${what} ${s.type === 'canary' ? 'minutes' : 'everyMinutes'} must be a whole number of minutes, at least 1, got ${s.intervalMinutes}` });
    }
    if (!out.length && minutesToFinalShift(s) > MAX_ROLLOUT_MINUTES) {
      out.push({ prop: 'rollout', message: `${what} takes ${minutesToFinalShift(s)} minutes to the final shift; CodeDeploy allows at most ${MAX_ROLLOUT_MINUTES}` });
    }
    return out;
  }

  /** The CodeDeploy config: predefined where one matches, else one custom config per stack and shape. */
  bind(scope: Construct): codedeploy.ILambdaDeploymentConfig {
    const s = this._shape;
    for (const [name, p] of Object.entries(PREDEFINED_LAMBDA_CONFIGS)) {
      if (JSON.stringify(p) === JSON.stringify(s)) return codedeploy.LambdaDeploymentConfig.fromLambdaDeploymentConfigName(scope, `Rollout-${name}-${scope.node.addr}`, name);
    }
    // Custom configs are shared per stack: accounts allow 50, and creating many at once throttles.
    const stack = Stack.of(scope);
    const id = `CanaryWatchdogRollout-${s.type}-${'percent' in s ? `${s.percent}-${s.intervalMinutes}` : ''}`;
    const existing = stack.node.tryFindChild(id) as codedeploy.LambdaDeploymentConfig | undefined;
    if (existing) return existing;
    const interval = Duration.minutes('intervalMinutes' in s ? s.intervalMinutes : 1);
    const percentage = 'percent' in s ? s.percent : 100;
    return new codedeploy.LambdaDeploymentConfig(stack, id, {
      trafficRouting:
        s.type === 'canary'
          ? new codedeploy.TimeBasedCanaryTrafficRouting({ interval, percentage })
          : new codedeploy.TimeBasedLinearTrafficRouting({ interval, percentage }),
    });
  }
}
