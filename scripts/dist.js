#!/usr/bin/env node
// `npm run dist`: every artifact, built from this checkout into dist/:
//   dist/canary-watchdog-<version>.tgz        the construct library for npm (jsii)
//   dist/canary_watchdog-<version>-*.whl      the construct library for Python (jsii-pacmak)
//   dist/canary-watchdog-cli-<version>.tgz    the CLI, with the lab and the rehearsal
// The version is the root package.json's (scripts/version.js checks that every package agrees).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { checkVersions } = require('./version');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist');
const CONSTRUCTS = path.join(ROOT, 'packages', 'constructs');
const CLI = path.join(ROOT, 'packages', 'cli');
const npx = (cwd, ...args) => execFileSync('npx', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
const step = (what, fn) => {
  const t = Date.now();
  process.stdout.write(`dist: ${what}\n`);
  fn();
  process.stdout.write(`dist: ${what}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
};

const problems = checkVersions(ROOT);
if (problems.length) {
  process.stderr.write(`dist: the versions disagree:\n${problems.map((p) => `  ${p}`).join('\n')}\nSet them all with: npm run set-version -- <version>\n`);
  process.exit(2);
}
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT);

step('the construct library (bundle, jsii, npm and Python packages)', () => {
  execFileSync('npm', ['run', 'build', '-w', 'canary-watchdog'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  fs.rmSync(path.join(CONSTRUCTS, 'dist'), { recursive: true, force: true });
  npx(CONSTRUCTS, 'jsii-pacmak', '--targets', 'js', 'python');
  // jsii-pacmak writes a .npmignore where the package has none; package.json's files decide.
  fs.rmSync(path.join(CONSTRUCTS, '.npmignore'), { force: true });
  // jsii-pacmak names the npm tarball canary-watchdog@<version>.jsii.tgz; npm pack's name is used here.
  for (const dir of ['js', 'python']) for (const f of fs.readdirSync(path.join(CONSTRUCTS, 'dist', dir))) if (/\.(tgz|whl)$/.test(f)) fs.copyFileSync(path.join(CONSTRUCTS, 'dist', dir, f), path.join(OUT, f.replace(/^canary-watchdog@(.*)\.jsii\.tgz$/, 'canary-watchdog-$1.tgz')));
});

step('the CLI (bundle, sample app, npm package)', () => {
  execFileSync(process.execPath, [path.join(CLI, 'scripts', 'build.js')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  execFileSync('npm', ['pack', '--silent', '--pack-destination', OUT], { cwd: CLI, stdio: ['ignore', 'ignore', 'inherit'] });
});

const files = fs.readdirSync(OUT).sort();
for (const f of files) process.stdout.write(`  dist/${f}  ${(fs.statSync(path.join(OUT, f)).size / 1024 / 1024).toFixed(1)} MB\n`);
const expected = [`canary-watchdog-${version}.tgz`, `canary-watchdog-cli-${version}.tgz`];
const missing = expected.filter((f) => !files.includes(f));
if (missing.length || !files.some((f) => f.endsWith('.whl'))) {
  process.stderr.write(`dist: missing ${[...missing, ...(files.some((f) => f.endsWith('.whl')) ? [] : ['the Python wheel'])].join(', ')}\n`);
  process.exit(1);
}
