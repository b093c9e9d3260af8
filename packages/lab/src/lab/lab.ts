import { closeSync, existsSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { BUNDLED, LAB_FILES } from './files';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { seededRandom } from 'canary-watchdog/lib/core/random';
import { CloudFormationLab, type FunctionChange } from './cloudformation';

export type { FunctionChange } from './cloudformation';
import { CloudWatchLab } from './cloudwatch';
import { CodeDeployLab } from './codedeploy';
import { DynamoDbLab, type StreamViewType } from './dynamodb';
import { EventsLab } from './events';
import { authorizationFor, IamLab, stackIam } from './iam';
import { LabError, LabEventBus, Scheduler } from './kernel';

export type { FaultSpec } from './faults';
import { type Behaviour, codeSize, type FunctionSpec, LambdaLab, loggingOf, parseName } from './lambda';
import { assetDir, readAssembly, Resolver, type StackArtifact } from './loader';
import { Faults, type FaultOutcome, type FaultSpec } from './faults';
import { LabServer, type Authorizer, type FaultInjector, type RestRoute } from './server';
import { S3Lab } from './s3';
import { LogsLab } from './logs';
import { SsmLab } from './ssm';
import { StsLab } from './sts';
import { Traffic } from './traffic';
import { entryFor, NO_WINDOWS, parseEvents, type TrafficFile } from './user-events';
import { parseNetwork } from './network';
import type { HostAnswer } from './lambda/runner';
import { InputError, obj } from 'canary-watchdog/lib/core/validate';
import { StreamEventSources } from './lambda/event-source';
import { TelemetryExtensionHost } from './lambda/extensions';
import { runtimeFamily } from './lambda/runner';
import { TELEMETRY_EXTENSION_NAME } from 'canary-watchdog/lib/aws/telemetry';

export interface LabOptions {
  readonly clock?: 'virtual' | 'real';
  /** With the real clock: lab seconds per wall-clock second. @default 1 */
  readonly speed?: number;
  /** Virtual start time, epoch ms. @default 2026-01-01T00:00:00Z */
  readonly start?: number;
  readonly seed?: number;
  readonly port?: number;
  /** Seconds between CodeDeploy's own alarm polls. @default 60 */
  readonly alarmPollSeconds?: number;
  /** Delay before AWS/Lambda metrics become visible. @default 60 */
  readonly metricDelaySeconds?: number;
  /** How long after an item expires DynamoDB TTL deletes it, in lab seconds (AWS: "typically within two days"). @default 172800 */
  readonly ttlDeletionLagSeconds?: number;
  /**
   * Start execution environments ahead of their first invocation (functions invoked unqualified
   * at load, versions at publication), so their init overlaps other work. Off, every environment
   * starts at its first invocation, and a run that invokes no function starts none. @default true
   */
  readonly warm?: boolean;
  /**
   * Hand the worker threads of this lab's execution environments, once it stops, to the next
   * lab in this process: each new environment still starts with a fresh module scope and its own
   * environment variables, without loading the SDK again (see lib/lab/lambda/index.ts). For
   * runs of many short labs (rehearsals, benchmarks). @default false
   */
  readonly reuseThreads?: boolean;
}


/** A function CodeDeploy releases through an alias update policy. */
export interface GuardedRelease {
  readonly functionName: string;
  /** The construct path's function id in the template. */
  readonly logicalId: string;
  readonly alias: string;
  readonly application: string;
  readonly deploymentGroup: string;
  readonly beforeAllowTraffic?: string;
  readonly afterAllowTraffic?: string;
}

export interface LoadReport {
  readonly stacks: string[];
  readonly functions: string[];
  readonly releases: GuardedRelease[];
  /** Resource types in the template the lab does not model, with counts. */
  readonly unmodelled: Record<string, number>;
  /** Logical ids of those resources. */
  readonly unmodelledIds: string[];
}

/**
 * The embedded AWS lab: Lambda, CloudWatch, CodeDeploy, DynamoDB and EventBridge on one
 * loopback endpoint, on one clock. Handlers run unchanged and talk to it through the AWS SDK.
 * CloudFormation, S3, SSM and STS on the same endpoint let the CDK CLI deploy into it.
 */
export class Lab implements FaultInjector, Authorizer {
  scheduler!: Scheduler;
  events!: LabEventBus;
  cloudwatch!: CloudWatchLab;
  lambda!: LambdaLab;
  codedeploy!: CodeDeployLab;
  dynamodb!: DynamoDbLab;
  eventbridge!: EventsLab;
  traffic!: Traffic;
  /** The telemetry extension of functions whose layers carry it (aws/telemetry.ts). */
  telemetry!: TelemetryExtensionHost;
  /** Event source mappings on DynamoDB streams. */
  streams!: StreamEventSources;
  sts!: StsLab;
  ssm!: SsmLab;
  logs!: LogsLab;
  s3!: S3Lab;
  cloudformation!: CloudFormationLab;
  /** ARNs of the IAM roles the lab's stacks created (STS lets them be assumed). */
  roles = new Set<string>();
  /** The roles' identity policies and the access keys that act as them. */
  iam!: IamLab;
  readonly server: LabServer;
  releases: GuardedRelease[] = [];
  /** Per function, the user traffic to start as soon as a stack deploys it (`lab --traffic`). */
  private userTraffic?: TrafficFile;
  endpoint = '';
  private readonly clockBuffer = new SharedArrayBuffer(8);
  private stopped = false;
  private faults!: Faults;
  private loaded: StackArtifact[] = [];
  private loadedDirs: string[] = [];
  /** Told of each watchdog decision as the lab sees it; kept across resets. */
  private readonly decisionListeners: ((r: DecisionRecord) => void)[] = [];
  /**
   * Alarms whose dimensions name a function's published version (ExecutedVersion, Version).
   * `versions` is the stack's current version per AWS::Lambda::Version resource, shared by the
   * stack's alarms and moved on by each release, so a Resolver built on it gives every alarm's
   * current physical name.
   */
  private versionBoundAlarms: { functionName: string; versionId: string; alarmId: string; stack: StackArtifact; versions: Map<string, string> }[] = [];

  constructor(private readonly opts: LabOptions = {}) {
    this.build();
    this.server = new LabServer(this.services(), this.routes(), this, this.signedServices(), this);
  }

  /** Every emulated service, new and empty, on a clock at the start time. */
  private build(): void {
    const opts = this.opts;
    const shared = new Float64Array(this.clockBuffer);
    this.scheduler = new Scheduler(opts.clock ?? 'virtual', opts.start, (t) => (shared[0] = t), opts.speed ?? 1);
    this.events = new LabEventBus(this.scheduler);
    const ctx = { scheduler: this.scheduler, events: this.events };
    this.cloudwatch = new CloudWatchLab(ctx);
    this.lambda = new LambdaLab(ctx, this.cloudwatch, this.clockBuffer, { seed: opts.seed ?? 1, metricDelaySeconds: opts.metricDelaySeconds ?? 60, warm: opts.warm ?? true, reuseThreads: opts.reuseThreads ?? false });
    this.lambda.endpoint = this.endpoint;
    this.codedeploy = new CodeDeployLab(ctx, this.lambda, this.cloudwatch, { alarmPollSeconds: opts.alarmPollSeconds ?? 60 });
    this.dynamodb = new DynamoDbLab({ now: () => this.scheduler.now(), ttlDeletionLagSeconds: opts.ttlDeletionLagSeconds });
    this.eventbridge = new EventsLab(ctx, (fn, e) => this.lambda.invokeAsync(fn, e));
    // The watchdog writes each decision as a log line and as an EventBridge event: the lab reads both.
    this.lambda.onLog((e) => this.eventbridge.decisions.addLogLine(e.line));
    this.eventbridge.decisions.subscribe((r) => {
      for (const l of this.decisionListeners) l(r);
    });
    this.traffic = new Traffic(this.scheduler, this.lambda, seededRandom((opts.seed ?? 1) * 7919));
    // The real extension binary of every function whose layers hold it, on the lab's Extensions and
    // Telemetry API; its DynamoDB calls reach the lab's endpoint with its function's credentials,
    // and meet the lab's IAM, faults and capacity accounting there. The clock waits for it.
    this.telemetry = new TelemetryExtensionHost({
      now: () => this.scheduler.now(),
      endpoint: () => this.endpoint,
      environmentOf: (fn, version) => this.lambda.environmentOf(fn, version),
      log: (fn, version, line) => this.lambda.log(fn, version, line),
    });
    // On a virtual clock time waits for the extensions, which keeps rehearsals deterministic. On a
    // real clock it does not: time flows, the extensions run beside the lab's tasks as they do
    // beside the runtime on AWS, and a run that finds its environment busy joins the next one.
    if (this.scheduler.mode === 'virtual') this.scheduler.addBarrier(() => this.telemetry.settled());
    else this.telemetry.coalesce = true;
    this.lambda.onInvocations((fn, version, at, n, errors, durationMs, initsMs) => this.telemetry.invoked(fn, version, at, n, errors, durationMs, initsMs));
    this.streams = new StreamEventSources(this.scheduler, this.dynamodb, (fn, event) => this.lambda.invoke(fn, event, 'event-source-mapping'));
    this.roles = new Set();
    this.iam = new IamLab();
    // Every function calls AWS as its execution role.
    this.lambda.credentialsFor = (role, fn) => this.iam.issue(role, fn);
    this.sts = new StsLab((arn) => this.roles.has(arn) || this.iam.roleExists(arn), this.iam);
    this.ssm = new SsmLab(this.scheduler);
    this.logs = new LogsLab(this.lambda);
    this.s3 = new S3Lab(this.scheduler);
    this.cloudformation = new CloudFormationLab({ clock: this.scheduler, s3: this.s3, ssm: this.ssm, roles: this.roles, iam: this.iam, loadStack: (stack) => this.loadDeployedStack(stack),
      configuration: (fn) => this.lambda.getConfiguration(fn),
      configure: (fn, c) => this.configure(fn, c),
      release: (fn, c) => this.deploy(fn, c),
      deploymentEnd: (id) => this.deploymentEnd(id),
      followVersion: (fn, version) => this.updateVersionBoundAlarms(fn, version),
      awsCall: (json) => this.awsCall(json),
    });
    this.faults = new Faults(seededRandom((opts.seed ?? 1) * 104729));
    this.releases = [];
    this.versionBoundAlarms = [];
    this.loaded = [];
  }

  private services() {
    return [this.cloudwatch.service, this.codedeploy.service, this.dynamodb.service, this.eventbridge.service, this.ssm.service, this.logs.service];
  }

  /** Services told apart by their SigV4 signing name (awsQuery and S3). */
  private signedServices() {
    return [this.sts.service, this.cloudformation.service, this.s3];
  }

  private routes(): RestRoute[] {
    return [...this.controlRoutes(), ...this.lambda.routes()];
  }

  /** Back to the start: every service emptied, the clock at its start, the same app loaded again. */
  async reset(): Promise<LoadReport[]> {
    this.scheduler.stop();
    this.cloudwatch.dispose();
    await this.telemetry.close();
    await this.lambda.close();
    const dirs = this.loadedDirs;
    this.build();
    this.server.replace(this.services(), this.routes(), this.signedServices());
    this.loadedDirs = [];
    const reports: LoadReport[] = [];
    for (const d of dirs) reports.push(await this.loadAssembly(d));
    return reports;
  }

  async start(): Promise<string> {
    this.endpoint = await this.server.listen(this.opts.port ?? 0);
    this.lambda.endpoint = this.endpoint;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    await this.telemetry.close();
    await this.lambda.close();
    await this.server.close();
  }

  now(): number {
    return this.scheduler.now();
  }

  /** Call `fn` with each watchdog decision as it happens. */
  onDecision(fn: (r: DecisionRecord) => void): void {
    this.decisionListeners.push(fn);
  }

  /**
   * Every deployment as GetDeployment describes it, and for one that ended, why: CodeDeploy's own
   * error, the rollback that followed, and the watchdog decision that rolled it back, if any.
   */
  deploymentsWithOutcome(): Record<string, unknown>[] {
    return this.codedeploy.deployments().map((d) => {
      const status = String(d.status);
      if (!['Succeeded', 'Failed', 'Stopped'].includes(status)) return d;
      const error = d.errorInformation as { code?: string; message?: string } | undefined;
      const rollback = d.rollbackInfo as { rollbackMessage?: string } | undefined;
      const decision = this.eventbridge.decisions.list(String(d.deploymentId)).filter((r) => r.action === 'rollback').at(-1);
      const reason = error?.message ?? (status === 'Succeeded' ? 'every traffic shift and lifecycle hook succeeded' : status);
      return {
        ...d,
        endedBecause: {
          status,
          ...(error?.code ? { code: error.code } : {}),
          reason,
          ...(decision ? { watchdog: { at: decision.at, layer: decision.layer, action: decision.action, actionTaken: decision.actionTaken, reasons: decision.reasons } } : {}),
          ...(rollback?.rollbackMessage ? { rollback: rollback.rollbackMessage } : {}),
        },
      };
    });
  }

  async advance(seconds: number): Promise<number> {
    return this.scheduler.advance(seconds * 1000);
  }

  /** Authorizer: a call signed with a role session's key is evaluated against the role's policies. */
  authorize(accessKeyId: string | undefined, call: Parameters<Authorizer['authorize']>[1]): LabError | undefined {
    if (!this.iam.principalOf(accessKeyId)) return undefined;
    const a = authorizationFor(call, { partitionKeyOf: (t) => this.dynamodb.partitionKeyOf(t), deploymentGroupOf: (id) => this.codedeploy.deploymentGroupOf(id) });
    return a && this.iam.authorize(accessKeyId, a.requests, a.shape);
  }

  /** FaultInjector: fail, throttle or slow down an API call as the faults in force say. */
  fault(service: string, operation: string, table?: string): FaultOutcome {
    return this.faults.decide(service, operation, this.scheduler.now(), table);
  }

  /**
   * Replace the injected faults (see FaultSpec); their windows (`fromMinute`, `toMinute`) count
   * from now on the lab's clock. A bad spec is a ValidationException naming the field.
   */
  setFaults(faults: readonly FaultSpec[]): void {
    this.faults.set(faults, this.scheduler.now());
  }

  /** The faults in force, as set. */
  faultSpecs(): FaultSpec[] {
    return this.faults.list();
  }

  /**
   * User traffic per function (a traffic file: by construct id or function name, its events and
   * rate): it starts at once for the guarded functions loaded, and for each other as soon as a
   * stack deploys it. Requests run the real code, all of them unless the file sets `realRps`.
   * Returns the `function:alias` streams started now.
   */
  setUserTraffic(file: TrafficFile): string[] {
    this.userTraffic = file;
    if (file.network) this.setUserNetwork(file.network);
    return this.releases.flatMap((r) => this.startUserTraffic(r));
  }

  /** Hosts the user said how to answer (a traffic file, POST /_lab/network): over the defaults a deployed stack's environment gives its hosts. */
  private userNetwork: Record<string, HostAnswer> = {};

  setUserNetwork(hosts: Readonly<Record<string, HostAnswer>>): void {
    Object.assign(this.userNetwork, hosts);
    this.lambda.setNetwork(hosts);
  }

  private startUserTraffic(r: GuardedRelease): string[] {
    const entry = this.userTraffic && entryFor(this.userTraffic, (key) => key === r.functionName || r.logicalId.startsWith(key));
    if (!entry) return [];
    this.traffic.set(r.functionName, r.alias, entry.rps, 0, 0, { events: entry.events, realRps: entry.realRps ?? Math.max(1, entry.rps) });
    return [`${r.functionName}:${r.alias}`];
  }

  /** Load every stack of a cloud assembly. */
  async loadAssembly(dir: string): Promise<LoadReport> {
    const stacks = readAssembly(dir);
    const report: LoadReport = { stacks: [], functions: [], releases: [], unmodelled: {}, unmodelledIds: [] };
    for (const s of stacks) await this.loadStack(s, report);
    this.loaded = [...this.loaded, ...stacks];
    this.loadedDirs.push(dir);
    return report;
  }

  /** Make the resources of a stack CloudFormation creates live, as `loadAssembly` does for a cloud assembly's. */
  async loadDeployedStack(stack: StackArtifact): Promise<LoadReport> {
    const report: LoadReport = { stacks: [], functions: [], releases: [], unmodelled: {}, unmodelledIds: [] };
    await this.loadStack(stack, report);
    this.loaded = [...this.loaded, stack];
    return report;
  }

  private async loadStack(stack: StackArtifact, report: LoadReport): Promise<void> {
    const res = stack.template.Resources;
    const byType = (t: string) => Object.entries(res).filter(([, r]) => r.Type === t);
    report.stacks.push(stack.stackName);
    let resolver = new Resolver(stack);
    this.iam.setStack(stack.stackName, stackIam(stack.stackName, res, resolver));
    const streamMappings = new Set<string>();
    const telemetryLayers = new Set<string>();
    this.telemetryLayerIds = telemetryLayers;

    for (const [id, r] of byType('AWS::DynamoDB::Table')) {
      const schema = (r.Properties?.KeySchema as { AttributeName: string; KeyType: string }[]) ?? [];
      const key = (type: string) => schema.find((k) => k.KeyType === type)?.AttributeName;
      this.dynamodb.createTable(resolver.ref(id)!, key('HASH') ?? 'id', key('RANGE'), r.Properties);
      this.dynamodb.declareTimeToLive(resolver.ref(id)!, r.Properties?.TimeToLiveSpecification as { AttributeName?: unknown; Enabled?: unknown } | undefined);
      const view = (r.Properties?.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType;
      if (view !== undefined) {
        if (!['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'].includes(view)) throw new LabError('InvalidTemplate', `${id}: StreamViewType must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, got ${view}`);
        this.dynamodb.enableStream(resolver.ref(id)!, view as StreamViewType);
      }
    }
    // CDK's AwsCustomResource makes one SDK call at create time; the lab makes the DynamoDB ones
    // (the runtime's configuration item) and lists the others as not modelled.
    const handledCustom = new Set<string>();
    for (const [id, r] of byType('Custom::AWS')) {
      if (await this.awsCall(String(resolver.resolve(r.Properties?.Create ?? '{}')))) handledCustom.add(id);
    }
    // A runtime the lab cannot run fails the stack before any of its functions exists.
    for (const [id, r] of byType('AWS::Lambda::Function')) {
      try {
        runtimeFamily(r.Properties?.Runtime === undefined ? undefined : String(r.Properties.Runtime));
      } catch (e) {
        if (e instanceof LabError) throw new LabError(e.code, `${id}: ${e.message}`, e.status);
        throw e;
      }
    }
    // Functions first, with everything their environment refers to resolved by name.
    for (const [id, r] of byType('AWS::Lambda::Function')) {
      const p = r.Properties ?? {};
      const name = resolver.ref(id)!;
      const inline = (p.Code as { ZipFile?: string } | undefined)?.ZipFile;
      let codeDir: string;
      if (typeof inline === 'string') {
        codeDir = mkdtempSync(join(tmpdir(), 'lab-inline-'));
        // Inline code is index.js for Node.js, index.py for Python. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-code.html
        writeFileSync(join(codeDir, runtimeFamily(p.Runtime === undefined ? undefined : String(p.Runtime)) === 'python' ? 'index.py' : 'index.js'), inline);
      } else {
        codeDir = assetDir(stack, r);
      }
      const env = (resolver.resolve((p.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) ?? {}) as Record<string, unknown>;
      this.lambda.createFunction({
        name,
        handler: String(p.Handler ?? 'index.handler'),
        codeDir,
        runtime: String(p.Runtime ?? 'nodejs24.x'),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memorySize: Number(p.MemorySize ?? 128),
        environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
        description: String(p.Description ?? ''),
        ...(logGroupOf(resolver, p) ? { logGroup: logGroupOf(resolver, p) } : {}),
        // Checked by createFunction: an integer >= 0, within the account's unreserved minimum.
        ...(p.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: resolver.resolve(p.ReservedConcurrentExecutions) as number } : {}),
        ...(p.Role !== undefined ? { role: String(resolver.resolve(p.Role)) } : {}),
        ...describedOnly(resolver.resolve({ Architectures: p.Architectures, TracingConfig: p.TracingConfig, EphemeralStorage: p.EphemeralStorage, DeadLetterConfig: p.DeadLetterConfig, KmsKeyArn: p.KmsKeyArn, SnapStart: p.SnapStart }) as Record<string, unknown>),
        ...describedNetwork(stack, resolver, p),
        ...(p.LoggingConfig !== undefined ? { logging: loggingOf(resolver.resolve(p.LoggingConfig) as Record<string, unknown>) } : {}),
      });
      report.functions.push(name);
      const extension = this.telemetryExtension(stack, res, p.Layers);
      if (extension) this.telemetry.enable(name, extension);
      // The dependencies the deployed app already uses answer; other hosts do not exist.
      this.lambda.setNetwork(Object.fromEntries(hostsNamedIn(Object.values(env)).map((h) => [h, { status: 200 }])));
      this.lambda.setNetwork(this.userNetwork);
      // Functions invoked unqualified (the watchdog, the hooks, the prober) start warming now.
      if (!Object.values(res).some((x) => x.Type === 'AWS::Lambda::Version' && JSON.stringify(x.Properties?.FunctionName) === JSON.stringify({ Ref: id }))) this.lambda.warm(name);
    }
    const versions = new Map<string, string>();
    for (const [id, r] of byType('AWS::Lambda::Version')) {
      versions.set(id, this.lambda.publishVersion(resolver.resolve(r.Properties?.FunctionName) as string));
    }
    resolver = new Resolver(stack, versions);
    for (const [, r] of byType('AWS::Lambda::Alias')) {
      const p = resolver.resolve(r.Properties ?? {}) as { FunctionName: string; Name: string; FunctionVersion: string; Description?: string };
      this.lambda.createAlias(p.FunctionName, p.Name, { functionVersion: p.FunctionVersion }, p.Description ?? '');
    }
    // A function URL on an alias: user traffic through that alias gets the URL metrics.
    const urls = new Set<string>();
    for (const [id, r] of byType('AWS::Lambda::Url')) {
      const p = resolver.resolve(r.Properties ?? {}) as { TargetFunctionArn?: unknown; Qualifier?: unknown };
      const target = parseName(String(p.TargetFunctionArn ?? ''));
      if (!this.lambda.functionExists(target.name)) continue;
      this.lambda.addUrl(target.name, typeof p.Qualifier === 'string' ? p.Qualifier : target.qualifier);
      urls.add(id);
    }
    const cw = this.cloudwatch.service.operations;
    for (const [id, r] of byType('AWS::CloudWatch::Alarm')) {
      const text = JSON.stringify(r.Properties ?? {});
      for (const [versionId] of versions) {
        if (text.includes(JSON.stringify({ 'Fn::GetAtt': [versionId, 'Version'] }))) {
          const functionName = resolver.resolve(res[versionId].Properties?.FunctionName) as string;
          this.versionBoundAlarms.push({ functionName, versionId, alarmId: id, stack, versions });
        }
      }
      await cw.PutMetricAlarm({ ...(resolver.resolve(r.Properties ?? {}) as Record<string, unknown>), AlarmName: resolver.ref(id) });
    }
    for (const [id, r] of byType('AWS::CloudWatch::CompositeAlarm')) {
      await cw.PutCompositeAlarm({ ...(resolver.resolve(r.Properties ?? {}) as Record<string, unknown>), AlarmName: resolver.ref(id) });
    }
    const cd = this.codedeploy.service.operations;
    for (const [id] of byType('AWS::CodeDeploy::Application')) await cd.CreateApplication({ applicationName: resolver.ref(id), computePlatform: 'Lambda' });
    for (const [id, r] of byType('AWS::CodeDeploy::DeploymentConfig')) {
      await cd.CreateDeploymentConfig({ deploymentConfigName: resolver.ref(id), computePlatform: 'Lambda', trafficRoutingConfig: lowerFirst(resolver.resolve(r.Properties?.TrafficRoutingConfig)) });
    }
    for (const [id, r] of byType('AWS::CodeDeploy::DeploymentGroup')) {
      const p = resolver.resolve(r.Properties ?? {}) as Record<string, unknown>;
      await cd.CreateDeploymentGroup({
        applicationName: p.ApplicationName,
        deploymentGroupName: resolver.ref(id),
        deploymentConfigName: p.DeploymentConfigName ?? 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        serviceRoleArn: p.ServiceRoleArn,
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        ...(p.AlarmConfiguration ? { alarmConfiguration: lowerFirst(p.AlarmConfiguration) } : {}),
        ...(p.AutoRollbackConfiguration ? { autoRollbackConfiguration: lowerFirst(p.AutoRollbackConfiguration) } : {}),
      });
    }
    // The alias update policy is how `cdk deploy` hands a new version to CodeDeploy.
    for (const [, r] of byType('AWS::Lambda::Alias')) {
      const policy = r.UpdatePolicy?.CodeDeployLambdaAliasUpdate as Record<string, unknown> | undefined;
      if (!policy) continue;
      const p = resolver.resolve(r.Properties ?? {}) as { FunctionName: string; Name: string };
      const u = resolver.resolve(policy) as Record<string, string | undefined>;
      const fnId = (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref ?? '';
      const release: GuardedRelease = {
        functionName: p.FunctionName,
        logicalId: fnId,
        alias: p.Name,
        application: u.ApplicationName!,
        deploymentGroup: u.DeploymentGroupName!,
        ...(u.BeforeAllowTrafficHook ? { beforeAllowTraffic: u.BeforeAllowTrafficHook } : {}),
        ...(u.AfterAllowTrafficHook ? { afterAllowTraffic: u.AfterAllowTrafficHook } : {}),
      };
      this.releases.push(release);
      report.releases.push(release);
      this.startUserTraffic(release);
    }
    for (const [id, r] of byType('AWS::Events::Rule')) {
      const p = resolver.resolve(r.Properties ?? {}) as { ScheduleExpression?: string; EventPattern?: Record<string, unknown>; Targets?: { Arn: string }[]; State?: string };
      if (p.State === 'DISABLED') continue;
      this.eventbridge.addRule({
        name: resolver.ref(id)!,
        ...(p.ScheduleExpression ? { scheduleExpression: p.ScheduleExpression } : {}),
        ...(p.EventPattern ? { eventPattern: p.EventPattern } : {}),
        targets: (p.Targets ?? []).map((t) => t.Arn.split(':function:')[1]?.split(':')[0]).filter((x): x is string => Boolean(x)),
      });
    }
    for (const [id, r] of byType('AWS::Lambda::EventSourceMapping')) {
      const p = r.Properties ?? {};
      const source = p.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const tableId = source?.['Fn::GetAtt']?.[1] === 'StreamArn' ? source['Fn::GetAtt'][0] : undefined;
      if (!tableId || res[tableId]?.Type !== 'AWS::DynamoDB::Table') {
        report.unmodelled['AWS::Lambda::EventSourceMapping (not a stream of a table in this stack)'] = (report.unmodelled['AWS::Lambda::EventSourceMapping (not a stream of a table in this stack)'] ?? 0) + 1;
        continue;
      }
      const filters = ((p.FilterCriteria as { Filters?: { Pattern?: string }[] } | undefined)?.Filters ?? []).map((f) => JSON.parse(String(f.Pattern ?? '{}')) as Record<string, unknown>);
      this.streams.add({
        id,
        table: resolver.ref(tableId)!,
        functionName: String(resolver.resolve(p.FunctionName)),
        patterns: filters,
        batchSize: Number(p.BatchSize ?? 100),
        batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
        ...(p.MaximumRecordAgeInSeconds !== undefined ? { maxRecordAgeSeconds: Number(p.MaximumRecordAgeInSeconds) } : {}),
        ...(p.MaximumRetryAttempts !== undefined ? { maxRetryAttempts: Number(p.MaximumRetryAttempts) } : {}),
      });
      streamMappings.add(id);
    }
    const modelled = new Set(['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm', 'AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentConfig', 'AWS::CodeDeploy::DeploymentGroup', 'AWS::Events::Rule']);
    for (const [id, r] of Object.entries(res)) {
      if (modelled.has(r.Type) || handledCustom.has(id) || urls.has(id) || streamMappings.has(id) || telemetryLayers.has(id)) continue;
      report.unmodelled[r.Type] = (report.unmodelled[r.Type] ?? 0) + 1;
      report.unmodelledIds.push(id);
    }
  }

  private telemetryLayerIds = new Set<string>();

  /**
   * Whether a function's layers hold the telemetry extension: a LayerVersion of the same stack
   * whose content has `extensions/canary-watchdog-telemetry` (Lambda starts every file in a
   * layer's `extensions/` folder). Other layers are not modelled (the report lists them).
   * https://docs.aws.amazon.com/lambda/latest/dg/extensions-api.html
   */
  /** The telemetry extension's executable in the function's layers, as this host can run it; undefined when none holds it. */
  private telemetryExtension(stack: StackArtifact, res: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>, layers: unknown): string | undefined {
    let found: string | undefined;
    for (const l of Array.isArray(layers) ? layers : []) {
      const id = (l as { Ref?: unknown } | null)?.Ref;
      const r = typeof id === 'string' ? res[id] : undefined;
      if (!r || r.Type !== 'AWS::Lambda::LayerVersion') continue;
      let dir: string | undefined;
      try {
        dir = assetDir(stack, r);
      } catch {
        continue;
      }
      const binary = join(dir, 'extensions', TELEMETRY_EXTENSION_NAME);
      if (existsSync(binary)) {
        this.telemetryLayerIds.add(id as string);
        found = runnableHere(binary);
      }
    }
    return found;
  }


  /** Make an AwsCustomResource's SDK call (its Create or Update property) if the lab models it; false if not. */
  async awsCall(json: string): Promise<boolean> {
    const call = JSON.parse(json) as { service?: string; action?: string; parameters?: Record<string, unknown> };
    const op = call.service === 'DynamoDB' && call.action ? call.action[0].toUpperCase() + call.action.slice(1) : undefined;
    if (!op || !this.dynamodb.service.operations[op]) return false;
    await this.dynamodb.service.operations[op](call.parameters ?? {});
    return true;
  }

  /** Resolves when a CodeDeploy deployment ends (checked every 50 ms of wall time, whatever the clock). */
  private async deploymentEnd(deploymentId: string): Promise<{ status: string; message?: string; rollbackDeploymentId?: string }> {
    while (!this.stopped) {
      type Info = { status: string; errorInformation?: { code?: string; message?: string }; rollbackInfo?: { rollbackDeploymentId?: string } };
      const info = ((await this.codedeploy.service.operations.GetDeployment({ deploymentId })) as { deploymentInfo: Info }).deploymentInfo;
      if (['Succeeded', 'Failed', 'Stopped'].includes(info.status)) {
        return { status: info.status, ...(info.errorInformation?.message ? { message: info.errorInformation.message } : {}), ...(info.rollbackInfo?.rollbackDeploymentId ? { rollbackDeploymentId: info.rollbackInfo.rollbackDeploymentId } : {}) };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { status: 'Stopped', message: 'the lab stopped' };
  }

  /** The guarded release of a function, by function name or logical id prefix. */
  release(fn?: string): GuardedRelease {
    if (!this.releases.length) throw new LabError('ResourceNotFoundException', 'no guarded function is loaded: load an app whose aliases have a CodeDeploy update policy', 404);
    if (fn === undefined) return this.releases[0];
    const r = this.releases.find((x) => x.functionName === fn) ?? this.releases.find((x) => x.logicalId.startsWith(fn) || x.functionName.startsWith(fn));
    if (!r) throw new LabError('ResourceNotFoundException', `function: ${fn} is not a guarded function; known: ${this.releases.map((x) => x.functionName).join(', ')}`, 404);
    return r;
  }

  /**
   * What `cdk deploy` does for a code or configuration change of a guarded function: update its
   * configuration, publish a version, and start the CodeDeploy deployment of the alias.
   */
  async deploy(
    fn: string | undefined,
    change: FunctionChange & { behaviour?: Behaviour } = {},
    /** Deploy through another group, without the hooks (the native strategy of a rehearsal). */
    via?: { application: string; deploymentGroup: string },
  ): Promise<{ version: string; deploymentId: string }> {
    const guarded = this.release(fn);
    const r: GuardedRelease = via ? { functionName: guarded.functionName, logicalId: guarded.logicalId, alias: guarded.alias, ...via } : guarded;
    const current = this.lambda.getAlias(r.functionName, r.alias);
    if (!current) throw new LabError('ResourceNotFoundException', `alias ${r.functionName}:${r.alias} does not exist`);
    this.configure(r.functionName, change);
    const version = this.lambda.publishVersion(r.functionName, change.behaviour ?? {}, `release@${this.scheduler.now()}`);
    await this.updateVersionBoundAlarms(r.functionName, version);
    const appSpec = JSON.stringify({
      version: 0.0,
      Resources: [{ [r.functionName]: { Type: 'AWS::Lambda::Function', Properties: { Name: r.functionName, Alias: r.alias, CurrentVersion: current.functionVersion, TargetVersion: version } } }],
      Hooks: [...(r.beforeAllowTraffic ? [{ BeforeAllowTraffic: r.beforeAllowTraffic }] : []), ...(r.afterAllowTraffic ? [{ AfterAllowTraffic: r.afterAllowTraffic }] : [])],
    });
    const deploymentId = await this.codedeploy.createDeploymentFor(r.application, r.deploymentGroup, appSpec);
    return { version, deploymentId };
  }

  /** Change a function's $LATEST code and configuration (what a CloudFormation update of the function does). */
  configure(functionName: string, change: FunctionChange): void {
    if (change.code) this.lambda.updateCode(functionName, change.code);
    if (change.env || change.timeoutSeconds !== undefined || change.memorySize !== undefined) {
      this.lambda.updateConfiguration(functionName, change.env, undefined, { timeoutSeconds: change.timeoutSeconds, memorySize: change.memorySize });
    }
  }

  /**
   * What CloudFormation does to the version-scoped alarms before the alias update starts the
   * deployment (the constructs make the alias depend on them). An alarm whose name stays is
   * updated in place, and PutMetricAlarm leaves its state as it was. An alarm whose AlarmName
   * carries the version is replaced (AlarmName is a replacement property): the new alarm is
   * created, starting in INSUFFICIENT_DATA, every deployment group's alarm list and every
   * composite alarm rule that named the old one is pointed at it, then the old one is deleted.
   * (CloudFormation deletes the old alarm in the update's cleanup, after the alias update; nothing
   * reads it by then, and the lab models no stack rollback.)
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
   */
  private async updateVersionBoundAlarms(functionName: string, version: string): Promise<void> {
    const cw = this.cloudwatch.service.operations;
    const bound = this.versionBoundAlarms.filter((x) => x.functionName === functionName);
    const replaced = new Map<string, string>();
    for (const b of bound) {
      const before = new Resolver(b.stack, b.versions).ref(b.alarmId)!;
      const resolver = new Resolver(b.stack, new Map([...b.versions, [b.versionId, version]]));
      const after = resolver.ref(b.alarmId)!;
      await cw.PutMetricAlarm({ ...(resolver.resolve(b.stack.template.Resources[b.alarmId].Properties ?? {}) as Record<string, unknown>), AlarmName: after });
      if (after !== before) replaced.set(before, after);
    }
    // The stacks' version resources now stand for the new version: later Refs give the new names.
    for (const b of bound) b.versions.set(b.versionId, version);
    if (!replaced.size) return;
    await this.repointAlarms(replaced);
    await cw.DeleteAlarms({ AlarmNames: [...replaced.keys()] });
  }

  /** Point every composite alarm rule and deployment group alarm list that names an old alarm at its replacement. */
  private async repointAlarms(replaced: ReadonlyMap<string, string>): Promise<void> {
    const cw = this.cloudwatch.service.operations;
    const rename = (n: string) => replaced.get(n) ?? n;
    type Composite = { AlarmName: string; AlarmRule: string; AlarmDescription?: string; ActionsEnabled?: boolean; AlarmActions?: string[]; OKActions?: string[]; InsufficientDataActions?: string[] };
    const composites = new Map<string, Composite>();
    for (const old of replaced.keys()) {
      const out = (await cw.DescribeAlarms({ ParentsOfAlarmName: old, AlarmTypes: ['CompositeAlarm'] })) as { CompositeAlarms?: Composite[] };
      for (const c of out.CompositeAlarms ?? []) composites.set(c.AlarmName, c);
    }
    for (const c of composites.values()) {
      // A rule names an alarm by name or ARN, in double quotes or bare, up to `)`.
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
      const rule = c.AlarmRule.replace(/\(\s*("?)([^")]+?)\1\s*\)/g, (m, q: string, ref: string) => {
        const name = ref.includes(':alarm:') ? ref.slice(ref.lastIndexOf(':alarm:') + ':alarm:'.length) : ref;
        return replaced.has(name) ? `(${q}${ref.slice(0, ref.length - name.length)}${rename(name)}${q})` : m;
      });
      const { AlarmName, AlarmDescription, ActionsEnabled, AlarmActions, OKActions, InsufficientDataActions } = c;
      await cw.PutCompositeAlarm({ AlarmName, AlarmRule: rule, AlarmDescription, ActionsEnabled, AlarmActions, OKActions, InsufficientDataActions });
    }
    const cd = this.codedeploy.service.operations;
    for (const { applicationName, deploymentGroupName } of this.codedeploy.deploymentGroups()) {
      const info = ((await cd.GetDeploymentGroup({ applicationName, deploymentGroupName })) as { deploymentGroupInfo: { alarmConfiguration?: { enabled: boolean; ignorePollAlarmFailure: boolean; alarms: { name: string }[] } } }).deploymentGroupInfo;
      const config = info.alarmConfiguration;
      if (!config?.alarms.some((a) => replaced.has(a.name))) continue;
      await cd.UpdateDeploymentGroup({
        applicationName,
        currentDeploymentGroupName: deploymentGroupName,
        alarmConfiguration: { ...config, alarms: config.alarms.map((a) => ({ name: rename(a.name) })) },
      });
    }
  }

  /** The lab's control API under /_lab/. */
  private controlRoutes(): RestRoute[] {
    const clock = () => ({ now: new Date(this.scheduler.now()).toISOString() });
    const num = (v: unknown, field: string, min = 0) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new LabError('ValidationException', `${field}: expected a number >= ${min}, got ${JSON.stringify(v)}`);
      return v;
    };
    return [
      { method: 'GET', pattern: '/_lab/clock', handle: () => ({ body: clock() }) },
      {
        method: 'POST',
        pattern: '/_lab/clock/advance',
        handle: async (req) => {
          await this.advance(num(req.json().seconds, 'seconds'));
          return { body: clock() };
        },
      },
      {
        method: 'POST',
        pattern: '/_lab/release',
        handle: async (req) => {
          const b = req.json<{ function?: unknown; env?: unknown; behaviour?: unknown }>();
          if (b.function !== undefined && typeof b.function !== 'string') throw new LabError('ValidationException', 'function: expected a function name');
          if (b.env !== undefined && (typeof b.env !== 'object' || b.env === null || Object.values(b.env).some((x) => typeof x !== 'string'))) {
            throw new LabError('ValidationException', 'env: expected a map of strings (the new environment variables)');
          }
          return { body: await this.deploy(b.function as string | undefined, { ...(b.env ? { env: b.env as Record<string, string> } : {}), ...(b.behaviour ? { behaviour: parseBehaviour(b.behaviour, 'behaviour') } : {}) }) };
        },
      },
      {
        method: 'POST',
        pattern: '/_lab/network',
        handle: (req) => {
          // What hosts outside the lab answer function code from now on: { hosts: { "<host>": { status, latencyMs? } | "unreachable" } }.
          const b = req.json<{ hosts?: unknown }>();
          const windows: Record<string, { fromMinute?: number; toMinute?: number }> = {};
          try {
            const hosts = parseNetwork(obj(b.hosts, 'hosts'), 'hosts', windows);
            const windowed = Object.keys(windows)[0];
            if (windowed) throw new InputError(`hosts.${windowed}: ${NO_WINDOWS.replace("a traffic file's hosts answer", "hosts answer")}`, `hosts.${windowed}`);
            this.setUserNetwork(hosts);
          } catch (err) {
            if (err instanceof InputError) throw new LabError('ValidationException', err.message);
            throw err;
          }
          return { body: { hosts: this.lambda.networkMap() } };
        },
      },
      {
        method: 'POST',
        pattern: '/_lab/traffic',
        handle: (req) => {
          const b = req.json<{ function?: unknown; alias?: unknown; rps?: unknown; burstiness?: unknown; events?: unknown; realRps?: unknown }>();
          const r = this.release(typeof b.function === 'string' ? b.function : undefined);
          const alias = typeof b.alias === 'string' ? b.alias : r.alias;
          const burstiness = b.burstiness === undefined ? 0 : num(b.burstiness, 'burstiness');
          if (burstiness < 0 || burstiness > 3) throw new LabError('ValidationException', `burstiness: expected a number from 0 (steady) to 3, got ${burstiness}`);
          const rps = num(b.rps, 'rps');
          // `events` (a list, or a path on the lab's host) makes requests run the real code; null
          // goes back to simulated requests; omitted keeps what the stream had.
          let real = this.traffic.realOf(r.functionName, alias);
          try {
            // Every request runs for real unless `realRps` says how many a second at most.
            if (b.events === null) real = undefined;
            else if (b.events !== undefined) real = { events: parseEvents(b.events, 'events', process.cwd()), realRps: Math.max(1, rps) };
            else if (real) real = { ...real, realRps: Math.max(1, rps) };
            if (b.realRps !== undefined) {
              if (!real) throw new InputError('realRps: only with events (simulated requests invoke no code)', 'realRps');
              real = { ...real, realRps: num(b.realRps, 'realRps') };
              if (!(real.realRps >= 1)) throw new InputError(`realRps: expected at least 1 real invocation a second, got ${real.realRps}`, 'realRps');
            }
          } catch (err) {
            if (err instanceof InputError) throw new LabError('ValidationException', err.message);
            throw err;
          }
          this.traffic.set(r.functionName, alias, rps, burstiness, 0, real);
          return { body: { function: r.functionName, alias, rps: b.rps, burstiness, ...(real ? { events: real.events.from, realRps: real.realRps } : {}) } };
        },
      },
      {
        method: 'POST',
        pattern: '/_lab/faults',
        handle: (req) => {
          const b = req.json<{ faults?: unknown }>();
          if (!Array.isArray(b.faults)) throw new LabError('ValidationException', 'faults: expected a list of {service, operation?, errorRate?, throttleRate?, latencyMs?, unavailable?, fromMinute?, toMinute?}');
          this.setFaults(b.faults as FaultSpec[]);
          return { body: { faults: this.faultSpecs() } };
        },
      },
      {
        method: 'GET',
        pattern: '/_lab/state',
        handle: () => ({
          body: {
            ...clock(),
            releases: this.releases.map((r) => ({ ...r, routing: this.lambda.getAlias(r.functionName, r.alias) })),
            deployments: this.deploymentsWithOutcome(),
          },
        }),
      },
      {
        method: 'GET',
        pattern: '/_lab/decisions',
        handle: (req) => {
          const id = req.query.get('deploymentId') ?? undefined;
          if (id !== undefined && !this.codedeploy.deployments().some((d) => d.deploymentId === id)) {
            throw new LabError('DeploymentDoesNotExistException', `deploymentId: no deployment ${id} in this lab`, 404);
          }
          return { body: { decisions: this.eventbridge.decisions.list(id) } };
        },
      },
      {
        method: 'POST',
        pattern: '/_lab/reset',
        handle: async () => {
          const reports = await this.reset();
          return { body: { ...clock(), loaded: reports.flatMap((r) => r.stacks) } };
        },
      },
    ];
  }

  get assembly(): readonly StackArtifact[] {
    return this.loaded;
  }
}

/** The non-loopback hosts of the http(s) URLs among some values. */
export function hostsNamedIn(values: readonly unknown[]): string[] {
  const hosts = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string' || !/^https?:\/\//i.test(v)) continue;
    try {
      const host = new URL(v).hostname.toLowerCase();
      if (host !== 'localhost' && !/^127\./.test(host) && host !== '[::1]') hosts.add(host);
    } catch {
      // Not a URL after all.
    }
  }
  return [...hosts];
}

/** CloudFormation's PascalCase properties to CodeDeploy's camelCase API fields. */
function lowerFirst(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerFirst);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0].toLowerCase() + k.slice(1), lowerFirst(x)]));
}

