import { fetchCheck } from './http-check';

/** Largest `reachableWithinMs` a config check may ask for (lib/core/config-checks.ts). */
const MAX_TIMEOUT_MS = 60_000;
const check = fetchCheck(() => Date.now());

/**
 * Reachability checker, deployed in a guarded VPC function's subnets and security groups: GET
 * `url` within `timeoutMs` from where the function runs. Answers `{ status?, error?, elapsedMs }`;
 * bad input is an answered error, never a throw.
 */
export async function handler(event: unknown): Promise<{ status?: number; error?: string; elapsedMs: number }> {
  const e = (event ?? {}) as { url?: unknown; timeoutMs?: unknown };
  if (typeof e.url !== 'string' || !/^https?:\/\//.test(e.url)) {
    return { error: `url: expected an http(s) URL, got ${JSON.stringify(e.url)}`, elapsedMs: 0 };
  }
  if (typeof e.timeoutMs !== 'number' || !Number.isInteger(e.timeoutMs) || e.timeoutMs < 1 || e.timeoutMs > MAX_TIMEOUT_MS) {
    return { error: `timeoutMs: expected an integer from 1 to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(e.timeoutMs)}`, elapsedMs: 0 };
  }
  return check(e.url, e.timeoutMs);
}
