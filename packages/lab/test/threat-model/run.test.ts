import { parseWatchdogConfig } from 'canary-watchdog/lib/core/config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeCommand, parseShard, parseStagesFlag, threatModelCommand } from '../../src/cli/threat-model-command';
import { CliError } from '../../src/cli/exit-codes';
import { parseScenario } from '../../src/rehearsal/scenario';
import { withoutLayers } from '../../src/rehearsal/watchdog-settings';
import { CATALOGUE, userAlarms, type FunctionFacts } from '../../src/threat-model/catalogue';
import { threatTable, TABLE_COLUMNS, verdict } from '../../src/threat-model/output';
import { adviceFor, layerOf, selectModes, shift, trials, type ThreatRow } from '../../src/threat-model/run';

const guard = parseWatchdogConfig({
  guards: [
    {
      application: 'app',
      deploymentGroup: 'dg',
      functionName: 'orders',
      alias: 'live',
      configChecks: [{ key: 'PAYMENTS_URL', format: 'url' }],
      probes: [{ name: 'health', event: {}, expect: { status: 'success' } }],
      alarms: { probes: ['orders-probe-failures-v{version}'], service: ['orders-alias-errors'] },
      customLayers: [{ name: 'downstream', alarms: ['warehouse-errors'] }],
      telemetry: true,
    },
  ],
}).guards[0];
const facts: FunctionFacts = { functionName: 'orders', logicalId: 'OrdersFn', guard, env: { PAYMENTS_URL: 'https://payments.internal/v2', CURRENCY: 'EUR' }, shiftMinutes: 5, rollout: 'canary 10 % for 5 min' };

const row = (over: Partial<ThreatRow>): ThreatRow => ({ function: 'OrdersService-OrdersApiFunction28E5008F', mode: 'errors-20', group: 'code', kind: 'bad', detectedBy: ['fast-signal', 'probes'], redundancy: 2, outcome: 'rolled-back', maxTrafficPercent: 10, failedUserRequests: 8, detectionSeconds: 29, ...over });

