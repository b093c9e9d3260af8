/**
 * Which stack updates the lab can carry out, decided before anything changes. A release of a
 * function (its code or configuration changes, so CDK gives it a new AWS::Lambda::Version, the alarms
 * and alias that name the version follow) is modelled: a guarded alias's CodeDeploy update policy
 * starts a deployment. Resources the lab only records change freely. Anything else is refused
 * with the change named, rather than half applied.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
 */
import type { RawTemplate } from './template';

type Resources = NonNullable<RawTemplate['Resources']>;

export interface UpdatePlan {
  /** Functions whose code or configuration changes: logical id, and whether an alias update policy releases them through CodeDeploy. */
  readonly functions: { readonly id: string; readonly aliasId?: string; readonly newVersionId?: string; readonly oldVersionId?: string }[];
  /** Recorded resources (not live in the lab) added, changed or removed. */
  readonly recorded: { readonly id: string; readonly action: 'Add' | 'Modify' | 'Remove' }[];
  /** AwsCustomResource (Custom::AWS) resources whose SDK call changes: their Update call is made again. */
  readonly custom: string[];
  /** Version-named resources that follow a release (alarms, aliases): no change of their own. */
  readonly following: string[];
}

/** Types live in the lab whose changes only a release explains. */
const LIVE = ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::Lambda::Url', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm', 'AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentConfig', 'AWS::CodeDeploy::DeploymentGroup', 'AWS::Events::Rule', 'Custom::AWS', 'AWS::S3::Bucket', 'AWS::SSM::Parameter'];

/** Function properties whose change the lab carries out (a new version and release when guarded). */
const MODELLED_FUNCTION_PROPERTIES = ['Code', 'Handler', 'Environment', 'Description', 'Timeout', 'MemorySize'];

/** The function a version resource publishes (its FunctionName Ref). */
const versionOf = (r: Resources[string]) => (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref;

/** Plan an update, or say which change the lab cannot make. */
export function planUpdate(before: Resources, after: Resources): UpdatePlan | { refused: string } {
  // Each version resource stands for "the current version of function F" on both sides.
  const normalize = (resources: Resources, r: unknown) => {
    let text = JSON.stringify(r);
    for (const [id, x] of Object.entries(resources)) if (x.Type === 'AWS::Lambda::Version') text = text.split(JSON.stringify(id)).join(JSON.stringify(`<version of ${versionOf(x)}>`));
    return text;
  };
  const versionIdOf = (resources: Resources, fnId: string) => Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Version' && versionOf(r) === fnId)?.[0];
  const refused: string[] = [];
  const plan: UpdatePlan = { functions: [], recorded: [], custom: [], following: [] };
  const released = new Set<string>();
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const [b, a] = [before[id], after[id]];
    if (a && b && JSON.stringify(a) === JSON.stringify(b)) continue;
    const type = (a ?? b).Type;
    const action = !b ? 'Add' : !a ? 'Remove' : 'Modify';
    if (!LIVE.includes(type)) {
      plan.recorded.push({ id, action });
      continue;
    }
    if (type === 'AWS::Lambda::Version') {
      const fn = versionOf(a ?? b);
      if (fn) released.add(fn);
      continue;
    }
    if (action === 'Modify' && type === 'AWS::Lambda::Function') {
      // Metadata (CDK's asset path) describes the resource without changing it.
      const strip = (r: Resources[string]) => JSON.stringify({ ...r, Metadata: undefined, Properties: Object.fromEntries(Object.entries(r.Properties ?? {}).filter(([k]) => !MODELLED_FUNCTION_PROPERTIES.includes(k))) });
      if (strip(a) !== strip(b)) {
        const other = [...new Set([...Object.keys(a.Properties ?? {}), ...Object.keys(b.Properties ?? {})])].filter((k) => !MODELLED_FUNCTION_PROPERTIES.includes(k) && JSON.stringify(a.Properties?.[k]) !== JSON.stringify(b.Properties?.[k]));
        refused.push(`${id} (${type}): changing ${other.length ? other.join(', ') : 'its attributes'} is not modelled; the lab models changes of ${MODELLED_FUNCTION_PROPERTIES.join(', ')}`);
        continue;
      }
      released.add(id);
      continue;
    }
    if (action === 'Modify' && type === 'Custom::AWS') {
      plan.custom.push(id);
      continue;
    }
    if (action === 'Modify' && normalize(before, b) === normalize(after, a)) {
      plan.following.push(id);
      continue;
    }
    refused.push(`${action === 'Add' ? 'adding' : action === 'Remove' ? 'removing' : 'changing'} ${id} (${type})`);
  }
  for (const fnId of released) {
    if (!after[fnId] || !before[fnId]) continue;
    const aliasId = Object.entries(after).find(([, r]) => r.Type === 'AWS::Lambda::Alias' && (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fnId && r.UpdatePolicy?.CodeDeployLambdaAliasUpdate)?.[0];
    if (!aliasId && versionIdOf(after, fnId)) {
      refused.push(`releasing ${fnId} through a version without a CodeDeploy alias update policy`);
      continue;
    }
    plan.functions.push({ id: fnId, aliasId, newVersionId: versionIdOf(after, fnId), oldVersionId: versionIdOf(before, fnId) });
  }
  if (refused.length) return { refused: `the lab cannot apply this update: ${refused.join('; ')}` };
  return plan;
}
