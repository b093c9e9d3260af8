import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { arr, InputError, num, obj, onlyKeys, optNum } from 'canary-watchdog/lib/core/validate';
import type { HostAnswer } from './lambda/runner';
import { parseNetwork } from './network';

/** One Lambda event users send, and how often relative to the others (default 1). */
export interface WeightedEvent {
  readonly event: unknown;
  readonly weight: number;
}

/**
 * Where user requests come from: a weighted list of events, or a module's generator, called with
 * the traffic's seeded random source and the request's index (so a run is reproducible).
 */
export type EventSource =
  | { readonly kind: 'list'; readonly events: readonly WeightedEvent[]; readonly from: string }
  | { readonly kind: 'generator'; readonly generate: (rand: () => number, index: number) => unknown; readonly from: string };

/** One function's traffic in a traffic file: its events and its rate. */
export interface FunctionTraffic {
  readonly rps: number;
  readonly events: EventSource;
  /** Real invocations a second at most; the rest are counted in proportion (traffic.ts). */
  readonly realRps?: number;
}

/** A traffic file: per function (construct id or function name), its traffic; `network`, what hosts outside the lab answer. */
export type TrafficFile = ReadonlyMap<string, FunctionTraffic> & { readonly network?: Readonly<Record<string, HostAnswer>> };

/** The most requests a second one function's traffic may ask for (as a scenario's `traffic.rps`). */
export const MAX_RPS = 10_000;

/**
 * `{ event, weight? }` is a weighted event; any other value is the event itself (weight 1). A
 * Lambda event whose only keys are `event` and `weight` must be written wrapped.
 */
function weighted(v: unknown, path: string): WeightedEvent {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'event' in v && Object.keys(v).every((k) => k === 'event' || k === 'weight')) {
    const o = v as { event: unknown; weight?: unknown };
    return { event: o.event, weight: o.weight === undefined ? 1 : positiveWeight(o.weight, `${path}.weight`) };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${path}: expected a Lambda event (a JSON object) or { event, weight }, got ${JSON.stringify(v)?.slice(0, 80)}`, path);
  return { event: v, weight: 1 };
}

function positiveWeight(v: unknown, path: string): number {
  const w = num(v, path, { min: 0, max: 1e6 });
  if (w === 0) throw new InputError(`${path}: expected a weight above 0 and at most 1000000, got 0`, path);
  return w;
}

function list(events: WeightedEvent[], from: string, path: string): EventSource {
  if (!events.length) throw new InputError(`${path}: no events in ${from}; give at least one`, path);
  return { kind: 'list', events, from };
}

function parseJson(text: string, where: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: ${where} is not valid JSON: ${(err as Error).message}`, path);
  }
}

/**
 * Events from a path: a folder of `.json` files (one event each), a JSON Lines file (`.jsonl`,
 * one event a line), a `.json` file holding a list of events, or a CommonJS module (`.js`,
 * `.cjs`) exporting `events` (a list) or `generate(rand, index)` (one event per call). Each event
 * may be wrapped as `{ event, weight }`. `path` names the field in errors.
 */
export function loadEventSource(file: string, path: string): EventSource {
  if (!existsSync(file)) throw new InputError(`${path}: no such file or folder: ${file} (a folder of .json events, a .jsonl file, a .json list, a .js module or a traffic .yaml)`, path);
  if (statSync(file).isDirectory()) {
    const files = readdirSync(file).filter((f) => f.endsWith('.json')).sort();
    return list(files.map((f) => weighted(parseJson(readFileSync(join(file, f), 'utf8'), f, `${path}/${f}`), `${path}/${f}`)), file, path);
  }
  const ext = extname(file);
  if (ext === '.jsonl') {
    const lines = readFileSync(file, 'utf8').split('\n');
    const events = lines.flatMap((l, i) => (l.trim() ? [weighted(parseJson(l, `line ${i + 1}`, path), `${path}:${i + 1}`)] : []));
    return list(events, file, path);
  }
  if (ext === '.json') return list(arr(parseJson(readFileSync(file, 'utf8'), basename(file), path), path, weighted), file, path);
  if (ext === '.js' || ext === '.cjs') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require(resolve(file)) as { events?: unknown; generate?: unknown; default?: { events?: unknown; generate?: unknown } };
    const mod = m.events === undefined && m.generate === undefined && m.default ? m.default : m;
    if (typeof mod.generate === 'function') return { kind: 'generator', generate: mod.generate as (rand: () => number, index: number) => unknown, from: file };
    if (Array.isArray(mod.events)) return list(arr(mod.events, `${path} (events)`, weighted), file, path);
    throw new InputError(`${path}: the module ${file} exports neither events (a list) nor generate(rand, index)`, path);
  }
  throw new InputError(`${path}: ${file}: expected a folder of .json events, a .jsonl file, a .json list, a .js or .cjs module, or a traffic .yaml; got a ${ext || 'file without extension'}`, path);
}

