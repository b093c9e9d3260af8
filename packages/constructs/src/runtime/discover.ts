import { parseLambdaAppSpec, type LambdaAppSpec } from '../core/appspec';
import type { GuardConfig, WatchdogConfig } from '../core/config';
import type { RolloutShape } from '../core/types';
import { StateReadError, type DeploymentInfo, type DeploymentPort, type DeploymentState, type RegistryPort, type StatePort, type WatchRef } from '../aws/ports';
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
  /**
   * The same errors by deployment group (`application/deploymentGroup`) when they concern one
   * group only; `*` holds those that concern every group (BatchGetDeployments failed).
   */
  readonly groupErrors: ReadonlyMap<string, readonly string[]>;
  /** What went wrong without hiding anything this run (a registry write that failed). */
  readonly warnings: string[];
  /**
   * The guarded deployments this run found ended (Succeeded, Failed, Stopped; rollbacks left out),
   * as described: named by a state-change event, or registered and seen by the reconciling run.
   */
  readonly ended: readonly { readonly guard: GuardConfig; readonly info: DeploymentInfo }[];
  /** The watch removals an earlier run could not make, from the registry (WatchEndPort). */
  readonly unwatch: readonly WatchRef[];
  /** The state items of the ids found, when the discovery read them (RegistryOptions.state); absent when it did not or could not. */
  readonly states?: Map<string, DeploymentState>;
  /**
   * The ids whose state the discovery tried and failed to read, and why: their state is unknown,
   * not absent. With `states` (a partial read) only those ids; without it, every id found.
   */
  readonly stateFailure?: { readonly message: string; readonly ids: readonly string[] };
}

/** Registry use for one discovery. */
export interface RegistryOptions {
  readonly registry: RegistryPort;
  /** Add what is found active and remove what ended (the watchdog); the prober only reads. */
  readonly write: boolean;
  /** List every group when the last full listing is older than RECONCILE_EVERY_MS (the watchdog's runs over every guard). */
  readonly reconcile: boolean;
  readonly now: number;
  /**
   * Where the pre-traffic hook recorded each deployment as it described it. When given, the
   * state items of the ids found are read (and returned), and a run that does not reconcile takes
   * a registered deployment from its item instead of describing it again; ids named by an event,
   * and items without the record, are described.
   */
  readonly state?: StatePort;
}

/**
 * How often the watchdog lists every guarded group to reconcile the registry: it catches a
 * deployment that neither the pre-traffic hook nor a deployment event registered (an AppSpec
 * without the hook, a lost event), at the cost of one ListDeployments per group.
 */
export const RECONCILE_EVERY_MS = 10 * 60_000;

const ENDED = new Set(['Succeeded', 'Failed', 'Stopped']);
/** Parallel ListDeployments calls per run: keeps under CodeDeploy's (undocumented) rate limits. */
const LIST_CONCURRENCY = 4;

/**
 * Find the deployments of `guards` that have not ended, plus `extraIds` (from an event).
 * Rollback deployments are left alone: they restore the old version.
 *
 * With a registry, the ids come from its one item, and the groups are listed only to reconcile
 * it (every RECONCILE_EVERY_MS) or when it cannot be read; without one, every group is listed.
 */
/** The key of a deployment group in heartbeats and per-group errors. */
export function groupKey(g: { readonly application: string; readonly deploymentGroup: string }): string {
  return `${g.application}/${g.deploymentGroup}`;
}

/** Every group's errors apply to this key. */
export const ALL_GROUPS = '*';

