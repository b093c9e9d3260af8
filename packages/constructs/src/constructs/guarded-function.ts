import { checkIntegrations } from './integration-guard';
import { Annotations, Aspects, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { parseConfigChecks, type ConfigCheck, type ConfigFormat } from '../core/config-checks';
import { DEFAULT_THRESHOLDS, MAX_BAKE_MINUTES, VERSION } from '../core/config';
import { parseProbes, type ProbeSpec as CoreProbeSpec } from '../core/probes';
import { probesForRuntime, type ProbeSpec } from './probe-spec';
import { describeRollout } from '../core/rollout';
import { nativeAlarmSelection, type NativeAlarmSelection } from '../core/native-alarms';
import { buildHttpAlarm, buildLayerAlarms, buildProbeAlarm, GuardMetrics, type LayerAlarmProps, type LayerAlarmSpec } from './alarm-layers';
import { GuardValidationError, parseOrThrow } from './errors';
import { AlarmLayer, customLayerNameProblem } from './layer';
import { newestNodeRuntime } from './node-runtime';
import { NAME_LIMITS } from './physical-names';
import { ReleaseWatchdog } from './release-watchdog';
import { Rollout } from './rollout';

/** CodeDeploy allows at most 10 alarms per deployment group.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html */
export const MAX_NATIVE_ALARMS = 10;

type LayerThresholds = Pick<LayerAlarmProps, 'maxErrorRate' | 'minInvocations' | 'maxThrottleRate' | 'maxP99LatencyMs' | 'minProbeSuccess'>;

/**
 * A check on one environment variable of the new version, as declared on the construct, run
 * before any traffic. Configuration is more dangerous than code: a wrong value ships without a
 * build failing.
 */
export interface ConfigCheckProps {
  /** The environment variable's name. */
  readonly key: string;
  /**
   * Whether the variable must be set and non-empty.
   * @default true
   */
  readonly required?: boolean;
  /**
   * How the value must read.
   * @default ConfigFormat.STRING
   */
  readonly format?: ConfigFormat;
  /**
   * A regular expression the whole value must match.
   * @default no pattern
   */
  readonly pattern?: string;
  /**
   * The value must be one of these.
   * @default any value
   */
  readonly oneOf?: string[];
  /**
   * For `ConfigFormat.URL`: the endpoint must answer (any HTTP status below 500) within this many ms, 1-60000.
   * @default not tested
   */
  readonly reachableWithinMs?: number;
}

/** A layer of your own alarms, judged after the built-in layers. */
export interface CustomLayer {
  /** Lowercase letters, digits and dashes; not a built-in layer's name (config, probes, new-version, service). */
  readonly name: string;
  /** The layer's alarms (any IAlarm, composite too). */
  readonly alarms: cloudwatch.IAlarm[];
}

export interface GuardedFunctionProps extends nodejs.NodejsFunctionProps {
  /**
   * The watchdog that guards this function's releases.
   * @default ReleaseWatchdog.of(this): the stack's watchdog, created with default props if it has none
   */
  readonly watchdog?: ReleaseWatchdog;
  /**
   * Guard an existing function instead of creating a `NodejsFunction` from the other props;
   * then give none of the function's own props (entry, code, handler, runtime, environment...).
   * @default a new NodejsFunction
   */
  readonly existingFunction?: lambda.Function;
  /**
   * Name of the alias that takes user traffic: 1 to 128 letters, digits, `-` and `_`, not only digits.
   * @default 'live'
   * @see https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
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
  readonly probes?: ProbeSpec[];
  /**
   * Checks on the new version's environment variables, run before any traffic.
   * @default no checks
   */
  readonly configChecks?: ConfigCheckProps[];
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
   * Your own alarms (any IAlarm, composite too): the `service` layer. `addAlarm` adds more.
   * @default none
   */
  readonly extraAlarms?: cloudwatch.IAlarm[];
  /**
   * Layers of your own, judged after the built-in ones, in order.
   * @default none
   */
  readonly customLayers?: CustomLayer[];
  /**
   * Combine the alarms into one composite alarm when CodeDeploy's limit of 10 per deployment
   * group would be exceeded. When false, more than 10 alarms is a synth error.
   * @default true
   */
  readonly combineNativeAlarms?: boolean;
  /**
   * Add a row for this function to its watchdog's release dashboard (one dashboard per
   * ReleaseWatchdog: traffic, errors and p99 by version, probe failures, alarm states).
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Count the new version's invocations as they end with the telemetry extension (a layer the
   * guard adds): the watchdog judges the count within seconds of a failure instead of waiting for
   * Lambda's one-minute metrics. The extension is a static native binary: any runtime. A container
   * image carries it itself (two Dockerfile lines, which synth names): set true once it does.
   * @default true, false for a container image
   */
  readonly telemetry?: boolean;
}

/**
 * A Lambda function whose every release is guarded: a version published on each code or
 * configuration change, a `live` alias, a CodeDeploy deployment group with the declared rollout
 * and automatic rollback, pre-traffic configuration checks and probes, a post-traffic bake,
 * alarm layers scoped to the new version, and a row of its watchdog's release dashboard.
 *
 * Integrate with `alias`, not with `function`: only traffic through the alias is shifted,
 * watched and rolled back (event sources, function URLs, API integrations, `grantInvoke`).
 * A new function gets the newest Node.js runtime of the installed aws-cdk-lib unless `runtime`
 * is set; pin `runtime` to keep it when aws-cdk-lib adds a newer one.
 *
 * What depends on calls made after construction (a function URL added to the alias, `addProbe`,
 * `addConfigCheck`, `addAlarm`) is decided when the app is synthesized: the HTTP 5xx and probe
 * alarms, CodeDeploy's alarm list and its composite, the watchdog's configuration and the dashboard.
 */
export class GuardedFunction extends Construct {
  readonly function: lambda.Function;
  readonly version: lambda.Version;
  /**
   * The alias that takes user traffic (`live`): the thing to integrate with. Releases shift its
   * traffic to each new version under watch; whatever invokes the function directly or through
   * `$LATEST` bypasses the guard.
   */
  readonly alias: lambda.Alias;
  /** The watchdog that guards this function's releases. */
  readonly watchdog: ReleaseWatchdog;
  readonly application: codedeploy.LambdaApplication;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** ALARM when the watchdog published no heartbeat for this deployment group for 3 minutes. */
  readonly heartbeatAlarm: cloudwatch.Alarm;
  /** Runs the `reachableWithinMs` checks in the function's VPC; only for a VPC function. */
  readonly reachabilityChecker?: lambda.Function;

  private readonly props: GuardedFunctionProps;
  /** The probes and checks as declared (props, then add* calls), and as parsed. */
  private readonly probeProps: ProbeSpec[];
  private readonly checkProps: ConfigCheckProps[];
  /** The probes in the runtime's form (`equals`), parsed by the runtime's own parser. */
  private parsedProbes: CoreProbeSpec[];
  private parsedChecks: ConfigCheck[];
  /** Alarms of yours added with addAlarm, by layer name. */
  private readonly addedAlarms: { readonly layer: string; readonly alarm: cloudwatch.IAlarm }[] = [];
  private readonly layers: LayerAlarmSpec[];
  private readonly native: cloudwatch.IAlarm[] = [];
  private readonly selection: NativeAlarmSelection;
  private readonly names: { readonly application: string; readonly deploymentGroup: string; readonly prefix: string };
  private readonly thresholds: LayerThresholds;
  private readonly rollout: Rollout;
  private readonly bakeMinutes: number;
  /** Whether the telemetry extension counts this function's releases (the `telemetry` prop). */
  readonly telemetry: boolean;
  private readonly customConfig?: codedeploy.ILambdaDeploymentConfig;
  /** The probes in the runtime configuration's form. */
  private finalized?: { readonly functionUrl: boolean };
  /** The synth summary (finalize): the layers guarding each release, in one line. */
  private summary?: string;
  private summaryPrinted = false;

  constructor(scope: Construct, id: string, props: GuardedFunctionProps) {
    super(scope, id);
    this.props = props;
    this.rollout = props.rollout ?? Rollout.canary({ percent: 10, minutes: 5 });
    this.bakeMinutes = props.bakeMinutes ?? 10;
    const { watchdog: _w, existingFunction: existing, aliasName = 'live', ...rest } = props;
    const fnProps = stripGuardProps(rest);
    validateProps(this, props, fnProps, this.rollout, this.bakeMinutes);
    this.probeProps = [...(props.probes ?? [])];
    this.checkProps = [...(props.configChecks ?? [])];
    this.parsedProbes = parseOrThrow(this, 'probes', () => parseProbes(probesForRuntime(this.probeProps, 'probes'), 'probes'));
    this.parsedChecks = parseOrThrow(this, 'configChecks', () => parseConfigChecks(this.checkProps, 'configChecks'));
    const watchdog = props.watchdog ?? ReleaseWatchdog.of(this);
    this.watchdog = watchdog;

    this.function = existing ?? new nodejs.NodejsFunction(this, 'Function', { ...fnProps, runtime: fnProps.runtime ?? newestNodeRuntime() });
    // currentVersion publishes a new version whenever code or configuration changes.
    this.version = this.function.currentVersion;

    // Explicit names: the hooks' configuration refers to the group, and the group to the hooks.
    const applicationName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.names = { application: applicationName, deploymentGroup: applicationName, prefix: Names.uniqueResourceName(this, { maxLength: 200, separator: '-' }) };
    const timeoutMs = this.function.timeout?.toMilliseconds() ?? 3000;
    this.thresholds = {
      maxErrorRate: props.maxErrorRate ?? DEFAULT_THRESHOLDS.maxErrorRate,
      minInvocations: props.minInvocations ?? DEFAULT_THRESHOLDS.minInvocations,
      maxThrottleRate: props.maxThrottleRate ?? DEFAULT_THRESHOLDS.maxThrottleRate,
      maxP99LatencyMs: props.maxP99LatencyMs ?? Math.round(timeoutMs * 0.8),
      minProbeSuccess: props.minProbeSuccess ?? DEFAULT_THRESHOLDS.minProbeSuccess,
    };
    this.layers = buildLayerAlarms(this, { ...this.layerAlarmBase(), ...this.thresholds, probes: this.probes.length > 0 });
    this.heartbeatAlarm = watchdog.addHeartbeatAlarm(this, this.names.application, this.names.deploymentGroup, `${this.names.prefix}-heartbeat`);

    // Lambda keeps one alias of a name per function: a second guard of it would fail at deploy.
    const twin = Stack.of(this).node.findAll().find((c): c is GuardedFunction => c instanceof GuardedFunction && c !== this && c.function === this.function && c.alias?.aliasName === aliasName);
    if (twin) throw new GuardValidationError(this, 'existingFunction', `${this.function.node.path} is already guarded by ${twin.node.path} with the alias ${aliasName}; guard a function once`);
    this.alias = new lambda.Alias(this, 'Alias', { aliasName, version: this.version });
    // Integrations with the function itself reach $LATEST, not the alias CodeDeploy shifts: the synth fails on them.
    const fnResource = this.function.node.defaultChild;
    if (fnResource instanceof lambda.CfnFunction) {
      checkIntegrations(Stack.of(fnResource), { functionLogicalId: Stack.of(fnResource).getLogicalId(fnResource), functionPath: this.function.node.path, aliasName, ownScopes: [this.node.path, watchdog.node.path] });
    }
    // The version-scoped alarms must point at the new version before the alias update starts
    // the deployment; the alarms do not depend on the alias, so no cycle forms.
    for (const a of this.layers) this.alias.node.addDependency(a.alarm);

    if (this.function.isBoundToVpc) this.reachabilityChecker = watchdog.addReachabilityChecker(this, this.function);
    // A container image carries its extensions itself: Lambda takes no layers for it.
    // https://docs.aws.amazon.com/lambda/latest/dg/extensions-configuration.html#using-extensions-images
    const image = (this.function.node.defaultChild as lambda.CfnFunction).packageType === 'Image';
    this.telemetry = props.telemetry ?? !image;
    if (this.telemetry) watchdog._addTelemetry(this.function, !image);
    else if (image && props.telemetry === undefined) {
      Annotations.of(this).addInfo(
        `${this.function.node.path} is a container image, guarded without the fast signal (the telemetry extension). ` +
          `To add it, put these two lines in its Dockerfile, then set telemetry: true: ` +
          dockerfileLines(this.function.architecture.name).join(' ; '),
      );
    }

    // Which alarms CodeDeploy checks itself, by mode and preexistingAlarms policy (one rule with the rehearsal).
    this.selection = nativeAlarmSelection(watchdog.mode, watchdog.policy.preexistingAlarms);
    this.checkNativeAlarmCount(this.selectedAlarms());

    this.application = new codedeploy.LambdaApplication(this, 'Application', { applicationName });
    const deploymentConfig = this.rollout.bind(this);
    if (deploymentConfig instanceof codedeploy.LambdaDeploymentConfig) this.customConfig = deploymentConfig;
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: this.application,
      deploymentGroupName: this.names.deploymentGroup,
      alias: this.alias,
      deploymentConfig,
      // Filled in at synth (finalize): the list depends on a function URL added later.
      alarms: [],
      role: watchdog.deploymentRole,
      preHook: watchdog.preTrafficHook,
      ...(this.bakeMinutes > 0 ? { postHook: watchdog.postTrafficHook } : {}),
      // CodeDeploy's default: if alarm state cannot be read, the deployment stops.
      ignorePollAlarmsFailure: false,
      // In shadow mode the list is empty (no watchdog alarm may stop a release), and CDK rejects
      // deploymentInAlarm without alarms: the heartbeat is in the list exactly when alarms are.
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: this.selection.heartbeat },
    });

    // The deployment group's role is the watchdog's shared one (ReleaseWatchdog.deploymentRole);
    // CDK gives it AWS's managed policy for Lambda deployments and invoke rights on the hooks.

    Aspects.of(this).add({ visit: (node) => (node === this ? this.finalize() : undefined) });
    this.node.addValidation({ validate: () => this.validateEnvironment() });
    this.node.addValidation({ validate: () => this.validateFunctionUrl() });
    this.node.addValidation({ validate: () => this.printSummaryPastWarnings() });
  }

  /**
   * The CDK CLI shows a stack's info annotations only when it has no warning, so the synth summary
   * would vanish whenever any construct warns (a default-sized function does). Under the CLI
   * (CDK_OUTDIR set for the app), with a warning in the stack, the summary goes to stderr, which
   * the CLI passes on. Validations run after every aspect: the warnings are all there.
   */
  private printSummaryPastWarnings(): string[] {
    if (!this.summary || !process.env.CDK_OUTDIR || this.summaryPrinted) return [];
    const warned = Stack.of(this).node.findAll().some((c) => c.node.metadata.some((m) => m.type === 'aws:cdk:warning'));
    if (warned) {
      // Once, however often the app synthesizes.
      this.summaryPrinted = true;
      process.stderr.write(`${this.node.path}: ${this.summary}\n`);
    }
    return [];
  }

  /** The probes as declared: the `probes` prop's, then those added with addProbe. */
  get probes(): ProbeSpec[] {
    return [...this.probeProps];
  }

  /** The configuration checks, as parsed: the `configChecks` prop's, then those added with addConfigCheck. */
  get configChecks(): ConfigCheck[] {
    return [...this.parsedChecks];
  }

  /**
   * Add a probe, run against the new version before any traffic and during the shift, validated
   * like the `probes` prop (a probe name already used is rejected).
   */
  addProbe(probe: ProbeSpec): void {
    this.assertOpen('addProbe');
    this.parsedProbes = parseOrThrow(this, 'probes', () => parseProbes(probesForRuntime([...this.probeProps, probe], 'probes'), 'probes'));
    this.probeProps.push(probe);
    if (!this.layers.some((a) => a.layer === 'probes')) {
      // The probes layer's alarm, first of the layers as when declared in the props.
      const alarm = buildProbeAlarm(this, { ...this.layerAlarmBase(), ...this.thresholds });
      this.layers.unshift(alarm);
      this.alias.node.addDependency(alarm.alarm);
    }
  }

  /**
   * Add a check of the new version's environment, run before any traffic, validated like the
   * `configChecks` prop (a key already checked is rejected).
   */
  addConfigCheck(check: ConfigCheckProps): void {
    this.assertOpen('addConfigCheck');
    this.parsedChecks = parseOrThrow(this, 'configChecks', () => parseConfigChecks([...this.checkProps, check], 'configChecks'));
    this.checkProps.push(check);
  }

  /**
   * Add an alarm of yours to a layer the watchdog judges: like `extraAlarms` (the service layer,
   * the default) or `customLayers` (`AlarmLayer.custom(name)`), it reaches the watchdog's
   * configuration and grants, CodeDeploy's own alarm list (combined into the composite alarm
   * past CodeDeploy's 10) and the alarm-state trigger. An alarm added to `deploymentGroup`
   * directly bypasses all of this: CodeDeploy stops the release on it, but the watchdog never
   * judges it, records it or rolls back on it, and it escapes the 10-alarm check.
   * @param alarm any alarm, composite too; one already guarded here is rejected
   * @param layer the layer the alarm joins: AlarmLayer.SERVICE when not given
   */
  addAlarm(alarm: cloudwatch.IAlarm, layer?: AlarmLayer): void {
    this.assertOpen('addAlarm');
    const name = (layer ?? AlarmLayer.SERVICE).name;
    if (findDuplicateAlarm(this, [...this.userAlarms(), alarm]) === alarm) {
      throw new GuardValidationError(this, 'addAlarm', `the alarm ${alarm.node.path} is already guarded here; CodeDeploy rejects an alarm listed twice`);
    }
    this.addedAlarms.push({ layer: name, alarm });
    this.checkNativeAlarmCount(this.selectedAlarms());
  }

  /** Let `grantee` invoke the alias, so its calls take part in releases. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.alias.grantInvoke(grantee);
  }

  /**
   * Errors of the current version through the alias (dimensions FunctionName, Resource
   * `function:alias` and ExecutedVersion), as the new-version layer's alarms read them: during a
   * release, the new version's errors apart from the old version's.
   * @default Sum over 1 minute
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.guardMetrics().versionErrors(this.version.version).with(props ?? {});
  }

  /**
   * Duration of the current version through the alias (dimensions FunctionName, Resource and
   * ExecutedVersion), as the new-version layer's p99 alarm reads it.
   * @default Average over 1 minute
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.guardMetrics().versionP99Duration(this.version.version).with({ ...props, statistic: props?.statistic ?? 'Average' });
  }

  /**
   * Invocations of the current version through the alias (dimensions FunctionName, Resource and
   * ExecutedVersion): the denominator of the new version's error rate.
   * @default Sum over 1 minute
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.guardMetrics().versionInvocations(this.version.version).with(props ?? {});
  }

  /** The layer alarms, by layer (the HTTP 5xx alarm once the alias's function URL is known). */
  get layerAlarms(): LayerAlarmSpec[] {
    this.finalize();
    return [...this.layers];
  }

  /** The alarms in the deployment group's own list (at most 10; the heartbeat first, except in shadow mode, where there are none). */
  get nativeAlarms(): cloudwatch.IAlarm[] {
    this.finalize();
    return [...this.native];
  }

  /** The watchdog's release dashboard, which holds this function's row; undefined when `dashboard` is false. */
  get dashboard(): cloudwatch.Dashboard | undefined {
    this.finalize();
    return (this.props.dashboard ?? true) ? this.watchdog.dashboard : undefined;
  }

  /** Whether users reach the alias through a Lambda function URL (AWS::Lambda::Url on the alias). */
  private hasFunctionUrl(): boolean {
    const stack = Stack.of(this);
    const fnArn = JSON.stringify(stack.resolve(this.function.functionArn));
    return stack.node
      .findAll()
      .some((c) => c instanceof lambda.CfnUrl && c.qualifier === this.alias.aliasName && JSON.stringify(stack.resolve(c.targetFunctionArn)) === fnArn);
  }

  private guardMetrics(): GuardMetrics {
    return new GuardMetrics(this.function.functionName, this.props.aliasName ?? 'live', this.watchdog.namespace);
  }

  private layerAlarmBase() {
    return { metrics: this.guardMetrics(), version: this.version.version, namePrefix: this.names.prefix };
  }

  /** add* calls change what finalize settles: after it they would go unwatched. */
  private assertOpen(method: string): void {
    if (!this.finalized) return;
    throw new GuardValidationError(this, method, 'called after the guard was settled (layerAlarms, nativeAlarms or dashboard read, or the app synthesized); call it before');
  }

  /** Your alarms of the service layer: `extraAlarms`, then those added with addAlarm. */
  private serviceAlarms(): cloudwatch.IAlarm[] {
    return [...(this.props.extraAlarms ?? []), ...this.addedAlarms.filter((a) => a.layer === 'service').map((a) => a.alarm)];
  }

  /** Your custom layers: `customLayers`, then those first named in addAlarm, each with its added alarms. */
  private customLayerList(): { readonly name: string; readonly alarms: readonly cloudwatch.IAlarm[] }[] {
    const layers = (this.props.customLayers ?? []).map((l) => ({ name: l.name, alarms: [...l.alarms] }));
    for (const { layer, alarm } of this.addedAlarms.filter((a) => a.layer !== 'service')) {
      const found = layers.find((l) => l.name === layer);
      if (found) found.alarms.push(alarm);
      else layers.push({ name: layer, alarms: [alarm] });
    }
    return layers;
  }

  /** Every alarm of yours, in every layer. */
  private userAlarms(): cloudwatch.IAlarm[] {
    return [...this.serviceAlarms(), ...this.customLayerList().flatMap((l) => l.alarms)];
  }

  /** The guarded alarms the selection hands to CodeDeploy, before combining. */
  private selectedAlarms(): cloudwatch.IAlarm[] {
    const s = this.selection;
    return [
      ...this.layers.filter((a) => s.includesLayer(a.layer)).map((a) => a.alarm),
      ...(s.includesLayer('service') ? this.serviceAlarms() : []),
      ...this.customLayerList().filter((l) => s.includesLayer(l.name)).flatMap((l) => l.alarms),
    ];
  }

  private checkNativeAlarmCount(selected: readonly cloudwatch.IAlarm[]): void {
    const total = (this.selection.heartbeat ? 1 : 0) + selected.length;
    if (total <= MAX_NATIVE_ALARMS || (this.props.combineNativeAlarms ?? true)) return;
    const layer = selected.filter((a) => this.layers.some((l) => l.alarm === a)).length;
    throw new GuardValidationError(
      this,
      'extraAlarms',
      `${total} alarms for the deployment group (heartbeat, ${layer} layer alarms, ${selected.length - layer} of yours) exceed CodeDeploy's limit of ${MAX_NATIVE_ALARMS}; allow combineNativeAlarms or pass fewer extraAlarms`,
    );
  }

  /**
   * Everything that depends on the finished construct tree, once: run by an aspect at synth, or
   * earlier when a caller reads layerAlarms, nativeAlarms or dashboard.
   */
  private finalize(): void {
    if (this.finalized) return;
    const functionUrl = this.hasFunctionUrl();
    this.finalized = { functionUrl };
    const watchdog = this.watchdog;
    const aliasName = this.alias.aliasName;
    const fnName = this.function.functionName;
    const t = this.thresholds;
    if (functionUrl) {
      const http = buildHttpAlarm(this, { ...this.layerAlarmBase(), ...t });
      this.layers.push(http);
      this.alias.node.addDependency(http.alarm);
    }

    const selected = this.selectedAlarms();
    this.checkNativeAlarmCount(selected);
    this.native.push(...this.combine(selected));
    for (const a of this.native) this.deploymentGroup.addAlarm(a);

    const extra = this.serviceAlarms();
    const custom = this.customLayerList();
    // The version-scoped alarms are replaced with each release: the watchdog is granted them by
    // their name template, so the grants do not change per release.
    const stable = this.layers.filter((a) => !a.name.includes(VERSION)).map((a) => a.alarm);
    const guarded = [...stable, ...extra, ...custom.flatMap((l) => l.alarms)];
    const byLayer = (layer: LayerAlarmSpec['layer']) => this.layers.filter((a) => a.layer === layer).map((a) => a.name);
    const defaults = DEFAULT_THRESHOLDS;
    const thresholds: Record<string, number> = {};
    if (t.maxErrorRate !== defaults.maxErrorRate) thresholds.maxErrorRate = t.maxErrorRate;
    if (t.minInvocations !== defaults.minInvocations) thresholds.minInvocations = t.minInvocations;
    if (t.maxThrottleRate !== defaults.maxThrottleRate) thresholds.maxThrottleRate = t.maxThrottleRate;
    if (t.minProbeSuccess !== defaults.minProbeSuccess) thresholds.minProbeSuccess = t.minProbeSuccess;
    if (this.props.maxP99LatencyMs !== undefined) thresholds.maxP99LatencyMs = this.props.maxP99LatencyMs;
    watchdog.addGuard({
      telemetry: this.telemetry,
      applicationName: this.names.application,
      deploymentGroup: this.deploymentGroup,
      function: this.function,
      alarmNames: [...this.layers.map((a) => a.name), ...extra.map((a) => a.alarmName), ...custom.flatMap((l) => l.alarms.map((a) => a.alarmName))],
      alarms: guarded,
      ...(this.customConfig ? { customDeploymentConfigName: this.customConfig.deploymentConfigName } : {}),
      config: {
        // Plain names, not Refs: the hooks read this configuration and the group refers to the
        // hooks, so a Ref here would close a dependency cycle.
        application: this.names.application,
        deploymentGroup: this.names.deploymentGroup,
        functionName: fnName,
        alias: aliasName,
        ...(this.bakeMinutes !== 10 ? { bakeMinutes: this.bakeMinutes } : {}),
        ...(Object.keys(thresholds).length ? { thresholds } : {}),
        alarms: {
          ...(byLayer('probes').length ? { probes: byLayer('probes') } : {}),
          'new-version': byLayer('new-version'),
          service: [...byLayer('service'), ...extra.map((a) => a.alarmName)],
        },
        ...(custom.length ? { customLayers: custom.map((l) => ({ name: l.name, alarms: l.alarms.map((a) => a.alarmName) })) } : {}),
        ...(this.checkProps.length ? { configChecks: this.checkProps } : {}),
        ...(this.parsedProbes.length ? { probes: this.parsedProbes } : {}),
        ...(functionUrl ? { httpMetrics: 'function-url' } : {}),
        ...(this.telemetry ? { telemetry: true } : {}),
        // The checker's name is a Ref: it depends on nothing of the hooks or the group.
        ...(this.reachabilityChecker ? { reachabilityChecker: this.reachabilityChecker.functionName } : {}),
      },
    });

    if (this.probes.length === 0) {
      Annotations.of(this).addWarningV2(
        'canary-watchdog:no-probes',
        `${this.function.node.path} has no probes: at low traffic its releases can reach 100 % on no evidence. Declare probes, or set the ReleaseWatchdog policy insufficient: { 'final-shift': { 'new-version': 'rollback' } } to demand evidence from user traffic before the final shift.`,
      );
    }

    // `cdk synth` prints this, so the layers guarding each release are visible at a glance.
    this.summary =
      `canary-watchdog guards ${aliasName} with ${describeRollout(this.rollout._shape)}, bake ${this.bakeMinutes} min. Layers: ` +
        [
          `config (${this.configChecks.length} checks: ${this.configChecks.map((c) => c.key).join(', ') || 'none'})`,
          `probes (${this.probes.length}: ${this.probes.map((p) => p.name).join(', ') || 'none'}; alarm below ${t.minProbeSuccess * 100} % success)`,
          `new-version (ExecutedVersion: errors > ${t.maxErrorRate * 100} %, ${functionUrl ? `function URL 5xx > ${t.maxErrorRate * 100} %, ` : ''}throttles > ${t.maxThrottleRate * 100} %, p99 > ${t.maxP99LatencyMs} ms, after ${t.minInvocations} invocations; and versus the old version)`,
          `service (alias error rate${extra.length ? ` + ${extra.length} of your alarms` : ''})`,
          ...custom.map((l) => `${l.name} (${l.alarms.length} alarms)`),
        ].join('; ') +
        `. CodeDeploy's own alarms: ${this.native.length}${this.selection.heartbeat ? ' (heartbeat first)' : ' (shadow mode: none)'}.`;
    Annotations.of(this).addInfo(this.summary);

    if (this.props.dashboard ?? true) watchdog.addDashboardRow(...this.dashboardRow(fnName, aliasName));
  }

  /** The heartbeat, then the selected alarms; combined into one composite alarm past CodeDeploy's 10. */
  private combine(selected: cloudwatch.IAlarm[]): cloudwatch.IAlarm[] {
    const heartbeat = this.selection.heartbeat ? [this.heartbeatAlarm] : [];
    if (heartbeat.length + selected.length <= MAX_NATIVE_ALARMS) return [...heartbeat, ...selected];
    // The heartbeat stays on its own, so a dead watchdog is always visible as itself.
    const composite = new cloudwatch.CompositeAlarm(this, 'AnyLayerAlarm', {
      compositeAlarmName: `${this.names.prefix}-any-layer`,
      alarmDescription: 'canary-watchdog: any layer alarm of this function (combined for CodeDeploy\'s 10-alarm limit).',
      alarmRule: cloudwatch.AlarmRule.anyOf(...selected.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
    });
    return [...heartbeat, composite];
  }

  /** A function URL added after the alarms were settled would go unwatched: say so. */
  private validateFunctionUrl(): string[] {
    if (!this.finalized || this.finalized.functionUrl === this.hasFunctionUrl()) return [];
    return [
      `${this.node.path}: httpMetrics: a function URL was added to the alias ${this.alias.aliasName} after layerAlarms, nativeAlarms or dashboard was read, so its HTTP 5xx alarm is missing; add the URL before reading them`,
    ];
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

  /**
   * This function's row of the watchdog's release dashboard: traffic, errors and p99 duration by
   * version, the probe failure rate by version, and the states of its guard alarms.
   */
  private dashboardRow(fnName: string, aliasName: string): cloudwatch.IWidget[] {
    const search = (expression: string) => new cloudwatch.MathExpression({ expression, label: '', period: Duration.minutes(1) });
    const lambdaSearch = (metric: string, stat: string) =>
      search(`SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metric}" FunctionName="${fnName}" Resource="${fnName}:${aliasName}"', '${stat}', 60)`);
    const title = this.node.path;
    const graph = (what: string, metric: cloudwatch.IMetric) => new cloudwatch.GraphWidget({ title: `${title}: ${what}`, left: [metric], width: 4, height: 6 });
    return [
      graph('traffic by version (invocations)', lambdaSearch('Invocations', 'Sum')),
      graph('errors by version', lambdaSearch('Errors', 'Sum')),
      graph('p99 duration by version (ms)', lambdaSearch('Duration', 'p99')),
      graph('probe failure rate by version', search(`SEARCH('{${this.watchdog.namespace},FunctionName,Version} MetricName="ProbeFailure" FunctionName="${fnName}"', 'Average', 60)`)),
      new cloudwatch.AlarmStatusWidget({
        title: `${title}: release guard alarms`,
        alarms: [this.heartbeatAlarm, ...this.layers.map((a) => a.alarm), ...this.native.filter((a) => a instanceof cloudwatch.CompositeAlarm)],
        width: 8,
        height: 6,
      }),
    ];
  }
}

function stripGuardProps(p: Omit<GuardedFunctionProps, 'watchdog' | 'existingFunction' | 'aliasName'>): nodejs.NodejsFunctionProps {
  const {
    rollout: _r, bakeMinutes: _b, probes: _p, configChecks: _c, maxErrorRate: _e, minInvocations: _i, maxThrottleRate: _t,
    maxP99LatencyMs: _l, minProbeSuccess: _s, extraAlarms: _x, customLayers: _u, combineNativeAlarms: _n, dashboard: _d, telemetry: _tm, ...fn
  } = p;
  return fn;
}

/**
 * The first alarm in `alarms` that an earlier one already lists: the same alarm, or one whose
 * name resolves the same. CodeDeploy rejects a list naming one alarm twice.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateDeploymentGroup.html
 */
function findDuplicateAlarm(scope: Construct, alarms: readonly cloudwatch.IAlarm[]): cloudwatch.IAlarm | undefined {
  const seen = new Set<string>();
  for (const a of alarms) {
    const key = JSON.stringify(Stack.of(scope).resolve(a.alarmName));
    if (seen.has(key)) return a;
    seen.add(key);
  }
  return undefined;
}

/** Lambda's alias name rule. https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html */
function aliasNameProblem(name: string): string | undefined {
  if (Token.isUnresolved(name)) return undefined;
  if (name.length >= 1 && name.length <= NAME_LIMITS.aliasName && /^[a-zA-Z0-9_-]+$/.test(name) && !/^[0-9]+$/.test(name)) return undefined;
  return `must be 1 to ${NAME_LIMITS.aliasName} letters, digits, - and _, and not only digits (Lambda's alias name rule), got ${JSON.stringify(name)} (${name.length} characters)`;
}

/** Contradictory or out-of-range props fail in the constructor, naming the prop. */
function validateProps(scope: Construct, p: GuardedFunctionProps, fnProps: nodejs.NodejsFunctionProps, rollout: Rollout, bakeMinutes: number): void {
  const given = Object.entries(fnProps).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (p.existingFunction && given.length) {
    throw new GuardValidationError(scope, 'existingFunction', `give either an existing function or the props of a new one, not both; remove ${given.join(', ')} or existingFunction`);
  }
  const aliasProblem = p.aliasName === undefined ? undefined : aliasNameProblem(p.aliasName);
  if (aliasProblem) throw new GuardValidationError(scope, 'aliasName', aliasProblem);
  const problems = rollout._problems();
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
    const problem = customLayerNameProblem(n);
    if (problem) throw new GuardValidationError(scope, 'customLayers', problem);
  }
  if (new Set(layerNames).size !== layerNames.length) throw new GuardValidationError(scope, 'customLayers', 'layer names must be unique');
  const duplicate = findDuplicateAlarm(scope, [...(p.extraAlarms ?? []), ...(p.customLayers ?? []).flatMap((l) => l.alarms)]);
  if (duplicate) throw new GuardValidationError(scope, 'extraAlarms', `the alarm ${duplicate.node.path} is given twice in extraAlarms and customLayers; CodeDeploy rejects an alarm listed twice`);
}

/** The Dockerfile lines that add the telemetry extension to a container image of one architecture. */
function dockerfileLines(architecture: string): string[] {
  return [`COPY node_modules/canary-watchdog/assets/telemetry-layer-${architecture}/extensions/ /opt/extensions/`, 'RUN chmod 755 /opt/extensions/canary-watchdog-telemetry'];
}
