import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from 'canary-watchdog/lib/core/random';
import { LAB_FILES } from '../../../src/lab/files';
import { drawEvent, loadEventSource, loadTrafficFile, parseTrafficFile } from '../../../src/lab/user-events';
import { samplingMargin95 } from '../../../src/rehearsal/real-traffic';

const dir = () => mkdtempSync(join(tmpdir(), 'user-events-'));

describe('user events: where traffic that runs the real code gets its requests', () => {
  it('reads a folder of .json events, a JSON Lines file, a .json list and a module, each event optionally weighted', () => {
    const d = dir();
    mkdirSync(join(d, 'events'));
    writeFileSync(join(d, 'events', 'a.json'), JSON.stringify({ rawPath: '/a' }));
    writeFileSync(join(d, 'events', 'b.json'), JSON.stringify({ event: { rawPath: '/b' }, weight: 3 }));
    writeFileSync(join(d, 'events', 'notes.txt'), 'not an event');
    writeFileSync(join(d, 'e.jsonl'), `${JSON.stringify({ rawPath: '/a' })}\n\n${JSON.stringify({ event: { rawPath: '/c' }, weight: 2 })}\n`);
    writeFileSync(join(d, 'e.json'), JSON.stringify([{ rawPath: '/a' }, { event: { rawPath: '/d' } }]));
    writeFileSync(join(d, 'list.js'), 'exports.events = [{ event: { n: 1 }, weight: 4 }];');
    writeFileSync(join(d, 'gen.js'), 'exports.generate = (rand, i) => ({ i, qty: 1 + Math.floor(rand() * 10) });');
    const weights = (p: string) => {
      const s = loadEventSource(join(d, p), 'events');
      return s.kind === 'list' ? s.events.map((e) => [e.event, e.weight]) : s.kind;
    };
    expect(weights('events')).toEqual([[{ rawPath: '/a' }, 1], [{ rawPath: '/b' }, 3]]);
    expect(weights('e.jsonl')).toEqual([[{ rawPath: '/a' }, 1], [{ rawPath: '/c' }, 2]]);
    expect(weights('e.json')).toEqual([[{ rawPath: '/a' }, 1], [{ rawPath: '/d' }, 1]]);
    expect(weights('list.js')).toEqual([[{ n: 1 }, 4]]);
    const gen = loadEventSource(join(d, 'gen.js'), 'events');
    expect(drawEvent(gen, seededRandom(1), 7)).toMatchObject({ i: 7 });
  });

  it('draws events by weight from a seeded stream (the same seed, the same requests)', () => {
    const source = { kind: 'list' as const, from: 't', events: [{ event: 'a', weight: 3 }, { event: 'b', weight: 1 }] };
    const draw = (seed: number) => {
      const rand = seededRandom(seed);
      return Array.from({ length: 4000 }, (_, i) => drawEvent(source, rand, i));
    };
    const a = draw(9);
    expect(a).toEqual(draw(9));
    const share = a.filter((x) => x === 'a').length / a.length;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it.each<[string, (d: string) => void, string, string]>([
    ['a line that is not JSON', (d) => writeFileSync(join(d, 'e.jsonl'), '{"a":1}\n{oops\n'), 'e.jsonl', 'events: line 2 is not valid JSON'],
    ['a zero weight', (d) => writeFileSync(join(d, 'e.jsonl'), JSON.stringify({ event: {}, weight: 0 })), 'e.jsonl', 'events:1.weight: expected a weight above 0 and at most 1000000, got 0'],
    ['an event that is not an object', (d) => writeFileSync(join(d, 'e.json'), '[42]'), 'e.json', 'events[0]: expected a Lambda event (a JSON object) or { event, weight }, got 42'],
    ['an empty file', (d) => writeFileSync(join(d, 'e.jsonl'), '\n'), 'e.jsonl', 'events: no events in'],
    ['a module without events', (d) => writeFileSync(join(d, 'm.js'), 'exports.x = 1;'), 'm.js', 'exports neither events (a list) nor generate(rand, index)'],
  ])('refuses %s, naming it', (_, write, file, message) => {
    const d = dir();
    write(d);
    expect(() => loadEventSource(join(d, file), 'events')).toThrow(message);
  });

  it('reads a traffic file: per function its rate and events, inline or from a path next to it', () => {
    const d = dir();
    writeFileSync(join(d, 'orders.jsonl'), JSON.stringify({ rawPath: '/orders' }));
    const file = parseTrafficFile({ functions: { OrdersApi: { rps: 5, events: 'orders.jsonl' }, pricing: { rps: 2, realRps: 1, events: [{ rawPath: '/price' }] } } }, join(d, 't.yaml'));
    expect(file.get('OrdersApi')).toMatchObject({ rps: 5, events: { kind: 'list', events: [{ event: { rawPath: '/orders' }, weight: 1 }] } });
    expect(file.get('pricing')).toMatchObject({ rps: 2, realRps: 1 });
    expect(() => parseTrafficFile({ functions: { x: { rps: -1, events: [{}] } } }, 't.yaml')).toThrow('t.yaml.functions.x.rps: expected a number from 0 to 10000, got -1');
    expect(() => parseTrafficFile({ functions: { x: { events: [{}], rate: 3 } } }, 't.yaml')).toThrow('t.yaml.functions.x.rate: unknown field; allowed fields are rps, events, realRps');
    expect(() => parseTrafficFile({ functions: {} }, 't.yaml')).toThrow('t.yaml.functions: no function');
  });

  it("the sample's traffic file covers each of the sample's functions with more SKUs and quantities than the probes send", () => {
    const file = loadTrafficFile(join(LAB_FILES, 'sample', 'traffic.yaml'));
    expect([...file.keys()]).toEqual(['OrdersApi', 'PricingApi', 'ShippingQuote']);
    const orders = file.get('OrdersApi')!.events;
    if (orders.kind !== 'list') throw new Error('a list');
    // One event's body is not JSON on purpose (a user's mistake).
    const parsed = (body = 'null') => {
      try {
        return JSON.parse(body) as { sku?: string; qty?: number } | null;
      } catch {
        return null;
      }
    };
    const bodies = orders.events.map((e) => parsed((e.event as { body?: string }).body)).filter((b) => b?.sku);
    expect(new Set(bodies.map((b) => b!.sku)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(bodies.map((b) => b!.qty)).size).toBeGreaterThanOrEqual(5);
  });

  it.each<[number, number, number, number | 'zero']>([
    // k real of n requests, x of them failed: the 95 % margin of the failure rate.
    [100, 100, 10, 'zero'],
    [0, 0, 100, 'zero'],
    [100, 10, 10_000, 0.062],
    [1000, 100, 10_000, 0.018],
    [100, 0, 10_000, 0.027],
  ])('sampling %i requests (%i failed) of %i leaves a 95 %% margin of %s', (k, x, n, expected) => {
    const m = samplingMargin95(k, x, n);
    if (expected === 'zero') expect(m).toBe(0);
    else expect(m).toBeCloseTo(expected, 3);
  });
});
