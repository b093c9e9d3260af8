import { Aws, CfnResource, Duration, Lazy, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { alarmNamePrefix, DEFAULT_NAMESPACE, METRIC, parsePolicy, VERSION } from '../core/config';
import type { Policy } from '../core/types';
import { ConfigDelivery, WatchdogMode, type PolicyOverrides } from './watchdog-options';
import { CONFIG_ITEM_ID, ENV } from '../runtime/env';
import * as cr from 'aws-cdk-lib/custom-resources';
import { GuardValidationError, oneOfEnum, parseOrThrow, type PropProblem } from './errors';
import { newestNodeRuntime } from './node-runtime';
import { fitName, NAME_LIMITS, stackPathName } from './physical-names';
import { runtimeHandlerDir, telemetryLayerDir, type RuntimeHandler } from './runtime-bundle';
import * as eventsources from 'aws-cdk-lib/aws-lambda-event-sources';
import { PROBED_KEY_PREFIX, STREAM_BATCH_WINDOW_SECONDS, TELEMETRY_STREAM_FILTER, TELEMETRY_TABLE_ENV, WATCH_KEY_PREFIX, watchKeyPattern } from '../aws/telemetry';

/** Lambda limits the environment variables of one function to 4 KB in all.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html */
export const ENVIRONMENT_LIMIT_BYTES = 4096;
/** CloudFormation's resources per stack. */
export const MAX_STACK_RESOURCES = 500;
/** A dashboard body holds 0 to 500 widgets.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html */
export const MAX_DASHBOARD_WIDGETS = 500;

export interface ReleaseWatchdogProps {
  /**
   * Name of the heartbeat's `Watchdog` dimension; unique per account and region.
   * @default a name derived from the construct path
   */
  readonly watchdogName?: string;
  /**
   * `ENFORCE` stops bad releases; `SHADOW` only records what it would have done.
   * @default WatchdogMode.ENFORCE
   */
  readonly mode?: WatchdogMode;
  /**
   * Overrides of the decision policy (blindAfter, finalShiftGuardSeconds, insufficient,
   * preexistingAlarms), validated at synth; see PolicyOverrides.
   * @default the README's defaults
   * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
   */
  readonly policy?: PolicyOverrides;
  /**
   * Concurrency reserved for the watchdog, the two hooks and the prober, so that throttling
   * elsewhere in the account cannot silence the heartbeat and stop every release. Reserved
   * concurrency is taken from the account's pool, which must keep 100 unreserved.
   * @default ReservedConcurrency.defaults(): 2 each, 8 in all
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
   */
  readonly reservedConcurrency?: ReservedConcurrency;
  /**
   * Probe rounds per prober invocation (1-12); the prober runs every minute.
   * @default 6
   */
  readonly proberRounds?: number;
  /**
   * Retention of the runtime functions' logs, which hold the decision records.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Where the runtime reads its configuration: `ENVIRONMENT` (the functions' environment, which
   * Lambda limits to 4 KB, about ten guarded functions) or `STATE_TABLE` (an item of the state
   * table written at deploy time by a custom resource, up to DynamoDB's 400 KB item size).
   * @default ConfigDelivery.ENVIRONMENT
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
   */
  readonly configDelivery?: ConfigDelivery;
  /**
   * Event bus the decision events go to.
   * @default the account's default bus
   */
  readonly eventBus?: events.IEventBus;
}

/** Reserved concurrency of each runtime function. */
export interface RuntimeConcurrency {
  /** The scheduled watchdog. @default 2: a run that overlaps the next by its timeout */
  readonly watchdog?: number;
  /** The event-driven watchdog (alarm, deployment and telemetry events). @default 2 */
  readonly eventWatchdog?: number;
  /** @default 2: two deployments starting at once; more wait in Lambda's asynchronous queue */
  readonly preTrafficHook?: number;
  /** @default 2 */
  readonly postTrafficHook?: number;
  /** @default 2: one run a minute that can overlap the next by its timeout */
  readonly prober?: number;
}

/**
 * How much concurrency the runtime functions reserve. A reservation is both a floor (account-wide
 * throttling cannot starve the function) and a ceiling (more concurrent invocations are
 * throttled; CodeDeploy and EventBridge invoke these functions asynchronously, so Lambda keeps
 * throttled events in its queue and retries them for up to 6 hours).
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
export class ReservedConcurrency {
  /** 2 for each runtime function. */
  static readonly DEFAULTS: RuntimeConcurrency = { watchdog: 2, eventWatchdog: 2, preTrafficHook: 2, postTrafficHook: 2, prober: 2 };

  /** 2 for each runtime function: 10 taken from the account's pool. */
  static defaults(): ReservedConcurrency {
    return new ReservedConcurrency({ ...ReservedConcurrency.DEFAULTS });
  }

  /** Given values; the others keep their defaults. Each a whole number of at least 1. */
  static of(values: RuntimeConcurrency): ReservedConcurrency {
    return new ReservedConcurrency({ ...ReservedConcurrency.DEFAULTS, ...values });
  }

  /** Reserve nothing: the runtime shares the account's unreserved pool (and its throttling). */
  static none(): ReservedConcurrency {
    return new ReservedConcurrency(undefined);
  }

  /** The concurrency reserved per runtime function; undefined when none is. */
  public readonly values?: RuntimeConcurrency;

  private constructor(values: RuntimeConcurrency | undefined) {
    this.values = values;
  }

  /**
   * Problems, as `{prop, message}`; empty when valid. Pure.
   * @internal
   */
  _problems(): PropProblem[] {
    return Object.entries(this.values ?? {})
      .filter(([, v]) => !(Number.isInteger(v) && v >= 1))
      .map(([k, v]) => ({
        prop: 'reservedConcurrency',
        message: `${k} must be a whole number of at least 1 (0 would stop the function; use ReservedConcurrency.none() to reserve nothing), got ${v}`,
      }));
  }
}

