import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { summaryTable } from '../../src/rehearsal/summary';
import type { StrategyResult } from '../../src/rehearsal/runner';
import { strategyResult } from './fixtures';
import { loadScenarios, parseScenario, QUICK_SCENARIOS } from '../../src/rehearsal/scenario';

const base = { name: 'x', expect: { outcome: 'completed' } };

describe('scenario files', () => {
  it('loads every built-in scenario with unique names', () => {
    const all = loadScenarios([]);
    expect(all.map((s) => s.name)).toEqual([
      'good-release', 'noisy-low-traffic', 'bad-code', 'config-mistake', 'latency-regression',
      'crash-on-init', 'low-traffic-probe-bug', 'slow-burn', 'watchdog-down', 'cloudwatch-faults',
      'flaky-probes-cold-starts', 'silent-http-500s', 'prober-dies', 'fix-during-incident-ignore', 'fix-during-incident-rollback', 'shadow-mode',
      'staged-bug-caught-in-beta', 'staged-load-bug-in-prod-1', 'staged-good-release', 'dynamodb-throttling', 'state-table-outage', 'state-table-outage-after-hook',
      'python-bad-code', 'python-rates-missing-field', 'python-good-release',
      'simpson-linear-shared-errors', 'linear-regression-during-shared-errors', 'small-excess-high-traffic',
      'latency-regression-moderate-traffic', 'noisy-latency-good-release',
      'shared-outage-fast-signal', 'flaky-probes-low-traffic', 'shared-outage-bad-release', 'fix-during-incident-attributed', 'incident-during-release-not-attributed',
      'cold-start-regression', 'cold-start-noise-good-release', 'linear-shared-burst-fast-signal', 'linear-regression-after-shared-burst',
      'real-traffic-bug', 'real-traffic-dependency-outage', 'real-traffic-good-release', 'real-traffic-timeout',
    ]);
  });

  it('reads a failure both versions share, and refuses a window that ends before it begins', () => {
    expect(parseScenario({ ...base, shared: { errorRate: 0.1, fromMinute: 0, toMinute: 1 } }, 'x.yaml').shared).toEqual({ errorRate: 0.1, fromMinute: 0, toMinute: 1 });
    expect(parseScenario(base, 'x.yaml')).not.toHaveProperty('shared');
    expect(() => parseScenario({ ...base, shared: { errorRate: 0.1, fromMinute: 2, toMinute: 1 } }, 'x.yaml')).toThrow('x.yaml.shared.toMinute: expected a minute after fromMinute (2)');
    expect(() => parseScenario({ ...base, shared: { errorRate: 1.5 } }, 'x.yaml')).toThrow(/x\.yaml\.shared\.errorRate/);
  });

  it('finds a built-in scenario by name', () => {
    expect(loadScenarios(['bad-code'])[0]).toMatchObject({ name: 'bad-code', release: { errorRate: 0.2 }, expect: { outcome: 'rolled-back', maxTrafficPercent: 10 } });
  });

  it('reads DynamoDB faults and the latency and window of the other services\' faults', () => {
    const faults = {
      dynamodb: { errorRate: 0.01, throttleRate: 0.2, latencyMs: 30, unavailable: false, fromMinute: 0, toMinute: 5 },
      cloudwatch: { errorRate: 0.5, latencyMs: 800, fromMinute: 2, toMinute: 4.5 },
      codedeploy: { latencyMs: 100 },
      lambda: { throttleRate: 0.1, fromMinute: 1 },
    };
    expect(parseScenario({ ...base, faults }, 'x.yaml').faults).toEqual(faults);
  });

  it('reads a failure both versions meet, from a minute of the release on', () => {
    expect(parseScenario({ ...base, shared: { errorRate: 0.04, fromMinute: 7 } }, 'x.yaml').shared).toEqual({ errorRate: 0.04, fromMinute: 7 });
    expect(parseScenario(base, 'x.yaml').shared).toBeUndefined();
  });

  it('reads hooks that hang, and names the allowed values of a bad hooks fault', () => {
    expect(parseScenario({ ...base, faults: { hooks: { hang: true } } }, 'x.yaml').faults).toEqual({ hooks: { hang: true } });
    expect(parseScenario({ ...base, faults: { hooks: { hang: false } } }, 'x.yaml').faults).toEqual({});
    expect(() => parseScenario({ ...base, faults: { hooks: { hang: 'yes' } } }, 'x.yaml')).toThrow('x.yaml.faults.hooks.hang: expected true or false, got "yes"');
    expect(() => parseScenario({ ...base, faults: { hooks: { timeout: true } } }, 'x.yaml')).toThrow('x.yaml.faults.hooks.timeout: unknown field; allowed fields are hang');
    expect(() => parseScenario({ ...base, faults: { hook: { hang: true } } }, 'x.yaml')).toThrow(/x\.yaml\.faults\.hook: unknown field; allowed fields are .*hooks/);
  });

  it('reads alarms made to watch a metric nothing publishes, and refuses an empty or bad list', () => {
    expect(parseScenario({ ...base, faults: { alarms: { unpublished: ['shop-errors'] } } }, 'x.yaml').faults).toEqual({ alarms: { unpublished: ['shop-errors'] } });
    expect(() => parseScenario({ ...base, faults: { alarms: { unpublished: [] } } }, 'x.yaml')).toThrow('x.yaml.faults.alarms.unpublished: expected at least one alarm name');
    expect(() => parseScenario({ ...base, faults: { alarms: { unpublished: [3] } } }, 'x.yaml')).toThrow(/x\.yaml\.faults\.alarms\.unpublished\[0\]: expected/);
    expect(() => parseScenario({ ...base, faults: { alarms: { silent: ['a'] } } }, 'x.yaml')).toThrow('x.yaml.faults.alarms.silent: unknown field; allowed fields are unpublished');
  });

  it('reads a release pushed to every stage at once, only with stages', () => {
    const stages = [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 30 }, { name: 'prod', trafficShare: 0.9, bakeMinutes: 60 }];
    expect(parseScenario({ ...base, stages, stagesAtOnce: true }, 'x.yaml')).toMatchObject({ stages, stagesAtOnce: true });
    expect(parseScenario({ ...base, stages }, 'x.yaml')).not.toHaveProperty('stagesAtOnce');
    expect(() => parseScenario({ ...base, stagesAtOnce: true }, 'x.yaml')).toThrow('x.yaml.stagesAtOnce: only with stages (a release with one stage is always at once)');
    expect(() => parseScenario({ ...base, stages, stagesAtOnce: 'yes' }, 'x.yaml')).toThrow('x.yaml.stagesAtOnce: expected true or false, got "yes"');
  });

  it('applies defaults: 20 requests/s for 30 minutes, seed 1, no faults', () => {
    expect(parseScenario(base, 'x.yaml')).toMatchObject({ traffic: { rps: 20, minutes: 30 }, seed: 1, faults: {}, current: {}, release: {}, noise: {}, network: {} });
  });

  it("reads each version's own init, the inits' spread and the environments' lifetime", () => {
    const s = parseScenario({ ...base, current: { initMs: 400 }, release: { initMs: 1600 }, noise: { coldStartMs: 300, coldStartSigma: 0.3, environmentLifetimeMinutes: 2 } }, 'x.yaml');
    expect([s.current, s.release, s.noise]).toEqual([{ initMs: 400 }, { initMs: 1600 }, { coldStartMs: 300, coldStartSigma: 0.3, environmentLifetimeMinutes: 2 }]);
  });

  it('reads a latency spread on user requests', () => {
    expect(parseScenario({ ...base, noise: { latencyJitter: { sigma: 0.6, firstRequestMs: 800 } } }, 'x.yaml').noise).toEqual({ latencyJitter: { sigma: 0.6, firstRequestMs: 800 } });
    expect(parseScenario({ ...base, noise: { latencyJitter: { sigma: 0 } } }, 'x.yaml').noise).toEqual({ latencyJitter: { sigma: 0 } });
  });

  it('reads the same noise, faults and watchdog settings from YAML and JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    const doc = {
      name: 'n',
      noise: { transientErrorRate: 0.02, coldStartMs: 1000 },
      release: { httpErrorRate: 0.2 },
      faults: { prober: { downAfterMinutes: 2 } },
      watchdog: { mode: 'shadow', policy: { preexistingAlarms: 'ignore' } },
      network: { 'payments.internal': { status: 503 }, 'old.example': 'unreachable' },
      expect: { outcome: 'completed', wouldHaveRolledBack: true },
    };
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...doc, name: 'a' }));
    writeFileSync(
      join(dir, 'b.yaml'),
      [
        'name: b',
        'noise: { transientErrorRate: 0.02, coldStartMs: 1000 }',
        'release: { httpErrorRate: 0.2 }',
        'faults: { prober: { downAfterMinutes: 2 } }',
        'watchdog: { mode: shadow, policy: { preexistingAlarms: ignore } }',
        'network: { payments.internal: { status: 503 }, old.example: unreachable }',
        'expect: { outcome: completed, wouldHaveRolledBack: true }',
        '',
      ].join('\n'),
    );
    const [a, b] = loadScenarios([dir]);
    const { name: _a, source: _sa, ...fromJson } = a;
    const { name: _b, source: _sb, ...fromYaml } = b;
    expect(fromYaml).toEqual(fromJson);
    expect(fromJson).toMatchObject({
      noise: doc.noise,
      release: doc.release,
      faults: doc.faults,
      watchdog: { mode: 'shadow', policy: { preexistingAlarms: 'ignore' } },
      network: doc.network,
      expect: doc.expect,
    });
  });

  it.each<[string, unknown, string]>([
    ['an unknown field', { ...base, trafic: {} }, 'x.yaml.trafic: unknown field; allowed fields are name, description, function, traffic, stages, stagesAtOnce, seed, current, release, shared, noise, watchdog, network, faults, expect'],
    ['a shared failure without its rate', { ...base, shared: { fromMinute: 7 } }, 'x.yaml.shared.errorRate: expected a number'],
    ['a shared failure above 1', { ...base, shared: { errorRate: 1.5 } }, 'x.yaml.shared.errorRate: expected a number from 0 to 1, got 1.5'],
    ['a shared failure that ends where it starts', { ...base, shared: { errorRate: 0.04, fromMinute: 7, toMinute: 7 } }, 'x.yaml.shared.toMinute: expected a minute after fromMinute (7) and at most 3000, got 7'],
    ['a rate above 1', { ...base, release: { errorRate: 1.5 } }, 'x.yaml.release.errorRate: expected a number from 0 to 1, got 1.5'],
    ['an unknown outcome', { ...base, expect: { outcome: 'passed' } }, 'x.yaml.expect.outcome: expected one of completed, rolled-back, got "passed"'],
    ['a missing expectation', { name: 'x' }, 'x.yaml.expect: expected an object, got nothing'],
    ['a non-string env value', { ...base, release: { env: { TAX_RATE: 0.2 } } }, 'x.yaml.release.env.TAX_RATE: expected a string value, got 0.2'],
    ['env on the current version', { ...base, current: { env: {} } }, 'x.yaml.current.env: unknown field; allowed fields are errorRate, latencyMs, crashOnInit, timeoutRate, startsFailingAfterMinutes, httpErrorRate, capacityRps, initMs'],
    ['an init above 10 s, Lambda\'s init limit', { ...base, release: { initMs: 12000 } }, 'x.yaml.release.initMs: expected a number from 0 to 10000, got 12000'],
    ['a negative init', { ...base, current: { initMs: -5 } }, 'x.yaml.current.initMs: expected a number from 0 to 10000, got -5'],
    ['an init spread above σ 2', { ...base, noise: { coldStartSigma: 3 } }, 'x.yaml.noise.coldStartSigma: expected a number from 0 to 2, got 3'],
    ['environments replaced in under a minute', { ...base, noise: { environmentLifetimeMinutes: 0.5 } }, 'x.yaml.noise.environmentLifetimeMinutes: expected a number from 1 to 1440, got 0.5'],
    ['an unknown watchdog fault', { ...base, faults: { watchdog: 'slow' } }, 'x.yaml.faults.watchdog: expected one of down, got "slow"'],
    ['a bad name', { ...base, name: 'Bad Name' }, 'x.yaml.name: expected a name of lowercase letters, digits and dashes, got "Bad Name"'],
    ['a transient error rate above 1', { ...base, noise: { transientErrorRate: 2 } }, 'x.yaml.noise.transientErrorRate: expected a number from 0 to 1, got 2'],
    ['a cold start above 10 s', { ...base, noise: { coldStartMs: 20000 } }, 'x.yaml.noise.coldStartMs: expected a number from 0 to 10000, got 20000'],
    ['an unknown noise', { ...base, noise: { jitter: 1 } }, 'x.yaml.noise.jitter: unknown field; allowed fields are transientErrorRate, coldStartMs, coldStartSigma, environmentLifetimeMinutes, latencyJitter'],
    ['a latency spread without its sigma', { ...base, noise: { latencyJitter: { firstRequestMs: 500 } } }, 'x.yaml.noise.latencyJitter.sigma: expected a number'],
    ['a latency spread above σ 3', { ...base, noise: { latencyJitter: { sigma: 4 } } }, 'x.yaml.noise.latencyJitter.sigma: expected a number from 0 to 3, got 4'],
    ['an unknown latency spread field', { ...base, noise: { latencyJitter: { sigma: 0.5, tail: 2 } } }, 'x.yaml.noise.latencyJitter.tail: unknown field; allowed fields are sigma, firstRequestMs'],
    ['an HTTP error rate above 1', { ...base, release: { httpErrorRate: -0.1 } }, 'x.yaml.release.httpErrorRate: expected a number from 0 to 1, got -0.1'],
    ['a prober fault without its time', { ...base, faults: { prober: {} } }, 'x.yaml.faults.prober.downAfterMinutes: expected a number'],
    ['a DynamoDB throttle above 1', { ...base, faults: { dynamodb: { throttleRate: 1.2 } } }, 'x.yaml.faults.dynamodb.throttleRate: expected a number from 0 to 1, got 1.2'],
    ['a negative DynamoDB latency', { ...base, faults: { dynamodb: { latencyMs: -1 } } }, 'x.yaml.faults.dynamodb.latencyMs: expected a number from 0 to 900000, got -1'],
    ['an outage that is not a boolean', { ...base, faults: { dynamodb: { unavailable: 'yes' } } }, 'x.yaml.faults.dynamodb.unavailable: expected true or false'],
    ['a fault window that ends where it starts', { ...base, faults: { dynamodb: { unavailable: true, fromMinute: 2, toMinute: 2 } } }, 'x.yaml.faults.dynamodb.toMinute: expected a minute after fromMinute (2) and at most 3000, got 2'],
    ['a fault window that starts before the release', { ...base, faults: { cloudwatch: { errorRate: 0.5, fromMinute: -1 } } }, 'x.yaml.faults.cloudwatch.fromMinute: expected a number from 0 to 3000, got -1'],
    ['an outage of CloudWatch (DynamoDB only)', { ...base, faults: { cloudwatch: { unavailable: true } } }, 'x.yaml.faults.cloudwatch.unavailable: unknown field; allowed fields are errorRate, throttleRate, latencyMs, fromMinute, toMinute'],
    ['an unknown DynamoDB fault', { ...base, faults: { dynamodb: { slow: true } } }, 'x.yaml.faults.dynamodb.slow: unknown field; allowed fields are errorRate, throttleRate, latencyMs, unavailable, table, fromMinute, toMinute'],
    ['an unknown watchdog mode', { ...base, watchdog: { mode: 'dry-run' } }, 'x.yaml.watchdog.mode: expected one of enforce, shadow, got "dry-run"'],
    ['an unknown pre-existing alarm policy', { ...base, watchdog: { policy: { preexistingAlarms: 'skip' } } }, 'x.yaml.watchdog.policy.preexistingAlarms: expected one of ignore, rollback, got "skip"'],
    ['a host answer that is neither a status nor unreachable', { ...base, network: { 'payments.internal': 'down' } }, 'x.yaml.network.payments.internal: expected { status: 200-599 } or "unreachable", got "down"'],
    ['a status outside 200-599', { ...base, network: { 'payments.internal': { status: 42 } } }, 'x.yaml.network.payments.internal.status: expected an integer from 200 to 599, got 42'],
    ['a host window that ends before it starts', { ...base, network: { 'payments.internal': { status: 503, fromMinute: 3, toMinute: 1 } } }, 'x.yaml.network.payments.internal.toMinute: expected a minute after fromMinute (3) and at most 3000, got 1'],
    ['a negative host latency', { ...base, network: { 'payments.internal': { status: 200, latencyMs: -5 } } }, 'x.yaml.network.payments.internal.latencyMs: expected a number from 0 to 900000, got -5'],
    ['an unknown host answer field', { ...base, network: { 'payments.internal': { status: 200, delay: 5 } } }, 'x.yaml.network.payments.internal.delay: unknown field; allowed fields are status, latencyMs, fromMinute, toMinute'],
    ['a real-invocation budget without events', { ...base, traffic: { realRps: 5 } }, 'x.yaml.traffic.realRps: only with traffic.events (requests without events invoke no code)'],
    ['events that are not there', { ...base, traffic: { events: 'no-such-events.jsonl' } }, 'x.yaml.traffic.events: no such file or folder'],
    ['events of an unknown kind', { ...base, traffic: { events: __filename } }, 'x.yaml.traffic.events: ' + __filename + ': expected a folder of .json events, a .jsonl file, a .json list, a .js or .cjs module, or a traffic .yaml; got a .ts'],
    ['code that is not a handler module', { ...base, release: { code: 'x.yaml' } }, 'x.yaml.release.code: expected a handler module (.js, .cjs or .ts) exporting handler, got x.yaml'],
    ['a table fault on CloudWatch', { ...base, faults: { cloudwatch: { table: 'Orders' } } }, 'x.yaml.faults.cloudwatch.table: unknown field; allowed fields are errorRate, throttleRate, latencyMs, fromMinute, toMinute'],
    ['a table that is not a name', { ...base, faults: { dynamodb: { table: 3 } } }, 'x.yaml.faults.dynamodb.table: expected a non-empty string, got 3'],
    ['code on the old version', { ...base, current: { code: 'a.js' } }, 'x.yaml.current.code: unknown field'],
    ['a non-boolean wouldHaveRolledBack', { ...base, expect: { outcome: 'completed', wouldHaveRolledBack: 'yes' } }, 'x.yaml.expect.wouldHaveRolledBack: expected true or false'],
    ['a negative capacity', { ...base, release: { capacityRps: -1 } }, 'x.yaml.release.capacityRps: expected a number from 0 to 10000, got -1'],
    ['stages that are not a list', { ...base, stages: { name: 'beta' } }, 'x.yaml.stages: expected an array, got an object'],
    ['no stages', { ...base, stages: [] }, 'x.yaml.stages: expected 1 to 10 stages, got 0'],
    ['a stage without a name', { ...base, stages: [{ trafficShare: 0.5, bakeMinutes: 0 }] }, 'x.yaml.stages[0].name: expected a non-empty string, got nothing'],
    ['a stage name with capitals', { ...base, stages: [{ name: 'Beta', trafficShare: 0.5, bakeMinutes: 0 }] }, 'x.yaml.stages[0].name: expected a name of lowercase letters, digits and dashes (at most 31), got "Beta"'],
    ['a zero traffic share', { ...base, stages: [{ name: 'beta', trafficShare: 0, bakeMinutes: 0 }] }, 'x.yaml.stages[0].trafficShare: expected a number above 0 and at most 1, got 0'],
    ['a traffic share above 1', { ...base, stages: [{ name: 'beta', trafficShare: 1.5, bakeMinutes: 0 }] }, 'x.yaml.stages[0].trafficShare: expected a number from 0 to 1, got 1.5'],
    ['a bake above a day', { ...base, stages: [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 1441 }] }, 'x.yaml.stages[0].bakeMinutes: expected a number from 0 to 1440, got 1441'],
    ['a stage without a bake', { ...base, stages: [{ name: 'beta', trafficShare: 0.1 }] }, 'x.yaml.stages[0].bakeMinutes: expected a number from 0 to 1440, got nothing'],
    ['an unknown stage field', { ...base, stages: [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 0, rps: 5 }] }, 'x.yaml.stages[0].rps: unknown field; allowed fields are name, trafficShare, bakeMinutes'],
    [
      'two stages of one name',
      { ...base, stages: [{ name: 'prod', trafficShare: 0.1, bakeMinutes: 0 }, { name: 'prod', trafficShare: 0.2, bakeMinutes: 0 }] },
      'x.yaml.stages[].name: duplicate stage name "prod"; each must be unique',
    ],
    [
      'shares adding up to more than all users',
      { ...base, stages: [{ name: 'beta', trafficShare: 0.5, bakeMinutes: 0 }, { name: 'prod', trafficShare: 0.6, bakeMinutes: 0 }] },
      "x.yaml.stages[].trafficShare: the stages' shares add up to 1.1; they may cover at most all users (1)",
    ],
    ['more stages reached than there are', { ...base, stages: [{ name: 'beta', trafficShare: 1, bakeMinutes: 0 }], expect: { outcome: 'completed', stagesReached: 2 } }, 'x.yaml.expect.stagesReached: expected an integer from 1 to 1, got 2'],
  ])('rejects %s, naming the field', (_n, doc, message) => {
    expect(() => parseScenario(doc, '/somewhere/x.yaml')).toThrow(message);
  });

  it('reads stages in order, with shares that may leave part of the fleet out or add up to 1 in decimals', () => {
    const stages = [
      { name: 'beta', trafficShare: 0.01, bakeMinutes: 0 },
      { name: 'prod-1', trafficShare: 0.3, bakeMinutes: 60 },
      { name: 'prod-2', trafficShare: 0.69, bakeMinutes: 1440 },
    ];
    expect(parseScenario({ ...base, stages, expect: { outcome: 'completed', stagesReached: 3 } }, 'x.yaml')).toMatchObject({ stages, expect: { stagesReached: 3 } });
    expect(parseScenario({ ...base, stages: [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 5 }] }, 'x.yaml').stages).toEqual([{ name: 'beta', trafficShare: 0.1, bakeMinutes: 5 }]);
    expect(parseScenario({ ...base, stages: [0.1, 0.2, 0.7].map((trafficShare, i) => ({ name: `s${i}`, trafficShare, bakeMinutes: 0 })) }, 'x.yaml').stages).toHaveLength(3);
  });

  it('names the built-in scenarios when a reference matches nothing', () => {
    expect(() => loadScenarios(['no-such'])).toThrow(/^--scenario no-such: no such file or folder, nor a built-in scenario; built-in: good-release, /);
  });

  it('reads a folder of YAML and JSON files and rejects duplicate names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'a.yaml'), 'name: a\nexpect: { outcome: completed }\n');
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ name: 'a', expect: { outcome: 'rolled-back' } }));
    expect(() => loadScenarios([dir])).toThrow('b.json: name a is used by another scenario; names must be unique');
  });

  it('reports a file that is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: [unclosed\n');
    expect(() => loadScenarios([join(dir, 'bad.yaml')])).toThrow(/^bad.yaml: not valid YAML or JSON/);
  });
});

