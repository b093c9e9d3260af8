import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The runtime's handlers, each bundled to `<dir>/<name>/index.js` with `handler` exported. */
export const RUNTIME_HANDLERS = ['watchdog', 'pre-traffic', 'post-traffic', 'prober', 'reach-check'] as const;
export type RuntimeHandler = (typeof RUNTIME_HANDLERS)[number];

const ROOT = resolve(__dirname, '..', '..');
let cached: string | undefined;

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) h.update(p.slice(ROOT.length)).update(readFileSync(p));
    }
  };
  for (const d of ['lambda', join('lib', 'core'), join('lib', 'aws'), join('lib', 'runtime')]) walk(join(ROOT, d));
  h.update(readFileSync(join(ROOT, 'package-lock.json')));
  return h.digest('hex').slice(0, 16);
}

/**
 * Bundle the runtime handlers once per process with the local esbuild (no Docker), into a
 * cache folder keyed by the sources' hash. The AWS SDK v3 is left to the Lambda Node.js runtime,
 * which ships it; everything else (Powertools, yaml) is bundled.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
 */
export function runtimeBundleDir(): string {
  if (cached) return cached;
  const dir = join(ROOT, 'node_modules', '.cache', 'canary-watchdog', sourceHash());
  if (!RUNTIME_HANDLERS.every((h) => existsSync(join(dir, h, 'index.js')))) {
    mkdirSync(dir, { recursive: true });
    buildSync({
      entryPoints: Object.fromEntries(RUNTIME_HANDLERS.map((h) => [`${h}/index`, join(ROOT, 'lambda', `${h}.ts`)])),
      outdir: dir,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      minify: false,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'error',
    });
  }
  cached = dir;
  return dir;
}