export function parseBehaviour(v: unknown, path: string): Behaviour {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LabError('ValidationException', `${path}: expected an object`);
  const o = v as Record<string, unknown>;
  const allowed = ['errorRate', 'latencyMs', 'crashOnInit', 'timeoutRate', 'startsFailingAfterMinutes', 'httpErrorRate'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new LabError('ValidationException', `${path}.${k}: unknown field; allowed: ${allowed.join(', ')}`);
  for (const k of ['errorRate', 'timeoutRate', 'httpErrorRate']) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && (o[k] as number) >= 0 && (o[k] as number) <= 1)) throw new LabError('ValidationException', `${path}.${k}: expected a rate from 0 to 1, got ${JSON.stringify(o[k])}`);
  }
  for (const k of ['latencyMs', 'startsFailingAfterMinutes']) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && (o[k] as number) >= 0)) throw new LabError('ValidationException', `${path}.${k}: expected a number >= 0, got ${JSON.stringify(o[k])}`);
  }
  if (o.crashOnInit !== undefined && typeof o.crashOnInit !== 'boolean') throw new LabError('ValidationException', `${path}.crashOnInit: expected true or false`);
  return o as Behaviour;
}

/** A function's LoggingConfig.LogGroup, resolved, when its template names one. */
function logGroupOf(resolver: Resolver, p: Record<string, unknown>): string | undefined {
  const g = (p.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
  if (g === undefined) return undefined;
  const name = resolver.resolve(g);
  return typeof name === 'string' ? name : undefined;
}

/** This host's Lambda architecture name. */
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';

/**
 * The extension executable to run for a layer's: the layer's own when this host can execute it
 * (its ELF machine is the host's); otherwise the same extension built for this host, from the
 * canary-watchdog package the lab runs (an arm64 function's layer on an x86_64 host). Both are
 * built from one source by one command (npm run bundle).
 */
function runnableHere(binary: string): string {
  const header = Buffer.alloc(20);
  const fd = openSync(binary, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  // ELF e_machine: 0x3e x86-64, 0xb7 AArch64.
  const machine = header.readUInt16LE(18);
  const arch = machine === 0xb7 ? 'arm64' : machine === 0x3e ? 'x86_64' : 'unknown';
  if (arch === HOST_ARCH) return binary;
  // The installed CLI carries both builds (packages/cli); from the repository, canary-watchdog's assets.
  const packed = join(LAB_FILES, 'extensions', HOST_ARCH, TELEMETRY_EXTENSION_NAME);
  if (BUNDLED && existsSync(packed)) return packed;
  let pkg: string;
  try {
    pkg = dirname(require.resolve('canary-watchdog/package.json'));
  } catch {
    throw new LabError('ValidationException', `the telemetry extension at ${binary} is built for ${arch}, which this ${HOST_ARCH} host cannot run, and neither the CLI package nor canary-watchdog (not installed here) has its ${HOST_ARCH} build`);
  }
  const sibling = join(pkg, 'assets', `telemetry-layer-${HOST_ARCH}`, 'extensions', TELEMETRY_EXTENSION_NAME);
  if (!existsSync(sibling)) throw new LabError('ValidationException', `the telemetry extension at ${binary} is built for ${arch}, which this ${HOST_ARCH} host cannot run, and canary-watchdog has no ${HOST_ARCH} build at ${sibling} (run npm run bundle in packages/constructs)`);
  return sibling;
}

/** What a function's template says of the properties the lab only describes (GetFunctionConfiguration). */
function describedOnly(p: { Architectures?: unknown; TracingConfig?: unknown; EphemeralStorage?: unknown; DeadLetterConfig?: unknown; KmsKeyArn?: unknown; SnapStart?: unknown }): Pick<FunctionSpec, 'architectures' | 'tracingMode' | 'ephemeralStorageMb' | 'deadLetterTargetArn' | 'kmsKeyArn' | 'snapStartApplyOn'> {
  const mode = (p.TracingConfig as { Mode?: unknown } | undefined)?.Mode;
  const size = (p.EphemeralStorage as { Size?: unknown } | undefined)?.Size;
  const dlq = (p.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn;
  const applyOn = (p.SnapStart as { ApplyOn?: unknown } | undefined)?.ApplyOn;
  return {
    ...(Array.isArray(p.Architectures) ? { architectures: p.Architectures.map(String) } : {}),
    ...(typeof mode === 'string' ? { tracingMode: mode } : {}),
    ...(size !== undefined ? { ephemeralStorageMb: Number(size) } : {}),
    ...(typeof dlq === 'string' ? { deadLetterTargetArn: dlq } : {}),
    ...(typeof p.KmsKeyArn === 'string' ? { kmsKeyArn: p.KmsKeyArn } : {}),
    ...(typeof applyOn === 'string' ? { snapStartApplyOn: applyOn } : {}),
  };
}

/**
 * A function's layers and VPC as GetFunctionConfiguration describes them: each layer's version ARN
 * (and its size when the layer's content is an asset of the stack); the subnets, security groups
 * and, when the template defines the subnets, their VPC.
 * https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfigResponse.html
 */
function describedNetwork(stack: StackArtifact, resolver: Resolver, p: Record<string, unknown>): Pick<FunctionSpec, 'layers' | 'vpc'> {
  const res = stack.template.Resources;
  const layers = (Array.isArray(p.Layers) ? p.Layers : []).map((l: unknown) => {
    const id = (l as { Ref?: unknown } | null)?.Ref;
    const r = typeof id === 'string' ? res[id] : undefined;
    let size: number | undefined;
    if (r?.Type === 'AWS::Lambda::LayerVersion') {
      try {
        size = codeSize(assetDir(stack, r));
      } catch {
        // A layer whose content is not an asset here (S3Bucket/S3Key): its size is unknown.
      }
    }
    return { arn: String(resolver.resolve(l)), ...(size !== undefined ? { codeSize: size } : {}) };
  });
  const vpc = resolver.resolve(p.VpcConfig) as { SubnetIds?: unknown; SecurityGroupIds?: unknown; Ipv6AllowedForDualStack?: unknown } | undefined;
  const subnetIds = Array.isArray(vpc?.SubnetIds) ? vpc.SubnetIds.map(String) : [];
  const vpcIds = new Set(Object.entries(res).filter(([id, r]) => r.Type === 'AWS::EC2::Subnet' && subnetIds.includes(resolver.ref(id) ?? '')).map(([, r]) => String(resolver.resolve(r.Properties?.VpcId))));
  return {
    ...(layers.length ? { layers } : {}),
    ...(subnetIds.length
      ? { vpc: { subnetIds, securityGroupIds: Array.isArray(vpc?.SecurityGroupIds) ? vpc.SecurityGroupIds.map(String) : [], ...(vpcIds.size === 1 ? { vpcId: [...vpcIds][0] } : {}), ipv6AllowedForDualStack: vpc?.Ipv6AllowedForDualStack === true } }
      : {}),
  };
}
