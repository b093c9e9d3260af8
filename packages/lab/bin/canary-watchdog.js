#!/usr/bin/env node
// Runs the TypeScript CLI without a build step (tsx registers a transpiling loader). The
// repository's tsconfig maps `canary-watchdog` to the construct package's source; tsx reads the
// path once when it registers, and the variable is removed so that the apps the CLI synthesizes
// in child processes keep their own tsconfig.
const { join } = require('node:path');
process.env.TSX_TSCONFIG_PATH = join(__dirname, '..', '..', '..', 'tsconfig.json');
require('tsx/cjs');
delete process.env.TSX_TSCONFIG_PATH;
require('./canary-watchdog.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