describe('the threat model', () => {
  it('builds a valid scenario from every mode of the catalogue, or says why it cannot', () => {
    const staged = { ...facts, stages: [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 30 }, { name: 'prod', trafficShare: 0.9, bakeMinutes: 60 }] };
    for (const m of CATALOGUE) {
      const built = m.build(staged);
      if ('skip' in built) {
        expect(m.id).toBe('real-traffic-bug');
        continue;
      }
      expect(() => parseScenario({ name: m.id, function: 'orders', ...built, expect: { outcome: m.kind === 'bad' ? 'rolled-back' : 'completed' } }, m.id)).not.toThrow();
    }
    // A typo fails the configuration check's format; a slow burn starts after the shift.
    expect(CATALOGUE.find((m) => m.id === 'config-typo')!.build(facts)).toEqual({ release: { env: { PAYMENTS_URL: 'htp//payments' }, errorRate: 1 } });
    expect(CATALOGUE.find((m) => m.id === 'slow-burn-after-100')!.build(facts)).toMatchObject({ release: { startsFailingAfterMinutes: 6 } });
    // A slow burn begins after the shift: only it counts the layers that stop it at 100 %.
    expect(CATALOGUE.filter((m) => m.afterFullTraffic).map((m) => m.id)).toEqual(['slow-burn-after-100']);
    // A hook that hangs: the rehearsal runs past CodeDeploy's one-hour hook timeout.
    const hang = CATALOGUE.find((m) => m.id === 'hook-timeout')!;
    expect(hang.build(facts)).toEqual({ release: { errorRate: 0.2 }, faults: { hooks: { hang: true } } });
    expect(hang.extraMinutes).toBe(60);
    // An alarm that never fires: the user's own alarms are broken, the built-in ones kept; none, no rehearsal.
    const never = CATALOGUE.find((m) => m.id === 'alarm-never-fires')!;
    expect(never.build(facts)).toEqual({ release: { errorRate: 0.2 }, faults: { alarms: { unpublished: ['orders-alias-errors', 'warehouse-errors'] } } });
    expect(never.build({ ...facts, guard: { ...guard, alarms: { service: [] }, customLayers: [] } })).toEqual({ skip: expect.stringMatching(/no alarm of yours/) });
    // Every stage at once: the app's declared stages, all entered; a single-stage app is not rehearsed.
    const atOnce = CATALOGUE.find((m) => m.id === 'all-stages-at-once')!;
    const stages = [{ name: 'beta', trafficShare: 0.01, bakeMinutes: 30 }, { name: 'prod', trafficShare: 0.99, bakeMinutes: 60 }];
    expect(atOnce.build({ ...facts, stages })).toEqual({ release: { errorRate: 0.2 }, stages, stagesAtOnce: true });
    expect(atOnce.build(facts)).toEqual({ skip: expect.stringMatching(/^a single-stage app: .*--stages/) });
    expect(atOnce.build({ ...facts, stages: stages.slice(0, 1) })).toEqual({ skip: expect.stringMatching(/^a single-stage app/) });
    expect(new Set(CATALOGUE.map((m) => m.group))).toEqual(new Set(['code', 'configuration', 'release process', 'dependencies']));
  });

  it('names the layer that stopped a run: the fast signal, a CodeDeploy alarm\'s layer or the heartbeat, a hook that failed closed', () => {
    expect(layerOf({ layer: 'new-version', signal: 'telemetry-errors' }, guard)).toBe('fast-signal');
    expect(layerOf({ layer: 'new-version', signal: 'errors' }, guard)).toBe('new-version');
    expect(layerOf({ layer: 'codedeploy-alarm', signal: 'OrdersService-Watchdog-heartbeat' }, guard)).toBe('heartbeat');
    expect(layerOf({ layer: 'codedeploy-alarm', signal: 'orders-probe-failures-v7' }, guard)).toBe('probes');
    expect(layerOf({ layer: 'codedeploy-alarm', signal: 'warehouse-errors' }, guard)).toBe('downstream');
    expect(layerOf({ layer: 'hook', signal: 'BeforeAllowTraffic Failed' }, guard)).toBe('fail-closed');
    expect(layerOf(null, guard)).toBe('none');
  });

  it('takes layers away from a guard\'s configuration, and refuses a layer the guard does not have', () => {
    const raw = { ...guard } as unknown as Record<string, unknown>;
    const off = withoutLayers(raw, ['config', 'probes', 'fast-signal', 'new-version', 'service', 'downstream', 'heartbeat'], 'test');
    expect(off).toMatchObject({ configChecks: [], probes: [], telemetry: false, newVersionMetrics: false, customLayers: [], alarms: { config: [], probes: [], 'new-version': [], service: [] } });
    expect(withoutLayers(raw, [], 'test')).toMatchObject({ probes: guard.probes, telemetry: true });
    expect(() => withoutLayers(raw, ['upstream'], 'test')).toThrow('watchdog.disabledLayers: upstream is not a layer of orders (test); allowed: config, probes, fast-signal, new-version, service, heartbeat, downstream');
  });

  it('splits the trials into shards that cover them once, and refuses a bad shard', () => {
    const modes = selectModes(undefined, false);
    const all = trials([facts, { ...facts, functionName: 'pricing' }], modes);
    const shards = [1, 2, 3].map((i) => trials([facts, { ...facts, functionName: 'pricing' }], modes, [i, 3]));
    expect(shards.flat().length).toBe(all.length);
    expect(new Set(shards.flat().map((t) => `${t.facts.functionName} ${t.mode.id}`)).size).toBe(all.length);
    expect(parseShard('2/3')).toEqual([2, 3]);
    for (const bad of ['0/2', '3/2', 'x', '1/0']) expect(() => parseShard(bad)).toThrow(/--shard: expected I\/N/);
    expect(selectModes(undefined, true).map((m) => m.id)).toEqual(CATALOGUE.filter((m) => m.quick).map((m) => m.id));
    expect(() => selectModes(['errors-3'], false)).toThrow('--mode errors-3: no such failure mode');
    // The user's modes join the catalogue, replacing a catalogue mode of the same id; --mode names either.
    const mine = { ...CATALOGUE.find((m) => m.id === 'errors-20')!, id: 'real-traffic-bug', explain: 'mine' };
    const withMine = selectModes(undefined, false, [mine]);
    expect(withMine.filter((m) => m.id === 'real-traffic-bug')).toEqual([mine]);
    expect(withMine).toHaveLength(CATALOGUE.length);
    expect(selectModes(['real-traffic-bug', 'errors-2'], false, [mine])).toEqual([mine, CATALOGUE.find((m) => m.id === 'errors-2')]);
    expect(selectModes(undefined, true, [{ ...mine, id: 'my-mode' }]).map((m) => m.id)).toEqual([...CATALOGUE.filter((m) => m.quick).map((m) => m.id), 'my-mode']);
    expect(() => selectModes(['nope'], false, [{ ...mine, id: 'my-mode' }])).toThrow(/--mode nope: no such failure mode; modes: .*dependency-outage, my-mode$/);
  });

  it('prints a table within 100 columns, marks one chance or none, and says what would add one', () => {
    const rows = [row({}), row({ mode: 'crash-on-init', detectedBy: ['probes'], redundancy: 1 }), row({ mode: 'silent-http-500s', detectedBy: [], redundancy: 0, outcome: 'completed', maxTrafficPercent: 100, failedUserRequests: 6000, detectionSeconds: null }), row({ mode: 'real-traffic-bug', skipped: 'needs traffic events', detectedBy: [], redundancy: 0 }), row({ mode: 'dependency-outage', kind: 'good', outcome: 'rolled-back', detectedBy: ['probes'], redundancy: 0 })];
    const withAdvice = rows.map((r) => ({ ...r, ...(adviceFor(r, { ...facts, guard: { ...guard, probes: [] } }) ? { advice: adviceFor(r, { ...facts, guard: { ...guard, probes: [] } }) } : {}) }));
    const text = threatTable(withAdvice, 2);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(TABLE_COLUMNS);
    expect(text).toContain('OrdersApi');
    expect(rows.map((r) => verdict(r, 2))).toEqual(['2 chances', 'ONLY 1', 'NONE', 'not rehearsed', 'FALSE ROLLBACK']);
    for (const v of ['2 chances', 'ONLY 1', 'not rehearsed', 'FALSE ROLLBACK']) expect(text).toContain(v);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('crash-on-init: only probes stops it before 100 %: add a probe that sends the requests this breaks');
    expect(flat).toContain('real-traffic-bug: needs traffic events');
    expect(flat).toContain('a false rollback by probes');
    // Where every layer depends on what the mode breaks, the advice says no layer can add a chance;
    // a mode a second layer could reach still gets ideas (guard).
    const closed = adviceFor(row({ mode: 'cloudwatch-failing', group: 'release process', detectedBy: ['fail-closed'], redundancy: 1, maxTrafficPercent: 0 }), facts);
    expect(closed).toMatch(/^only fail-closed stops it; no layer can add a second chance: every layer reads or publishes through CloudWatch/);
    expect(adviceFor(row({ mode: 'hook-timeout', group: 'release process', detectedBy: ['fail-closed'], redundancy: 1, maxTrafficPercent: 0 }), facts)).toMatch(/^only fail-closed stops it before 100 %: add/);
  });

  it('merges shards into one result, refusing overlapping ones, and fails under the redundancy asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-'));
    const write = (name: string, rows: ThreatRow[]) => {
      writeFileSync(join(dir, name), JSON.stringify({ threatModel: 1, rps: 10, findings: [], rows }));
      return join(dir, name);
    };
    const a = write('a.json', [row({})]);
    const b = write('b.json', [row({ mode: 'crash-on-init', detectedBy: ['probes'], redundancy: 1 })]);
    const out = { write: () => true } as unknown as NodeJS.WritableStream;
    expect(mergeCommand([a, b], { out }).rows).toHaveLength(2);
    expect(() => mergeCommand([a, b], { out, failUnder: 2 })).toThrow(CliError);
    expect(() => mergeCommand([a, b], { out, failUnder: 1 })).not.toThrow();
    expect(() => mergeCommand([a, a], { out })).toThrow('errors-20 is in two of the files');
    writeFileSync(join(dir, 'c.json'), '{"rows": 1}');
    expect(() => mergeCommand([join(dir, 'c.json')], { out })).toThrow('not the JSON of threat-model --json');
  });

  it('tells the user\'s own alarms from the built-in ones by the guard\'s alarm prefix', () => {
    const p = 'OrdersService-OrdersApi-43C1F2D5';
    const g = { ...guard, alarms: { 'new-version': [`${p}-new-version-error-rate-v{version}`], service: [`${p}-alias-error-rate`, 'OrdersService-orders-table-system-errors'] }, customLayers: [{ name: 'downstream', alarms: ['warehouse-errors'] }] };
    expect(userAlarms(g)).toEqual(['OrdersService-orders-table-system-errors', 'warehouse-errors']);
    expect(userAlarms({ ...g, alarms: { 'new-version': g.alarms['new-version'], service: [`${p}-alias-error-rate`] }, customLayers: [] })).toEqual([]);
  });

  it('reads the app\'s stages from --stages, naming the format on bad input', () => {
    expect(parseStagesFlag(['beta:0.01:30', 'prod-first:0.3:60', 'prod-rest:0.69:15'])).toEqual([
      { name: 'beta', trafficShare: 0.01, bakeMinutes: 30 }, { name: 'prod-first', trafficShare: 0.3, bakeMinutes: 60 }, { name: 'prod-rest', trafficShare: 0.69, bakeMinutes: 15 },
    ]);
    expect(() => parseStagesFlag(['beta:0.01'])).toThrow('--stages beta:0.01: expected NAME:SHARE:BAKE_MINUTES (e.g. beta:0.01:30)');
    expect(() => parseStagesFlag(['beta:0.6:30', 'prod:0.6:30'])).toThrow(/--stages\[\]\.trafficShare: the stages' shares add up to 1\.2/);
    expect(() => parseStagesFlag(['beta:x:30'])).toThrow(/--stages\[0\]\.trafficShare: expected a number/);
  });

  it('refuses a --scenario with stages, naming --stages, before any rehearsal (guard: real traffic is taken, stages are not)', async () => {
    const scenario = join(__dirname, '../../scenarios/17-staged-bug-caught-in-beta.yaml');
    await expect(threatModelCommand({ scenario: [scenario], rps: 10, baselineErrorRate: 0.005, parallel: 1, seed: 1 })).rejects.toThrow('--scenario 17-staged-bug-caught-in-beta.yaml: stages are not taken by threat-model; declare the app\'s waves with --stages');
  });

  it('knows how long a rollout takes to reach all the traffic', () => {
    expect(shift({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } })).toEqual({ shiftMinutes: 5, rollout: 'canary 10 % for 5 min' });
    expect(shift({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 20, linearInterval: 2 } })).toEqual({ shiftMinutes: 8, rollout: 'linear 20 % every 2 min' });
    expect(shift({ type: 'AllAtOnce' })).toEqual({ shiftMinutes: 0, rollout: 'all at once' });
  });
});
