import { parseWatchdogConfig, type WatchdogConfig } from '../core/config';
import { InputError, num } from '../core/validate';

/** Environment variables the runtime reads. The constructs set them; the lab does too. */
export const ENV = {
  config: 'CANARY_WATCHDOG_CONFIG',
  stateTable: 'CANARY_WATCHDOG_STATE_TABLE',
  eventBus: 'CANARY_WATCHDOG_EVENT_BUS',
  proberRounds: 'CANARY_WATCHDOG_PROBER_ROUNDS',
  proberIntervalMs: 'CANARY_WATCHDOG_PROBER_INTERVAL_MS',
} as const;

export interface RuntimeSettings {
  readonly config: WatchdogConfig;
  readonly stateTable: string;
  readonly eventBus: string;
}

/** Read and validate the runtime's settings; errors name the variable and what it allows. */
export function loadSettings(env: Readonly<Record<string, string | undefined>>): RuntimeSettings {
  const raw = env[ENV.config];
  if (!raw) throw new InputError(`${ENV.config} is not set: it must hold the watchdog's JSON configuration`, ENV.config);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new InputError(`${ENV.config} is not valid JSON: ${(err as Error).message}`, ENV.config);
  }
  const stateTable = env[ENV.stateTable];
  if (!stateTable) throw new InputError(`${ENV.stateTable} is not set: it must name the DynamoDB state table`, ENV.stateTable);
  return { config: parseWatchdogConfig(json, ENV.config), stateTable, eventBus: env[ENV.eventBus] || 'default' };
}

export function proberOptionsFrom(env: Readonly<Record<string, string | undefined>>, defaults: { rounds: number; intervalMs: number }) {
  const read = (name: string, fallback: number, opts: { min: number; max: number }) =>
    env[name] === undefined || env[name] === '' ? fallback : num(Number(env[name]), name, { ...opts, integer: true });
  return {
    rounds: read(ENV.proberRounds, defaults.rounds, { min: 1, max: 12 }),
    intervalMs: read(ENV.proberIntervalMs, defaults.intervalMs, { min: 0, max: 60_000 }),
  };
}
