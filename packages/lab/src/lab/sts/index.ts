import type { IamLab } from '../iam';
import { LAB_ACCOUNT, LabError } from '../kernel';
import { queryService } from '../query';

/**
 * STS as the CDK CLI uses it: GetCallerIdentity for the account, AssumeRole of the bootstrap
 * roles. A role can be assumed once a stack created it; the credentials it hands out act as the
 * assumed role (the lab's IAM evaluates the role's policies) and answer GetCallerIdentity as it.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export class StsLab {
  readonly service;
  private issued = 0;

  constructor(
    /** Whether an IAM role of this ARN exists (created by a stack). */
    private readonly roleExists: (arn: string) => boolean,
    /** Where the sessions it hands out are registered. */
    private readonly iam: IamLab,
  ) {
    this.service = queryService('STS', 'sts', 'https://sts.amazonaws.com/doc/2011-06-15/', {
      GetCallerIdentity: (_input, caller) => {
        const arn = this.iam.principalOf(caller.accessKeyId)?.arn ?? `arn:aws:iam::${LAB_ACCOUNT}:user/lab`;
        return { UserId: arn.includes(':assumed-role/') ? `AROALAB:${arn.split('/').pop()}` : 'AIDALAB', Account: LAB_ACCOUNT, Arn: arn };
      },
      AssumeRole: (input, caller) => this.assumeRole(input, caller.accessKeyId),
    });
  }

  private assumeRole(input: Record<string, unknown>, callerKey?: string) {
    const roleArn = input.RoleArn;
    const session = input.RoleSessionName;
    if (typeof roleArn !== 'string' || !/^arn:aws:iam::\d{12}:role\/.+/.test(roleArn)) {
      throw new LabError('ValidationError', `RoleArn: expected arn:aws:iam::<account>:role/<name>, got ${JSON.stringify(roleArn)}`);
    }
    // "[\w+=,.@-]*", 2 to 64 characters (AssumeRole API reference).
    if (typeof session !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw new LabError('ValidationError', `RoleSessionName: expected 2 to 64 characters of letters, digits and _+=,.@-, got ${JSON.stringify(session)}`);
    }
    const duration = input.DurationSeconds === undefined ? 3600 : Number(input.DurationSeconds);
    // From 900 s up to the role's maximum session duration (the lab gives every role the default 1 hour).
    if (!Number.isInteger(duration) || duration < 900 || duration > 3600) {
      throw new LabError('ValidationError', `DurationSeconds: expected 900 to 3600 (the role's maximum session duration), got ${JSON.stringify(input.DurationSeconds)}`);
    }
    if (!this.roleExists(roleArn)) {
      const who = this.iam.principalOf(callerKey)?.arn ?? `arn:aws:iam::${LAB_ACCOUNT}:user/lab`;
      throw new LabError('AccessDenied', `User: ${who} is not authorized to perform: sts:AssumeRole on resource: ${roleArn} (no stack in the lab created this role)`, 403);
    }
    const c = this.iam.issue(roleArn, session, `sts-${++this.issued}`);
    // Expiration is on the wall clock: the client compares it with its own clock, not the lab's.
    return {
      Credentials: { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: new Date(Date.now() + duration * 1000) },
      AssumedRoleUser: { AssumedRoleId: `AROALAB:${session}`, Arn: this.iam.principalOf(c.accessKeyId)!.arn },
    };
  }
}
