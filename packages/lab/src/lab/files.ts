import { resolve } from 'node:path';

/**
 * Set by the CLI package's build (packages/cli/scripts/build.js, esbuild `define`): this code runs
 * from the packed bundle, and its files sit next to it in `dist/`.
 */
declare const CANARY_WATCHDOG_BUNDLE: boolean;

/** Whether this code runs from the CLI package's bundle rather than from the repository's source. */
export const BUNDLED = typeof CANARY_WATCHDOG_BUNDLE !== 'undefined' && CANARY_WATCHDOG_BUNDLE;

/**
 * Where the lab's files are: the built-in scenarios (`scenarios/`), the sample app's `cdk.json`
 * and, in the bundle, its synthesized assembly (`sample-assembly/`). From source: packages/lab;
 * bundled: the CLI package's `dist/`.
 */
export const LAB_FILES = BUNDLED ? __dirname : resolve(__dirname, '..', '..');

/** Where the function runners' own files are (worker.js, python_worker.py). */
export const RUNNER_FILES = BUNDLED ? __dirname : resolve(__dirname, 'lambda');

/** The CLI's package.json: the CLI package's when bundled, packages/lab's from source. */
export const CLI_PACKAGE_JSON = resolve(LAB_FILES, BUNDLED ? '..' : '.', 'package.json');
