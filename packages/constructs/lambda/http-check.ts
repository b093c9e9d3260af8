/**
 * The reachability check of a config check's URL (`reachableWithinMs`), shared by the
 * pre-traffic hook (fetching from its own network) and the reachability checker (fetching from
 * the guarded function's network), and the hook's way of asking the checker.
 */
import type { FunctionPort } from '../src/aws/ports';
import { errorText } from '../src/aws/util';
import type { HttpCheck } from '../src/runtime/pre-traffic';

type HttpAnswer = Awaited<ReturnType<HttpCheck>>;

/** GET the URL with a time limit; any HTTP answer counts, the body is not read. */
export function fetchCheck(now: () => number): HttpCheck {
  return async (url, timeoutMs) => {
    const started = now();
    try {
      const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return { status: res.status, elapsedMs: now() - started };
    } catch (err) {
      return { error: errorText(err), elapsedMs: now() - started };
    }
  };
}

/**
 * Run the check through the reachability checker function `checker` (invoked synchronously with
 * `{ url, timeoutMs }`). A checker that fails or answers something else is an error, never a pass.
 */
export function checkerCheck(functions: Pick<FunctionPort, 'invoke'>, checker: string, now: () => number): HttpCheck {
  return async (url, timeoutMs) => {
    const started = now();
    const fail = (why: string): HttpAnswer => ({ error: `reachability checker ${checker}: ${why}`, elapsedMs: now() - started });
    try {
      const res = await functions.invoke(checker, '$LATEST', { url, timeoutMs });
      if (res.functionError) return fail(`${res.functionError}: ${res.payload}`);
      const answer = parseAnswer(res.payload);
      return answer ?? fail(`unexpected answer ${res.payload.slice(0, 200)}`);
    } catch (err) {
      return fail(errorText(err));
    }
  };
}

/** `{ status?: number, error?: string, elapsedMs: number }`, or undefined when it is not that. */
export function parseAnswer(payload: string): HttpAnswer | undefined {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.elapsedMs !== 'number') return undefined;
  if (o.status !== undefined && typeof o.status !== 'number') return undefined;
  if (o.error !== undefined && typeof o.error !== 'string') return undefined;
  if (o.status === undefined && o.error === undefined) return undefined;
  return { ...(o.status !== undefined ? { status: o.status as number } : {}), ...(o.error !== undefined ? { error: o.error as string } : {}), elapsedMs: o.elapsedMs };
}
