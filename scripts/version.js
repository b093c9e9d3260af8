#!/usr/bin/env node
// The version lives in the root package.json. `npm run set-version -- 0.2.0` writes it there and
// into every package that carries one (npm and jsii need it in each package.json); checkVersions
// lists where they disagree (a unit test and `npm run dist` call it).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Each place that carries the version, with a reader and a writer. */
function places(root) {
  const pkg = (rel) => path.join(root, rel);
  const json = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
  const write = (file, o) => fs.writeFileSync(file, `${JSON.stringify(o, null, 2)}\n`);
  const field = (where, get, set) => {
    const file = pkg(where.split(' ')[0]);
    return { where, get: () => get(json(file)), set: (v) => { const o = json(file); set(o, v); write(file, o); } };
  };
  return [
    field('packages/constructs/package.json', (o) => o.version, (o, v) => (o.version = v)),
    field('packages/lab/package.json', (o) => o.version, (o, v) => (o.version = v)),
    field('packages/lab/package.json dependencies.canary-watchdog', (o) => o.dependencies['canary-watchdog'], (o, v) => (o.dependencies['canary-watchdog'] = v)),
    field('packages/cli/package.json', (o) => o.version, (o, v) => (o.version = v)),
    field('packages/cli/package.json peerDependencies.canary-watchdog', (o) => o.peerDependencies['canary-watchdog'], (o, v) => (o.peerDependencies['canary-watchdog'] = v)),
  ];
}

function rootVersion(root) {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
}

/** Where a package's version differs from the root package.json's, one line each. */
function checkVersions(root) {
  const v = rootVersion(root);
  return places(root).filter((p) => p.get() !== v).map((p) => `${p.where} is ${p.get()}, the root package.json says ${v}`);
}

function setVersion(root, v) {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v ?? '')) throw new Error(`set-version: expected a version such as 0.2.0, got ${v ?? 'nothing'}`);
  const file = path.join(root, 'package.json');
  const o = JSON.parse(fs.readFileSync(file, 'utf8'));
  o.version = v;
  fs.writeFileSync(file, `${JSON.stringify(o, null, 2)}\n`);
  for (const p of places(root)) p.set(v);
}

module.exports = { checkVersions, setVersion };

if (require.main === module) {
  try {
    setVersion(path.resolve(__dirname, '..'), process.argv[2]);
    process.stdout.write(`version ${process.argv[2]} set; run npm install to update package-lock.json\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
