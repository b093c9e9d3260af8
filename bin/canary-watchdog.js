#!/usr/bin/env node
// Runs the TypeScript CLI without a build step (tsx registers a transpiling loader).
require('tsx/cjs');
require('./canary-watchdog.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
