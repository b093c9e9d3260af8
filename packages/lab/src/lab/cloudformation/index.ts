import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LAB_ACCOUNT, LAB_REGION, LabError } from '../kernel';
import { stackIam, type IamLab } from '../iam';
import { Resolver, type StackArtifact, type Template } from '../loader';
import { queryService } from '../query';
import type { S3Lab } from '../s3';
import type { SsmLab } from '../ssm';
import { flattenTemplate, type Flattened, type ParameterInput, type RawTemplate } from './template';
import { planUpdate, type UpdatePlan } from './update';
import { unzip } from './zip';
import type { FunctionCode } from '../lambda';

/** What a release changes in a function: its code, environment and limits (each optional). */
export interface FunctionChange {
  readonly env?: Record<string, string>;
  readonly code?: FunctionCode;
  readonly timeoutSeconds?: number;
  readonly memorySize?: number;
}

/** What CloudFormation hands the rest of the lab. */
export interface CloudFormationDeps {
  readonly clock: { now(): number };
  readonly s3: S3Lab;
  readonly ssm: SsmLab;
  /** IAM roles created by stacks (STS lets them be assumed). */
  readonly roles: Set<string>;
  /** The identity policies of the stacks' roles, evaluated by the lab. */
  readonly iam: IamLab;
  /** Make a stack's Lambda, CloudWatch, CodeDeploy, DynamoDB and EventBridge resources live; returns the logical ids it did not model. */
  loadStack(stack: StackArtifact): Promise<{ unmodelledIds: readonly string[] }>;
  /** A function's code and configuration now. */
  configuration(functionName: string): Required<Omit<FunctionChange, 'env'>> & { env: Record<string, string> };
  /** Change a function's code and configuration (an update of an unguarded function, or a rollback). */
  configure(functionName: string, change: FunctionChange): void;
  /** Release a guarded function with new code or configuration: publish a version and start the alias's CodeDeploy deployment. */
  release(functionName: string, change: FunctionChange): Promise<{ version: string; deploymentId: string }>;
  /** Resolves when a CodeDeploy deployment ends, with its status, the reason it stopped and the rollback deployment it started. */
  deploymentEnd(deploymentId: string): Promise<{ status: string; message?: string; rollbackDeploymentId?: string }>;
  /** Point the alarms that name a function's version at another version (a rollback puts them back on the old one). */
  followVersion(functionName: string, version: string): Promise<void>;
  /** Make an AwsCustomResource's SDK call (JSON of service, action, parameters); false when the lab does not model it. */
  awsCall(json: string): Promise<boolean>;
}

interface StackEvent {
  readonly EventId: string;
  readonly StackId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Timestamp: Date;
  readonly ResourceStatus: string;
  readonly ResourceStatusReason?: string;
}

interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  physicalId: string;
  status: string;
  reason?: string;
  updated: number;
}

interface Stack {
  readonly id: string;
  readonly name: string;
  status: string;
  reason?: string;
  readonly created: number;
  updated?: number;
  /** The template as submitted, and its flattened form, once a change set was executed. */
  body?: string;
  flat?: Flattened;
  capabilities: string[];
  tags: { Key: string; Value: string }[];
  outputs: { OutputKey: string; OutputValue: string; Description?: string; ExportName?: string }[];
  readonly resources: Map<string, StackResource>;
  readonly events: StackEvent[];
  changeSetId?: string;
  description?: string;
  /** Physical ids and attributes of the resources (the Resolver's overrides), and the folder of the unpacked code. */
  physical?: { refs: Map<string, string>; attrs: Map<string, string>; assets: string };
}

interface ChangeSet {
  readonly id: string;
  readonly name: string;
  readonly stack: Stack;
  readonly type: 'CREATE' | 'UPDATE';
  readonly body: string;
  readonly flat?: Flattened;
  status: 'CREATE_COMPLETE' | 'FAILED';
  statusReason?: string;
  executionStatus: 'AVAILABLE' | 'UNAVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'OBSOLETE';
  readonly capabilities: string[];
  readonly tags: { Key: string; Value: string }[];
  readonly created: number;
  readonly changes: { Type: 'Resource'; ResourceChange: { Action: string; LogicalResourceId: string; ResourceType: string; Replacement?: string } }[];
  plan?: UpdatePlan;
}

/** Resource types CloudFormation itself gives life to in the lab (the rest go to the lab's loader or are recorded). */
const OWN = ['AWS::S3::Bucket', 'AWS::SSM::Parameter', 'AWS::IAM::Role'];
/** Types the lab's loader turns into live resources. */
const LIVE_IN_LAB = ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::Lambda::Url', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm', 'AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentConfig', 'AWS::CodeDeploy::DeploymentGroup', 'AWS::Events::Rule', 'Custom::AWS'];
const IAM_TYPES = ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::InstanceProfile', 'AWS::IAM::AccessKey'];
/** A stack in one of these states takes no new operation. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html */
const BUSY = /_IN_PROGRESS$/;