const result = strategyResult;

describe('expectations', () => {
  const scenario = parseScenario({ name: 's', expect: { outcome: 'rolled-back', maxTrafficPercent: 10, maxFailedUserRequests: 10 } }, 's.yaml');
  it.each<[string, Partial<StrategyResult>, string[]]>([
    ['met', { failedUserRequests: 5 }, []],
    ['wrong outcome', { outcome: 'completed', failedUserRequests: 0 }, ['outcome completed, expected rolled-back']],
    ['too much traffic', { maxTrafficPercent: 100, failedUserRequests: 0 }, ['the new version reached 100 % of traffic, expected at most 10 %']],
    ['too many failures', { failedUserRequests: 11 }, ['11 failed user requests, expected at most 10']],
  ])('%s', (_n, over, failures) => {
    expect(check(scenario, result(over))).toEqual(failures);
  });

  const staged = parseScenario(
    { name: 's', stages: [{ name: 'beta', trafficShare: 0.1, bakeMinutes: 0 }, { name: 'prod', trafficShare: 0.9, bakeMinutes: 0 }], expect: { outcome: 'rolled-back', stagesReached: 1 } },
    's.yaml',
  );
  it.each<[string, Partial<StrategyResult>, string[]]>([
    ['staged: stopped in the first stage', { stagesReached: 1 }, []],
    ['staged: got into the second stage', { stagesReached: 2 }, ['the release reached 2 of 2 stages, expected 1']],
  ])('%s', (_n, over, failures) => {
    expect(check(staged, result(over))).toEqual(failures);
  });

  const shadow = parseScenario({ name: 's', watchdog: { mode: 'shadow' }, expect: { outcome: 'completed', wouldHaveRolledBack: true } }, 's.yaml');
  it.each<[string, Partial<StrategyResult>, string[]]>([
    ['shadow: shipped, and the records say it would have been stopped', { outcome: 'completed', wouldHaveRolledBack: true }, []],
    ['shadow: shipped, but no record says so', { outcome: 'completed', wouldHaveRolledBack: false }, ['no decision record says enforce mode would have stopped it (actionResult "would stop-deployment" or "would fail-bake")']],
  ])('%s', (_n, over, failures) => {
    expect(check(shadow, result(over))).toEqual(failures);
  });

  it('prints both strategies side by side', () => {
    const rows: ScenarioResult[] = [
      { name: 'bad-code', description: '', passed: true, failures: [], expect: scenario.expect, strategies: { watchdog: result({}), native: result({ outcome: 'completed', maxTrafficPercent: 100, failedUserRequests: 900, detectionSeconds: null }) } },
    ];
    const table = summaryTable(rows);
    expect(table).toMatch(/bad-code\s+pass \| rolled-back\s+10 %\s+20\s+60s \| completed\s+100 %\s+900\s+-\n/);
    expect(table).toContain('decided by (watchdog):\n  bad-code: new-version: errors\n');
    expect(table).toContain('1 of 1 scenarios met their expectations (watchdog strategy).');
  });
});

describe('rehearse --quick', () => {
  it('tours built-in scenarios only, each once, good and bad releases and real traffic among them', () => {
    const tour = loadScenarios(QUICK_SCENARIOS);
    expect(tour.map((s) => s.name)).toEqual([...QUICK_SCENARIOS]);
    expect(new Set(QUICK_SCENARIOS).size).toBe(QUICK_SCENARIOS.length);
    expect(tour.some((s) => s.expect.outcome === 'completed')).toBe(true);
    expect(tour.some((s) => s.traffic.events)).toBe(true);
    expect(tour.some((s) => s.stages)).toBe(true);
  });
});
