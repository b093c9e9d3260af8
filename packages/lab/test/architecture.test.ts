import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

// The folders tell the architecture: no import runs up a layer, and none runs in a circle
// (type-only imports included: shared types go where both sides can import them).
const ROOT = resolve(__dirname, '..', '..', '..');
const CONSTRUCTS = join(ROOT, 'packages', 'constructs');

/** Each source folder's layer, lowest first: a file may import its own layer and those below. */
const LAYERS: readonly { readonly dir: string; readonly rank: number }[] = [
  { dir: 'packages/constructs/src/core', rank: 0 },
  { dir: 'packages/constructs/src/aws', rank: 1 },
  { dir: 'packages/constructs/src/runtime', rank: 2 },
  { dir: 'packages/constructs/lambda', rank: 3 },
  { dir: 'packages/constructs/src/constructs', rank: 3 },
  { dir: 'packages/constructs/src/index.ts', rank: 4 },
  { dir: 'packages/lab/src/lab', rank: 5 },
  { dir: 'packages/lab/src/rehearsal', rank: 6 },
  // threat-model rehearses (above rehearsal); the docs' figures render both.
  { dir: 'packages/lab/src/threat-model', rank: 6.5 },
  { dir: 'packages/lab/src/docs-figures', rank: 7 },
  { dir: 'packages/lab/src/cli', rank: 7 },
  { dir: 'packages/lab/bench', rank: 8 },
];

function sources(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return [abs];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('node_modules'))
    .map((f) => join(abs, f));
}

function layerOf(file: string): { dir: string; rank: number } | undefined {
  const rel = relative(ROOT, file);
  return [...LAYERS].sort((a, b) => b.dir.length - a.dir.length).find((l) => rel === l.dir || rel.startsWith(`${l.dir}/`));
}

/** The project files a source file imports (relative, and the lab's `canary-watchdog/lib/...`). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName: spec } of info.importedFiles) {
    let base: string | undefined;
    if (spec.startsWith('.')) base = resolve(dirname(file), spec);
    else if (spec === 'canary-watchdog') base = join(CONSTRUCTS, 'src', 'index');
    else if (spec.startsWith('canary-watchdog/lib/')) base = join(CONSTRUCTS, 'src', spec.slice('canary-watchdog/lib/'.length));
    if (base === undefined) continue;
    const hit = [`${base}.ts`, join(base, 'index.ts'), base].find((c) => existsSync(c) && statSync(c).isFile());
    if (hit && hit.endsWith('.ts')) out.push(hit);
  }
  return out;
}

const files = [...new Set(LAYERS.flatMap((l) => sources(l.dir)))];
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(ROOT, f);

/** Tarjan's strongly connected components: every circle of imports, each named by its files. */
function circles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.map(rel).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the layout', () => {
  it('reads the sources of every layer', () => {
    expect(files.length).toBeGreaterThan(100);
    for (const l of LAYERS) expect(sources(l.dir).length).toBeGreaterThan(0);
  });

  it('has no import that runs up a layer', () => {
    const up: string[] = [];
    for (const [file, deps] of graph) {
      const from = layerOf(file)!;
      for (const d of deps) {
        const to = layerOf(d);
        if (to && to.rank > from.rank) up.push(`${rel(file)} imports ${rel(d)} (${to.dir} is above ${from.dir})`);
      }
    }
    expect(up).toEqual([]);
  });

  it('has no import that runs in a circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle and an upward import when there is one (the check itself)', () => {
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c'].map((f) => relative(ROOT, f))].map((x) => x.sort()));
    expect(layerOf(join(ROOT, 'packages/constructs/src/core/x.ts'))!.rank).toBeLessThan(layerOf(join(ROOT, 'packages/constructs/src/aws/y.ts'))!.rank);
  });
});
