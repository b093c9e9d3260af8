import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LAB_ACCOUNT, LAB_REGION, LabError } from './kernel';

/** A CloudFormation template, as much of it as the lab reads. */
export interface Template {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown>; UpdatePolicy?: Record<string, unknown> }>;
}

export interface StackArtifact {
  readonly stackName: string;
  readonly template: Template;
  /** Folder of the cloud assembly (asset paths are relative to it). */
  readonly assemblyDir: string;
  /** Physical ids and attributes already given by CloudFormation (a deployed stack), over the generated ones. */
  readonly physical?: { readonly refs: ReadonlyMap<string, string>; readonly attrs: ReadonlyMap<string, string> };
}

/** Read every stack of a synthesized cloud assembly (`cdk.out`); a relative folder is taken from the current directory. */
export function readAssembly(relativeOrAbsolute: string): StackArtifact[] {
  // Asset folders are joined to it and handed to worker threads, which resolve a relative module
  // path against their own file, not the current directory: keep every path absolute.
  const dir = resolve(relativeOrAbsolute);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new LabError('InvalidAssembly', `${dir} is not a cloud assembly: no manifest.json (run npx cdk synth first)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> };
  const stacks: StackArtifact[] = [];
  for (const [id, a] of Object.entries(manifest.artifacts ?? {})) {
    if (a.type !== 'aws:cloudformation:stack' || !a.properties?.templateFile) continue;
    stacks.push({
      stackName: a.properties.stackName ?? id,
      template: JSON.parse(readFileSync(join(dir, a.properties.templateFile), 'utf8')) as Template,
      assemblyDir: dir,
    });
  }
  if (!stacks.length) throw new LabError('InvalidAssembly', `${dir}: the cloud assembly holds no CloudFormation stack`);
  return stacks;
}

/** A stable EC2 resource id for a template's resource: `<prefix>-` and 17 hex digits. */
function ec2Id(prefix: string, stack: string, id: string): string {
  return `${prefix}-${createHash('sha256').update(`${stack}/${id}`).digest('hex').slice(0, 17)}`;
}

/** Physical names and attributes of the template's resources, as CloudFormation would give them. */
export class Resolver {
  private readonly refs = new Map<string, string>();
  private readonly attrs = new Map<string, string>();

  constructor(
    private readonly stack: StackArtifact,
    versions: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const [id, r] of Object.entries(stack.template.Resources)) {
      const p = r.Properties ?? {};
      const gen = `${stack.stackName}-${id}`.slice(0, 64);
      const set = (ref: string, attrs: Record<string, string> = {}) => {
        this.refs.set(id, ref);
        for (const [k, v] of Object.entries(attrs)) this.attrs.set(`${id}.${k}`, v);
      };
      const literal = (v: unknown) => (typeof v === 'string' ? v : undefined);
      switch (r.Type) {
        case 'AWS::Lambda::Function': {
          const name = literal(p.FunctionName) ?? gen;
          set(name, { Arn: `arn:aws:lambda:${LAB_REGION}:${LAB_ACCOUNT}:function:${name}` });
          break;
        }
        case 'AWS::CloudWatch::Alarm':
        case 'AWS::CloudWatch::CompositeAlarm': {
          const name = literal(p.AlarmName) ?? gen;
          set(name, { Arn: `arn:aws:cloudwatch:${LAB_REGION}:${LAB_ACCOUNT}:alarm:${name}` });
          break;
        }
        case 'AWS::DynamoDB::Table': {
          const name = literal(p.TableName) ?? gen;
          const arn = `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/${name}`;
          set(name, { Arn: arn, StreamArn: `${arn}/stream/2026-01-01T00:00:00.000` });
          break;
        }
        case 'AWS::CodeDeploy::Application':
          set(literal(p.ApplicationName) ?? gen);
          break;
        case 'AWS::CodeDeploy::DeploymentGroup':
          set(literal(p.DeploymentGroupName) ?? gen);
          break;
        case 'AWS::CodeDeploy::DeploymentConfig':
          set(literal(p.DeploymentConfigName) ?? gen);
          break;
        case 'AWS::Events::Rule':
          set(literal(p.Name) ?? gen, { Arn: `arn:aws:events:${LAB_REGION}:${LAB_ACCOUNT}:rule/${literal(p.Name) ?? gen}` });
          break;
        case 'AWS::IAM::Role':
          set(gen, { Arn: `arn:aws:iam::${LAB_ACCOUNT}:role/${gen}` });
          break;
        // Ref of a managed policy is its ARN. https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html
        case 'AWS::IAM::ManagedPolicy': {
          const arn = `arn:aws:iam::${LAB_ACCOUNT}:policy${literal(p.Path) ?? '/'}${literal(p.ManagedPolicyName) ?? gen}`;
          set(arn, { PolicyArn: arn });
          break;
        }
        // Ref of a layer version is its ARN. https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-layerversion.html
        case 'AWS::Lambda::LayerVersion':
          set(`arn:aws:lambda:${LAB_REGION}:${LAB_ACCOUNT}:layer:${literal(p.LayerName) ?? gen}:1`);
          break;
        // Ref of a VPC, subnet or security group is its id (vpc-, subnet-, sg- and 17 hex digits).
        case 'AWS::EC2::VPC':
          set(ec2Id('vpc', stack.stackName, id));
          break;
        case 'AWS::EC2::Subnet':
          set(ec2Id('subnet', stack.stackName, id));
          break;
        case 'AWS::EC2::SecurityGroup':
          set(ec2Id('sg', stack.stackName, id), { GroupId: ec2Id('sg', stack.stackName, id) });
          break;
        default:
          set(gen, { Arn: `arn:aws:lab:${LAB_REGION}:${LAB_ACCOUNT}:${id}` });
      }
    }
    for (const [id, ref] of stack.physical?.refs ?? []) this.refs.set(id, ref);
    for (const [key, attr] of stack.physical?.attrs ?? []) this.attrs.set(key, attr);
    // Versions are resolved after their functions exist: `<fn arn>:<n>` and `.Version`.
    for (const [id, v] of versions) {
      const fnRef = (stack.template.Resources[id].Properties ?? {}).FunctionName;
      const fnName = this.resolve(fnRef) as string;
      this.refs.set(id, `arn:aws:lambda:${LAB_REGION}:${LAB_ACCOUNT}:function:${fnName}:${v}`);
      this.attrs.set(`${id}.Version`, v);
    }
    // An AlarmName built from tokens (a version-scoped alarm, `<prefix>-v<version>`) is the alarm's
    // name once its parts resolve; before the version exists the alarm keeps the generated name.
    for (const [id, r] of Object.entries(stack.template.Resources)) {
      const name = r.Properties?.AlarmName;
      if (!['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'].includes(r.Type) || name === undefined || typeof name === 'string') continue;
      let resolved: string;
      try {
        resolved = String(this.resolve(name));
      } catch (err) {
        if (err instanceof LabError) continue;
        throw err;
      }
      this.refs.set(id, resolved);
      this.attrs.set(`${id}.Arn`, `arn:aws:cloudwatch:${LAB_REGION}:${LAB_ACCOUNT}:alarm:${resolved}`);
    }
  }

  ref(id: string): string | undefined {
    return this.refs.get(id);
  }

  /** Resolve Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split and pseudo parameters. */
  resolve(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.resolve(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = o[k];
      switch (k) {
        case 'Ref':
          return this.refOf(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.attr(id, attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [i, list] = arg as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(i)];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, unknown];
          return String(this.resolve(s)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            if (name.includes('.')) {
              const [id, attr] = name.split('.');
              return this.attr(id, attr);
            }
            return this.refOf(name);
          });
        }
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, this.resolve(x)]));
  }

  private refOf(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': LAB_REGION,
      'AWS::AccountId': LAB_ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stack.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${LAB_REGION}:${LAB_ACCOUNT}:stack/${this.stack.stackName}/lab`,
    };
    const r = pseudo[id] ?? this.refs.get(id);
    if (r === undefined) throw new LabError('InvalidTemplate', `Ref to ${id}, which is not a resource of ${this.stack.stackName} (or not yet created)`);
    return r;
  }

  private attr(id: string, attr: string): string {
    const a = this.attrs.get(`${id}.${attr}`);
    if (a === undefined) throw new LabError('InvalidTemplate', `Fn::GetAtt ${id}.${attr}: the lab does not model this attribute`);
    return a;
  }
}

/** Where a function's bundled code, or a layer's content, lives in the assembly. */
export function assetDir(stack: StackArtifact, resource: { Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> }): string {
  const meta = resource.Metadata?.['aws:asset:path'];
  if (typeof meta === 'string') return join(stack.assemblyDir, meta);
  // A function's zip is its Code, a layer's its Content, both named by their S3Key when the
  // assembly was synthesized without asset metadata (a plain `app.synth()`).
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-layerversion.html
  const key = ((resource.Properties?.Code ?? resource.Properties?.Content) as { S3Key?: unknown } | undefined)?.S3Key;
  if (typeof key === 'string') {
    const dir = join(stack.assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
    if (existsSync(dir)) return dir;
  }
  throw new LabError('InvalidTemplate', 'function code is not a local asset of the assembly (inline or S3 code is not modelled)');
}
