import { Annotations, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { parseConfigChecks, type ConfigCheck } from '../core/config-checks';
import { DEFAULT_THRESHOLDS, MAX_BAKE_MINUTES } from '../core/config';
import { parseProbes, type ProbeSpec } from '../core/probes';
import { describeRollout } from '../core/rollout';
import { InputError } from '../core/validate';
import { buildLayerAlarms, GuardMetrics, type LayerAlarmSpec } from './alarm-layers';
import { GuardValidationError } from './errors';
import type { ReleaseWatchdog } from './release-watchdog';
import { Rollout } from './rollout';

/** CodeDeploy allows at most 10 alarms per deployment group.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html */
export const MAX_NATIVE_ALARMS = 10;

/** A configuration check as declared on the construct; `required` defaults to true, `format` to string. */
export type ConfigCheckProps = Partial<ConfigCheck> & { readonly key: string };

export interface GuardedFunctionProps extends nodejs.NodejsFunctionProps {
  /** The watchdog that guards this function's releases. */
  readonly watchdog: ReleaseWatchdog;
  /**
   * Guard an existing function instead of creating a `NodejsFunction` from the other props.
   * @default a new NodejsFunction
   */
  readonly function?: lambda.Function;
  /**
   * Name of the alias that takes user traffic.
   * @default 'live'
   */
  readonly aliasName?: string;
  /**
   * How traffic moves to a new version.
   * @default Rollout.canary({ percent: 10, minutes: 5 })
   * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html
   */
  readonly rollout?: Rollout;
  /**
   * Minutes to keep watching after the final shift before the release counts as done (0-60).
   * @default 10
   */
  readonly bakeMinutes?: number;
  /**
   * Synthetic checks run against the new version before any traffic and during the shift.
   * @default no probes
   */
  readonly probes?: readonly ProbeSpec[];
  /**
   * Checks on the new version's environment variables, run before any traffic.
   * @default no checks
   */
  readonly configChecks?: readonly ConfigCheckProps[];
  /**
   * Error rate of the new version that fails the release (0-1).
   * @default 0.05
   */
  readonly maxErrorRate?: number;
  /**
   * Invocations per minute (alarms) or in all (watchdog) before an error rate is judged.
   * @default 20
   */
  readonly minInvocations?: number;
  /**
   * Throttle rate of the new version that fails the release (0-1).
   * @default 0.05
   */
  readonly maxThrottleRate?: number;
  /**
   * p99 duration of the new version that fails the release, ms.
   * @default 80 % of the function's timeout
   */
  readonly maxP99LatencyMs?: number;
  /**
   * Share of probe invocations of the new version that must succeed (0-1).
   * @default 0.95
   */
  readonly minProbeSuccess?: number;
  /**
   * Your own alarms (any IAlarm, composite too): the `service` layer.
   * @default none
   */
  readonly extraAlarms?: readonly cloudwatch.IAlarm[];
  /**
   * Layers of your own, judged after the built-in ones, in order.
   * @default none
   */
  readonly customLayers?: readonly { readonly name: string; readonly alarms: readonly cloudwatch.IAlarm[] }[];
  /**
   * Combine the alarms into one composite alarm when CodeDeploy's limit of 10 per deployment
   * group would be exceeded. When false, more than 10 alarms is a synth error.
   * @default true
   */
  readonly combineNativeAlarms?: boolean;
  /**
   * Add a CloudWatch dashboard for this function.
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * A Lambda function whose every release is guarded: a version published on each code or
 * configuration change, a `live` alias, a CodeDeploy deployment group with the declared rollout
 * and automatic rollback, pre-traffic configuration checks and probes, a post-traffic bake,
 * alarm layers scoped to the new version, and a dashboard.
 */
export class GuardedFunction extends Construct {
  readonly function: lambda.Function;
  readonly version: lambda.Version;
  readonly alias: lambda.Alias;
  readonly application: codedeploy.LambdaApplication;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The layer alarms, by layer. */
  readonly layerAlarms: readonly LayerAlarmSpec[];
  /** The alarms in the deployment group's own list (at most 10; the heartbeat alarm always). */
  readonly nativeAlarms: readonly cloudwatch.IAlarm[];
  readonly dashboard?: cloudwatch.Dashboard;
  readonly probes: readonly ProbeSpec[];
  readonly configChecks: readonly ConfigCheck[];

  constructor(scope: Construct, id: string, props: GuardedFunctionProps) {
    super(scope, id);
    const rollout = props.rollout ?? Rollout.canary({ percent: 10, minutes: 5 });
    const bakeMinutes = props.bakeMinutes ?? 10;
    validateProps(this, props, rollout, bakeMinutes);
    this.probes = parseOrThrow(this, 'probes', () => parseProbes(props.probes ?? [], 'probes'));
    this.configChecks = parseOrThrow(this, 'configChecks', () => parseConfigChecks(props.configChecks ?? [], 'configChecks'));

    const { watchdog, function: existing, aliasName = 'live', ...fnProps } = props;
    this.function = existing ?? new nodejs.NodejsFunction(this, 'Function', stripGuardProps(fnProps));
    // currentVersion publishes a new version whenever code or configuration changes.
    this.version = this.function.currentVersion;
    const fnName = this.function.functionName;

    const namePrefix = Names.uniqueResourceName(this, { maxLength: 200, separator: '-' });
    const timeoutMs = this.function.timeout?.toMilliseconds() ?? 3000;
    const t = {
      maxErrorRate: props.maxErrorRate ?? DEFAULT_THRESHOLDS.maxErrorRate,
      minInvocations: props.minInvocations ?? DEFAULT_THRESHOLDS.minInvocations,
      maxThrottleRate: props.maxThrottleRate ?? DEFAULT_THRESHOLDS.maxThrottleRate,
      maxP99LatencyMs: props.maxP99LatencyMs ?? Math.round(timeoutMs * 0.8),
      minProbeSuccess: props.minProbeSuccess ?? DEFAULT_THRESHOLDS.minProbeSuccess,
    };
    this.layerAlarms = buildLayerAlarms(this, {
      metrics: new GuardMetrics(fnName, aliasName, watchdog.namespace),
      version: this.version.version,
      namePrefix,
      ...t,
      probes: this.probes.length > 0,
    });

    this.alias = new lambda.Alias(this, 'Alias', { aliasName, version: this.version });
    // The version-scoped alarms must point at the new version before the alias update starts
    // the deployment; the alarms do not depend on the alias, so no cycle forms.
    for (const a of this.layerAlarms) this.alias.node.addDependency(a.alarm);

    const extra = props.extraAlarms ?? [];
    const custom = props.customLayers ?? [];
    const guarded = [...this.layerAlarms.map((a) => a.alarm), ...extra, ...custom.flatMap((l) => l.alarms)];
    this.nativeAlarms = this.nativeAlarmList(watchdog.heartbeatAlarm, guarded, props.combineNativeAlarms ?? true, namePrefix);

    // Explicit names: the hooks' configuration refers to the group, and the group to the hooks.
    const applicationName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    const deploymentGroupName = applicationName;
    this.application = new codedeploy.LambdaApplication(this, 'Application', { applicationName });
    const deploymentConfig = rollout.bind(this);
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: this.application,
      deploymentGroupName,
      alias: this.alias,
      deploymentConfig,
      alarms: [...this.nativeAlarms],
      role: watchdog.deploymentRole,
      preHook: watchdog.preTrafficHook,
      ...(bakeMinutes > 0 ? { postHook: watchdog.postTrafficHook } : {}),
      // CodeDeploy's default: if alarm state cannot be read, the deployment stops.
      ignorePollAlarmsFailure: false,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    // The deployment group's role is the watchdog's shared one (ReleaseWatchdog.deploymentRole);
    // CDK gives it AWS's managed policy for Lambda deployments and invoke rights on the hooks.

    const byLayer = (layer: LayerAlarmSpec['layer']) => this.layerAlarms.filter((a) => a.layer === layer).map((a) => a.name);
    const defaults = DEFAULT_THRESHOLDS;
    const thresholds: Record<string, number> = {};
    if (t.maxErrorRate !== defaults.maxErrorRate) thresholds.maxErrorRate = t.maxErrorRate;
    if (t.minInvocations !== defaults.minInvocations) thresholds.minInvocations = t.minInvocations;
    if (t.maxThrottleRate !== defaults.maxThrottleRate) thresholds.maxThrottleRate = t.maxThrottleRate;
    if (t.minProbeSuccess !== defaults.minProbeSuccess) thresholds.minProbeSuccess = t.minProbeSuccess;
    if (props.maxP99LatencyMs !== undefined) thresholds.maxP99LatencyMs = props.maxP99LatencyMs;
    watchdog.addGuard({
      applicationName,
      deploymentGroup: this.deploymentGroup,
      function: this.function,
      alarmNames: [...this.layerAlarms.map((a) => a.name), ...extra.map((a) => a.alarmName), ...custom.flatMap((l) => l.alarms.map((a) => a.alarmName))],
      alarms: [...guarded],
      ...(deploymentConfig instanceof codedeploy.LambdaDeploymentConfig ? { customDeploymentConfigName: deploymentConfig.deploymentConfigName } : {}),
      config: {
        // Plain names, not Refs: the hooks read this configuration and the group refers to the
        // hooks, so a Ref here would close a dependency cycle.
        application: applicationName,
        deploymentGroup: deploymentGroupName,
        functionName: fnName,
        alias: aliasName,
        ...(bakeMinutes !== 10 ? { bakeMinutes } : {}),
        ...(Object.keys(thresholds).length ? { thresholds } : {}),
        alarms: {
          ...(byLayer('probes').length ? { probes: byLayer('probes') } : {}),
          'new-version': byLayer('new-version'),
          service: [...byLayer('service'), ...extra.map((a) => a.alarmName)],
        },
        ...(custom.length ? { customLayers: custom.map((l) => ({ name: l.name, alarms: l.alarms.map((a) => a.alarmName) })) } : {}),
        ...(this.configChecks.length ? { configChecks: props.configChecks } : {}),
        ...(this.probes.length ? { probes: props.probes } : {}),
      },
    });

    // `cdk synth` prints this, so the layers guarding each release are visible at a glance.
    Annotations.of(this).addInfo(
      `canary-watchdog guards ${aliasName} with ${describeRollout(rollout.shape)}, bake ${bakeMinutes} min. Layers: ` +
        [
          `config (${this.configChecks.length} checks: ${this.configChecks.map((c) => c.key).join(', ') || 'none'})`,
          `probes (${this.probes.length}: ${this.probes.map((p) => p.name).join(', ') || 'none'}; alarm below ${t.minProbeSuccess * 100} % success)`,
          `new-version (ExecutedVersion: errors > ${t.maxErrorRate * 100} %, throttles > ${t.maxThrottleRate * 100} %, p99 > ${t.maxP99LatencyMs} ms, after ${t.minInvocations} invocations; and versus the old version)`,
          `service (alias error rate${extra.length ? ` + ${extra.length} of your alarms` : ''})`,
          ...custom.map((l) => `${l.name} (${l.alarms.length} alarms)`),
        ].join('; ') +
        `. CodeDeploy's own alarms: ${this.nativeAlarms.length} (heartbeat first).`,
    );

    if (props.dashboard ?? true) this.dashboard = this.buildDashboard(fnName, aliasName, watchdog, namePrefix);
    this.node.addValidation({ validate: () => this.validateEnvironment() });
  }

  private nativeAlarmList(heartbeat: cloudwatch.IAlarm, guarded: cloudwatch.IAlarm[], combine: boolean, namePrefix: string): cloudwatch.IAlarm[] {
    const all = [heartbeat, ...guarded];
    if (all.length <= MAX_NATIVE_ALARMS) return all;
    if (!combine) {
      throw new GuardValidationError(
        this,
        'extraAlarms',
        `${all.length} alarms for the deployment group (heartbeat, ${this.layerAlarms.length} layer alarms, ${guarded.length - this.layerAlarms.length} of yours) exceed CodeDeploy's limit of ${MAX_NATIVE_ALARMS}; allow combineNativeAlarms or pass fewer extraAlarms`,
      );
    }
    // The heartbeat stays on its own, so a dead watchdog is always visible as itself.
    const composite = new cloudwatch.CompositeAlarm(this, 'AnyLayerAlarm', {
      compositeAlarmName: `${namePrefix}-any-layer`,
      alarmDescription: 'canary-watchdog: any layer alarm of this function (combined for CodeDeploy\'s 10-alarm limit).',
      alarmRule: cloudwatch.AlarmRule.anyOf(...guarded.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
    });
    return [heartbeat, composite];
  }

  /** Environment keys the configuration checks require must be defined on the function. */
  private validateEnvironment(): string[] {
    const cfn = this.function.node.defaultChild as lambda.CfnFunction;
    // L1 properties are camelCase until rendered: `environment.variables`.
    const env = Stack.of(this).resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
    const defined = new Set(Object.keys(env?.variables ?? {}));
    const missing = this.configChecks.filter((c) => c.required && !defined.has(c.key)).map((c) => c.key);
    return missing.length
      ? [
          `${this.node.path}: configChecks: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required by a config check but not defined in the function's environment ` +
            `(defined: ${[...defined].filter((k) => !k.startsWith('CANARY_WATCHDOG_')).join(', ') || 'none'})`,
        ]
      : [];
  }

  private buildDashboard(fnName: string, aliasName: string, watchdog: ReleaseWatchdog, namePrefix: string): cloudwatch.Dashboard {
    const search = (metric: string, stat: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metric}" FunctionName="${fnName}" Resource="${fnName}:${aliasName}"', '${stat}', 60)`,
        label: '',
        period: Duration.minutes(1),
      });
    const widget = (title: string, metric: cloudwatch.IMetric) => new cloudwatch.GraphWidget({ title, left: [metric], width: 12, height: 6 });
    const dash = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: namePrefix.slice(0, 255).replace(/[^\w-]/g, '-') });
    dash.addWidgets(
      widget('Traffic by version (invocations)', search('Invocations', 'Sum')),
      widget('Errors by version', search('Errors', 'Sum')),
    );
    dash.addWidgets(
      widget('p99 duration by version (ms)', search('Duration', 'p99')),
      widget(
        'Probe failure rate by version',
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${watchdog.namespace},FunctionName,Version} MetricName="ProbeFailure" FunctionName="${fnName}"', 'Average', 60)`,
          label: '',
          period: Duration.minutes(1),
        }),
      ),
    );
    dash.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Release guard alarms',
        alarms: [watchdog.heartbeatAlarm, ...this.layerAlarms.map((a) => a.alarm), ...this.nativeAlarms.filter((a) => a !== watchdog.heartbeatAlarm)],
        width: 24,
      }),
    );
    return dash;
  }
}