/** The managed policy AWSCodeDeployRoleForLambdaLimited invokes only functions named `CodeDeployHook_*`. */
const HOOK_PREFIX = 'CodeDeployHook_';
/** The id of the watchdog `ReleaseWatchdog.of` creates in a stack that has none. */
const DEFAULT_WATCHDOG_ID = 'ReleaseWatchdog';
const IS_RELEASE_WATCHDOG = Symbol.for('canary-watchdog.ReleaseWatchdog');

/** What a guarded function hands its watchdog. */
export interface GuardRegistration {
  /**
   * Whether the function carries the telemetry extension: its role then may read and add to its own
   * watch items in the state table, and nothing else there.
   * @default false
   */
  readonly telemetry?: boolean;
  /** The guard's entry of the runtime configuration; may hold tokens. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON object; jsii's JSON type
  readonly config: { [key: string]: any };
  readonly applicationName: string;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly function: lambda.IFunction;
  /** Every alarm the watchdog reads for this guard whose name stays the same from release to release. */
  readonly alarms: cloudwatch.IAlarm[];
  /**
   * The names of every alarm the watchdog reads, as plain strings where known; a version-scoped
   * alarm's as its template with `{version}` (the alarm is replaced with each release).
   */
  readonly alarmNames: string[];
  /** A custom deployment config the guard uses, if any. */
  readonly customDeploymentConfigName?: string;
}


/**
 * The release watchdog of one stack: the watchdog function and its triggers (alarm state
 * changes of the guarded alarms, CodeDeploy deployment state changes, a one-minute schedule),
 * the pre-traffic and post-traffic hooks, the prober, the durable state, and the heartbeat alarm
 * that CodeDeploy checks itself, so that a dead watchdog still stops the release.
 */
