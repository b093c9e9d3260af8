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
  /**
   * Layers taken away, as if never configured (threat-model's ablations): `config` (the checks),
   * `probes` (pre-traffic and scheduled), `fast-signal` (the telemetry extension's counts),
   * `new-version` (the new version's CloudWatch metrics and its alarms), `service`, `heartbeat`
   * (CodeDeploy's check of the watchdog's heartbeat), or a custom layer's name.
   */
  readonly disabledLayers?: readonly string[];
}

/** The built-in layers a rehearsal can take away (besides custom layers, by name). */
export const REMOVABLE_LAYERS = ['config', 'probes', 'fast-signal', 'new-version', 'service', 'heartbeat'] as const;

/** A guard's raw configuration with the layers taken away (see WatchdogSettings.disabledLayers). */
export function withoutLayers(guard: Record<string, unknown>, layers: readonly string[], origin: string): Record<string, unknown> {
  const g = { ...guard };
  const alarms = { ...((g.alarms as Record<string, unknown> | undefined) ?? {}) };
  const custom = ((g.customLayers as { name: string }[] | undefined) ?? []).map((l) => l.name);
  for (const layer of layers) {
    if (!(REMOVABLE_LAYERS as readonly string[]).includes(layer) && !custom.includes(layer)) {
      throw new WatchdogSettingsError(`watchdog.disabledLayers: ${layer} is not a layer of ${String(g.functionName)} (${origin}); allowed: ${[...REMOVABLE_LAYERS, ...custom].join(', ')}`);
    }
    if (layer === 'config') {
      g.configChecks = [];
      alarms.config = [];
    } else if (layer === 'probes') {
      g.probes = [];
      alarms.probes = [];
    } else if (layer === 'fast-signal') {
      g.telemetry = false;
    } else if (layer === 'new-version') {
      g.newVersionMetrics = false;
      alarms['new-version'] = [];
    } else if (layer === 'service') {
      alarms.service = [];
    } else if (layer !== 'heartbeat') {
      g.customLayers = ((g.customLayers as { name: string }[]) ?? []).filter((l) => l.name !== layer);
    }
  }
  return { ...g, alarms };
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
  // The configuration as the app has it, before this rewrites it (the alarms of every layer).
  const original = (await configOf(lab, runtime[0])).raw;
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
  // The alarms of the whole configuration, layers taken away included, named for the serving versions.
  const full = rewrite(original, { ...settings, disabledLayers: [] }, 'the app\'s configuration');
  for (const g of config!.guards) {
    const all = full.guards.find((x) => x.functionName === g.functionName && x.alias === g.alias);
    const version = lab.lambda.getAlias(g.functionName, g.alias)?.functionVersion ?? '';
    const allAlarms = all ? [...Object.values(all.alarms).flat(), ...all.customLayers.flatMap((l) => l.alarms)].map((n) => resolveAlarmName(n, version)) : [];
    await setNativeAlarms(lab, config!, g, (settings.disabledLayers ?? []).includes('heartbeat'), allAlarms);
  }
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
  const disabled = settings.disabledLayers ?? [];
  const guards = disabled.length && Array.isArray(json.guards) ? (json.guards as Record<string, unknown>[]).map((g) => withoutLayers(g, disabled, origin)) : json.guards;
  return parseWatchdogConfig({ ...json, ...(guards !== undefined ? { guards } : {}), ...(settings.mode ? { mode: settings.mode } : {}), ...(settings.policy ? { policy: settings.policy } : {}) }, origin);
}

/** The group's alarm list as synth would write it for the configuration's mode and policy. */
async function setNativeAlarms(lab: Lab, config: WatchdogConfig, g: GuardConfig, withoutHeartbeat = false, allAlarms: readonly string[] = []): Promise<void> {
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
  // A layer taken away leaves its alarms in the app: known (the full configuration's), left out of the list.
  const known = new Set([heartbeat, ...layers.flatMap((l) => l.alarms), ...allAlarms]);
  const stranger = current.find((n) => !known.has(n));
  if (stranger) {
    throw new WatchdogSettingsError(
      `watchdog: alarm ${stranger} in CodeDeploy's list of ${g.application}/${g.deploymentGroup} is neither the heartbeat nor a layer's alarm in the configuration (a composite of combined alarms?); the rehearsal cannot tell which layer it belongs to`,
    );
  }
  const select = nativeAlarmSelection(config.mode, config.policy.preexistingAlarms);
  const alarms = [...(select.heartbeat && heartbeat && !withoutHeartbeat ? [heartbeat] : []), ...layers.filter((l) => select.includesLayer(l.name)).flatMap((l) => l.alarms)];
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