/** https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStacks.html */
const STACK_STATUSES = ['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_FAILED', 'ROLLBACK_COMPLETE', 'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'DELETE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_IN_PROGRESS', 'IMPORT_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_COMPLETE'];
const err = (message: string) => new LabError('ValidationError', message);
type Resources = NonNullable<RawTemplate['Resources']>;

/**
 * CloudFormation as the CDK CLI drives it: change sets (CreateChangeSet, DescribeChangeSet,
 * ExecuteChangeSet, DeleteChangeSet), stacks and their events, resources and templates. A stack's
 * resources of the types the lab models become live resources through the lab's loader; S3
 * buckets, SSM parameters and IAM roles live here (roles only so STS can assume them); every other
 * resource is recorded, with a status reason in its stack event saying the lab does not model it.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html
 */
export class CloudFormationLab {
  private readonly stacks: Stack[] = [];
  private readonly changeSets: ChangeSet[] = [];
  readonly service;

  constructor(private readonly deps: CloudFormationDeps) {
    this.service = queryService('CloudFormation', 'cloudformation', 'http://cloudformation.amazonaws.com/doc/2010-05-15/', {
      DescribeStacks: (i) => ({ Stacks: (i.StackName === undefined ? this.stacks.filter((s) => s.status !== 'DELETE_COMPLETE') : [this.stack(i.StackName)]).map((s) => this.describeStack(s)) }),
      CreateChangeSet: (i) => this.createChangeSet(i),
      DescribeChangeSet: (i) => this.describeChangeSet(this.changeSet(i.ChangeSetName, i.StackName)),
      ExecuteChangeSet: (i) => this.executeChangeSet(this.changeSet(i.ChangeSetName, i.StackName)),
      DeleteChangeSet: (i) => {
        // Deleting a change set by name that is not there succeeds while its stack exists (the CDK CLI relies on it before each deploy).
        if (typeof i.ChangeSetName === 'string' && !i.ChangeSetName.startsWith('arn:') && !this.changeSets.some((c) => c.name === i.ChangeSetName && (c.stack.name === i.StackName || c.stack.id === i.StackName))) {
          this.stack(i.StackName);
          return {};
        }
        const cs = this.changeSet(i.ChangeSetName, i.StackName);
        if (cs.executionStatus === 'EXECUTE_IN_PROGRESS') throw new LabError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be deleted while it executes`);
        this.changeSets.splice(this.changeSets.indexOf(cs), 1);
        // Deleting the change set of a stack in REVIEW_IN_PROGRESS leaves no stack behind.
        if (cs.stack.status === 'REVIEW_IN_PROGRESS' && !this.changeSets.some((c) => c.stack === cs.stack)) cs.stack.status = 'DELETE_COMPLETE';
        return {};
      },
      ListChangeSets: (i) => ({ Summaries: this.changeSets.filter((c) => c.stack === this.stack(i.StackName)).map((c) => ({ ChangeSetId: c.id, ChangeSetName: c.name, StackId: c.stack.id, StackName: c.stack.name, Status: c.status, ExecutionStatus: c.executionStatus, CreationTime: new Date(c.created) })) }),
      ListStacks: (i) => {
        const filter = (Array.isArray(i.StackStatusFilter) ? i.StackStatusFilter : []).map(String);
        const wrong = filter.find((f) => !STACK_STATUSES.includes(f));
        if (wrong) throw err(`StackStatusFilter: ${JSON.stringify(wrong)} is not a stack status; expected one of ${STACK_STATUSES.join(', ')}`);
        // Deleted stacks are listed too (AWS keeps them 90 days).
        return {
          StackSummaries: this.stacks
            .filter((s) => !filter.length || filter.includes(s.status))
            .map((s) => ({ StackId: s.id, StackName: s.name, TemplateDescription: s.description, CreationTime: new Date(s.created), LastUpdatedTime: s.updated === undefined ? undefined : new Date(s.updated), StackStatus: s.status, StackStatusReason: s.reason })),
        };
      },
      DescribeStackEvents: (i) => ({ StackEvents: [...this.stack(i.StackName).events].reverse() }),
      DescribeStackResources: (i) => {
        const s = this.stack(i.StackName);
        return { StackResources: [...s.resources.values()].filter((r) => i.LogicalResourceId === undefined || r.logicalId === i.LogicalResourceId).map((r) => this.describeResource(s, r)) };
      },
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResource.html
      DescribeStackResource: (i) => {
        const s = this.stack(i.StackName);
        const r = s.resources.get(String(i.LogicalResourceId));
        if (!r) throw err(`Resource ${String(i.LogicalResourceId)} does not exist for stack ${String(i.StackName)}`);
        const { Timestamp, ...detail } = this.describeResource(s, r);
        return { StackResourceDetail: { ...detail, LastUpdatedTimestamp: Timestamp } };
      },
      ListStackResources: (i) => {
        const s = this.stack(i.StackName);
        return { StackResourceSummaries: [...s.resources.values()].map((r) => ({ LogicalResourceId: r.logicalId, PhysicalResourceId: r.physicalId, ResourceType: r.type, ResourceStatus: r.status, ResourceStatusReason: r.reason, LastUpdatedTimestamp: new Date(r.updated) })) };
      },
      GetTemplate: (i) => {
        if (i.ChangeSetName !== undefined) return { TemplateBody: this.changeSet(i.ChangeSetName, i.StackName).body, StagesAvailable: ['Original'] };
        const s = this.stack(i.StackName);
        return { TemplateBody: s.body ?? '{}', StagesAvailable: ['Original', 'Processed'] };
      },
      GetTemplateSummary: (i) => this.templateSummary(i),
      DeleteStack: (i) => {
        const s = this.stacks.find((x) => x.name === i.StackName || x.id === i.StackName);
        // Deleting a stack that does not exist succeeds (DeleteStack API reference).
        if (!s || s.status === 'DELETE_COMPLETE') return {};
        this.deleteStack(s);
        return {};
      },
    });
  }

  /** A stack by name or id; a deleted one only by id, as AWS answers. */
  private stack(nameOrId: unknown): Stack {
    if (typeof nameOrId !== 'string' || !nameOrId) throw err('1 validation error detected: Value null at \'stackName\' failed to satisfy constraint: Member must not be null');
    const s = this.stacks.find((x) => x.id === nameOrId) ?? this.stacks.find((x) => x.name === nameOrId && x.status !== 'DELETE_COMPLETE');
    if (!s) throw err(`Stack with id ${nameOrId} does not exist`);
    return s;
  }

  private changeSet(nameOrId: unknown, stackName: unknown): ChangeSet {
    if (typeof nameOrId !== 'string' || !nameOrId) throw err('ChangeSetName: expected a change set name or ARN');
    const cs = nameOrId.startsWith('arn:') ? this.changeSets.find((c) => c.id === nameOrId) : this.changeSets.find((c) => c.name === nameOrId && (c.stack.name === stackName || c.stack.id === stackName));
    if (!cs) throw new LabError('ChangeSetNotFound', `ChangeSet [${nameOrId}] does not exist`, 404);
    return cs;
  }

  private async templateBody(i: Record<string, unknown>): Promise<string> {
    if (typeof i.TemplateBody === 'string') return i.TemplateBody;
    if (typeof i.TemplateURL === 'string') {
      const { bucket, key } = s3Location(i.TemplateURL);
      try {
        return this.deps.s3.getObject(bucket, key).toString('utf8');
      } catch (e) {
        throw err(`TemplateURL must reference a valid S3 object to which you have access: ${(e as Error).message}`);
      }
    }
    if (i.UsePreviousTemplate === true || i.UsePreviousTemplate === 'true') {
      const s = this.stack(i.StackName);
      if (!s.body) throw err('UsePreviousTemplate: the stack has no template yet');
      return s.body;
    }
    throw err('Either Template URL or Template Body must be specified.');
  }

  private parseTemplate(body: string): RawTemplate {
    try {
      return (body.trimStart().startsWith('{') ? JSON.parse(body) : parseYaml(body)) as RawTemplate;
    } catch (e) {
      throw err(`Template format error: ${(e as Error).message}`);
    }
  }

  private async createChangeSet(i: Record<string, unknown>) {
    const name = i.ChangeSetName;
    // A letter, then letters, digits and hyphens, at most 128 (CreateChangeSet API reference).
    if (typeof name !== 'string' || !/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(name)) throw err(`ChangeSetName: expected a letter followed by letters, digits or hyphens (at most 128), got ${JSON.stringify(name)}`);
    const stackName = i.StackName;
    if (typeof stackName !== 'string' || !/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(stackName)) throw err(`StackName: expected a letter followed by letters, digits or hyphens (at most 128), got ${JSON.stringify(stackName)}`);
    const type = i.ChangeSetType ?? 'UPDATE';
    if (type !== 'CREATE' && type !== 'UPDATE') throw err(`ChangeSetType: expected CREATE or UPDATE (IMPORT is not modelled by the lab), got ${JSON.stringify(type)}`);
    const live = this.stacks.find((s) => s.name === stackName && s.status !== 'DELETE_COMPLETE');
    if (type === 'CREATE' && live && live.status !== 'REVIEW_IN_PROGRESS') throw new LabError('AlreadyExistsException', `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`);
    if (type === 'UPDATE' && (!live || live.status === 'REVIEW_IN_PROGRESS')) throw err(`Stack [${stackName}] does not exist`);
    if (live && BUSY.test(live.status) && live.status !== 'REVIEW_IN_PROGRESS') throw err(`Stack:${live.id} is in ${live.status} state and can not be updated.`);
    const body = await this.templateBody(i);
    const raw = this.parseTemplate(body);
    const params = (Array.isArray(i.Parameters) ? i.Parameters : []) as ParameterInput[];
    const previous = new Map((live?.flat?.parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    const flat = flattenTemplate(raw, stackName, params, previous, (n) => this.deps.ssm.value(n));
    const capabilities = (Array.isArray(i.Capabilities) ? i.Capabilities : []).map(String);
    const needed = requiredCapability(flat.template);
    if (needed && !capabilities.includes(needed) && !(needed === 'CAPABILITY_IAM' && capabilities.includes('CAPABILITY_NAMED_IAM'))) {
      throw new LabError('InsufficientCapabilitiesException', `Requires capabilities : [${needed}]`);
    }
    if (live && this.changeSets.some((c) => c.stack === live && c.name === name)) throw new LabError('AlreadyExistsException', `ChangeSet [${name}] already exists`);
    const stack: Stack = live ?? {
      id: `arn:aws:cloudformation:${LAB_REGION}:${LAB_ACCOUNT}:stack/${stackName}/${randomUUID()}`,
      name: stackName,
      status: 'REVIEW_IN_PROGRESS',
      created: this.deps.clock.now(),
      capabilities: [],
      tags: [],
      outputs: [],
      resources: new Map(),
      events: [],
    };
    if (!live) {
      this.stacks.push(stack);
      this.event(stack, stackName, stack.id, 'AWS::CloudFormation::Stack', 'REVIEW_IN_PROGRESS', 'User Initiated');
    }
    const before = stack.flat?.template.Resources ?? {};
    const after = flat.template.Resources;
    const changes: ChangeSet['changes'] = [];
    for (const [id, r] of Object.entries(after)) {
      if (!(id in before)) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: id, ResourceType: r.Type } });
      else if (JSON.stringify(before[id]) !== JSON.stringify(r)) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: id, ResourceType: r.Type, Replacement: 'Conditional' } });
    }
    for (const [id, r] of Object.entries(before)) if (!(id in after)) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: id, ResourceType: r.Type } });
    const sameOutputs = JSON.stringify(stack.flat?.template.Outputs ?? {}) === JSON.stringify(flat.template.Outputs ?? {});
    const cs: ChangeSet = {
      id: `arn:aws:cloudformation:${LAB_REGION}:${LAB_ACCOUNT}:changeSet/${name}/${randomUUID()}`,
      name,
      stack,
      type,
      body,
      flat,
      status: 'CREATE_COMPLETE',
      executionStatus: 'AVAILABLE',
      capabilities,
      tags: (Array.isArray(i.Tags) ? i.Tags : []) as { Key: string; Value: string }[],
      created: this.deps.clock.now(),
      changes,
    };
    if (type === 'UPDATE' && !changes.length && sameOutputs) {
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-create.html
      cs.status = 'FAILED';
      cs.executionStatus = 'UNAVAILABLE';
      cs.statusReason = "The submitted information didn't contain changes. Submit different information to create a change set.";
    } else if (type === 'UPDATE') {
      const plan = planUpdate(stack.flat!.template.Resources, flat.template.Resources);
      const iamRefused = unreadableIam(stack.name, flat, stack.physical);
      if ('refused' in plan || iamRefused) {
        cs.status = 'FAILED';
        cs.executionStatus = 'UNAVAILABLE';
        cs.statusReason = 'refused' in plan ? plan.refused : iamRefused;
      } else {
        cs.plan = plan;
      }
    }
    this.changeSets.push(cs);
    return { Id: cs.id, StackId: stack.id };
  }

  private describeChangeSet(cs: ChangeSet) {
    return {
      ChangeSetName: cs.name,
      ChangeSetId: cs.id,
      StackId: cs.stack.id,
      StackName: cs.stack.name,
      CreationTime: new Date(cs.created),
      ExecutionStatus: cs.executionStatus,
      Status: cs.status,
      StatusReason: cs.statusReason,
      Capabilities: cs.capabilities,
      Tags: cs.tags,
      Parameters: cs.flat?.parameters.map(({ ParameterKey, ParameterValue, ResolvedValue }) => ({ ParameterKey, ParameterValue, ResolvedValue })),
      Changes: cs.changes,
    };
  }

  private executeChangeSet(cs: ChangeSet) {
    if (cs.executionStatus !== 'AVAILABLE') throw new LabError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current execution status of [${cs.executionStatus}]`);
    const stack = cs.stack;
    // Change sets live until the stack is updated: executing one removes the others, and it goes once it has run.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-delete.html
    for (const other of this.changeSets.filter((c) => c !== cs && c.stack === stack)) this.changeSets.splice(this.changeSets.indexOf(other), 1);
    cs.executionStatus = 'EXECUTE_IN_PROGRESS';
    const verb = cs.type === 'CREATE' ? 'CREATE' : 'UPDATE';
    stack.status = `${verb}_IN_PROGRESS`;
    stack.reason = undefined;
    stack.changeSetId = cs.id;
    stack.capabilities = cs.capabilities;
    stack.tags = cs.tags;
    stack.description = cs.flat?.template.Description;
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status, 'User Initiated');
    // The work runs after the call returns, as CloudFormation's does; the CLI polls for it.
    void (cs.type === 'CREATE' ? this.create(stack, cs) : this.update(stack, cs))
      .catch((e: Error) => {
        stack.status = `${verb}_FAILED`;
        stack.reason = `lab internal error: ${e.message}`;
        this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status, stack.reason);
      })
      .finally(() => {
        const at = this.changeSets.indexOf(cs);
        if (at >= 0) this.changeSets.splice(at, 1);
      });
    return {};
  }

  /** Create every resource of a new stack, in dependency order. */
  private async create(stack: Stack, cs: ChangeSet): Promise<void> {
    const flat = cs.flat!;
    // The loader gets its own copy: the code's unpacked folder goes into its metadata, not into the stack's template.
    const template = structuredClone(flat.template);
    const resources = template.Resources;
    const order = dependencyOrder(resources);
    const refs = new Map<string, string>();
    const attrs = new Map<string, string>();
    const artifact = (assemblyDir: string): StackArtifact => ({ stackName: stack.name, template: template as unknown as Template, assemblyDir, physical: { refs, attrs } });
    const assets = mkdtempSync(join(tmpdir(), 'lab-stack-'));
    stack.physical = { refs, attrs, assets };
    let failed: { id: string; reason: string } | undefined;
    // Names first: a resource's name property, or CloudFormation's generated `<stack>-<id>-<suffix>`.
    for (const id of order) {
      const r = resources[id];
      if (!OWN.includes(r.Type)) continue;
      try {
        this.nameOwn(stack, id, r, new Resolver(artifact(assets)), refs, attrs);
      } catch (e) {
        failed ??= { id, reason: (e as Error).message };
      }
    }
    // Lambda code and layer content uploaded to S3 by `cdk deploy` are unpacked where the loader
    // finds assets (a layer's, so that the loader sees the extensions it holds).
    for (const [id, r] of Object.entries(resources)) {
      if ((r.Type !== 'AWS::Lambda::Function' && r.Type !== 'AWS::Lambda::LayerVersion') || failed) continue;
      try {
        const dir = this.unpackCode(id, r, new Resolver(artifact(assets)), assets);
        if (dir) r.Metadata = { ...(r.Metadata ?? {}), 'aws:asset:path': dir };
      } catch (e) {
        failed = { id, reason: (e as Error).message };
      }
    }
    for (const id of order) {
      if (failed) break;
      const r = resources[id];
      if (LIVE_IN_LAB.includes(r.Type)) continue;
      this.event(stack, id, '', r.Type, 'CREATE_IN_PROGRESS');
      try {
        const physical = this.createOwn(stack, id, r, new Resolver(artifact(assets)), refs, attrs);
        this.record(stack, id, r.Type, physical.id, 'CREATE_COMPLETE', physical.reason);
      } catch (e) {
        failed = { id, reason: (e as Error).message };
        this.record(stack, id, r.Type, refs.get(id) ?? '', 'CREATE_FAILED', failed.reason);
      }
    }
    // The roles' identity policies apply once the stack's IAM resources exist (before its functions run).
    if (!failed) {
      try {
        this.deps.iam.setStack(stack.name, stackIam(stack.name, resources, new Resolver(artifact(assets))));
      } catch (e) {
        failed = { id: 'IAM', reason: (e as Error).message };
      }
    }
    if (!failed && order.some((id) => LIVE_IN_LAB.includes(resources[id].Type))) {
      const live = order.filter((id) => LIVE_IN_LAB.includes(resources[id].Type));
      for (const id of live) this.event(stack, id, '', resources[id].Type, 'CREATE_IN_PROGRESS');
      try {
        const loaded = await this.deps.loadStack(artifact(assets));
        const resolver = new Resolver(artifact(assets));
        for (const id of live) {
          const unmodelled = loaded.unmodelledIds.includes(id);
          this.record(stack, id, resources[id].Type, resolver.ref(id) ?? id, 'CREATE_COMPLETE', unmodelled ? `recorded only: the lab does not model this ${resources[id].Type}` : undefined);
        }
      } catch (e) {
        failed = { id: live[0], reason: (e as Error).message };
        for (const id of live) this.record(stack, id, resources[id].Type, '', 'CREATE_FAILED', id === live[0] ? failed.reason : 'Resource creation cancelled');
      }
    }
    const resolver = new Resolver(artifact(assets));
    if (!failed) {
      try {
        stack.outputs = this.outputs(flat, resolver);
      } catch (e) {
        failed = { id: 'Outputs', reason: `Template error: ${(e as Error).message}` };
      }
    }
    stack.body = cs.body;
    stack.flat = flat;
    stack.updated = this.deps.clock.now();
    cs.executionStatus = failed ? 'UNAVAILABLE' : 'EXECUTE_COMPLETE';
    if (failed) {
      // The lab does not take live resources down again: the stack stays CREATE_FAILED, as with rollback disabled.
      stack.status = 'CREATE_FAILED';
      stack.reason = `The following resource(s) failed to create: [${failed.id}]. ${failed.reason} (the lab does not roll back a failed create)`;
      this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', 'CREATE_FAILED', stack.reason);
      return;
    }
    stack.status = 'CREATE_COMPLETE';
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', 'CREATE_COMPLETE');
  }

  /**
   * What an update changes in a function: its environment (as the new template gives it), its
   * code (unpacked from S3) when Code or Handler changed, and Timeout and MemorySize when they
   * changed (Lambda's defaults, 3 s and 128 MB, when the new template drops them).
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html
   */
  private functionChange(id: string, before: Resources[string], after: Resources[string], resolver: Resolver, assets: string): FunctionChange {
    const [b, a] = [before.Properties ?? {}, after.Properties ?? {}];
    const changed = (k: string) => JSON.stringify(b[k]) !== JSON.stringify(a[k]);
    const env = Object.fromEntries(Object.entries((resolver.resolve((a.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    let code: FunctionChange['code'];
    if (changed('Code') || changed('Handler')) {
      const dir = this.unpackCode(id, after, resolver, assets);
      if (!dir) throw new Error(`Resource handler returned message: "the lab models code updates from S3 (Code.S3Bucket and Code.S3Key) only, not ${Object.keys((a.Code as object | undefined) ?? {}).join(', ') || 'no Code'}"`);
      code = { dir: join(assets, dir), handler: String(resolver.resolve(a.Handler)) };
    }
    return {
      env,
      ...(code ? { code } : {}),
      ...(changed('Timeout') ? { timeoutSeconds: Number(resolver.resolve(a.Timeout ?? 3)) } : {}),
      ...(changed('MemorySize') ? { memorySize: Number(resolver.resolve(a.MemorySize ?? 128)) } : {}),
    };
  }

  /**
   * Unpack a function's code from the S3 object its Code names (what `cdk deploy` uploaded) into
   * a fresh folder under `assets`; returns the folder relative to `assets`, or undefined for code
   * given inline (ZipFile) or as an image, which the loader handles or refuses.
   */
  private unpackCode(id: string, r: Resources[string], resolver: Resolver, assets: string): string | undefined {
    // A function's Code, a layer's Content: the same S3 location.
    const code = (r.Properties?.Code ?? r.Properties?.Content) as { S3Bucket?: unknown; S3Key?: unknown; S3ObjectVersion?: unknown } | undefined;
    if (!code?.S3Key) return undefined;
    try {
      const bucket = String(resolver.resolve(code.S3Bucket));
      const key = String(resolver.resolve(code.S3Key));
      const dir = `asset.${id}.${createHash('sha256').update(`${bucket}/${key}`).digest('hex').slice(0, 16)}`;
      unzip(this.deps.s3.getObject(bucket, key), join(assets, dir));
      return dir;
    } catch (e) {
      throw new Error(`Resource handler returned message: "${(e as Error).message}"`, { cause: e });
    }
  }

  /**
   * Carry out a planned update. Changed functions get their new environment; a guarded function
   * is released through its alias's CodeDeploy update policy and the stack stays
   * UPDATE_IN_PROGRESS until the deployment ends. A failed or stopped deployment fails the alias
   * update and rolls the stack back: the functions get their old environment again, CodeDeploy's
   * rollback has put the alias back on the old version, and the stack ends UPDATE_ROLLBACK_COMPLETE.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html#cfn-attributes-updatepolicy-codedeploylambdaaliasupdate
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-rollback-triggers.html
   */
  private async update(stack: Stack, cs: ChangeSet): Promise<void> {
    const plan = cs.plan!;
    const flat = cs.flat!;
    const before = stack.flat!.template.Resources;
    const after = flat.template.Resources;
    const physical = stack.physical!;
    const resolver = new Resolver({ stackName: stack.name, template: flat.template as unknown as Template, assemblyDir: physical.assets, physical });
    const nameOf = (id: string) => stack.resources.get(id)?.physicalId ?? resolver.ref(id)!;
    const oldConfig = new Map<string, FunctionChange>();
    /** Aliases whose failed deployment CodeDeploy rolls back with a deployment of its own, and the version they return to. */
    const rollbacks: { aliasId: string; functionName: string; deploymentId: string; version: string }[] = [];
    const followed = new Set<string>();
    let failed: { id: string; reason: string } | undefined;
    for (const r of plan.recorded) {
      const type = (after[r.id] ?? before[r.id]).Type;
      if (r.action === 'Remove') {
        this.event(stack, r.id, nameOf(r.id), type, 'DELETE_COMPLETE', 'recorded only: nothing live to take down');
        stack.resources.delete(r.id);
        continue;
      }
      const verb = r.action === 'Add' ? 'CREATE' : 'UPDATE';
      this.event(stack, r.id, r.action === 'Add' ? '' : nameOf(r.id), type, `${verb}_IN_PROGRESS`);
      const id = r.action === 'Add' ? this.createOwn(stack, r.id, after[r.id], resolver, physical.refs, physical.attrs).id : nameOf(r.id);
      this.record(stack, r.id, type, id, `${verb}_COMPLETE`, `recorded only: the lab does not model ${type}`);
    }
    // The identity policies of the new template apply from here (IAM resources are recorded changes;
    // the change set was refused if the lab cannot read them).
    this.deps.iam.setStack(stack.name, stackIam(stack.name, after, resolver));
    // AwsCustomResource calls first: the configuration they write is read by the release's hooks.
    const oldResolver = new Resolver({ stackName: stack.name, template: stack.flat!.template as unknown as Template, assemblyDir: physical.assets, physical });
    // An AwsCustomResource makes its onUpdate call on update, and none without one.
    // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources.AwsCustomResource.html
    const customCall = async (r: Resources[string], using: Resolver) => (r.Properties?.Update === undefined ? 'no onUpdate call' : (await this.deps.awsCall(String(using.resolve(r.Properties.Update)))) ? undefined : 'recorded only: the lab does not model this SDK call');
    for (const id of plan.custom) {
      this.event(stack, id, nameOf(id), 'Custom::AWS', 'UPDATE_IN_PROGRESS');
      this.record(stack, id, 'Custom::AWS', nameOf(id), 'UPDATE_COMPLETE', await customCall(after[id], resolver));
    }
    for (const f of plan.functions) {
      const name = nameOf(f.id);
      this.event(stack, f.id, name, 'AWS::Lambda::Function', 'UPDATE_IN_PROGRESS');
      let change: FunctionChange;
      try {
        change = this.functionChange(f.id, before[f.id], after[f.id], resolver, physical.assets);
      } catch (e) {
        failed = { id: f.id, reason: (e as Error).message };
        this.record(stack, f.id, 'AWS::Lambda::Function', name, 'UPDATE_FAILED', failed.reason);
        break;
      }
      oldConfig.set(name, this.deps.configuration(name));
      if (!f.aliasId) {
        this.deps.configure(name, change);
        this.record(stack, f.id, 'AWS::Lambda::Function', name, 'UPDATE_COMPLETE');
        continue;
      }
      let started: { version: string; deploymentId: string };
      try {
        started = await this.deps.release(name, change);
      } catch (e) {
        // CodeDeploy refused the deployment (another one is active in the group, say): the alias update fails with its message.
        this.record(stack, f.id, 'AWS::Lambda::Function', name, 'UPDATE_COMPLETE');
        failed = { id: f.aliasId, reason: `CodeDeploy could not start the deployment: ${(e as Error).message}` };
        this.event(stack, f.aliasId, nameOf(f.aliasId), 'AWS::Lambda::Alias', 'UPDATE_IN_PROGRESS');
        this.record(stack, f.aliasId, 'AWS::Lambda::Alias', nameOf(f.aliasId), 'UPDATE_FAILED', failed.reason);
        break;
      }
      const { version, deploymentId } = started;
      const oldVersion = stack.resources.get(f.oldVersionId ?? '')?.physicalId.split(':').at(-1);
      this.record(stack, f.id, 'AWS::Lambda::Function', name, 'UPDATE_COMPLETE');
      if (f.newVersionId) {
        this.event(stack, f.newVersionId, '', 'AWS::Lambda::Version', 'CREATE_IN_PROGRESS');
        this.record(stack, f.newVersionId, 'AWS::Lambda::Version', `arn:aws:lambda:${LAB_REGION}:${LAB_ACCOUNT}:function:${name}:${version}`, 'CREATE_COMPLETE');
      }
      // The alarms that name the version were updated with it, before the alias update starts (the alias depends on them).
      for (const id of plan.following.filter((x) => !followed.has(x) && !plan.functions.some((g) => g.aliasId === x))) {
        followed.add(id);
        this.record(stack, id, after[id].Type, nameOf(id), 'UPDATE_COMPLETE', 'follows the new version');
      }
      const aliasName = nameOf(f.aliasId);
      this.event(stack, f.aliasId, aliasName, 'AWS::Lambda::Alias', 'UPDATE_IN_PROGRESS', `CodeDeploy deployment ${deploymentId} shifts the alias to version ${version}`);
      const end = await this.deps.deploymentEnd(deploymentId);
      if (end.status !== 'Succeeded') {
        if (end.rollbackDeploymentId && oldVersion) rollbacks.push({ aliasId: f.aliasId, functionName: name, deploymentId: end.rollbackDeploymentId, version: oldVersion });
        failed = { id: f.aliasId, reason: `CodeDeploy deployment ${deploymentId} ${end.status.toLowerCase()}${end.message ? `: ${end.message}` : ''}` };
        this.record(stack, f.aliasId, 'AWS::Lambda::Alias', aliasName, 'UPDATE_FAILED', failed.reason);
        break;
      }
      this.record(stack, f.aliasId, 'AWS::Lambda::Alias', aliasName, 'UPDATE_COMPLETE');
    }
    cs.executionStatus = 'EXECUTE_COMPLETE';
    stack.updated = this.deps.clock.now();
    if (failed) {
      stack.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
      stack.reason = `The following resource(s) failed to update: [${failed.id}]. ${failed.reason}`;
      this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status, stack.reason);
      this.deps.iam.setStack(stack.name, stackIam(stack.name, before, oldResolver));
      for (const id of plan.custom) {
        this.event(stack, id, nameOf(id), 'Custom::AWS', 'UPDATE_IN_PROGRESS');
        this.record(stack, id, 'Custom::AWS', nameOf(id), 'UPDATE_COMPLETE', await customCall(before[id], oldResolver));
      }
      for (const [name, config] of oldConfig) {
        const id = plan.functions.find((f) => nameOf(f.id) === name)!.id;
        this.event(stack, id, name, 'AWS::Lambda::Function', 'UPDATE_IN_PROGRESS');
        this.deps.configure(name, config);
        this.record(stack, id, 'AWS::Lambda::Function', name, 'UPDATE_COMPLETE');
      }
      // The alarms go back to the old version, and each alias is back on it once CodeDeploy's
      // rollback deployment ends: only then is the stack rolled back, and a new deployment of the
      // group can start (CodeDeploy allows one active deployment per group).
      // https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
      for (const rb of rollbacks) {
        await this.deps.followVersion(rb.functionName, rb.version);
        this.event(stack, rb.aliasId, nameOf(rb.aliasId), 'AWS::Lambda::Alias', 'UPDATE_IN_PROGRESS', `CodeDeploy rollback deployment ${rb.deploymentId} returns the alias to version ${rb.version}`);
        const end = await this.deps.deploymentEnd(rb.deploymentId);
        if (end.status === 'Succeeded') {
          this.record(stack, rb.aliasId, 'AWS::Lambda::Alias', nameOf(rb.aliasId), 'UPDATE_COMPLETE');
          continue;
        }
        const reason = `CodeDeploy rollback deployment ${rb.deploymentId} ${end.status.toLowerCase()}${end.message ? `: ${end.message}` : ''}`;
        this.record(stack, rb.aliasId, 'AWS::Lambda::Alias', nameOf(rb.aliasId), 'UPDATE_FAILED', reason);
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
        stack.status = 'UPDATE_ROLLBACK_FAILED';
        stack.reason = `The following resource(s) failed to update: [${rb.aliasId}]. ${reason}`;
        this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status, stack.reason);
        return;
      }
      stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
      this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status);
      for (const f of plan.functions) {
        if (!f.newVersionId || !stack.resources.has(f.newVersionId)) continue;
        // The version the failed update published stays in the lab, as it would in AWS with the version's Retain policy; nothing routes to it.
        this.record(stack, f.newVersionId, 'AWS::Lambda::Version', stack.resources.get(f.newVersionId)!.physicalId, 'DELETE_SKIPPED', 'the published version stays; nothing routes to it');
        stack.resources.delete(f.newVersionId);
      }
      stack.status = 'UPDATE_ROLLBACK_COMPLETE';
      this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status);
      return;
    }
    stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status);
    for (const f of plan.functions) {
      if (!f.oldVersionId || f.oldVersionId === f.newVersionId || !stack.resources.has(f.oldVersionId)) continue;
      // CDK retains old versions (RemovalPolicy.RETAIN); the lab keeps them in any case.
      this.record(stack, f.oldVersionId, 'AWS::Lambda::Version', stack.resources.get(f.oldVersionId)!.physicalId, 'DELETE_SKIPPED', 'the old version stays published');
      stack.resources.delete(f.oldVersionId);
    }
    for (const id of plan.following.filter((x) => !followed.has(x))) this.record(stack, id, after[id].Type, nameOf(id), 'UPDATE_COMPLETE', 'follows the new version');
    stack.body = cs.body;
    stack.flat = flat;
    try {
      stack.outputs = this.outputs(flat, resolver);
    } catch {
      // Outputs that name what the lab cannot resolve keep their last values.
    }
    stack.status = 'UPDATE_COMPLETE';
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status);
  }

  private outputs(flat: Flattened, resolver: Resolver): Stack['outputs'] {
    return Object.entries(flat.template.Outputs ?? {}).map(([key, o]) => ({
      OutputKey: key,
      OutputValue: String(resolver.resolve(o.Value)),
      ...(o.Description ? { Description: o.Description } : {}),
      ...(o.Export ? { ExportName: String(resolver.resolve((o.Export as { Name: unknown }).Name)) } : {}),
    }));
  }

  /** The physical name and attributes of a bucket, parameter or role, before any is created. */
  private nameOwn(stack: Stack, id: string, r: NonNullable<RawTemplate['Resources']>[string], resolver: Resolver, refs: Map<string, string>, attrs: Map<string, string>): void {
    const p = r.Properties ?? {};
    const given = (k: string) => (p[k] === undefined ? undefined : String(resolver.resolve(p[k])));
    const suffix = randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase();
    switch (r.Type) {
      case 'AWS::S3::Bucket': {
        const name = given('BucketName') ?? `${stack.name}-${id}-${suffix}`.toLowerCase().slice(0, 63);
        refs.set(id, name);
        attrs.set(`${id}.Arn`, `arn:aws:s3:::${name}`);
        attrs.set(`${id}.DomainName`, `${name}.s3.amazonaws.com`);
        attrs.set(`${id}.RegionalDomainName`, `${name}.s3.${LAB_REGION}.amazonaws.com`);
        return;
      }
      case 'AWS::SSM::Parameter':
        refs.set(id, given('Name') ?? `CFN-${id}-${suffix}`);
        return;
      case 'AWS::IAM::Role': {
        const name = given('RoleName') ?? `${stack.name}-${id}-${suffix}`.slice(0, 64);
        const path = given('Path') ?? '/';
        refs.set(id, name);
        attrs.set(`${id}.Arn`, `arn:aws:iam::${LAB_ACCOUNT}:role${path}${name}`);
        attrs.set(`${id}.RoleId`, `AROALAB${suffix}`);
        return;
      }
    }
  }

  /** Create a bucket, parameter or role, or record a resource the lab does not model. */
  private createOwn(stack: Stack, id: string, r: NonNullable<RawTemplate['Resources']>[string], resolver: Resolver, refs: Map<string, string>, attrs: Map<string, string>): { id: string; reason?: string } {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        this.deps.s3.createBucket(refs.get(id)!);
        return { id: refs.get(id)! };
      case 'AWS::SSM::Parameter': {
        const value = String(resolver.resolve(p.Value));
        this.deps.ssm.put(refs.get(id)!, value, p.Type ?? 'String', false);
        attrs.set(`${id}.Value`, value);
        attrs.set(`${id}.Type`, String(p.Type ?? 'String'));
        return { id: refs.get(id)! };
      }
      case 'AWS::IAM::Role':
        this.deps.roles.add(attrs.get(`${id}.Arn`)!);
        return { id: refs.get(id)!, reason: 'recorded: STS lets this role be assumed; the lab does not enforce IAM policies' };
      default: {
        // Recorded, so that Ref and the generated Arn resolve, and reported in the event.
        const physical = new Resolver({ stackName: stack.name, template: { Resources: { [id]: r } } as unknown as Template, assemblyDir: '' }).ref(id)!;
        refs.set(id, physical);
        return { id: physical, reason: `recorded only: the lab does not model ${r.Type}` };
      }
    }
  }

  private deleteStack(s: Stack): void {
    if (BUSY.test(s.status) && s.status !== 'REVIEW_IN_PROGRESS') throw err(`Stack [${s.name}] cannot be deleted while in status ${s.status}`);
    this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_IN_PROGRESS', 'User Initiated');
    const live = [...s.resources.values()].filter((r) => LIVE_IN_LAB.includes(r.type));
    if (live.length) {
      s.status = 'DELETE_FAILED';
      s.reason = `The following resource(s) failed to delete: [${live.map((r) => r.logicalId).join(', ')}]. the lab does not take live ${[...new Set(live.map((r) => r.type))].join(', ')} resources down (restart the lab instead)`;
      this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_FAILED', s.reason);
      return;
    }
    const resources = s.flat?.template.Resources ?? {};
    for (const id of dependencyOrder(resources).reverse()) {
      const r = s.resources.get(id);
      if (!r) continue;
      // DeletionPolicy Retain keeps the resource and takes it out of the stack.
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
      const retain = resources[id]?.DeletionPolicy === 'Retain' || resources[id]?.DeletionPolicy === 'RetainExceptOnCreate';
      if (!retain) {
        try {
          if (r.type === 'AWS::S3::Bucket') this.deps.s3.deleteBucket(r.physicalId);
          if (r.type === 'AWS::SSM::Parameter') this.deps.ssm.delete(r.physicalId);
          if (r.type === 'AWS::IAM::Role') this.deps.roles.delete(`arn:aws:iam::${LAB_ACCOUNT}:role/${r.physicalId}`);
        } catch (e) {
          this.record(s, id, r.type, r.physicalId, 'DELETE_FAILED', (e as Error).message);
          s.status = 'DELETE_FAILED';
          s.reason = `The following resource(s) failed to delete: [${id}]. ${(e as Error).message}`;
          this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_FAILED', s.reason);
          return;
        }
      }
      this.record(s, id, r.type, r.physicalId, retain ? 'DELETE_SKIPPED' : 'DELETE_COMPLETE');
    }
    this.deps.iam.removeStack(s.name);
    s.status = 'DELETE_COMPLETE';
    this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_COMPLETE');
  }

  private async templateSummary(i: Record<string, unknown>) {
    const body = i.StackName !== undefined && i.TemplateBody === undefined && i.TemplateURL === undefined ? (this.stack(i.StackName).body ?? '{}') : await this.templateBody(i);
    const t = this.parseTemplate(body);
    const types = [...new Set(Object.values(t.Resources ?? {}).map((r) => r.Type))];
    const needed = requiredCapability({ Resources: t.Resources ?? {} });
    return {
      Parameters: Object.entries(t.Parameters ?? {}).map(([k, p]) => ({ ParameterKey: k, ParameterType: p.Type, DefaultValue: p.Default === undefined ? undefined : String(p.Default), NoEcho: p.NoEcho === true || p.NoEcho === 'true', Description: p.Description })),
      Description: t.Description,
      Capabilities: needed ? [needed] : [],
      ResourceTypes: types,
      Version: '2010-09-09',
      Metadata: t.Metadata === undefined ? undefined : JSON.stringify(t.Metadata),
      DeclaredTransforms: [],
    };
  }

  private describeStack(s: Stack) {
    return {
      StackId: s.id,
      StackName: s.name,
      ChangeSetId: s.changeSetId,
      Description: s.description,
      Parameters: s.flat?.parameters.map(({ ParameterKey, ParameterValue, ResolvedValue }) => ({ ParameterKey, ParameterValue, ResolvedValue })),
      CreationTime: new Date(s.created),
      LastUpdatedTime: s.updated === undefined ? undefined : new Date(s.updated),
      StackStatus: s.status,
      StackStatusReason: s.reason,
      DisableRollback: false,
      Capabilities: s.capabilities,
      Outputs: s.outputs,
      Tags: s.tags,
      EnableTerminationProtection: false,
      DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
    };
  }

  private describeResource(s: Stack, r: StackResource) {
    return { StackName: s.name, StackId: s.id, LogicalResourceId: r.logicalId, PhysicalResourceId: r.physicalId, ResourceType: r.type, Timestamp: new Date(r.updated), ResourceStatus: r.status, ResourceStatusReason: r.reason, DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' } };
  }

  private record(s: Stack, logicalId: string, type: string, physicalId: string, status: string, reason?: string): void {
    s.resources.set(logicalId, { logicalId, type, physicalId, status, reason, updated: this.deps.clock.now() });
    this.event(s, logicalId, physicalId, type, status, reason);
  }

  private event(s: Stack, logicalId: string, physicalId: string, type: string, status: string, reason?: string): void {
    s.events.push({
      EventId: randomUUID(),
      StackId: s.id,
      StackName: s.name,
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId,
      ResourceType: type,
      // Strictly later than the stack's last event, so readers that sort by time keep the order.
      Timestamp: new Date(Math.max(this.deps.clock.now(), (s.events.at(-1)?.Timestamp.getTime() ?? 0) + 1)),
      ResourceStatus: status,
      ...(reason ? { ResourceStatusReason: reason } : {}),
    });
  }
}

