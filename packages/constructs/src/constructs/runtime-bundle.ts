import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The runtime's handlers, each bundled to `assets/runtime/<name>/index.js` with `handler` exported. */
export type RuntimeHandler = 'watchdog' | 'pre-traffic' | 'post-traffic' | 'prober' | 'reach-check';

/**
 * The folder of the runtime's bundles, made when the package is built (`scripts/bundle-runtime.js`)
 * and shipped inside it. Synth reads them as they are: no esbuild, no lock file, no write into
 * `node_modules`. The same path holds from `src/constructs` (tests) and `lib/constructs` (the package).
 */
export function runtimeBundleDir(): string {
  return join(__dirname, '..', '..', 'assets', 'runtime');
}

/**
 * The telemetry extension's layer content for one Lambda architecture (`x86_64` or `arm64`):
 * `extensions/canary-watchdog-telemetry`, the native binary built for it with the runtime; a clear
 * error when the package was not built.
 */
export function telemetryLayerDir(architecture: string): string {
  const dir = join(__dirname, '..', '..', 'assets', `telemetry-layer-${architecture}`);
  if (!existsSync(join(dir, 'extensions', 'canary-watchdog-telemetry'))) {
    throw new Error(`canary-watchdog: the telemetry extension ${join(dir, 'extensions', 'canary-watchdog-telemetry')} is missing; build the package first (npm run bundle -w canary-watchdog)`);
  }
  return dir;
}

/** The bundle of one handler; a clear error when the package was not built. */
export function runtimeHandlerDir(handler: RuntimeHandler): string {
  const dir = join(runtimeBundleDir(), handler);
  if (!existsSync(join(dir, 'index.js'))) {
    throw new Error(`canary-watchdog: the runtime bundle ${join(dir, 'index.js')} is missing; build the package first (npm run bundle -w canary-watchdog)`);
  }
  return dir;
}
