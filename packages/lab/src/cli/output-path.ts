import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { badInput } from './exit-codes';

/**
 * Check, before any long work, that `path` can be written as a file: its folder exists and is
 * writable, and `path` is not a folder (nor an existing read-only file). Throws a bad-input
 * CliError naming the flag and the path; returns the absolute path.
 */
export function checkOutputFile(flag: string, path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir)) throw badInput(`${flag} ${path}: folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw badInput(`${flag} ${path}: ${dir} is not a folder`);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw badInput(`${flag} ${path}: is a folder; give a file name`);
  try {
    accessSync(existsSync(abs) ? abs : dir, constants.W_OK);
  } catch {
    throw badInput(`${flag} ${path}: ${existsSync(abs) ? 'file' : `folder ${dir}`} is not writable`);
  }
  return abs;
}

/** Check, before any long work, that `path` is a folder that can be written (created when missing, if its parent exists). */
export function checkOutputFolder(flag: string, path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw badInput(`${flag} ${path}: is a file; give a folder`);
    try {
      accessSync(abs, constants.W_OK);
    } catch {
      throw badInput(`${flag} ${path}: folder is not writable`);
    }
    return abs;
  }
  checkOutputFile(flag, path);
  return abs;
}
