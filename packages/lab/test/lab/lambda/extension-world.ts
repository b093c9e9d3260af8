/** A lab with one function whose layers hold the real telemetry extension, and what its tests do to it. */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TELEMETRY_EXTENSION_NAME, TELEMETRY_TABLE_ENV, watchItemUpdate } from 'canary-watchdog/lib/aws/telemetry';
import type { FaultSpec } from '../../../src/lab/faults';
import { Lab } from '../../../src/lab/lab';

export const T0 = Date.UTC(2026, 0, 1);
export const TABLE = 'state-table';
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';
export const EXTENSION_BINARY = join(dirname(require.resolve('canary-watchdog/package.json')), 'assets', `telemetry-layer-${HOST_ARCH}`, 'extensions', TELEMETRY_EXTENSION_NAME);

export async function extensionWorld(opts: { role?: string; binary?: string; env?: Record<string, string> } = {}) {
  const lab = new Lab({ start: T0 });
  await lab.start();
  lab.dynamodb.createTable(TABLE, 'deploymentId');
  const codeDir = mkdtempSync(join(tmpdir(), 'ext-'));
  writeFileSync(join(codeDir, 'index.js'), 'exports.handler = async () => ({ ok: true });');
  lab.lambda.createFunction({ name: 'orders', handler: 'index.handler', codeDir, environment: { [TELEMETRY_TABLE_ENV]: TABLE, ...opts.env }, ...(opts.role ? { role: opts.role } : {}) });
  lab.lambda.publishVersion('orders');
  lab.lambda.publishVersion('orders', {}, 'r2');
  lab.telemetry.enable('orders', opts.binary ?? EXTENSION_BINARY);
  const item = (id: string) => {
    const got = lab.dynamodb.service.operations.GetItem({ TableName: TABLE, Key: marshall({ deploymentId: id }) }) as { Item?: Record<string, never> };
    return got.Item ? unmarshall(got.Item) : undefined;
  };
  /** As the pre-traffic hook does: the version's watch item names the deployment. */
  const watch = (version: string, deploymentId: string) => {
    const u = watchItemUpdate(TABLE, 'orders', version, deploymentId, T0 / 1000 + 3600);
    lab.dynamodb.service.operations.UpdateItem({ ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) });
  };
  /** `n` invocations of version 2 at the lab's now, `errors` of them failed; resolves once the extension settled. */
  const invoke = async (n: number, errors = 0, version = '2') => {
    lab.lambda.noteInvocations('orders', version, lab.now(), n, errors, 20);
    await lab.telemetry.settled();
  };
  const advance = (ms: number) => lab.scheduler.advance(ms);
  const faults = (f: FaultSpec[]) => lab.setFaults(f);
  return { lab, item, watch, invoke, advance, faults };
}

