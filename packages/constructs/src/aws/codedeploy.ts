import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  GetDeploymentConfigCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  type DeploymentStatus,
} from '@aws-sdk/client-codedeploy';
import { PREDEFINED_LAMBDA_CONFIGS, rolloutFromTrafficRouting } from '../core/rollout';
import type { RolloutShape } from '../core/types';
import { chunk, errorName } from './util';
import type { ActionPort, DeploymentInfo, DeploymentPort } from './ports';

/** Statuses of a deployment that has not ended. */
export const ACTIVE_STATUSES: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];

/** BatchGetDeployments accepts at most 25 ids per call.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_BatchGetDeployments.html */
export const BATCH_GET_DEPLOYMENTS_MAX = 25;

export class CodeDeployDeployments implements DeploymentPort {
  private readonly configs = new Map<string, RolloutShape>();

  constructor(private readonly client: CodeDeployClient) {}

  async listActive(application: string, deploymentGroup: string): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new ListDeploymentsCommand({ applicationName: application, deploymentGroupName: deploymentGroup, includeOnlyStatuses: ACTIVE_STATUSES, nextToken }),
      );
      ids.push(...(out.deployments ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    return ids;
  }

  async describe(ids: readonly string[]): Promise<DeploymentInfo[]> {
    const out: DeploymentInfo[] = [];
    for (const batch of chunk([...new Set(ids)], BATCH_GET_DEPLOYMENTS_MAX)) {
      const res = await this.client.send(new BatchGetDeploymentsCommand({ deploymentIds: batch }));
      for (const d of res.deploymentsInfo ?? []) {
        if (!d.deploymentId) continue;
        out.push({
          deploymentId: d.deploymentId,
          application: d.applicationName ?? '',
          deploymentGroup: d.deploymentGroupName ?? '',
          status: d.status ?? 'Unknown',
          createdAt: d.createTime ? d.createTime.getTime() : 0,
          deploymentConfigName: d.deploymentConfigName ?? 'CodeDeployDefault.LambdaAllAtOnce',
          appSpec: d.revision?.appSpecContent?.content ?? d.revision?.string?.content,
          // A rollback is a new deployment created by CodeDeploy; the watchdog never stops one.
          // https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
          isRollback: d.creator === 'codeDeployRollback' || d.creator === 'CloudFormationRollback' || Boolean(d.rollbackInfo?.rollbackTriggeringDeploymentId),
        });
      }
    }
    return out;
  }

  async rollout(configName: string): Promise<RolloutShape> {
    const known = PREDEFINED_LAMBDA_CONFIGS[configName] ?? this.configs.get(configName);
    if (known) return known;
    const res = await this.client.send(new GetDeploymentConfigCommand({ deploymentConfigName: configName }));
    const shape = rolloutFromTrafficRouting(res.deploymentConfigInfo?.trafficRoutingConfig ?? {}, configName);
    this.configs.set(configName, shape);
    return shape;
  }
}

export class CodeDeployActions implements ActionPort {
  constructor(private readonly client: CodeDeployClient) {}

  async stopAndRollBack(deploymentId: string): Promise<'ok' | 'already-ended'> {
    try {
      await this.client.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
      return 'ok';
    } catch (err) {
      // Stopping a deployment that already ended is what a repeated or concurrent run does.
      // https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html
      if (errorName(err) === 'DeploymentAlreadyCompletedException') return 'already-ended';
      throw err;
    }
  }

  async reportHook(deploymentId: string, hookExecutionId: string, status: 'Succeeded' | 'Failed'): Promise<'ok' | 'already-reported'> {
    try {
      await this.client.send(
        new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: hookExecutionId, status }),
      );
      return 'ok';
    } catch (err) {
      // https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html
      const name = errorName(err);
      if (name === 'LifecycleEventAlreadyCompletedException' || name === 'DeploymentAlreadyCompletedException') return 'already-reported';
      throw err;
    }
  }
}
