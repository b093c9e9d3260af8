import { parseLambdaAppSpec, type LambdaAppSpec } from '../core/appspec';
import type { GuardConfig } from '../core/config';
import type { RolloutShape } from '../core/types';
import type { DeploymentInfo, DeploymentPort } from '../aws/ports';
import { errorText, mapLimit } from '../aws/util';

/** A deployment the watchdog guards, with what it moves where. */
export interface ActiveDeployment {
  readonly guard: GuardConfig;
  readonly info: DeploymentInfo;
  readonly appSpec: LambdaAppSpec;
  readonly rollout: RolloutShape;
}

export interface Discovery {
  readonly active: ActiveDeployment[];
  /** What could not be listed or described. Anything here means the watchdog did not see everything. */
  readonly errors: string[];
}

const ENDED = new Set(['Succeeded', 'Failed', 'Stopped']);
/** Parallel ListDeployments calls per run: keeps under CodeDeploy's (undocumented) rate limits. */
const LIST_CONCURRENCY = 4;

/**
 * Find the deployments of `guards` that have not ended, plus `extraIds` (from an event).
 * Rollback deployments are left alone: they restore the old version.
 */
export async function discover(guards: readonly GuardConfig[], deployments: DeploymentPort, extraIds: readonly string[] = []): Promise<Discovery> {
  const errors: string[] = [];
  const listed = await mapLimit(guards, LIST_CONCURRENCY, async (g) => {
    try {
      return await deployments.listActive(g.application, g.deploymentGroup);
    } catch (err) {
      errors.push(`ListDeployments ${g.application}/${g.deploymentGroup}: ${errorText(err)}`);
      return [];
    }
  });
  const ids = [...new Set([...listed.flat(), ...extraIds])];
  if (!ids.length) return { active: [], errors };
  let infos: DeploymentInfo[];
  try {
    infos = await deployments.describe(ids);
  } catch (err) {
    return { active: [], errors: [...errors, `BatchGetDeployments: ${errorText(err)}`] };
  }
  const byGroup = new Map(guards.map((g) => [`${g.application}/${g.deploymentGroup}`, g]));
  const active: ActiveDeployment[] = [];
  for (const info of infos) {
    const guard = byGroup.get(`${info.application}/${info.deploymentGroup}`);
    if (!guard) continue;
    // Ended deployments need nothing (their state expires); rollbacks restore the old version.
    if (ENDED.has(info.status) || info.isRollback) continue;
    if (!info.appSpec) {
      errors.push(`deployment ${info.deploymentId}: no AppSpec content in its revision`);
      continue;
    }
    try {
      const appSpec = parseLambdaAppSpec(info.appSpec);
      if (appSpec.functionName !== guard.functionName || appSpec.alias !== guard.alias) {
        // Its metrics would be read for the wrong function: refuse rather than judge blindly.
        throw new Error(
          `moves ${appSpec.functionName}:${appSpec.alias}, but its group ${guard.application}/${guard.deploymentGroup} guards ${guard.functionName}:${guard.alias}`,
        );
      }
      const rollout = await deployments.rollout(info.deploymentConfigName);
      active.push({ guard, info, appSpec, rollout });
    } catch (err) {
      errors.push(`deployment ${info.deploymentId} ${err instanceof Error && err.name === 'Error' ? err.message : errorText(err)}`);
    }
  }
  return { active, errors };
}
