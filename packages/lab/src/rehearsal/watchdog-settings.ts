import { METRIC, parseWatchdogConfig, resolveAlarmName, type GuardConfig, type WatchdogConfig } from 'canary-watchdog/lib/core/config';
import { nativeAlarmSelection } from 'canary-watchdog/lib/core/native-alarms';
import type { Policy } from 'canary-watchdog/lib/core/types';
import { BUILT_IN_LAYERS } from 'canary-watchdog/lib/core/types';
import type { Lab } from '../lab/lab';
import { CONFIG_ITEM_ID, configSource, ENV } from 'canary-watchdog/lib/runtime/env';

/** The canary-watchdog runtime functions that read the configuration, by their description. */
export const RUNTIME_HANDLERS = ['watchdog', 'pre-traffic', 'post-traffic', 'prober'] as const;

/** A scenario's watchdog settings the loaded app cannot take. */
export class WatchdogSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WatchdogSettingsError';
  }
}

export interface WatchdogSettings {
  readonly mode?: 'enforce' | 'shadow';
  readonly policy?: Policy;
}

/**
 * Give the loaded app's watchdog another mode and policy, as if synthesized with those props:
 * the configuration every runtime function reads (CANARY_WATCHDOG_CONFIG, or the state table's
 * `#config` item with `configDelivery: state-table`), and each guarded deployment group's own
 * CodeDeploy alarm list, chosen by the same rule the constructs use (lib/core/native-alarms.ts).
 * Call it before any runtime function runs: they cache the configuration.
 */
export async function applyWatchdogSettings(lab: Lab, settings: WatchdogSettings): Promise<WatchdogConfig> {
  const runtime = lab.lambda.functionNames().filter((n) => [...RUNTIME_HANDLERS.map((h) => `canary-watchdog ${h}`), 'canary-watchdog watchdog (events)'].includes(lab.lambda.getConfiguration(n).description));
  if (!runtime.length) throw new WatchdogSettingsError('watchdog: the app has no canary-watchdog runtime functions (descriptions "canary-watchdog watchdog", "... pre-traffic", "... post-traffic", "... prober") to configure');
  let config: WatchdogConfig | undefined;
  const rewritten = new Set<string>();
  for (const fn of runtime) {
    const env = lab.lambda.getConfiguration(fn).env;
    const source = await configOf(lab, fn);
    if (source.item) {
      if (rewritten.has(source.item.table)) continue;
      config = rewrite(source.raw, settings, source.origin);
      await lab.dynamodb.service.operations.PutItem({ TableName: source.item.table, Item: { ...source.item.attributes, config: { S: JSON.stringify(config) } } });
      rewritten.add(source.item.table);
    } else {
      config = rewrite(source.raw, settings, source.origin);
      lab.lambda.updateConfiguration(fn, { ...env, [ENV.config]: JSON.stringify(config) });
    }
  }
  for (const g of config!.guards) await setNativeAlarms(lab, config!, g);
  return config!;
}

/**
 * The configuration a runtime function reads, as the handlers read it: its CANARY_WATCHDOG_CONFIG,
 * or with `configDelivery: state-table` the state table's `#config` item.
 */
export async function configOf(
  lab: Lab,
  fn: string,
): Promise<{ raw: string; origin: string; item?: { table: string; attributes: Record<string, { S?: string }> } }> {
  const env = lab.lambda.getConfiguration(fn).env;
  if (configSource(env) === 'state-table') {
    const table = env[ENV.stateTable];
    if (!table) throw new WatchdogSettingsError(`watchdog: ${fn} reads its configuration from the state table but ${ENV.stateTable} is not set`);
    const item = ((await lab.dynamodb.service.operations.GetItem({ TableName: table, Key: { deploymentId: { S: CONFIG_ITEM_ID } } })) as { Item?: Record<string, { S?: string }> }).Item;
    if (!item?.config?.S) throw new WatchdogSettingsError(`watchdog: the state table ${table} holds no ${CONFIG_ITEM_ID} item with a config attribute`);
    return { raw: item.config.S, origin: `state table ${table} item ${CONFIG_ITEM_ID}.config`, item: { table, attributes: item } };
  }
  const raw = env[ENV.config];
  if (!raw) throw new WatchdogSettingsError(`watchdog: ${fn} has no ${ENV.config}`);
  return { raw, origin: `${fn} ${ENV.config}` };
}

