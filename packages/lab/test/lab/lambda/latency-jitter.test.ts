import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

// noise.latencyJitter on user traffic: a log-normal spread of each request's Duration (median
// unchanged), and the first request of each newly started environment slower.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-jitter-'));
  mkdirSync(join(dir, 'quick'));
  writeFileSync(join(dir, 'quick', 'index.js'), 'exports.handler = async () => ({ ok: true });');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let lab: Lab;
beforeEach(async () => {
  lab = new Lab({ seed: 5 });
  await lab.start();
  lab.lambda.createFunction({ name: 'quick', handler: 'index.handler', codeDir: join(dir, 'quick') });
  lab.lambda.createAlias('quick', 'live', { functionVersion: lab.lambda.publishVersion('quick') });
});
afterEach(async () => lab.stop());

/** Duration statistics of the version over each published minute. */
async function duration(...stats: string[]): Promise<Record<string, number[]>> {
  const out = await new CloudWatchClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } }).send(
    new GetMetricDataCommand({
      StartTime: new Date(lab.now() - 3_600_000),
      EndTime: new Date(lab.now()),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: stats.map((Stat, i) => ({
        Id: `q${i}`,
        MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: 'quick' }, { Name: 'Resource', Value: 'quick:live' }, { Name: 'ExecutedVersion', Value: '1' }] }, Period: 60, Stat },
      })),
    }),
  );
  return Object.fromEntries(stats.map((s, i) => [s, out.MetricDataResults!.find((r) => r.Id === `q${i}`)!.Values!]));
}

describe('the lab: latency noise on user traffic', () => {
  it('without it, durations stay within the base 40-60 ms', async () => {
    lab.traffic.set('quick', 'live', 50);
    await lab.advance(240);
    const d = await duration('p99', 'Maximum');
    expect(d.p99.length).toBeGreaterThan(1);
    for (const v of d.Maximum) expect(v).toBeLessThanOrEqual(60);
  }, 30_000);

  it('spreads durations log-normally around the same median, and slows the first request of each new environment', async () => {
    lab.lambda.setNoise('quick', { latencyJitter: { sigma: 0.5, firstRequestMs: 1000 } });
    lab.traffic.set('quick', 'live', 50);
    await lab.advance(240);
    const d = await duration('p50', 'p99', 'PR(:1000)');
    // Median about 50 ms; p99 about 50 e^(0.5 x 2.33) = 160 ms.
    for (const v of d.p50) expect(Math.abs(v - 50)).toBeLessThan(8);
    for (const v of d.p99) expect(v).toBeGreaterThan(110);
    // 50 a second of about 50 ms: 3 environments, started in the first minute; warm after it.
    expect(d['PR(:1000)'][0]).toBeLessThan(100);
    expect(d['PR(:1000)'].slice(1)).toEqual(d['PR(:1000)'].slice(1).map(() => 100));
  }, 30_000);
});