export class ReleaseWatchdog extends Construct {
  /** Whether `x` is a ReleaseWatchdog, also across copies of this library. */
  // `any`, not `unknown`: jsii has no `unknown` type (aws-cdk's `Stack.isStack(x: any)` alike).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static isReleaseWatchdog(x: any): x is ReleaseWatchdog {
    return typeof x === 'object' && x !== null && IS_RELEASE_WATCHDOG in x;
  }

  /**
   * The release watchdog of the stack that holds `scope`: the stack's only ReleaseWatchdog, or,
   * when it has none, a new one with the default props (id `ReleaseWatchdog`, at the stack's
   * root). A GuardedFunction given no `watchdog` uses this, so guarded functions of one stack
   * share one watchdog. A stack with several ReleaseWatchdogs is ambiguous: an error naming them.
   */
  static of(scope: IConstruct): ReleaseWatchdog {
    const stack = Stack.of(scope);
    const found = watchdogsOf(stack);
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      throw new GuardValidationError(
        scope,
        'watchdog',
        `the stack ${stack.node.path} holds ${found.length} ReleaseWatchdogs (${found.map((w) => w.node.path).join(', ')}); pass watchdog to say which one guards this function`,
      );
    }
    const created = new ReleaseWatchdog(stack, DEFAULT_WATCHDOG_ID);
    created.implicit = true;
    return created;
  }

  /** The scheduled watchdog: the one-minute full run, which alone publishes heartbeats. */
  readonly watchdogFunction: lambda.Function;
  /**
   * The same watchdog for event-driven runs (alarm and deployment state changes, the telemetry
   * stream), with its own reserved concurrency: a burst of events can never take the scheduled
   * run's, whose missing heartbeat would stop every guarded release.
   */
  readonly eventWatchdog: lambda.Function;
  /** BeforeAllowTraffic hook; its name starts with `CodeDeployHook_`. */
  readonly preTrafficHook: lambda.Function;
  /** AfterAllowTraffic hook; its name starts with `CodeDeployHook_`. */
  readonly postTrafficHook: lambda.Function;
  readonly prober: lambda.Function;
  readonly stateTable: dynamodb.Table;
  readonly watchdogName: string;
  /** Namespace of the watchdog's own metrics (heartbeat, probe and config-check failures). */
  readonly namespace: string = DEFAULT_NAMESPACE;
  readonly configDelivery: ConfigDelivery;
  readonly mode: WatchdogMode;
  /** The decision policy: the defaults with the `policy` prop's overrides, validated. */
  readonly policy: Policy;
  /** The concurrency reserved per runtime function; undefined when none is. */
  readonly reservedConcurrency?: RuntimeConcurrency;

  private readonly guards: GuardRegistration[] = [];
  private readonly props: ReleaseWatchdogProps;
  private readonly eventBus: events.IEventBus;
  private sharedDeploymentRole?: iam.Role;
  private releaseDashboard?: cloudwatch.Dashboard;
  /** Widgets on the release dashboard, and the rows (guarded functions) they came in. */
  private readonly dashboardSize = { widgets: 0, rows: 0 };
  /** Created by `ReleaseWatchdog.of` for guarded functions given no watchdog. */
  private implicit = false;

  /**
   * The CodeDeploy service role of every deployment group this watchdog guards: one IAM role
   * for all of them instead of one per function (IAM allows 1,000 roles per account by default,
   * and each role is two more resources in the stack). CDK's LambdaDeploymentGroup adds AWS's
   * managed policy for Lambda deployments and invoke rights on the hooks to it.
   * https://docs.aws.amazon.com/codedeploy/latest/userguide/getting-started-create-service-role.html
   */
  get deploymentRole(): iam.Role {
    this.sharedDeploymentRole ??= new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: `CodeDeploy service role of the deployment groups guarded by ${this.node.path}`,
    });
    Validations.of(this.sharedDeploymentRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'AWS managed policy made for CodeDeploy Lambda deployments: updates aliases and invokes only CodeDeployHook_* functions.',
    });
    for (const hook of [this.preTrafficHook, this.postTrafficHook]) {
      Validations.of(this.sharedDeploymentRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(hook.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'CDK grants CodeDeploy invoke rights on the hook function and its versions; nothing wider.',
      });
    }
    return this.sharedDeploymentRole;
  }

  /**
   * The release dashboard of the guarded functions: one row per guarded function (traffic,
   * errors, p99 duration and probe failures by version, and its alarms' states), one dashboard
   * per watchdog instead of one per function. Undefined until a guarded function adds its row
   * (they do when the app is synthesized, unless their `dashboard` prop is false).
   */
  get dashboard(): cloudwatch.Dashboard | undefined {
    return this.releaseDashboard;
  }

  /**
   * Add a row of widgets to the release dashboard, created with the first row. A dashboard holds
   * at most 500 widgets: more fail the synth with an error that says how to split.
   */
  addDashboardRow(...widgets: cloudwatch.IWidget[]): void {
    this.releaseDashboard ??= new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: fitName(`${stackPathName(this)}-releases`, NAME_LIMITS.dashboardName) });
    this.releaseDashboard.addWidgets(...widgets);
    this.dashboardSize.widgets += widgets.length;
    this.dashboardSize.rows += 1;
  }

  constructor(scope: Construct, id: string, props: ReleaseWatchdogProps = {}) {
    super(scope, id);
    Object.defineProperty(this, IS_RELEASE_WATCHDOG, { value: true });
    this.props = props;
    if (props.proberRounds !== undefined && !(Number.isInteger(props.proberRounds) && props.proberRounds >= 1 && props.proberRounds <= 12)) {
      throw new GuardValidationError(this, 'proberRounds', `must be an integer from 1 to 12, got ${props.proberRounds}`);
    }
    this.mode = oneOfEnum(this, 'mode', props.mode, WatchdogMode) ?? WatchdogMode.ENFORCE;
    // A bad policy fails here, naming the field (policy.insufficient.final-shift...), not at run time.
    this.policy = parseOrThrow(this, 'policy', () => parsePolicy(props.policy, 'policy'));
    const concurrency = props.reservedConcurrency ?? ReservedConcurrency.defaults();
    const problems = concurrency._problems();
    if (problems.length) throw new GuardValidationError(this, problems[0].prop, problems[0].message);
    this.reservedConcurrency = concurrency.values;
    this.watchdogName = props.watchdogName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.checkCollisions();
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    this.stateTable = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'deploymentId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Deployment state expires within a week; nothing in it outlives a deployment.
      removalPolicy: RemovalPolicy.DESTROY,
      // The telemetry extension's writes reach the watchdog through the stream (addTelemetry).
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });

    // `CodeDeployHook_<stack>-<path>-<pre|post>`, cut with a hash to Lambda's 64 characters.
    const hookName = (suffix: string) => `${HOOK_PREFIX}${fitName(stackPathName(this), NAME_LIMITS.functionName - HOOK_PREFIX.length - suffix.length - 1)}-${suffix}`;
    const reserved = this.reservedConcurrency;
    this.watchdogFunction = this.runtimeFunction('Watchdog', 'watchdog', { timeout: Duration.seconds(50), reserved: reserved?.watchdog });
    this.eventWatchdog = this.runtimeFunction('EventWatchdog', 'watchdog', { timeout: Duration.seconds(50), reserved: reserved?.eventWatchdog, description: 'canary-watchdog watchdog (events)' });
    this.preTrafficHook = this.runtimeFunction('PreTrafficHook', 'pre-traffic', {
      timeout: Duration.minutes(5),
      // The managed policy AWSCodeDeployRoleForLambdaLimited invokes only CodeDeployHook_* functions.
      // https://docs.aws.amazon.com/codedeploy/latest/userguide/getting-started-create-service-role.html
      functionName: hookName('pre'),
      reserved: reserved?.preTrafficHook,
    });
    this.postTrafficHook = this.runtimeFunction('PostTrafficHook', 'post-traffic', { timeout: Duration.seconds(30), functionName: hookName('post'), reserved: reserved?.postTrafficHook });
    this.prober = this.runtimeFunction('Prober', 'prober', { timeout: Duration.seconds(90), reserved: reserved?.prober });
    this.prober.addEnvironment(ENV.proberRounds, String(props.proberRounds ?? 6));

    const everyMinute = new events.Rule(this, 'EveryMinute', {
      description: 'canary-watchdog: evaluate every guarded deployment and probe new versions once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    everyMinute.addTarget(new targets.LambdaFunction(this.watchdogFunction, { retryAttempts: 0 }));
    everyMinute.addTarget(new targets.LambdaFunction(this.prober, { retryAttempts: 0 }));

    new events.Rule(this, 'DeploymentStateChange', {
      description: 'canary-watchdog: evaluate a guarded deployment when its state changes',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { application: Lazy.list({ produce: () => [...new Set(this.guards.map((g) => g.applicationName))] }) },
      },
      targets: [new targets.LambdaFunction(this.eventWatchdog, { retryAttempts: 2 })],
    });
    new events.Rule(this, 'AlarmStateChange', {
      description: 'canary-watchdog: evaluate at once when a guarded alarm changes state',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: Lazy.any({ produce: () => alarmNamePattern(this.guards.flatMap((g) => g.alarmNames)) }) },
      },
      targets: [new targets.LambdaFunction(this.eventWatchdog, { retryAttempts: 2 })],
    });

    const config = Lazy.string({
      produce: () =>
        Stack.of(this).toJsonString({
          ...(props.mode ? { mode: props.mode } : {}),
          name: this.watchdogName,
          ...(props.policy ? { policy: props.policy } : {}),
          guards: this.guards.map((g) => g.config),
        }),
    });
    this.configDelivery = oneOfEnum(this, 'configDelivery', props.configDelivery, ConfigDelivery) ?? ConfigDelivery.ENVIRONMENT;
    let configItem: cr.AwsCustomResource | undefined;
    if (this.configDelivery === ConfigDelivery.STATE_TABLE) {
      const put: cr.AwsSdkCall = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: { TableName: this.stateTable.tableName, Item: { deploymentId: { S: CONFIG_ITEM_ID }, config: { S: config } } },
        physicalResourceId: cr.PhysicalResourceId.of(`${this.watchdogName}-config`),
      };
      configItem = new cr.AwsCustomResource(this, 'ConfigItem', {
        onCreate: put,
        onUpdate: put,
        // The configuration item only: the provider's role is shared by the stack's custom resources.
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.stateTable.tableArn], conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CONFIG_ITEM_ID] } } }),
        ]),
        installLatestAwsSdk: false,
      });
    }
    for (const fn of this.functions()) {
      if (configItem) {
        fn.addEnvironment(ENV.configSource, 'state-table');
        this.stateTable.grant(fn, 'dynamodb:GetItem');
        // The functions start only once their configuration is written.
        fn.node.addDependency(configItem);
      } else {
        fn.addEnvironment(ENV.config, config);
      }
      fn.addEnvironment(ENV.stateTable, this.stateTable.tableName);
      fn.addEnvironment(ENV.eventBus, this.eventBus.eventBusName);
    }
    this.grantBase();
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData and cloudwatch:PutMetricData support no resource-level permissions; PutMetricData is limited to the CanaryWatchdog namespace by a condition.',
    });
    this.node.addValidation({ validate: () => this.validateSize() });
    this.node.addValidation({ validate: () => this.validateResourceCount() });
    this.node.addValidation({ validate: () => dashboardSizeProblems(this.node.path, this.dashboardSize) });
  }

  /**
   * Watchdogs of one stack must not collide: their heartbeats are told apart by `watchdogName`,
   * and guarded functions given no watchdog share the stack's default one, which a second
   * watchdog created after it would silently leave in charge of them.
   */
  private checkCollisions(): void {
    const name = this.props.watchdogName;
    if (name !== undefined && !Token.isUnresolved(name) && !(name.trim().length > 0 && name.length <= NAME_LIMITS.dimensionValue)) {
      throw new GuardValidationError(this, 'watchdogName', `must be 1 to ${NAME_LIMITS.dimensionValue} characters, not only spaces (it is a CloudWatch dimension value), got ${JSON.stringify(name)}`);
    }
    for (const other of watchdogsOf(Stack.of(this))) {
      if (other === this) continue;
      if (other.implicit) {
        throw new GuardValidationError(
          this,
          'ReleaseWatchdog',
          `the stack already has the default watchdog ${other.node.path}, created for guarded functions given no watchdog; create this ReleaseWatchdog before them (they then use it) or pass watchdog to each`,
        );
      }
      if (other.watchdogName === this.watchdogName) {
        throw new GuardValidationError(this, 'watchdogName', `${JSON.stringify(this.watchdogName)} is already the name of ${other.node.path} in this stack; each watchdog needs its own`);
      }
    }
  }

  /**
   * The heartbeat the watchdog publishes for one guarded deployment group: one datapoint a
   * minute while a full run saw, judged and acted on every deployment of that group.
   */
  heartbeatMetric(application: string, deploymentGroup: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: METRIC.heartbeat,
      dimensionsMap: { Watchdog: this.watchdogName, DeploymentGroup: `${application}/${deploymentGroup}` },
      statistic: 'SampleCount',
      period: Duration.minutes(1),
    });
  }

  /**
   * The heartbeat alarm of one guarded deployment group, first in that group's CodeDeploy list:
   * no heartbeat for 3 minutes (missing data breaching) stops that group's release, and only
   * that one, so a deployment the watchdog cannot judge does not stop every other release.
   */
  addHeartbeatAlarm(scope: Construct, application: string, deploymentGroup: string, alarmName: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(scope, 'HeartbeatAlarm', {
      alarmName,
      alarmDescription: `canary-watchdog: no watchdog heartbeat for ${application}/${deploymentGroup} for 3 minutes. In that deployment group's alarm list, so CodeDeploy stops its release itself.`,
      metric: this.heartbeatMetric(application, deploymentGroup),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /**
   * A function that runs the `reachableWithinMs` checks of a guarded function in that function's
   * network (same subnets and security groups), invoked by the pre-traffic hook: a VPC function's
   * private endpoint is unreachable from the hook, and a public one the hook reaches may be
   * unreachable from the function.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
   */
  addReachabilityChecker(scope: Construct, guarded: lambda.Function): lambda.Function {
    const checker = this.runtimeFunction('ReachabilityChecker', 'reach-check', { timeout: Duration.seconds(70), scope });
    const vpc = (guarded.node.defaultChild as lambda.CfnFunction).vpcConfig;
    (checker.node.defaultChild as lambda.CfnFunction).vpcConfig = vpc;
    // The managed policy Lambda needs to create and delete the network interfaces in the VPC.
    checker.role!.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    Validations.of(checker).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: "AWS managed policy Lambda needs to attach a VPC function to the guarded function's subnets; CDK attaches the same one to every VPC function.",
    });
    // The checker itself, not its versions: the hook invokes $LATEST by name.
    this.preTrafficHook.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [checker.functionArn] }));
    return checker;
  }

  /** The four runtime functions. */
  functions(): lambda.Function[] {
    return [this.watchdogFunction, this.eventWatchdog, this.preTrafficHook, this.postTrafficHook, this.prober];
  }

  /** The scheduled and the event-driven watchdog: one handler, the same rights. */
  private watchdogs(): lambda.Function[] {
    return [this.watchdogFunction, this.eventWatchdog];
  }

  /** Register a guarded function: its configuration and the least-privilege grants it needs. */
  addGuard(reg: GuardRegistration): void {
    this.guards.push(reg);
    const dg = reg.deploymentGroup;
    const versions = `${reg.function.functionArn}:*`;
    const policy = (fn: lambda.Function, actions: string[], resources: string[]) => {
      for (const f of fn === this.watchdogFunction ? this.watchdogs() : [fn]) f.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    };

    // Reading and stopping deployments is scoped to the guarded deployment groups.
    policy(this.watchdogFunction, ['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments', 'codedeploy:StopDeployment'], [dg.deploymentGroupArn]);
    policy(this.prober, ['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments'], [dg.deploymentGroupArn]);
    policy(this.preTrafficHook, ['codedeploy:BatchGetDeployments'], [dg.deploymentGroupArn]);
    policy(this.postTrafficHook, ['codedeploy:BatchGetDeployments'], [dg.deploymentGroupArn]);
    if (reg.customDeploymentConfigName) {
      const cfgArn = `arn:${Aws.PARTITION}:codedeploy:${Aws.REGION}:${Aws.ACCOUNT_ID}:deploymentconfig:${reg.customDeploymentConfigName}`;
      policy(this.watchdogFunction, ['codedeploy:GetDeploymentConfig'], [cfgArn]);
      policy(this.prober, ['codedeploy:GetDeploymentConfig'], [cfgArn]);
    }
    // The watchdog ends the bake by reporting the AfterAllowTraffic hook.
    if (dg instanceof codedeploy.LambdaDeploymentGroup) for (const w of this.watchdogs()) dg.grantPutLifecycleEventHookExecutionStatus(w);
    this.isolate(reg);

    // Lambda: the alias weight, the new version's configuration, and invoking versions only.
    policy(this.watchdogFunction, ['lambda:GetAlias'], [reg.function.functionArn, versions]);
    policy(this.preTrafficHook, ['lambda:GetFunctionConfiguration', 'lambda:InvokeFunction'], [versions]);
    policy(this.prober, ['lambda:InvokeFunction'], [versions]);

    // Invoking is granted on the function's versions (`arn:...:function:name:*`), the narrowest
    // resource that covers every version a release can publish.
    const fnId = reg.function.node.defaultChild instanceof lambda.CfnFunction ? Stack.of(this).getLogicalId(reg.function.node.defaultChild) : undefined;
    if (fnId) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
        reason: `Access to ${reg.function.node.path}'s versions only: each release publishes a new version, so the version wildcard is the narrowest resource.`,
      });
    }

    // A version-scoped alarm is replaced with each release under a name carrying the version: the
    // watchdog may read every version's alarm of that template, `<name>-v*`, the narrowest
    // resource that covers the alarm of every version, and the role stays the same per release.
    const templates = [...new Set(reg.alarmNames.filter((n) => n.includes(VERSION)))];
    const templateArns = templates.map((t) => `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${t.split(VERSION).join('*')}`);
    for (const t of templates) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:${t.split(VERSION).join('*')}]`,
        reason: `DescribeAlarms on the version-scoped alarm ${t} of every version: each release replaces it with an alarm named for the new version, so the version wildcard is the narrowest resource.`,
      });
    }
    const alarmArns = [...reg.alarms.map((a) => a.alarmArn), ...templateArns];
    if (alarmArns.length) policy(this.watchdogFunction, ['cloudwatch:DescribeAlarms'], alarmArns);
  }

  /** The telemetry extension's layers, one per architecture in use. */
  private readonly telemetryLayers = new Map<string, lambda.LayerVersion>();
  private telemetryStream = false;

  /**
   * Give a guarded function the telemetry extension (aws/telemetry.ts): the layer of its
   * architecture (unless `layer` is false: a container image carries the extension itself), the
   * state table's name in its environment, and the right to read its watch item and add its counts.
   * The first call also makes the event source mapping that hands the extension's writes with
   * failures to the watchdog (filtered, so no other write of the table invokes it; a batch the
   * watchdog cannot take is retried twice and dropped after a minute: the one-minute schedule
   * judges the same counts anyway).
   * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
   * @internal
   */
  _addTelemetry(fn: lambda.Function, layer = true): void {
    if (!this.telemetryStream) {
      this.telemetryStream = true;
      this.eventWatchdog.addEventSource(
        new eventsources.DynamoEventSource(this.stateTable, {
          startingPosition: lambda.StartingPosition.LATEST,
          batchSize: 100,
          maxBatchingWindow: Duration.seconds(STREAM_BATCH_WINDOW_SECONDS),
          retryAttempts: 2,
          maxRecordAge: Duration.seconds(60),
          filters: [lambda.FilterCriteria.filter(TELEMETRY_STREAM_FILTER)],
        }),
      );
    }
    if (layer) fn.addLayers(this.telemetryLayer(fn.architecture));
    fn.addEnvironment(TELEMETRY_TABLE_ENV, this.stateTable.tableName);
  }

  /**
   * The extension's layer for one architecture: a static binary, so any runtime (no
   * compatibleRuntimes); compatibleArchitectures says which machine code it holds.
   * https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html
   */
  private telemetryLayer(architecture: lambda.Architecture): lambda.LayerVersion {
    let layer = this.telemetryLayers.get(architecture.name);
    if (!layer) {
      // The first architecture's id stays `TelemetryLayer` (x86_64, Lambda's default, in every existing stack).
      const id = architecture.name === lambda.Architecture.X86_64.name ? 'TelemetryLayer' : `TelemetryLayer${architecture.name.replace(/[^A-Za-z0-9]/g, '')}`;
      layer = new lambda.LayerVersion(this, id, {
        code: lambda.Code.fromAsset(telemetryLayerDir(architecture.name)),
        description: `canary-watchdog-telemetry (${architecture.name}): counts the release version's invocations (Telemetry API) into the release state table`,
        compatibleArchitectures: [architecture],
      });
      this.telemetryLayers.set(architecture.name, layer);
    }
    return layer;
  }

  /**
   * The guarded function's role, kept apart from everything the guard decides with (addGuard): an
   * inline policy of its own, whatever else the role holds. Explicit denies, so that the user's own
   * broad grants (`dynamodb:*`, `cloudwatch:*`) cannot undo them:
   * - in the state table, GetItem and UpdateItem of its own watch items only
   *   (`#watch#<function>#*`, a `dynamodb:LeadingKeys` condition), where its telemetry extension
   *   counts; every other action on the table and its stream is denied. Without telemetry, the
   *   whole table is denied.
   * - no PutMetricData into the watchdog's namespace (heartbeats, probe and check results);
   * - no reporting of its own lifecycle hooks, no continuing its own deployment.
   * A separate policy, not the role's default one: the function depends on its default policy,
   * and this one names the function.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
   */
  private isolate(reg: GuardRegistration): void {
    const role = reg.function.role;
    const scope = reg.deploymentGroup.node.scope;
    if (!role || !scope) return;
    const table = [this.stateTable.tableArn, `${this.stateTable.tableArn}/*`];
    const own = { 'dynamodb:LeadingKeys': [watchKeyPattern(reg.function.functionName)] };
    const ownItems = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
    const statements = reg.telemetry
      ? [
          new iam.PolicyStatement({ actions: ownItems, resources: [this.stateTable.tableArn], conditions: { 'ForAllValues:StringLike': own } }),
          new iam.PolicyStatement({ effect: iam.Effect.DENY, notActions: ownItems, resources: table }),
          new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ownItems, resources: table, conditions: { 'ForAnyValue:StringNotLike': own } }),
        ]
      : [new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['dynamodb:*'], resources: table })];
    statements.push(
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': this.namespace } } }),
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['codedeploy:PutLifecycleEventHookExecutionStatus', 'codedeploy:ContinueDeployment'], resources: [reg.deploymentGroup.deploymentGroupArn] }),
    );
    new iam.Policy(scope, 'GuardIsolation', { statements, roles: [role] });
  }

  private runtimeFunction(id: string, handler: RuntimeHandler, opts: { timeout: Duration; functionName?: string; reserved?: number; scope?: Construct; description?: string }): lambda.Function {
    const scope = opts.scope ?? this;
    const fn = new lambda.Function(scope, id, {
      runtime: newestNodeRuntime(),
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(runtimeHandlerDir(handler)),
      handler: 'index.handler',
      memorySize: 256,
      timeout: opts.timeout,
      ...(opts.functionName ? { functionName: opts.functionName } : {}),
      ...(opts.reserved !== undefined ? { reservedConcurrentExecutions: opts.reserved } : {}),
      description: opts.description ?? `canary-watchdog ${handler}`,
      logGroup: new logs.LogGroup(scope, `${id}Logs`, {
        retention: this.props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: { POWERTOOLS_SERVICE_NAME: 'canary-watchdog', NODE_OPTIONS: '--enable-source-maps' },
    });
    return fn;
  }

  private grantBase(): void {
    // GetMetricData and PutMetricData have no resource-level permissions: `*` is the narrowest.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    for (const w of this.watchdogs()) w.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    for (const fn of [...this.watchdogs(), this.preTrafficHook, this.prober]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': this.namespace } },
        }),
      );
    }
    // GetItem reads the registry of active deployments (the prober reads it too); UpdateItem
    // changes it and the deployments' own items; BatchGetItem reads those items (the hooks read
    // their stored answer and bake, so that a repeated invocation keeps them).
    for (const w of this.watchdogs()) this.stateTable.grant(w, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    // The watchdog ends a deployment's telemetry watch when the deployment ends: DeleteItem of
    // watch items only (a LeadingKeys condition), never of a deployment's state or the registry.
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    for (const w of this.watchdogs()) {
      w.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [this.stateTable.tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${WATCH_KEY_PREFIX}*`] } } }));
    }
    this.stateTable.grant(this.prober, 'dynamodb:GetItem');
    // The prober adds its probe invocations to each deployment's probe record (aws/telemetry.ts
    // probedUpdate), for the fast signal to take off: UpdateItem of those items only.
    this.prober.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.stateTable.tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${PROBED_KEY_PREFIX}*`] } } }));
    this.stateTable.grant(this.preTrafficHook, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    this.stateTable.grant(this.postTrafficHook, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    // The configuration item is the deploy's alone (the ConfigItem custom resource): not even the
    // runtime may change what it is judged by.
    for (const fn of this.functions()) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
          resources: [this.stateTable.tableArn],
          conditions: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': [CONFIG_ITEM_ID] } },
        }),
      );
    }
    for (const w of this.watchdogs()) w.addToRolePolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }));
  }

  /**
   * A stack holds at most 500 resources; CloudFormation would reject the template at deploy
   * time, so say so at synth, with how many guarded functions fit.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
   */
  private validateResourceCount(): string[] {
    const stack = Stack.of(this);
    const count = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
    if (count <= MAX_STACK_RESOURCES) return [];
    const perGuard = this.guards.length ? Math.ceil((count - this.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length) / this.guards.length) : 0;
    return [
      `${stack.node.path}: the stack has ${count} resources with ${this.guards.length} guarded functions; CloudFormation allows ${MAX_STACK_RESOURCES} per stack. ` +
        `Each guarded function here takes about ${perGuard}: split them over several stacks, each with its own ReleaseWatchdog.`,
    ];
  }

  /** The configuration must fit Lambda's 4 KB environment, with tokens counted at 64 characters. */
  private validateSize(): string[] {
    if (this.configDelivery === ConfigDelivery.STATE_TABLE) return [];
    const stack = Stack.of(this);
    const cfn = this.watchdogFunction.node.defaultChild as lambda.CfnFunction;
    const rendered = JSON.stringify(stack.resolve(cfn.environment) ?? {});
    const estimate = rendered.replace(/\{"Ref":"[^"]+"\}|\{"Fn::[^{}]*\}/g, 'x'.repeat(64)).length;
    if (estimate > ENVIRONMENT_LIMIT_BYTES - 256) {
      return [
        `${this.node.path}: guards: the watchdog configuration of ${this.guards.length} guarded function(s) takes about ${estimate} bytes, ` +
          `over Lambda's ${ENVIRONMENT_LIMIT_BYTES}-byte environment limit less a 256-byte margin; set configDelivery: ConfigDelivery.STATE_TABLE, split the guarded functions over several ReleaseWatchdogs, or declare fewer probes and checks per function`,
      ];
    }
    return [];
  }
}

