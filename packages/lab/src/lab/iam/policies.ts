import { LAB_ACCOUNT, LabError } from '../kernel';
import { unsupportedOperator, type PolicyDocument, type Statement } from './evaluate';
import { awsManagedPolicy, isAwsManaged } from './managed';

/** A policy of a role, named for error messages. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/** What one stack says about IAM: its roles, their policies, the managed policies it creates. */
export interface StackIam {
  /** ARNs of the roles the stack creates. */
  readonly roles: readonly string[];
  /** Policies the stack gives each role (inline, AWS::IAM::Policy, AWS managed), by role ARN (a role of another stack too). */
  readonly policies: ReadonlyMap<string, readonly NamedPolicy[]>;
  /** Customer managed policies the stack attaches, by role ARN; resolved at evaluation, as they may live in another stack. */
  readonly attached: ReadonlyMap<string, readonly string[]>;
  /** Customer managed policies the stack creates, by ARN. */
  readonly managed: ReadonlyMap<string, NamedPolicy>;
}

interface Resources {
  readonly [id: string]: { readonly Type: string; readonly Properties?: Record<string, unknown> };
}

/** How a stack's intrinsic functions resolve (the loader's Resolver). */
export interface Resolve {
  resolve(v: unknown): unknown;
  ref(id: string): string | undefined;
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * The identity policies a template gives the roles: inline `Policies` of AWS::IAM::Role,
 * AWS::IAM::Policy (its `Roles`), AWS::IAM::ManagedPolicy (its `Roles`, or a role's
 * `ManagedPolicyArns`), and the AWS managed policies the lab knows. A policy the lab cannot read
 * (an unknown AWS managed policy, a malformed statement) is refused with its name.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
 */
export function stackIam(stackName: string, resources: Resources, r: Resolve): StackIam {
  const roleIds = Object.entries(resources).filter(([, x]) => x.Type === 'AWS::IAM::Role').map(([id]) => id);
  const arnOf = new Map(roleIds.map((id) => [id, String(r.resolve({ 'Fn::GetAtt': [id, 'Arn'] }))]));
  const byName = new Map(roleIds.map((id) => [r.ref(id)!, arnOf.get(id)!]));
  // A role named in `Roles` is one of this stack's, or another role of the account (path /).
  const roleArn = (name: unknown) => byName.get(String(name)) ?? `arn:aws:iam::${LAB_ACCOUNT}:role/${String(name)}`;
  const policies = new Map<string, NamedPolicy[]>();
  const attached = new Map<string, string[]>();
  const managed = new Map<string, NamedPolicy>();
  const give = (arn: string, p: NamedPolicy) => policies.set(arn, [...(policies.get(arn) ?? []), p]);
  const attach = (arn: string, policyArn: string, where: string) => {
    if (isAwsManaged(policyArn)) give(arn, { name: policyArn, document: awsManagedPolicy(policyArn, where) });
    else attached.set(arn, [...(attached.get(arn) ?? []), policyArn]);
  };
  const document = (v: unknown, where: string): PolicyDocument => checked(r.resolve(v), where);

  for (const [id, x] of Object.entries(resources)) {
    const p = x.Properties ?? {};
    const where = `${stackName}/${id} (${x.Type})`;
    if (x.Type === 'AWS::IAM::Role') {
      const arn = arnOf.get(id)!;
      for (const [n, inline] of list(p.Policies).entries()) {
        const { PolicyName, PolicyDocument } = (inline ?? {}) as { PolicyName?: unknown; PolicyDocument?: unknown };
        give(arn, { name: `${where} Policies[${n}] ${String(r.resolve(PolicyName))}`, document: document(PolicyDocument, `${where} Policies[${n}]`) });
      }
      for (const m of list(r.resolve(p.ManagedPolicyArns))) attach(arn, String(m), `${where} ManagedPolicyArns`);
    } else if (x.Type === 'AWS::IAM::Policy') {
      const doc = { name: where, document: document(p.PolicyDocument, where) };
      for (const role of list(r.resolve(p.Roles))) give(roleArn(role), doc);
    } else if (x.Type === 'AWS::IAM::ManagedPolicy') {
      const arn = r.ref(id)!;
      managed.set(arn, { name: where, document: document(p.PolicyDocument, where) });
      for (const role of list(r.resolve(p.Roles))) attach(roleArn(role), arn, where);
    }
  }
  return { roles: [...arnOf.values()], policies, attached, managed };
}

/** A resolved policy document, checked for what the evaluator reads. */
function checked(v: unknown, where: string): PolicyDocument {
  const bad = (what: string) => new LabError('InvalidTemplate', `${where}: ${what}`);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`PolicyDocument: expected an object with a Statement, got ${JSON.stringify(v)}`);
  const doc = v as PolicyDocument;
  for (const [i, s] of list(doc.Statement).entries()) {
    const st = s as Statement;
    if (st?.Effect !== 'Allow' && st?.Effect !== 'Deny') throw bad(`Statement[${i}].Effect: expected Allow or Deny, got ${JSON.stringify(st?.Effect)}`);
    if ((st.Action === undefined) === (st.NotAction === undefined)) throw bad(`Statement[${i}]: expected exactly one of Action and NotAction`);
    if ((st.Resource === undefined) === (st.NotResource === undefined)) throw bad(`Statement[${i}]: expected exactly one of Resource and NotResource`);
    for (const op of Object.keys(st.Condition ?? {})) {
      const why = unsupportedOperator(op);
      if (why) throw bad(`Statement[${i}].Condition: ${why}`);
    }
  }
  return doc;
}