/**
 * The capability a template needs: CAPABILITY_NAMED_IAM for IAM resources with custom names,
 * CAPABILITY_IAM for other IAM resources.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html
 */
function requiredCapability(t: { Resources: NonNullable<RawTemplate['Resources']> }): string | undefined {
  const iam = Object.values(t.Resources).filter((r) => IAM_TYPES.includes(r.Type));
  if (!iam.length) return undefined;
  const named = iam.some((r) => ['RoleName', 'PolicyName', 'ManagedPolicyName', 'UserName', 'GroupName', 'InstanceProfileName'].some((k) => r.Properties?.[k] !== undefined && r.Type !== 'AWS::IAM::Policy'));
  return named ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM';
}

/** Why the lab cannot read the identity policies of a template (a change set that would change them), if it cannot. */
function unreadableIam(stackName: string, flat: Flattened, physical: StackArtifact['physical']): string | undefined {
  try {
    stackIam(stackName, flat.template.Resources as unknown as Template['Resources'], new Resolver({ stackName, template: flat.template as unknown as Template, assemblyDir: '', physical }));
    return undefined;
  } catch (e) {
    return `the lab cannot apply this update: ${(e as Error).message}`;
  }
}

/**
 * Resources in an order where each comes after what it names: DependsOn, Ref, Fn::GetAtt and
 * `${...}` in Fn::Sub. A cycle is CloudFormation's "Circular dependency" error.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
 */
