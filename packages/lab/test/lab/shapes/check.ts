/**
 * Checks a reply the lab sends against the output shape of the operation in botocore's service
 * model (extracted by extract.py into <service>.json): every member the lab returns exists in the
 * shape with the shape's type, and every enum value is one the model lists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Shape {
  readonly type: string;
  readonly members?: Record<string, { shape: string }>;
  readonly member?: { shape: string };
  readonly key?: { shape: string };
  readonly value?: { shape: string };
  readonly enum?: readonly string[];
  readonly timestampFormat?: string;
}
export interface ServiceModel {
  readonly source: string;
  readonly operations: Record<string, string>;
  readonly shapes: Record<string, Shape>;
}

export function loadModel(service: 'lambda' | 'cloudwatch' | 'codedeploy'): ServiceModel {
  return JSON.parse(readFileSync(join(__dirname, `${service}.json`), 'utf8')) as ServiceModel;
}

/**
 * What is wrong with `value` as the output of `operation` (empty when nothing): members the shape
 * does not have, values of the wrong type. Timestamps are JSON numbers (epoch seconds) unless the
 * shape is a string, as the JSON protocols write them.
 */
export function shapeProblems(model: ServiceModel, operation: string, value: unknown): string[] {
  const problems: string[] = [];
  const visit = (shapeName: string, v: unknown, path: string): void => {
    const s = model.shapes[shapeName];
    const wrong = (expected: string) => problems.push(`${path}: expected ${expected} (${shapeName}), got ${JSON.stringify(v)?.slice(0, 60)}`);
    switch (s.type) {
      case 'structure':
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return void wrong('an object');
        for (const [k, x] of Object.entries(v)) {
          const m = s.members?.[k];
          if (!m) problems.push(`${path}.${k}: not a member of ${shapeName}`);
          else visit(m.shape, x, `${path}.${k}`);
        }
        return;
      case 'list':
        if (!Array.isArray(v)) return void wrong('a list');
        return v.forEach((x, i) => visit(s.member!.shape, x, `${path}[${i}]`));
      case 'map':
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return void wrong('a map');
        for (const [k, x] of Object.entries(v)) {
          visit(s.key!.shape, k, `${path}{key}`);
          visit(s.value!.shape, x, `${path}.${k}`);
        }
        return;
      case 'string':
        if (typeof v !== 'string') return void wrong('a string');
        if (s.enum && !s.enum.includes(v)) problems.push(`${path}: ${JSON.stringify(v)} is not one of ${s.enum.join(', ')}`);
        return;
      case 'integer':
      case 'long':
        if (!Number.isInteger(v)) wrong('an integer');
        return;
      case 'double':
      case 'float':
        if (typeof v !== 'number') wrong('a number');
        return;
      case 'boolean':
        if (typeof v !== 'boolean') wrong('a boolean');
        return;
      case 'timestamp':
        if (typeof v !== 'number') wrong('epoch seconds');
        return;
      case 'blob':
        if (typeof v !== 'string') wrong('base64 text');
        return;
      default:
        problems.push(`${path}: shape type ${s.type} not checked`);
    }
  };
  visit(model.operations[operation], value, operation);
  return problems;
}

/** The members of `shape` a reply leaves out among `knowable` (dotted paths, `[]` for each element of a list). */
export function missing(value: unknown, knowable: readonly string[]): string[] {
  const present = (v: unknown, parts: string[]): boolean => {
    if (!parts.length) return v !== undefined;
    const [head, ...rest] = parts;
    if (head.endsWith('[]')) {
      const list = (v as Record<string, unknown> | undefined)?.[head.slice(0, -2)];
      return Array.isArray(list) && list.length > 0 && list.every((x) => present(x, rest));
    }
    return v !== null && typeof v === 'object' && present((v as Record<string, unknown>)[head], rest);
  };
  return knowable.filter((k) => !present(value, k.split('.')));
}