/** Events given as a list inline, or as a path to load (relative to `dir`). */
export function parseEvents(v: unknown, path: string, dir: string): EventSource {
  if (typeof v === 'string') return loadEventSource(isAbsolute(v) ? v : join(dir, v), path);
  return list(arr(v, path, weighted), `${path} (inline)`, path);
}

/**
 * A traffic file (YAML or JSON): `functions`, per function (construct id or function name),
 * `{ rps, events, realRps? }`, `events` a list of events or a path to them.
 */
export function parseTrafficFile(v: unknown, source: string): TrafficFile {
  const path = basename(source);
  const o = obj(v, path);
  onlyKeys(o, path, ['functions', 'network']);
  const fns = obj(o.functions, `${path}.functions`);
  if (!Object.keys(fns).length) throw new InputError(`${path}.functions: no function; name each by construct id or function name`, `${path}.functions`);
  const out = new Map<string, FunctionTraffic>();
  for (const [name, x] of Object.entries(fns)) {
    const p = `${path}.functions.${name}`;
    const e = obj(x, p);
    onlyKeys(e, p, ['rps', 'events', 'realRps']);
    const realRps = optNum(e.realRps, `${p}.realRps`, { min: 1, max: MAX_RPS });
    out.set(name, { rps: num(e.rps, `${p}.rps`, { min: 0, max: MAX_RPS }), events: parseEvents(e.events, `${p}.events`, dirname(source)), ...(realRps !== undefined ? { realRps } : {}) });
  }
  if (o.network === undefined) return out;
  const windows: Record<string, { fromMinute?: number; toMinute?: number }> = {};
  const network = parseNetwork(o.network, `${path}.network`, windows);
  const windowed = Object.keys(windows)[0];
  if (windowed) throw new InputError(`${path}.network.${windowed}: ${NO_WINDOWS}`, `${path}.network.${windowed}`);
  return Object.assign(out, { network });
}

/** Why a traffic file's or the control API's host answers take no window. */
export const NO_WINDOWS = "a traffic file's hosts answer for the whole run, without fromMinute or toMinute (windows count from a release's start: give them in a scenario, or change a host with POST /_lab/network while the lab runs)";

export function loadTrafficFile(file: string, path = basename(file)): TrafficFile {
  if (!existsSync(file)) throw new InputError(`${path}: no such traffic file: ${file}`, path);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid YAML or JSON: ${(err as Error).message}`, path);
  }
  return parseTrafficFile(doc, file);
}

/** A traffic file's entry for a function, matched by construct id or function name; undefined when none. */
export function entryFor(file: TrafficFile, matches: (key: string) => boolean): FunctionTraffic | undefined {
  for (const [k, v] of file) if (matches(k)) return v;
  return undefined;
}

/** One request's event: drawn by weight from the list, or generated. */
export function drawEvent(source: EventSource, rand: () => number, index: number): unknown {
  if (source.kind === 'generator') return source.generate(rand, index);
  const total = source.events.reduce((a, e) => a + e.weight, 0);
  let x = rand() * total;
  for (const e of source.events) {
    x -= e.weight;
    if (x < 0) return e.event;
  }
  return source.events[source.events.length - 1].event;
}
