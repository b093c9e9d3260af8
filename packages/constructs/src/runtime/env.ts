import { parseWatchdogConfig, type WatchdogConfig } from '../core/config';
import { InputError, num } from '../core/validate';

/** Environment variables the runtime reads. The constructs set them; the lab does too. */
export const ENV = {
  config: 'CANARY_WATCHDOG_CONFIG',
  stateTable: 'CANARY_WATCHDOG_STATE_TABLE',
  eventBus: 'CANARY_WATCHDOG_EVENT_BUS',
  proberRounds: 'CANARY_WATCHDOG_PROBER_ROUNDS',
  proberIntervalMs: 'CANARY_WATCHDOG_PROBER_INTERVAL_MS',
  /** `environment` (the default: the configuration is in CANARY_WATCHDOG_CONFIG) or `state-table`. */
  configSource: 'CANARY_WATCHDOG_CONFIG_SOURCE',
} as const;

/** With the `state-table` source, the configuration is the `config` attribute of this item. */
export const CONFIG_ITEM_ID = '#config';
/** How long a configuration read from the state table is used before it is read again. */
export const CONFIG_TTL_MS = 60_000;

/** Where the configuration comes from, read from the environment. */
export function configSource(env: Readonly<Record<string, string | undefined>>): 'environment' | 'state-table' {
  const v = env[ENV.configSource];
  if (v === undefined || v === '' || v === 'environment') return 'environment';
  if (v === 'state-table') return 'state-table';
  throw new InputError(`${ENV.configSource}: expected environment or state-table, got ${JSON.stringify(v)}`, ENV.configSource);
}

export interface RuntimeSettings {
  readonly config: WatchdogConfig;
  readonly stateTable: string;
  readonly eventBus: string;
}

/**
 * Read and validate the runtime's settings; errors name the variable and what it allows.
 * `configText` is the configuration when it does not come from the environment.
 */
export function loadSettings(env: Readonly<Record<string, string | undefined>>, configText?: { text: string | undefined; origin: string }): RuntimeSettings {
  const origin = configText?.origin ?? ENV.config;
  const raw = configText ? configText.text : env[ENV.config];
  if (!raw) throw new InputError(`${origin} is not set: it must hold the watchdog's JSON configuration`, origin);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new InputError(`${origin} is not valid JSON: ${(err as Error).message}`, origin);
  }
  const stateTable = env[ENV.stateTable];
  if (!stateTable) throw new InputError(`${ENV.stateTable} is not set: it must name the DynamoDB state table`, ENV.stateTable);
  return { config: parseWatchdogConfig(json, origin), stateTable, eventBus: env[ENV.eventBus] || 'default' };
}

export function proberOptionsFrom(env: Readonly<Record<string, string | undefined>>, defaults: { rounds: number; intervalMs: number }) {
  const read = (name: string, fallback: number, opts: { min: number; max: number }) =>
    env[name] === undefined || env[name] === '' ? fallback : num(Number(env[name]), name, { ...opts, integer: true });
  return {
    rounds: read(ENV.proberRounds, defaults.rounds, { min: 1, max: 12 }),
    intervalMs: read(ENV.proberIntervalMs, defaults.intervalMs, { min: 0, max: 60_000 }),
  };
}
