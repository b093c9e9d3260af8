#!/usr/bin/env node
// Bundles the runtime's handlers once, when the package is built, into assets/runtime/<name>/index.js.
// The package ships the bundles, so a user's synth never runs esbuild, reads a lock file or writes
// into node_modules, and each asset's hash comes from the bundled files themselves.
// The AWS SDK v3 is left to the Lambda Node.js runtime, which ships it; everything else
// (Powertools, yaml) is bundled. https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
const { spawnSync } = require('node:child_process');
const { buildSync } = require('esbuild');
const { chmodSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
// Every handler in lambda/ that the constructs deploy (shared.ts and http-check.ts are modules they import).
const RUNTIME_HANDLERS = ['watchdog', 'pre-traffic', 'post-traffic', 'prober', 'reach-check'];
const outdir = join(root, 'assets', 'runtime');
rmSync(outdir, { recursive: true, force: true });
buildSync({
  entryPoints: Object.fromEntries(RUNTIME_HANDLERS.map((h) => [`${h}/index`, join(root, 'lambda', `${h}.ts`)])),
  outdir,
  bundle: true,
  platform: 'node',
  // The oldest Node.js the runtime functions may run on (the constructs pick nodejs22.x or newer).
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'error',
});

// The telemetry extension (extension/, Go), shipped as a layer: Lambda starts each executable in
// the layer's extensions/ folder as its own process. https://docs.aws.amazon.com/lambda/latest/dg/extensions-api.html
// One static binary per Lambda architecture, each in the layer folder of its architecture
// (runtime-bundle.ts telemetryLayerDir). CGO off: no libc, so the same binary runs on every Lambda
// runtime, OS-only ones included.
// https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html
rmSync(join(root, 'assets', 'telemetry-layer'), { recursive: true, force: true });
for (const [arch, goarch] of [['x86_64', 'amd64'], ['arm64', 'arm64']]) {
  const dir = join(root, 'assets', `telemetry-layer-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  const out = join(dir, 'extensions', 'canary-watchdog-telemetry');
  const go = spawnSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', out, '.'], {
    cwd: join(root, 'extension'),
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: goarch, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' },
    stdio: 'inherit',
  });
  if (go.error || go.status !== 0) {
    throw new Error(`go build of the telemetry extension (${goarch}) failed${go.error ? `: ${go.error.message}` : ''}; Go 1.26 or newer is needed to build the package`);
  }
  chmodSync(out, 0o755);
}