function stripGuardProps(p: Omit<GuardedFunctionProps, 'watchdog' | 'function' | 'aliasName'>): nodejs.NodejsFunctionProps {
  const {
    rollout: _r, bakeMinutes: _b, probes: _p, configChecks: _c, maxErrorRate: _e, minInvocations: _i, maxThrottleRate: _t,
    maxP99LatencyMs: _l, minProbeSuccess: _s, extraAlarms: _x, customLayers: _u, combineNativeAlarms: _n, dashboard: _d, ...fn
  } = p;
  return fn;
}

function parseOrThrow<T>(scope: Construct, prop: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    // InputError messages start with the field's path ("probes[1].expect: ..."): keep it as the prop.
    const rest = err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
    throw new GuardValidationError(scope, err.path || prop, rest);
  }
}

/** Contradictory or out-of-range props fail in the constructor, naming the prop. */
function validateProps(scope: Construct, p: GuardedFunctionProps, rollout: Rollout, bakeMinutes: number): void {
  if (p.function && (p.entry || p.code || p.handler)) {
    throw new GuardValidationError(scope, 'function', 'give either an existing function or the props of a new one (entry, code, handler), not both');
  }
  const problems = rollout.problems();
  if (problems.length) throw new GuardValidationError(scope, problems[0].prop, problems[0].message);
  if (!Number.isFinite(bakeMinutes) || bakeMinutes < 0 || bakeMinutes > MAX_BAKE_MINUTES) {
    throw new GuardValidationError(scope, 'bakeMinutes', `must be a number of minutes from 0 to ${MAX_BAKE_MINUTES} (the AfterAllowTraffic hook must report within one hour), got ${bakeMinutes}`);
  }
  const rates: [string, number | undefined][] = [['maxErrorRate', p.maxErrorRate], ['maxThrottleRate', p.maxThrottleRate], ['minProbeSuccess', p.minProbeSuccess]];
  for (const [name, v] of rates) {
    if (v !== undefined && !Token.isUnresolved(v) && !(Number.isFinite(v) && v >= 0 && v <= 1)) {
      throw new GuardValidationError(scope, name, `must be a rate from 0 to 1, got ${v}`);
    }
  }
  if (p.minInvocations !== undefined && !(Number.isInteger(p.minInvocations) && p.minInvocations >= 1)) {
    throw new GuardValidationError(scope, 'minInvocations', `must be a whole number of at least 1, got ${p.minInvocations}`);
  }
  if (p.maxP99LatencyMs !== undefined && !(Number.isFinite(p.maxP99LatencyMs) && p.maxP99LatencyMs > 0)) {
    throw new GuardValidationError(scope, 'maxP99LatencyMs', `must be a positive number of milliseconds, got ${p.maxP99LatencyMs}`);
  }
  const layerNames = (p.customLayers ?? []).map((l) => l.name);
  for (const n of layerNames) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(n) || ['config', 'probes', 'new-version', 'service'].includes(n)) {
      throw new GuardValidationError(scope, 'customLayers', `layer name ${JSON.stringify(n)} must be lowercase letters, digits and dashes, and not a built-in layer (config, probes, new-version, service)`);
    }
  }
  if (new Set(layerNames).size !== layerNames.length) throw new GuardValidationError(scope, 'customLayers', 'layer names must be unique');
}