export function dependencyOrder(resources: NonNullable<RawTemplate['Resources']>): string[] {
  const ids = Object.keys(resources);
  const deps = new Map<string, Set<string>>();
  const collect = (v: unknown, into: Set<string>): void => {
    if (Array.isArray(v)) return v.forEach((x) => collect(x, into));
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'Ref' && typeof x === 'string' && x in resources) into.add(x);
      else if (k === 'Fn::GetAtt') into.add(Array.isArray(x) ? String(x[0]) : String(x).split('.')[0]);
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(x) ? String(x[0]) : String(x);
        for (const m of text.matchAll(/\$\{([^}!.]+)/g)) if (m[1] in resources) into.add(m[1]);
        if (Array.isArray(x)) collect(x[1], into);
      } else collect(x, into);
    }
  };
  for (const id of ids) {
    const d = new Set<string>();
    const r = resources[id];
    for (const x of r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]) {
      if (!(x in resources)) throw err(`Template format error: Unresolved resource dependencies [${x}] in the Resources block of the template`);
      d.add(x);
    }
    collect(r.Properties, d);
    d.delete(id);
    deps.set(id, d);
  }
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw err(`Circular dependency between resources: [${path.slice(path.indexOf(id)).join(', ')}]`);
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) if (d in resources) visit(d, [...path, id]);
    state.set(id, 'done');
    out.push(id);
  };
  for (const id of ids) visit(id, []);
  return out;
}

/** Bucket and key of a TemplateURL, path-style or virtual-hosted. */
export function s3Location(url: string): { bucket: string; key: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw err(`TemplateURL must be a supported URL, got ${url}`);
  }
  const path = decodeURIComponent(u.pathname).replace(/^\//, '');
  const hosted = /^(.+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.exec(u.hostname);
  if (hosted) return { bucket: hosted[1], key: path };
  const [bucket, ...key] = path.split('/');
  if (!bucket || !key.length) throw err(`TemplateURL must reference a valid S3 object to which you have access, got ${url}`);
  return { bucket, key: key.join('/') };
}
