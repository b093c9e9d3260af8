import { Annotations, AspectPriority, Aspects, CfnResource, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The finding's id: an integration reaches a guarded function's `$LATEST` instead of its alias.
 * Acknowledge an intended one with `Validations.of(scope).acknowledge({ id: UNGUARDED_INTEGRATION, reason })`
 * on the resource or a construct above it.
 */
export const UNGUARDED_INTEGRATION = 'canary-watchdog:unguarded-integration';

/** What the check needs to know of one guard: its function, its alias, and its own scopes. */
interface Guard {
  readonly functionLogicalId: string;
  readonly functionPath: string;
  readonly aliasName: string;
  /** Paths of constructs whose resources are the guard's own (the guard and its watchdog). */
  readonly ownScopes: readonly string[];
}

/**
 * Resource types that name a function without sending it requests: the function itself, its
 * versions and aliases, permissions granted to principals in IAM (which name a caller uses is not
 * in the template), logs, alarms and dashboards, CodeDeploy.
 */
const NOT_INTEGRATIONS = new Set([
  'AWS::Lambda::Function',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Role',
  'AWS::Logs::LogGroup',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::CodeDeploy::Application',
  'AWS::CodeDeploy::DeploymentGroup',
  'AWS::CodeDeploy::DeploymentConfig',
  'AWS::CDK::Metadata',
]);

const guardsOf = new WeakMap<Stack, Guard[]>();

/** Register a guard of `stack`; the first one adds the check to the stack. */
export function checkIntegrations(stack: Stack, guard: Guard): void {
  let guards = guardsOf.get(stack);
  if (!guards) {
    guards = [];
    guardsOf.set(stack, guards);
    // Read-only: it runs after every aspect that may still add integrations.
    Aspects.of(stack).add(new IntegrationCheck(guards), { priority: AspectPriority.READONLY });
  }
  guards.push(guard);
}

class IntegrationCheck implements IAspect {
  constructor(private readonly guards: readonly Guard[]) {}

  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || NOT_INTEGRATIONS.has(node.cfnResourceType)) return;
    const path = node.node.path;
    if (this.guards.some((g) => g.ownScopes.some((s) => path === s || path.startsWith(`${s}/`)))) return;
    let rendered: { Resources?: Record<string, { Properties?: Record<string, unknown> }> };
    try {
      rendered = Stack.of(node).resolve((node as unknown as { _toCloudFormation(): object })._toCloudFormation());
    } catch {
      return;
    }
    const props = Object.values(rendered.Resources ?? {})[0]?.Properties ?? {};
    // A Qualifier property (function URLs, permissions) other than $LATEST points at a version or alias.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-url.html
    if (typeof props.Qualifier === 'string' && props.Qualifier !== '$LATEST') return;
    for (const g of this.guards) {
      if (!unqualifiedReference(props, g.functionLogicalId)) continue;
      const ack = acknowledgement(node);
      if (ack !== undefined) {
        Annotations.of(node).addInfo(`${path} integrates with ${g.functionPath} unqualified ($LATEST), bypassing the canary of the alias ${g.aliasName}; acknowledged: ${ack}`);
        continue;
      }
      Annotations.of(node).addError(
        `${path} (${node.cfnResourceType}) integrates with ${g.functionPath} unqualified ($LATEST), so its requests bypass the canary of the alias ${g.aliasName}: ` +
          `CodeDeploy shifts only the alias. Integrate with guarded.alias instead (new LambdaIntegration(guarded.alias), guarded.alias.addFunctionUrl(), ` +
          `guarded.alias.addEventSource(...), new targets.LambdaFunction(guarded.alias)). If it is meant (a debug URL, a maintenance job), acknowledge it on this resource ` +
          `or a construct above it: Validations.of(...).acknowledge({ id: '${UNGUARDED_INTEGRATION}', reason: '...' })`,
      );
    }
  }
}

/** The reason an enclosing construct acknowledged the finding with, if one did. */
function acknowledgement(node: IConstruct): string | undefined {
  for (const scope of [...node.node.scopes].reverse()) {
    for (const m of scope.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        if (id === UNGUARDED_INTEGRATION || id.endsWith(`::${UNGUARDED_INTEGRATION}`)) return reason;
      }
    }
  }
  return undefined;
}

/**
 * Whether a rendered value names the function without a qualifier: a `Ref` to it or its `Arn`,
 * not followed in an Fn::Join by `:<version or alias>` (`:$LATEST` is unqualified too).
 */
export function unqualifiedReference(value: unknown, logicalId: string): boolean {
  const names = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    const o = v as Record<string, unknown>;
    if (o.Ref === logicalId) return true;
    const att = o['Fn::GetAtt'];
    return Array.isArray(att) && att[0] === logicalId && att[1] === 'Arn';
  };
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (names(v)) return true;
    if (Array.isArray(v)) return v.some(walk);
    const o = v as Record<string, unknown>;
    const join = o['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      const parts = join[1] as unknown[];
      const sep = typeof join[0] === 'string' ? join[0] : '';
      return parts.some((p, i) => {
        if (!names(p)) return walk(p);
        const next = `${i + 1 < parts.length ? sep : ''}${typeof parts[i + 1] === 'string' ? (parts[i + 1] as string) : ''}`;
        return !(next.startsWith(':') && !next.startsWith(':$LATEST'));
      });
    }
    const sub = o['Fn::Sub'];
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
    if (text !== undefined) {
      const re = new RegExp(`\\$\\{${logicalId}(\\.Arn)?\\}(:(?!\\$LATEST)[A-Za-z0-9_$-]+)?`, 'g');
      for (const m of text.matchAll(re)) if (!m[2]) return true;
      if (Array.isArray(sub) && walk(sub[1])) return true;
      return false;
    }
    return Object.values(o).some(walk);
  };
  return walk(value);
}
