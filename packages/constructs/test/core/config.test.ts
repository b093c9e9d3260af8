import { alarmNameMatches, alarmNamePrefix, buildLayers, DEFAULT_THRESHOLDS, resolveAlarmName, parseWatchdogConfig, type GuardConfig, type WatchdogConfig } from '../../src/core/config';
import { DEFAULT_POLICY } from '../../src/core/evaluate';
import type { MetricRef, RateSignal, SignalSpec, ValueSignal } from '../../src/core/types';

const GUARD = { application: 'orders-app', deploymentGroup: 'orders-dg', functionName: 'orders', alias: 'live' };

/** A config of one guard, with `over` merged into that guard. */
const oneGuard = (over: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({ ...top, guards: [{ ...GUARD, ...over }] });

describe('parseWatchdogConfig', () => {
  const minimal = parseWatchdogConfig(oneGuard());

  it.each<{ name: string; pick: (c: WatchdogConfig) => unknown; expected: unknown }>([
    { name: 'defaults the mode to enforce', pick: (c) => c.mode, expected: 'enforce' },
    { name: 'defaults the namespace to CanaryWatchdog', pick: (c) => c.namespace, expected: 'CanaryWatchdog' },
    { name: 'defaults the heartbeat name to canary-watchdog', pick: (c) => c.name, expected: 'canary-watchdog' },
    { name: 'defaults the policy to DEFAULT_POLICY', pick: (c) => c.policy, expected: DEFAULT_POLICY },
    { name: 'defaults the thresholds to DEFAULT_THRESHOLDS', pick: (c) => c.guards[0].thresholds, expected: DEFAULT_THRESHOLDS },
    { name: 'defaults the bake to 10 minutes', pick: (c) => c.guards[0].bakeMinutes, expected: 10 },
    { name: 'defaults alarms, custom layers, config checks and probes to none', pick: (c) => [c.guards[0].alarms, c.guards[0].customLayers, c.guards[0].configChecks, c.guards[0].probes], expected: [{}, [], [], []] },
  ])('$name', ({ pick, expected }) => {
    expect(pick(minimal)).toEqual(expected);
  });

  it('reads no guards from an empty config', () => {
    expect(parseWatchdogConfig({})).toEqual({ mode: 'enforce', namespace: 'CanaryWatchdog', name: 'canary-watchdog', policy: DEFAULT_POLICY, guards: [] });
  });

  it.each<{ name: string; input: unknown; pick: (c: WatchdogConfig) => unknown; expected: unknown }>([
    { name: 'reads shadow mode', input: oneGuard({}, { mode: 'shadow' }), pick: (c) => c.mode, expected: 'shadow' },
    { name: 'reads a custom namespace and name', input: oneGuard({}, { namespace: 'Acme/Releases', name: 'orders' }), pick: (c) => [c.namespace, c.name], expected: ['Acme/Releases', 'orders'] },
    {
      name: 'keeps an alarm name template as it is',
      input: oneGuard({ alarms: { 'new-version': ['orders-error-rate-v{version}'], service: ['orders-alias-error-rate'] } }),
      pick: (c) => c.guards[0].alarms,
      expected: { 'new-version': ['orders-error-rate-v{version}'], service: ['orders-alias-error-rate'] },
    },
    { name: 'reads a bake of zero minutes', input: oneGuard({ bakeMinutes: 0 }), pick: (c) => c.guards[0].bakeMinutes, expected: 0 },
    { name: 'reads the longest bake a hook allows', input: oneGuard({ bakeMinutes: 60 }), pick: (c) => c.guards[0].bakeMinutes, expected: 60 },
    {
      name: 'keeps default policy fields that are not given',
      input: oneGuard({}, { policy: { blindAfter: 5 } }),
      pick: (c) => c.policy,
      expected: { ...DEFAULT_POLICY, blindAfter: 5 },
    },
    {
      name: 'overrides the insufficient-evidence table stage by stage, keeping the defaults of other stages',
      input: oneGuard({}, { policy: { insufficient: { shifting: { '*': 'rollback' } } } }),
      pick: (c) => c.policy.insufficient,
      expected: { ...DEFAULT_POLICY.insufficient, shifting: { '*': 'rollback' } },
    },
    {
      name: 'keeps default thresholds that are not given',
      input: oneGuard({ thresholds: { maxErrorRate: 0.01, maxP99LatencyMs: 800 } }),
      pick: (c) => c.guards[0].thresholds,
      expected: { ...DEFAULT_THRESHOLDS, maxErrorRate: 0.01, maxP99LatencyMs: 800 },
    },
    {
      name: 'reads alarms per built-in layer and custom layers in order',
      input: oneGuard({ alarms: { service: ['orders-5xx'] }, customLayers: [{ name: 'downstream', alarms: ['payments-latency'] }, { name: 'queue' }] }),
      pick: (c) => [c.guards[0].alarms, c.guards[0].customLayers],
      expected: [{ service: ['orders-5xx'] }, [{ name: 'downstream', alarms: ['payments-latency'] }, { name: 'queue', alarms: [] }]],
    },
    { name: 'reads function-URL HTTP metrics', input: oneGuard({ httpMetrics: 'function-url' }), pick: (c) => c.guards[0].httpMetrics, expected: 'function-url' },
    { name: 'reads no HTTP metrics by default', input: oneGuard(), pick: (c) => 'httpMetrics' in c.guards[0], expected: false },
    {
      name: 'reads the reachability checker function',
      input: oneGuard({ reachabilityChecker: 'Shop-Orders-ReachCheck' }),
      pick: (c) => c.guards[0].reachabilityChecker,
      expected: 'Shop-Orders-ReachCheck',
    },
    {
      name: 'reads a policy that demands new-version evidence at the final shift',
      input: oneGuard({}, { policy: { insufficient: { 'final-shift': { 'new-version': 'rollback' } } } }),
      pick: (c) => c.policy.insufficient['final-shift'],
      expected: { 'new-version': 'rollback' },
    },
    {
      name: 'accepts the same deployment group name in two applications',
      input: { guards: [GUARD, { ...GUARD, application: 'billing-app' }] },
      pick: (c) => c.guards.map((g) => `${g.application}/${g.deploymentGroup}`),
      expected: ['orders-app/orders-dg', 'billing-app/orders-dg'],
    },
  ])('$name', ({ input, pick, expected }) => {
    expect(pick(parseWatchdogConfig(input))).toEqual(expected);
  });

  it.each<{ name: string; input: unknown; message: string }>([
    { name: 'rejects a config that is not an object', input: [], message: 'config: expected an object, got an array of 0' },
    {
      name: 'rejects a bake longer than the hook allows',
      input: oneGuard({ bakeMinutes: 90 }),
      message: 'config.guards[0].bakeMinutes: expected a number from 0 to 60, got 90',
    },
    {
      name: 'rejects an unknown top-level field',
      input: oneGuard({}, { modes: 'shadow' }),
      message: 'config.modes: unknown field; allowed fields are mode, namespace, name, policy, guards',
    },
    {
      name: 'rejects an unknown guard field',
      input: oneGuard({ bake: 5 }),
      message:
        'config.guards[0].bake: unknown field; allowed fields are application, deploymentGroup, functionName, alias, bakeMinutes, thresholds, alarms, customLayers, configChecks, probes, httpMetrics, reachabilityChecker',
    },
    {
      name: 'rejects an HTTP metrics source it cannot read',
      input: oneGuard({ httpMetrics: 'api-gateway' }),
      message: 'config.guards[0].httpMetrics: expected one of function-url, got "api-gateway"',
    },
    {
      name: 'rejects a reachability checker that is not a function name',
      input: oneGuard({ reachabilityChecker: 'has spaces' }),
      message: 'config.guards[0].reachabilityChecker: expected a Lambda function name or ARN (letters, digits, -, _ and :, at most 140 characters), got "has spaces"',
    },
    {
      name: 'rejects an unknown threshold',
      input: oneGuard({ thresholds: { maxErrorPercent: 5 } }),
      message:
        'config.guards[0].thresholds.maxErrorPercent: unknown field; allowed fields are maxErrorRate, minInvocations, baselineTolerance, alpha, maxThrottleRate, maxLatencyRatio, minLatencyExcessMs, minLatencySamples, minProbeSuccess, minProbeSamples, maxP99LatencyMs',
    },
    {
      name: 'rejects a rate threshold above 1',
      input: oneGuard({ thresholds: { maxErrorRate: 5 } }),
      message: 'config.guards[0].thresholds.maxErrorRate: expected a number from 0 to 1, got 5',
    },
    {
      name: 'rejects a fractional sample count',
      input: oneGuard({ thresholds: { minInvocations: 2.5 } }),
      message: 'config.guards[0].thresholds.minInvocations: expected an integer >= 1, got 2.5',
    },
    {
      name: 'rejects alarms of a layer that is not built in',
      input: oneGuard({ alarms: { downstream: ['a'] } }),
      message: 'config.guards[0].alarms.downstream: unknown field; allowed fields are config, probes, new-version, service',
    },
    {
      name: 'rejects a custom layer named like a built-in one',
      input: oneGuard({ customLayers: [{ name: 'probes', alarms: ['a'] }] }),
      message: 'config.guards[0].customLayers[0].name: probes is a built-in layer; custom layers need another name',
    },
    {
      name: "rejects a custom layer named like the watchdog's own state, which counts towards blindness as a layer",
      input: oneGuard({ customLayers: [{ name: 'watchdog-state', alarms: ['a'] }] }),
      message: "config.guards[0].customLayers[0].name: watchdog-state is the watchdog's own state layer; custom layers need another name",
    },
    {
      name: 'rejects a custom layer name with capitals',
      input: oneGuard({ customLayers: [{ name: 'Downstream' }] }),
      message: 'config.guards[0].customLayers[0].name: expected a layer name of lowercase letters, digits and dashes, got "Downstream"',
    },
    {
      name: 'rejects two custom layers of the same name',
      input: oneGuard({ customLayers: [{ name: 'downstream' }, { name: 'downstream' }] }),
      message: 'config.guards[0].customLayers: duplicate layer name "downstream"; each must be unique',
    },
    {
      name: 'rejects two guards of the same deployment group',
      input: { guards: [GUARD, { ...GUARD, functionName: 'orders-v2' }] },
      message: 'config.guards: duplicate deployment group "orders-app/orders-dg"; each must be unique',
    },
    { name: 'rejects an unknown mode', input: oneGuard({}, { mode: 'dry-run' }), message: 'config.mode: expected one of enforce, shadow, got "dry-run"' },
    {
      name: 'rejects an unknown stage in policy.insufficient',
      input: oneGuard({}, { policy: { insufficient: { baking: { probes: 'rollback' } } } }),
      message: 'config.policy.insufficient.baking: unknown field; allowed fields are pre-traffic, shifting, final-shift, bake, bake-end, complete',
    },
    {
      name: 'rejects a layer name that cannot be a layer in policy.insufficient',
      input: oneGuard({}, { policy: { insufficient: { 'bake-end': { 'Probes!': 'rollback' } } } }),
      message: 'config.policy.insufficient.bake-end.Probes!: not a layer name; use a layer (config, probes, new-version, service or a custom one) or *',
    },
    {
      name: 'rejects an unknown action in policy.insufficient',
      input: oneGuard({}, { policy: { insufficient: { 'bake-end': { probes: 'ignore' } } } }),
      message: 'config.policy.insufficient.bake-end.probes: expected one of proceed, rollback, got "ignore"',
    },
    {
      name: 'rejects a blindAfter of zero',
      input: oneGuard({}, { policy: { blindAfter: 0 } }),
      message: 'config.policy.blindAfter: expected an integer from 1 to 60, got 0',
    },
    {
      name: 'rejects an unknown preexistingAlarms choice',
      input: oneGuard({}, { policy: { preexistingAlarms: 'fail' } }),
      message: 'config.policy.preexistingAlarms: expected one of ignore, rollback, got "fail"',
    },
    {
      name: 'rejects an alias made only of digits',
      input: oneGuard({ alias: '7' }),
      message: 'config.guards[0].alias: expected an alias name (letters, digits, - and _, not only digits), got "7"',
    },
    { name: 'rejects a guard without a function name', input: oneGuard({ functionName: undefined }), message: 'config.guards[0].functionName: expected a non-empty string, got nothing' },
    {
      name: 'names the path of a bad probe',
      input: oneGuard({ probes: [{ name: 'p', expect: {} }] }),
      message: 'config.guards[0].probes[0].expect: a probe needs at least one expectation: status, body or maxLatencyMs',
    },
    {
      name: 'rejects an alarm name template with {version} twice',
      input: oneGuard({ alarms: { 'new-version': ['orders-v{version}-v{version}'] } }),
      message: 'config.guards[0].alarms.new-version[0]: "orders-v{version}-v{version}" is not an alarm name or name template; use a name, or a name with {version} once after a fixed prefix (name-v{version})',
    },
    {
      name: 'rejects an alarm name template that starts with {version}',
      input: oneGuard({ customLayers: [{ name: 'downstream', alarms: ['{version}-errors'] }] }),
      message: 'config.guards[0].customLayers[0].alarms[0]: "{version}-errors" is not an alarm name or name template; use a name, or a name with {version} once after a fixed prefix (name-v{version})',
    },
    {
      name: 'names the path of a bad config check',
      input: oneGuard({ configChecks: [{ key: 'A', format: 'date' }] }),
      message: 'config.guards[0].configChecks[0].format: expected one of string, json, url, number, integer, boolean, got "date"',
    },
  ])('$name', ({ input, message }) => {
    expect(() => parseWatchdogConfig(input)).toThrow(message);
  });
});

describe('buildLayers', () => {
  const guard = (over: Record<string, unknown> = {}): GuardConfig => parseWatchdogConfig(oneGuard(over)).guards[0];
  const FULL = guard({
    configChecks: [{ key: 'TABLE_NAME' }],
    probes: [{ name: 'list', event: {}, expect: { status: 'success' } }],
    alarms: { config: ['orders-config'], probes: ['orders-canary'], 'new-version': ['orders-new-errors'], service: ['orders-5xx', 'orders-latency'] },
    customLayers: [{ name: 'downstream', alarms: ['payments-latency'] }, { name: 'queue', alarms: ['orders-dlq'] }],
  });
  const layers = buildLayers(FULL, 'CanaryWatchdog');
  const signal = (layer: string, name: string): SignalSpec => {
    const s = layers.find((l) => l.name === layer)?.signals.find((x) => x.name === name);
    if (!s) throw new Error(`no signal ${layer}/${name}`);
    return s;
  };
  const lambda = (metricName: string, stat: string): MetricRef => ({
    namespace: 'AWS/Lambda',
    metricName,
    stat,
    dimensions: { FunctionName: 'orders', Resource: 'orders:live', ExecutedVersion: '{version}' },
  });
  const own = (metricName: string, stat: string): MetricRef => ({
    namespace: 'CanaryWatchdog',
    metricName,
    stat,
    dimensions: { FunctionName: 'orders', Version: '{version}' },
  });

  it('orders the layers config, probes, new-version, service, then custom layers', () => {
    expect(layers.map((l) => l.name)).toEqual(['config', 'probes', 'new-version', 'service', 'downstream', 'queue']);
  });

  it.each<{ name: string; layer: string; signals: string[] }>([
    { name: 'puts the config check signal before the config alarms', layer: 'config', signals: ['config-checks', 'alarm:orders-config'] },
    { name: 'puts the probe signal before the probes alarms', layer: 'probes', signals: ['probe-failures', 'alarm:orders-canary'] },
    { name: 'puts the version metrics before the new-version alarms', layer: 'new-version', signals: ['errors', 'throttles', 'p99-duration', 'alarm:orders-new-errors'] },
    { name: 'puts the service alarms in the service layer', layer: 'service', signals: ['alarm:orders-5xx', 'alarm:orders-latency'] },
    { name: 'puts each custom layer’s alarms in that layer', layer: 'downstream', signals: ['alarm:payments-latency'] },
    { name: 'keeps custom layers apart', layer: 'queue', signals: ['alarm:orders-dlq'] },
  ])('$name', ({ layer, signals }) => {
    expect(layers.find((l) => l.name === layer)?.signals.map((s) => s.name)).toEqual(signals);
  });

  it.each<{ name: string; layer: string; signal: string; pick: (s: SignalSpec) => unknown; expected: unknown }>([
    { name: 'reads errors from the alias’s Errors by executed version', layer: 'new-version', signal: 'errors', pick: (s) => (s as RateSignal).events, expected: lambda('Errors', 'Sum') },
    { name: 'reads the error total from Invocations', layer: 'new-version', signal: 'errors', pick: (s) => (s as RateSignal).total, expected: lambda('Invocations', 'Sum') },
    { name: 'reads throttles from Throttles', layer: 'new-version', signal: 'throttles', pick: (s) => (s as RateSignal).events, expected: lambda('Throttles', 'Sum') },
    { name: 'adds throttles to the Invocations total', layer: 'new-version', signal: 'throttles', pick: (s) => [(s as RateSignal).total, (s as RateSignal).addEventsToTotal], expected: [lambda('Invocations', 'Sum'), true] },
    { name: 'reads p99 duration and its sample count', layer: 'new-version', signal: 'p99-duration', pick: (s) => [(s as ValueSignal).value, (s as ValueSignal).samples], expected: [lambda('Duration', 'p99'), lambda('Duration', 'SampleCount')] },
    { name: 'sets no absolute latency limit by default', layer: 'new-version', signal: 'p99-duration', pick: (s) => 'max' in s, expected: false },
    { name: 'compares latency with the old version', layer: 'new-version', signal: 'p99-duration', pick: (s) => (s as ValueSignal).baseline, expected: { maxRatio: 1.5, minExcess: 100 } },
    // A cause both versions share (an outage downstream) fails only when the new version is also worse.
    { name: 'compares errors with the old version', layer: 'new-version', signal: 'errors', pick: (s) => (s as RateSignal).baseline, expected: { tolerance: 0.25, alpha: 0.001, comparedAloneWhileBothServe: true } },
    { name: 'uses the error thresholds', layer: 'new-version', signal: 'errors', pick: (s) => [(s as RateSignal).maxRate, (s as RateSignal).minSamples], expected: [0.05, 20] },
    { name: 'reads config check failures from the watchdog’s own metric by version', layer: 'config', signal: 'config-checks', pick: (s) => [(s as RateSignal).events, (s as RateSignal).total], expected: [own('ConfigCheckFailure', 'Sum'), own('ConfigCheckFailure', 'SampleCount')] },
    { name: 'tolerates no config check failure, from one sample, without a baseline', layer: 'config', signal: 'config-checks', pick: (s) => [(s as RateSignal).maxRate, (s as RateSignal).minSamples, 'baseline' in s], expected: [0, 1, false] },
    { name: 'reads probe failures from the watchdog’s own metric by version', layer: 'probes', signal: 'probe-failures', pick: (s) => [(s as RateSignal).events, (s as RateSignal).total], expected: [own('ProbeFailure', 'Sum'), own('ProbeFailure', 'SampleCount')] },
    { name: 'turns the probe success share into a failure rate', layer: 'probes', signal: 'probe-failures', pick: (s) => [(s as RateSignal).maxRate, (s as RateSignal).minSamples], expected: [0.05, 3] },
    { name: 'reads alarms by name', layer: 'service', signal: 'alarm:orders-5xx', pick: (s) => s, expected: { kind: 'alarm', name: 'alarm:orders-5xx', alarmName: 'orders-5xx' } },
  ])('$name', ({ layer, signal: name, pick, expected }) => {
    expect(pick(signal(layer, name))).toEqual(expected);
  });

  it.each<{ name: string; over: Record<string, unknown>; layer: string; signals: string[] }>([
    { name: 'leaves the config layer empty without config checks', over: {}, layer: 'config', signals: [] },
    { name: 'leaves the probes layer empty without probes', over: {}, layer: 'probes', signals: [] },
    { name: 'leaves the service layer empty without service alarms', over: {}, layer: 'service', signals: [] },
    { name: 'keeps the config layer’s alarms without config checks', over: { alarms: { config: ['cfg'] } }, layer: 'config', signals: ['alarm:cfg'] },
    { name: 'always judges the new version’s metrics', over: {}, layer: 'new-version', signals: ['errors', 'throttles', 'p99-duration'] },
    { name: 'judges the function URL’s 5xx rate with httpMetrics function-url', over: { httpMetrics: 'function-url' }, layer: 'new-version', signals: ['errors', 'throttles', 'p99-duration', 'http-5xx'] },
  ])('$name', ({ over, layer, signals }) => {
    const built = buildLayers(guard(over), 'CanaryWatchdog');
    expect(built.map((l) => l.name)).toEqual(['config', 'probes', 'new-version', 'service']);
    expect(built.find((l) => l.name === layer)?.signals.map((s) => s.name)).toEqual(signals);
  });

  it.each<{ name: string; over: Record<string, unknown>; namespace: string; layer: string; signal: string; pick: (s: SignalSpec) => unknown; expected: unknown }>([
    {
      name: 'uses the configured namespace for its own metrics',
      over: { probes: [{ name: 'p', expect: { status: 'success' } }] },
      namespace: 'Acme/Releases',
      layer: 'probes',
      signal: 'probe-failures',
      pick: (s) => (s as RateSignal).events.namespace,
      expected: 'Acme/Releases',
    },
    {
      name: 'sets an absolute latency limit from maxP99LatencyMs',
      over: { thresholds: { maxP99LatencyMs: 800 } },
      namespace: 'CanaryWatchdog',
      layer: 'new-version',
      signal: 'p99-duration',
      pick: (s) => (s as ValueSignal).max,
      expected: 800,
    },
    {
      name: 'rounds the probe failure rate to a clean number',
      over: { probes: [{ name: 'p', expect: { status: 'success' } }], thresholds: { minProbeSuccess: 0.9 } },
      namespace: 'CanaryWatchdog',
      layer: 'probes',
      signal: 'probe-failures',
      pick: (s) => (s as RateSignal).maxRate,
      expected: 0.1,
    },
    {
      name: 'reads HTTP 5xx from the function URL’s metrics by executed version, guarded like errors',
      over: { httpMetrics: 'function-url', thresholds: { maxErrorRate: 0.02 } },
      namespace: 'CanaryWatchdog',
      layer: 'new-version',
      signal: 'http-5xx',
      pick: (s) => {
        const r = s as RateSignal;
        return [r.events.metricName, r.total.metricName, r.events.dimensions, r.maxRate, r.minSamples, r.alpha, r.baseline];
      },
      expected: [
        'Url5xxCount',
        'UrlRequestCount',
        { FunctionName: 'orders', Resource: 'orders:live', ExecutedVersion: '{version}' },
        0.02,
        20,
        0.001,
        { tolerance: 0.25, alpha: 0.001, comparedAloneWhileBothServe: true },
      ],
    },
    {
      name: 'uses a different alias in the Resource dimension',
      over: { alias: 'prod' },
      namespace: 'CanaryWatchdog',
      layer: 'new-version',
      signal: 'errors',
      pick: (s) => (s as RateSignal).events.dimensions.Resource,
      expected: 'orders:prod',
    },
  ])('$name', ({ over, namespace, layer, signal: name, pick, expected }) => {
    const s = buildLayers(guard(over), namespace)
      .find((l) => l.name === layer)
      ?.signals.find((x) => x.name === name);
    expect(s && pick(s)).toEqual(expected);
  });
});

describe('alarm name templates', () => {
  it.each<{ name: string; template: string; alarm: string; resolved: string; matches: boolean; prefix: string }>([
    { name: 'a template names the alarm of each version', template: 'o-error-rate-v{version}', alarm: 'o-error-rate-v12', resolved: 'o-error-rate-v7', matches: true, prefix: 'o-error-rate-v' },
    { name: 'a template does not name its prefix alone', template: 'o-error-rate-v{version}', alarm: 'o-error-rate-v', resolved: 'o-error-rate-v7', matches: false, prefix: 'o-error-rate-v' },
    { name: 'a template keeps its suffix', template: 'o-v{version}-p99', alarm: 'o-v3-p99', resolved: 'o-v7-p99', matches: true, prefix: 'o-v' },
    { name: 'a template does not name another suffix', template: 'o-v{version}-p99', alarm: 'o-v3-p50', resolved: 'o-v7-p99', matches: false, prefix: 'o-v' },
    { name: 'a plain name names only itself', template: 'o-alias-error-rate', alarm: 'o-alias-error-rate', resolved: 'o-alias-error-rate', matches: true, prefix: 'o-alias-error-rate' },
    { name: 'a plain name is not a prefix', template: 'o-alias', alarm: 'o-alias-error-rate', resolved: 'o-alias', matches: false, prefix: 'o-alias' },
  ])('$name', ({ template, alarm, resolved, matches, prefix }) => {
    expect(resolveAlarmName(template, '7')).toBe(resolved);
    expect(alarmNameMatches(template, alarm)).toBe(matches);
    expect(alarmNamePrefix(template)).toBe(prefix);
  });
});

// A rehearsal that takes the new version's CloudWatch metrics away (threat-model's ablation of
// the `new-version` layer) keeps the telemetry extension's counts and the layer's alarms.
describe('newVersionMetrics: false', () => {
  const guard = (over: Record<string, unknown> = {}): GuardConfig => parseWatchdogConfig(oneGuard(over)).guards[0];
  const names = (g: GuardConfig) => buildLayers(g, 'CanaryWatchdog').find((l) => l.name === 'new-version')!.signals.map((s) => s.name);

  it('leaves the new-version layer only the telemetry signals and its alarms', () => {
    const on = guard({ telemetry: true, httpMetrics: 'function-url', alarms: { 'new-version': ['mine'] } });
    expect(names(on)).toEqual(['telemetry-errors', 'telemetry-inits', 'errors', 'throttles', 'p99-duration', 'http-5xx', 'alarm:mine']);
    const off = guard({ telemetry: true, httpMetrics: 'function-url', alarms: { 'new-version': ['mine'] }, newVersionMetrics: false });
    expect(names(off)).toEqual(['telemetry-errors', 'telemetry-inits', 'alarm:mine']);
    // Overcorrection guard: absent or true changes nothing.
    expect(names(guard({ telemetry: true, httpMetrics: 'function-url', alarms: { 'new-version': ['mine'] }, newVersionMetrics: true }))).toEqual(names(on));
  });

  it('takes only a boolean', () => {
    expect(() => guard({ newVersionMetrics: 'no' })).toThrow(/guards\[0\]\.newVersionMetrics/);
  });
});
