/**
 * Hosts outside the lab, as a scenario, a traffic file and the control API give them: what each
 * answers function code (lambda/worker.js plays the network).
 */
import { InputError, num, obj, onlyKeys, optNum } from 'canary-watchdog/lib/core/validate';
import { MAX_FAULT_LATENCY_MS, MAX_FAULT_MINUTE } from './faults';
import type { HostAnswer } from './lambda/runner';

/**
 * `{ "<host>": { status: N, latencyMs?, fromMinute?, toMinute? } | "unreachable" }`; `windows`
 * receives the hosts whose answer holds only for a window.
 */
export function parseNetwork(v: unknown, path: string, windows: Record<string, { fromMinute?: number; toMinute?: number }> = {}): Record<string, HostAnswer> {
  if (v === undefined) return {};
  const o = obj(v, path);
  const out: Record<string, HostAnswer> = {};
  for (const [host, a] of Object.entries(o)) {
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(host)) throw new InputError(`${path}.${host}: not a host name (letters, digits, dots and dashes)`, `${path}.${host}`);
    if (a === 'unreachable') {
      out[host.toLowerCase()] = 'unreachable';
      continue;
    }
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new InputError(`${path}.${host}: expected { status: 200-599 } or "unreachable", got ${JSON.stringify(a)}`, `${path}.${host}`);
    const h = a as Record<string, unknown>;
    onlyKeys(h, `${path}.${host}`, ['status', 'latencyMs', 'fromMinute', 'toMinute']);
    const latencyMs = optNum(h.latencyMs, `${path}.${host}.latencyMs`, { min: 0, max: MAX_FAULT_LATENCY_MS });
    out[host.toLowerCase()] = { status: num(h.status, `${path}.${host}.status`, { min: 200, max: 599, integer: true }), ...(latencyMs !== undefined ? { latencyMs } : {}) };
    const from = optNum(h.fromMinute, `${path}.${host}.fromMinute`, { min: 0, max: MAX_FAULT_MINUTE });
    const to = optNum(h.toMinute, `${path}.${host}.toMinute`, { min: 0, max: MAX_FAULT_MINUTE });
    if (to !== undefined && !(to > (from ?? 0))) throw new InputError(`${path}.${host}.toMinute: expected a minute after fromMinute (${from ?? 0}) and at most ${MAX_FAULT_MINUTE}, got ${to}`, `${path}.${host}.toMinute`);
    if (from !== undefined || to !== undefined) windows[host.toLowerCase()] = { ...(from !== undefined ? { fromMinute: from } : {}), ...(to !== undefined ? { toMinute: to } : {}) };
  }
  return out;
}

