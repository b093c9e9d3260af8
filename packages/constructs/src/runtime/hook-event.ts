/**
 * The payload CodeDeploy sends a Lambda lifecycle hook: only the two ids, not the version.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#reference-appspec-file-structure-hooks-section-structure-lambda-sample-function
 */
export interface HookEvent {
  readonly deploymentId: string;
  readonly hookExecutionId: string;
}

export function parseHookEvent(event: unknown): HookEvent | { error: string } {
  if (typeof event !== 'object' || event === null) return { error: `hook event must be an object, got ${event === null ? 'null' : typeof event}` };
  const e = event as Record<string, unknown>;
  const id = e.DeploymentId;
  const hook = e.LifecycleEventHookExecutionId;
  if (typeof id !== 'string' || !id || typeof hook !== 'string' || !hook) {
    return {
      error: `hook event needs string fields DeploymentId and LifecycleEventHookExecutionId, got ${JSON.stringify(Object.keys(e))}`,
    };
  }
  return { deploymentId: id, hookExecutionId: hook };
}
