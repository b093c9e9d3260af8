import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { LabError } from '../kernel';

/**
 * Unpack a zip archive (a Lambda deployment package from S3) into a folder: stored and deflated
 * entries, read through the central directory.
 * https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
 */
export function unzip(zip: Buffer, into: string): void {
  const fail = (why: string) => new LabError('InvalidParameterValueException', `Could not unzip uploaded file: ${why}`);
  // The end-of-central-directory record: its signature within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const root = resolve(into);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw fail('corrupt central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    at += 46 + nameLen + extraLen + commentLen;
    const target = resolve(root, name);
    if (target !== root && !target.startsWith(root + sep)) throw fail(`entry ${name} points outside the package`);
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw fail(`entry ${name} uses compression method ${method} (stored or deflated expected)`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, method === 8 ? inflateRawSync(data) : data);
  }
  mkdirSync(join(root), { recursive: true });
}
