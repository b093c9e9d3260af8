/**
 * What rate of user traffic runs fully for real (issue 25): the sample app loaded, the sample's
 * traffic file for one function at each rate with every request invoking the real code, one
 * virtual minute each (after a warm-up minute). A rate runs fully for real on a real clock when a
 * lab minute takes at most a minute of wall time.
 *
 *   npm run bundle && npx tsx packages/lab/bench/real-traffic-rate.ts [--function OrdersApi] [--rates 5,10,20,40,80,160]
 */
import { join } from 'node:path';
import { LAB_FILES } from '../src/lab/files';
import { Lab } from '../src/lab/lab';
import { synthSampleApp } from '../src/lab/sample-app';
import { loadTrafficFile } from '../src/lab/user-events';

async function main(): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const fn = arg('function', 'OrdersApi');
  const rates = arg('rates', '5,10,20,40,80,160').split(',').map(Number);
  const assembly = synthSampleApp();
  const file = loadTrafficFile(join(LAB_FILES, 'sample', 'traffic.yaml'));
  const entry = file.get(fn);
  if (!entry) throw new Error(`sample/traffic.yaml has no ${fn}`);
  console.log('rps | wall ms per lab minute | real invocations a wall second | keeps up with a real clock');
  for (const rps of rates) {
    const lab = new Lab({ seed: 1, reuseThreads: true });
    await lab.start();
    try {
      await lab.loadAssembly(assembly);
      lab.setUserTraffic(new Map([[fn, { ...entry, rps, realRps: rps }]]));
      await lab.advance(60);
      const before = lab.lambda.invocations.filter((i) => i.source === 'user').length;
      const t0 = Date.now();
      await lab.advance(60);
      const ms = Date.now() - t0;
      const n = lab.lambda.invocations.filter((i) => i.source === 'user').length - before;
      console.log(`${rps} | ${ms} | ${Math.round((n / ms) * 1000)} | ${ms <= 60_000 ? 'yes' : 'no'}`);
    } finally {
      await lab.stop();
    }
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
