import { InvalidArgumentError } from 'commander';

/** An ISO 8601 date, or date and time with a zone (Z or ±hh:mm): a time without a zone would be the host's. */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `lab --start`: when the virtual clock starts, epoch ms: `now` (the wall clock's, so that a
 * client's own current timestamps, in PutMetricData say, are accepted), or an ISO 8601 time.
 */
export function parseLabStart(value: string, now: () => number = Date.now): number {
  if (value === 'now') return now();
  const ms = ISO.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected now or an ISO 8601 time with a zone (2026-01-01, 2026-01-01T09:30:00Z, 2026-01-01T09:30:00+02:00), got ${JSON.stringify(value)}`);
  return ms;
}
