#!/usr/bin/env node
// Builds the CLI package (canary-watchdog-cli) into packages/cli/dist from the repository's source:
// - canary-watchdog.js: the CLI, the lab and the rehearsal in one bundle (esbuild). aws-cdk-lib and
//   constructs stay out: the installed CLI never loads them (the sample app comes synthesized).
// - sdk.js and sdk/@aws-sdk/<name>/: the AWS SDK v3 clients the lab's functions and the CLI use,
//   bundled once (minified), each name a two-line module over it. The Lambda Node.js runtime ships
//   the SDK, so function bundles leave it out; the lab plays that part (worker.js).
// - worker.js, python_worker.py: the function runners; scenarios/, cdk.json.
// - extensions/<arch>/canary-watchdog-telemetry: the telemetry extension's builds.
// - sample-assembly/: the sample app synthesized (`rehearse` without --app).
// Run by `npm run dist` (scripts/dist.js at the root); needs `npm run bundle` first.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LAB = path.join(ROOT, 'packages', 'lab');
const OUT = path.join(__dirname, '..', 'dist');

/** The SDK modules the lab serves to functions and the CLI uses (see the README's "The lab"). */
const SDK = [
  '@aws-sdk/client-cloudformation',
  '@aws-sdk/client-cloudwatch',
  '@aws-sdk/client-cloudwatch-logs',
  '@aws-sdk/client-codedeploy',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-sts',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/util-dynamodb',
];

/**
 * The SDK's retry backoff (a wait between attempts) calls the lab worker's __labRetryBackoff when
 * there is one, which makes it the invocation's time on a virtual clock (worker.js). The bundle
 * loses the module paths worker.js tells it by in node_modules.
 */
const RETRY_MODULE = /[\\/]@smithy[\\/](?:core[\\/]dist-[a-z]+[\\/]submodules[\\/]retry|middleware-retry|util-retry)[\\/].*\.js$/;
const retryBackoff = {
  name: 'retry-backoff',
  setup(build) {
    build.onLoad({ filter: RETRY_MODULE }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const contents = source.replace(/\bsetTimeout\(/g, '(globalThis.__labRetryBackoff || setTimeout)(');
      if (contents !== source) retryPatched++;
      return { contents, loader: 'js' };
    });
  },
};
let retryPatched = 0;

/** '@aws-sdk/x' from the CLI's bundle resolves to dist/sdk/@aws-sdk/x (one shared copy). */
const sdkShims = {
  name: 'sdk-shims',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\// }, (args) => {
      if (!SDK.includes(args.path)) throw new Error(`${args.path}: not among the SDK modules the CLI package carries (packages/cli/scripts/build.js SDK); add it there`);
      return { path: `./sdk/${args.path}/index.js`, external: true };
    });
  },
};

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };

  // The CLI with the lab and the rehearsal.
  await esbuild.build({
    ...common,
    entryPoints: [path.join(LAB, 'bin', 'canary-watchdog.ts')],
    outfile: path.join(OUT, 'canary-watchdog.js'),
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    banner: { js: '#!/usr/bin/env node' },
    define: { CANARY_WATCHDOG_BUNDLE: 'true' },
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'canary-watchdog/package.json', 'esbuild'],
    plugins: [sdkShims],
  });
  fs.chmodSync(path.join(OUT, 'canary-watchdog.js'), 0o755);

  // The SDK, once: each module loaded on first use.
  const entry = path.join(OUT, 'sdk-entry.js');
  fs.writeFileSync(entry, `module.exports = {\n${SDK.map((m) => `  ${JSON.stringify(m)}: () => require(${JSON.stringify(m)}),`).join('\n')}\n};\n`);
  await esbuild.build({ ...common, entryPoints: [entry], outfile: path.join(OUT, 'sdk.js'), minify: true, keepNames: true, nodePaths: [path.join(ROOT, 'node_modules')], plugins: [retryBackoff] });
  fs.rmSync(entry);
  // An SDK whose retry module moved would wait in wall time again, silently: refuse it.
  if (!retryPatched) throw new Error(`no SDK retry module matched ${RETRY_MODULE} in sdk.js: update it to where the SDK waits between attempts`);
  for (const m of SDK) {
    const dir = path.join(OUT, 'sdk', m);
    fs.mkdirSync(dir, { recursive: true });
    const up = path.relative(dir, path.join(OUT, 'sdk.js'));
    fs.writeFileSync(path.join(dir, 'index.js'), `'use strict';\nmodule.exports = require(${JSON.stringify(up)})[${JSON.stringify(m)}]();\n`);
  }

  // The runners and the lab's files.
  fs.copyFileSync(path.join(LAB, 'src', 'lab', 'lambda', 'worker.js'), path.join(OUT, 'worker.js'));
  fs.copyFileSync(path.join(LAB, 'src', 'lab', 'lambda', 'python_worker.py'), path.join(OUT, 'python_worker.py'));
  fs.cpSync(path.join(LAB, 'scenarios'), path.join(OUT, 'scenarios'), { recursive: true });
  fs.copyFileSync(path.join(LAB, 'cdk.json'), path.join(OUT, 'cdk.json'));
  // What the real-traffic scenarios name: the sample's traffic file, and its code changes bundled
  // (the installed CLI has no esbuild; a scenario's .ts change runs as the .js beside it).
  fs.mkdirSync(path.join(OUT, 'sample', 'changes'), { recursive: true });
  fs.copyFileSync(path.join(LAB, 'sample', 'traffic.yaml'), path.join(OUT, 'sample', 'traffic.yaml'));
  for (const f of fs.readdirSync(path.join(LAB, 'sample', 'changes')).filter((x) => x.endsWith('.ts'))) {
    await esbuild.build({ ...common, entryPoints: [path.join(LAB, 'sample', 'changes', f)], outfile: path.join(OUT, 'sample', 'changes', f.replace(/\.ts$/, '.js')), external: ['@aws-sdk/*'] });
  }
  // The telemetry extension for each architecture: the lab runs the machine's build of it when a
  // function's layer carries the other one (an arm64 function on an x86_64 laptop).
  for (const arch of ['x86_64', 'arm64']) {
    const from = path.join(ROOT, 'packages', 'constructs', 'assets', `telemetry-layer-${arch}`, 'extensions', 'canary-watchdog-telemetry');
    if (!fs.existsSync(from)) throw new Error(`${from} is missing: run npm run bundle first`);
    fs.mkdirSync(path.join(OUT, 'extensions', arch), { recursive: true });
    fs.copyFileSync(from, path.join(OUT, 'extensions', arch, 'canary-watchdog-telemetry'));
    fs.chmodSync(path.join(OUT, 'extensions', arch, 'canary-watchdog-telemetry'), 0o755);
  }

  // The sample app, synthesized by the repository's code (NodejsFunction bundles its handlers).
  const script = path.join(OUT, 'synth-sample.ts');
  fs.writeFileSync(script, `require(${JSON.stringify(path.join(LAB, 'src', 'lab', 'sample-app.ts'))}).synthSampleApp(${JSON.stringify(path.join(OUT, 'sample-assembly'))});\n`);
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', path.join(ROOT, 'tsconfig.json'), script], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  } finally {
    fs.rmSync(script);
  }
  if (!fs.existsSync(path.join(OUT, 'sample-assembly', 'manifest.json'))) throw new Error('the sample app did not synthesize');
  process.stdout.write(`built ${path.relative(ROOT, OUT)}\n`);
}

main().catch((err) => {
  process.stderr.write(`cli build: ${err.message}\n`);
  process.exit(1);
});