function rewrite(raw: string, settings: WatchdogSettings, origin: string): WatchdogConfig {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw) as Record<string, unknown>;
  } catch (err) {
    throw new WatchdogSettingsError(`watchdog: ${origin} is not valid JSON: ${(err as Error).message}`);
  }
  return parseWatchdogConfig({ ...json, ...(settings.mode ? { mode: settings.mode } : {}), ...(settings.policy ? { policy: settings.policy } : {}) }, origin);
}

/** The group's alarm list as synth would write it for the configuration's mode and policy. */
async function setNativeAlarms(lab: Lab, config: WatchdogConfig, g: GuardConfig): Promise<void> {
  const cd = lab.codedeploy.service.operations;
  const info = ((await cd.GetDeploymentGroup({ applicationName: g.application, deploymentGroupName: g.deploymentGroup })) as {
    deploymentGroupInfo: { alarmConfiguration?: { enabled: boolean; ignorePollAlarmFailure: boolean; alarms: { name: string }[] } };
  }).deploymentGroupInfo;
  const current = info.alarmConfiguration?.alarms.map((a) => a.name) ?? [];
  // The version-scoped alarms are named for the version the alias serves now: resolve the
  // configuration's name templates with it.
  const alias = lab.lambda.getAlias(g.functionName, g.alias);
  if (!alias) throw new WatchdogSettingsError(`watchdog: the guarded alias ${g.functionName}:${g.alias} of ${g.application}/${g.deploymentGroup} does not exist in the loaded app`);
  const named = (names: readonly string[]) => names.map((n) => resolveAlarmName(n, alias.functionVersion));
  const layers: { name: string; alarms: readonly string[] }[] = [
    ...BUILT_IN_LAYERS.map((name) => ({ name, alarms: named(g.alarms[name] ?? []) })),
    ...g.customLayers.map((l) => ({ name: l.name, alarms: named(l.alarms) })),
  ];
  const heartbeat = await heartbeatAlarm(lab, config, g);
  const known = new Set([heartbeat, ...layers.flatMap((l) => l.alarms)]);
  const stranger = current.find((n) => !known.has(n));
  if (stranger) {
    throw new WatchdogSettingsError(
      `watchdog: alarm ${stranger} in CodeDeploy's list of ${g.application}/${g.deploymentGroup} is neither the heartbeat nor a layer's alarm in the configuration (a composite of combined alarms?); the rehearsal cannot tell which layer it belongs to`,
    );
  }
  const select = nativeAlarmSelection(config.mode, config.policy.preexistingAlarms);
  const alarms = [...(select.heartbeat && heartbeat ? [heartbeat] : []), ...layers.filter((l) => select.includesLayer(l.name)).flatMap((l) => l.alarms)];
  const unique = [...new Set(alarms)];
  // CodeDeploy takes at most 10 alarms per deployment group.
  // https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
  if (unique.length > 10) throw new WatchdogSettingsError(`watchdog: ${g.application}/${g.deploymentGroup} would list ${unique.length} alarms in CodeDeploy (at most 10); the constructs would combine them, the rehearsal does not`);
  await cd.UpdateDeploymentGroup({
    applicationName: g.application,
    currentDeploymentGroupName: g.deploymentGroup,
    alarmConfiguration: { enabled: unique.length > 0, ignorePollAlarmFailure: info.alarmConfiguration?.ignorePollAlarmFailure ?? false, alarms: unique.map((name) => ({ name })) },
  });
}

/** The heartbeat alarm guarding a group: one per group (DeploymentGroup dimension), or one per watchdog. */
async function heartbeatAlarm(lab: Lab, config: WatchdogConfig, g: GuardConfig): Promise<string | undefined> {
  type MetricAlarm = { AlarmName: string; Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value: string }[] };
  const all: MetricAlarm[] = [];
  let token: string | undefined;
  do {
    const out = (await lab.cloudwatch.service.operations.DescribeAlarms({ MaxRecords: 100, ...(token ? { NextToken: token } : {}) })) as { MetricAlarms?: MetricAlarm[]; NextToken?: string };
    all.push(...(out.MetricAlarms ?? []));
    token = out.NextToken;
  } while (token);
  const beats = all.filter((a) => a.Namespace === config.namespace && a.MetricName === METRIC.heartbeat);
  const group = `${g.application}/${g.deploymentGroup}`;
  const dim = (a: (typeof beats)[number], k: string) => a.Dimensions?.find((d) => d.Name === k)?.Value;
  return (beats.find((a) => dim(a, 'DeploymentGroup') === group) ?? beats.find((a) => dim(a, 'DeploymentGroup') === undefined && [undefined, config.name].includes(dim(a, 'Watchdog'))))?.AlarmName;
}
