/**
 * The native extension (extension/, Go) and the TypeScript contract (src/aws/telemetry.ts) name
 * the same things: each constant in extension/contract.go must equal its TypeScript counterpart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FLUSH_SECONDS,
  TELEMETRY_BUFFER_MS,
  TELEMETRY_EXTENSION_NAME,
  TELEMETRY_FIELDS,
  TELEMETRY_INIT_FIELDS,
  TELEMETRY_TABLE_ENV,
  WATCH_DEPLOYMENT_FIELD,
  WATCH_KEY_PREFIX,
  WATCH_RECHECK_SECONDS,
  WATCHING_RECHECK_SECONDS,
  telemetryUpdate,
} from '../../src/aws/telemetry';
import { INIT_HISTOGRAM, initHistogramOf } from '../../src/core/init-durations';

const source = readFileSync(join(__dirname, '..', '..', 'extension', 'contract.go'), 'utf8');

/** The value of `name = <literal>` in the Go source (a string or an integer). */
function goConstant(name: string): string | number {
  const m = new RegExp(`^\\s*${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|\\d+)\\s*$`, 'm').exec(source);
  if (!m) throw new Error(`extension/contract.go has no constant ${name}`);
  return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : Number(m[1]);
}

it.each([
  ['ExtensionName', TELEMETRY_EXTENSION_NAME],
  ['TableEnv', TELEMETRY_TABLE_ENV],
  ['TelemetryBufferMs', TELEMETRY_BUFFER_MS],
  ['FlushSeconds', FLUSH_SECONDS],
  ['WatchRecheckSeconds', WATCH_RECHECK_SECONDS],
  ['WatchingRecheckSeconds', WATCHING_RECHECK_SECONDS],
  ['WatchKeyPrefix', WATCH_KEY_PREFIX],
  ['WatchDeploymentField', WATCH_DEPLOYMENT_FIELD],
  ['FieldInvocations', TELEMETRY_FIELDS.invocations],
  ['FieldErrors', TELEMETRY_FIELDS.errors],
  ['FieldAt', TELEMETRY_FIELDS.at],
  ['FieldFailed', TELEMETRY_FIELDS.failed],
  ['FieldInits', TELEMETRY_INIT_FIELDS.count],
  ['FieldInitBucketPrefix', TELEMETRY_INIT_FIELDS.bucketPrefix],
  ['InitBucketBaseMs', INIT_HISTOGRAM.baseMs],
  ['InitBucketsPerOctave', INIT_HISTOGRAM.perOctave],
  ['InitBucketCount', INIT_HISTOGRAM.count],
])('the Go extension\'s %s equals the TypeScript contract (%p)', (name, value) => {
  expect(goConstant(name)).toBe(value);
});

it('reads the Go source, so a constant missing there fails rather than passes', () => {
  expect(() => goConstant('NoSuchConstant')).toThrow('extension/contract.go has no constant NoSuchConstant');
});

it('writes the same update as telemetryUpdate: the expressions in the Go source are the TypeScript ones', () => {
  const store = readFileSync(join(__dirname, '..', '..', 'extension', 'store.go'), 'utf8');
  const update = telemetryUpdate('t', 'orders', '7', 'd-1', 1, 0, 0);
  expect(store).toContain(JSON.stringify(update.UpdateExpression));
  expect(store).toContain(JSON.stringify(update.ConditionExpression));
  for (const [alias, field] of Object.entries(update.ExpressionAttributeNames)) {
    const goName = { '#n': 'FieldInvocations', '#e': 'FieldErrors', '#at': 'FieldAt', '#f': 'FieldFailed', '#w': 'WatchDeploymentField' }[alias];
    expect([alias, goConstant(goName!)]).toEqual([alias, field]);
    expect(store).toContain(`"${alias}": ${goName}`);
  }
});

it('adds the inits as the Go extension does: the same expression for the same buckets (extension/inits_test.go)', () => {
  const initsTest = readFileSync(join(__dirname, '..', '..', 'extension', 'inits_test.go'), 'utf8');
  // The Go test's histogram: two inits, in buckets 11 and 19.
  const inits = { count: 2, buckets: Array.from({ length: INIT_HISTOGRAM.count }, (_, k) => (k === 11 || k === 19 ? 1 : 0)) };
  const update = telemetryUpdate('t', 'orders', '7', 'd-1', 2, 0, 0, inits);
  expect(initsTest).toContain(JSON.stringify(update.UpdateExpression));
  expect(update.ExpressionAttributeNames).toMatchObject({ '#i': 'telemetryInits', '#b11': 'telemetryInitB11', '#b19': 'telemetryInitB19' });
  expect(update.ExpressionAttributeValues).toMatchObject({ ':i': 2, ':b11': 1, ':b19': 1 });
  // Without inits the update is the counts' alone.
  expect(telemetryUpdate('t', 'orders', '7', 'd-1', 2, 0, 0, initHistogramOf([])).UpdateExpression).toBe('ADD #n :n, #e :e SET #at = :at, #f = :f');
});