/** The release dashboard must fit CloudWatch's 500 widgets per dashboard body. Pure. */
export function dashboardSizeProblems(path: string, size: { readonly widgets: number; readonly rows: number }): string[] {
  if (size.widgets <= MAX_DASHBOARD_WIDGETS) return [];
  return [
    `${path}: dashboard: the release dashboard would hold ${size.widgets} widgets for ${size.rows} guarded functions; CloudWatch allows ${MAX_DASHBOARD_WIDGETS} per dashboard. ` +
      `Set dashboard: false on some guarded functions, or split them over several ReleaseWatchdogs (one dashboard each).`,
  ];
}

/** The ReleaseWatchdogs of one stack (not of its nested stacks). */
function watchdogsOf(stack: Stack): ReleaseWatchdog[] {
  return stack.node.findAll().filter((c): c is ReleaseWatchdog => ReleaseWatchdog.isReleaseWatchdog(c) && Stack.of(c) === stack);
}

/**
 * The alarm-state rule's `alarmName` pattern: plain names as they are, a version-scoped alarm's
 * template as a prefix match on the part before `{version}`, so that the rule stays the same
 * from release to release while matching the alarm of each new version.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
export function alarmNamePattern(names: readonly string[]): (string | { prefix: string })[] {
  const exact = [...new Set(names.filter((n) => !n.includes(VERSION)))];
  const prefixes = [...new Set(names.filter((n) => n.includes(VERSION)).map(alarmNamePrefix))];
  return [...exact, ...prefixes.map((prefix) => ({ prefix }))];
}