export async function discover(guards: readonly GuardConfig[], deployments: DeploymentPort, extraIds: readonly string[] = [], reg?: RegistryOptions): Promise<Discovery> {
  const errors: string[] = [];
  const groupErrors = new Map<string, string[]>();
  const fail = (group: string, message: string) => {
    errors.push(message);
    groupErrors.set(group, [...(groupErrors.get(group) ?? []), message]);
  };
  const warnings: string[] = [];
  let registered: string[] | undefined;
  let unwatch: WatchRef[] = [];
  let listAll = true;
  if (reg) {
    try {
      const r = await reg.registry.activeDeployments();
      registered = r.ids;
      unwatch = r.unwatch ?? [];
      // Never reconciled: the registry is new (or its writer never ran), so it proves nothing yet.
      listAll = r.reconciledAt === undefined || (reg.reconcile && reg.now - r.reconciledAt >= RECONCILE_EVERY_MS);
    } catch (err) {
      // Blind to the registry, not to the deployments: list every group instead.
      warnings.push(`registry read: ${errorText(err)}; listed every group instead`);
    }
  }
  const listed = listAll
    ? await mapLimit(guards, LIST_CONCURRENCY, async (g) => {
        try {
          return await deployments.listActive(g.application, g.deploymentGroup);
        } catch (err) {
          fail(groupKey(g), `ListDeployments ${groupKey(g)}: ${errorText(err)}`);
          return [];
        }
      })
    : [];
  // Only a listing of every guarded group, all of it read, reconciles the registry.
  const reconciled = listAll && reg?.reconcile === true && errors.length === 0;
  const ids = [...new Set([...(registered ?? []), ...listed.flat(), ...extraIds])];
  let states: Map<string, DeploymentState> | undefined;
  let stateFailure: Discovery['stateFailure'];
  if (reg?.state && ids.length) {
    const read = await readStates(reg.state, ids);
    states = read.states;
    stateFailure = read.failure;
  }
  // A deployment's end arrives as a state-change event naming it (described below), or is seen
  // by the reconciling run, which describes every id: only other runs use the hook's record.
  const named = new Set(extraIds);
  const recorded = listAll || !states ? [] : ids.flatMap((id) => (named.has(id) ? [] : (states.get(id)?.deployment ?? [])));
  const fromRecord = new Set(recorded.map((i) => i.deploymentId));
  const toDescribe = ids.filter((id) => !fromRecord.has(id));
  const infos: DeploymentInfo[] = [...recorded];
  if (toDescribe.length) {
    try {
      infos.push(...(await deployments.describe(toDescribe)));
    } catch (err) {
      fail(ALL_GROUPS, `BatchGetDeployments: ${errorText(err)}`);
      return { active: [], errors, groupErrors, warnings, ended: [], unwatch, ...(states ? { states } : {}), ...(stateFailure ? { stateFailure } : {}) };
    }
  }
  const byGroup = new Map(guards.map((g) => [groupKey(g), g]));
  if (reg?.write && registered) {
    // Ended (or unknown) ids leave the registry; active deployments of guarded groups join it.
    const known = new Map(infos.map((i) => [i.deploymentId, i]));
    const inRegistry = new Set(registered);
    const remove = registered.filter((id) => !known.has(id) || ENDED.has(known.get(id)!.status));
    const add = infos.filter((i) => !ENDED.has(i.status) && !i.isRollback && !inRegistry.has(i.deploymentId) && byGroup.has(groupKey(i))).map((i) => i.deploymentId);
    await maintain(reg, add, remove, reconciled, warnings);
  }
  const active: ActiveDeployment[] = [];
  const ended: { guard: GuardConfig; info: DeploymentInfo }[] = [];
  for (const info of infos) {
    const guard = byGroup.get(groupKey(info));
    if (!guard) continue;
    // Ended deployments need only their watch ended (their state expires); rollbacks restore the old version.
    if (ENDED.has(info.status) && !info.isRollback) ended.push({ guard, info });
    if (ENDED.has(info.status) || info.isRollback) continue;
    if (!info.appSpec) {
      fail(groupKey(info), `deployment ${info.deploymentId}: no AppSpec content in its revision`);
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
      fail(groupKey(info), `deployment ${info.deploymentId} ${err instanceof Error && err.name === 'Error' ? err.message : errorText(err)}`);
    }
  }
  return { active, errors, groupErrors, warnings, ended, unwatch, ...(states ? { states } : {}), ...(stateFailure ? { stateFailure } : {}) };
}

/**
 * Read the state of `ids`: what was read, and which ids could not be and why. A partial read
 * (StateReadError) keeps what it read; any other error leaves every id unread.
 */
export async function readStates(state: StatePort, ids: readonly string[]): Promise<{ states?: Map<string, DeploymentState>; failure?: { message: string; ids: readonly string[] } }> {
  try {
    return { states: await state.get(ids) };
  } catch (err) {
    if (err instanceof StateReadError) return { states: new Map(err.read), failure: { message: errorText(err), ids: err.unread } };
    return { failure: { message: errorText(err), ids } };
  }
}

/** Update the registry; a failed write is a warning: this run saw everything, the next reconciles. */
async function maintain(reg: RegistryOptions, add: string[], remove: string[], reconciled: boolean, warnings: string[]): Promise<void> {
  try {
    await reg.registry.addActive(add, reconciled ? reg.now : undefined);
    await reg.registry.removeActive(remove);
  } catch (err) {
    warnings.push(`registry write: ${errorText(err)}`);
  }
}

/** Where a run's configuration came from, so that the run can read it again. */
export interface ConfigSource {
  /** When the configuration the run holds was read (ms since the epoch). */
  readonly readAt: number;
  /** Read it again, now. */
  reread(): Promise<WatchdogConfig>;
}

/**
 * The configuration to judge these deployments by. A deploy writes the new configuration (probe
 * expectations, thresholds) before the alias update starts the deployment, and a warm
 * environment keeps what it read for a while: judging a new release by the last release's
 * expectations fails a good release. So a deployment created after the configuration was read
 * makes the run read it again and take each deployment's guard from it. If the read fails, the
 * run keeps what it has and says so.
 */
export async function currentConfig(
  config: WatchdogConfig,
  found: Discovery,
  source: ConfigSource | undefined,
): Promise<{ config: WatchdogConfig; active: ActiveDeployment[]; warning?: string }> {
  const fresh = await configSince(config, Math.max(0, ...found.active.map((a) => a.info.createdAt)), source);
  if (fresh.config === config) return { ...fresh, active: found.active };
  const same = (a: GuardConfig, b: GuardConfig) => groupKey(a) === groupKey(b) && a.functionName === b.functionName && a.alias === b.alias;
  return { ...fresh, active: found.active.map((a) => ({ ...a, guard: fresh.config.guards.find((g) => same(g, a.guard)) ?? a.guard })) };
}

/** The configuration as of `since` (a deployment's creation): the one held, or read again when it was read before then. */
export async function configSince(config: WatchdogConfig, since: number, source: ConfigSource | undefined): Promise<{ config: WatchdogConfig; warning?: string }> {
  if (!source || since <= source.readAt) return { config };
  try {
    return { config: await source.reread() };
  } catch (err) {
    return { config, warning: `a deployment began after the configuration was read, and reading it again failed (kept the one read before): ${errorText(err)}` };
  }
}
