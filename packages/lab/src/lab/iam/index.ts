import { createHash } from 'node:crypto';
import { LAB_ACCOUNT, LAB_REGION, LabError } from '../kernel';
import { evaluate, type AuthRequest, type PolicyDocument } from './evaluate';
import type { DenialShape } from './actions';
import type { StackIam } from './policies';

export { evaluate, type AuthRequest, type Decision, type PolicyDocument } from './evaluate';
export { stackIam, type StackIam } from './policies';
export { authorizationFor, NOT_EVALUATED, type Call, type DenialShape, type Lookups } from './actions';

/** Who signed a request: a role session (the lab's STS, or a function's execution role). */
export interface Principal {
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  readonly roleArn: string;
  readonly session: string;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}


/**
 * IAM in the lab: the roles its stacks create with their identity policies, and the access keys
 * that act as a role. A key the lab did not hand out (the default `lab`) keeps full access.
 * Requests are evaluated by ./evaluate.ts; ./actions.ts says what each call requests.
 */
export class IamLab {
  private readonly stacks = new Map<string, StackIam>();
  private readonly sessions = new Map<string, Principal>();

  /** The IAM of a stack, replacing what the stack said before (an update). */
  setStack(stackName: string, iam: StackIam): void {
    this.stacks.set(stackName, iam);
  }

  removeStack(stackName: string): void {
    this.stacks.delete(stackName);
  }

  roleExists(arn: string): boolean {
    return [...this.stacks.values()].some((s) => s.roles.includes(arn));
  }

  /** Every identity policy of a role, from every stack that gives it one. */
  policiesOf(roleArn: string): PolicyDocument[] {
    const docs: PolicyDocument[] = [];
    for (const s of this.stacks.values()) {
      for (const p of s.policies.get(roleArn) ?? []) docs.push(p.document);
      for (const arn of s.attached.get(roleArn) ?? []) {
        const m = [...this.stacks.values()].map((x) => x.managed.get(arn)).find((x) => x !== undefined);
        if (m) docs.push(m.document);
      }
    }
    return docs;
  }

  /**
   * Credentials acting as a role session. The same role and session get the same key (a
   * function's environment keeps its credentials); `nonce` tells sessions of one name apart.
   */
  issue(roleArn: string, session: string, nonce = ''): Credentials {
    const roleName = roleArn.slice(roleArn.indexOf(':role/') + ':role/'.length).split('/').pop()!;
    const arn = `arn:aws:sts::${LAB_ACCOUNT}:assumed-role/${roleName}/${session}`;
    const accessKeyId = `ASIALAB${createHash('sha256').update(`${roleArn}/${session}@${nonce}`).digest('hex').slice(0, 13).toUpperCase()}`;
    this.sessions.set(accessKeyId, { arn, roleArn, session });
    return { accessKeyId, secretAccessKey: 'lab', sessionToken: `lab-session-${accessKeyId}` };
  }

  /** The role session an access key acts as; undefined for the lab's default (full-access) keys. */
  principalOf(accessKeyId: string | undefined): Principal | undefined {
    return accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
  }

  /**
   * Whether the key may make every one of the requests; the first one denied is answered with
   * AWS's AccessDenied message in the service's shape.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
   */
  authorize(accessKeyId: string | undefined, requests: readonly AuthRequest[], shape: DenialShape): LabError | undefined {
    const who = this.principalOf(accessKeyId);
    if (!who) return undefined;
    const policies = this.policiesOf(who.roleArn);
    for (const req of requests) {
      const context = { 'aws:PrincipalArn': who.roleArn, 'aws:PrincipalAccount': LAB_ACCOUNT, 'aws:RequestedRegion': LAB_REGION, ...req.context };
      const decision = evaluate(policies, { ...req, context });
      if (decision === 'Allow') continue;
      const because = decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${req.action} action`;
      return new LabError(shape.code, `User: ${who.arn} is not authorized to perform: ${req.action} on resource: ${req.resource} ${because}`, shape.status);
    }
    return undefined;
  }
}
