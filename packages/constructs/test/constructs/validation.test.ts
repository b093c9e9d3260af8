import { inspect } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigFormat, GuardedFunction, PreexistingAlarms, ProbeStatus, ReleaseWatchdog, Rollout, type GuardedFunctionProps } from '../../src';
import { inlineFunction } from './helpers';

function guard(props: Partial<GuardedFunctionProps>, env?: Record<string, string>) {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack, 'Fn', env), dashboard: false, ...props });
  return app;
}

const extra = (n: number) => (stack: Stack) => Array.from({ length: n }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `X${i}`, `x-${i}`));

describe('synth-time validation', () => {
  it.each<[string, Partial<GuardedFunctionProps>, string]>([
    ['a canary percentage of 0', { rollout: Rollout.canary({ percent: 0, minutes: 5 }) }, 'Shop/Orders: rollout: Rollout.canary percent must be an integer from 1 to 99, got 0'],
    ['a canary percentage of 100', { rollout: Rollout.canary({ percent: 100, minutes: 5 }) }, 'Shop/Orders: rollout: Rollout.canary percent must be an integer from 1 to 99, got 100'],
    ['a linear interval below 1 minute', { rollout: Rollout.linear({ percent: 10, everyMinutes: 0.5 }) }, 'Shop/Orders: rollout: Rollout.linear everyMinutes must be a whole number of minutes, at least 1, got 0.5'],
    ['a rollout longer than 2,880 minutes', { rollout: Rollout.linear({ percent: 1, everyMinutes: 30 }) }, 'Shop/Orders: rollout: Rollout.linear takes 2970 minutes to the final shift; CodeDeploy allows at most 2880'],
    ['a bake above 60 minutes', { bakeMinutes: 61 }, 'Shop/Orders: bakeMinutes: must be a number of minutes from 0 to 60 (the AfterAllowTraffic hook must report within one hour), got 61'],
    ['a negative threshold', { maxErrorRate: -0.1 }, 'Shop/Orders: maxErrorRate: must be a rate from 0 to 1, got -0.1'],
    ['a NaN threshold', { minProbeSuccess: Number.NaN }, 'Shop/Orders: minProbeSuccess: must be a rate from 0 to 1, got NaN'],
    ['a negative latency limit', { maxP99LatencyMs: -5 }, 'Shop/Orders: maxP99LatencyMs: must be a positive number of milliseconds, got -5'],
    ['a zero minimum of invocations', { minInvocations: 0 }, 'Shop/Orders: minInvocations: must be a whole number of at least 1, got 0'],
    ['a probe without any expectation', { probes: [{ name: 'p', event: {}, expect: {} }] }, 'Shop/Orders: probes[0].expect: a probe needs at least one expectation: status, body or maxLatencyMs'],
    [
      'duplicate probe names',
      { probes: [{ name: 'p', event: {}, expect: { status: ProbeStatus.SUCCESS } }, { name: 'p', event: {}, expect: { status: ProbeStatus.ERROR } }] },
      'Shop/Orders: probes: duplicate probe name "p"; each must be unique',
    ],
    [
      "a body expectation spelled equals, the runtime's name, instead of equalTo",
      { probes: [{ name: 'p', expect: { body: [{ path: '$.statusCode', equals: 200 } as never] } }] },
      'Shop/Orders: probes[0].expect.body[0].equals: the construct calls it equalTo',
    ],
    ['an unknown config check format', { configChecks: [{ key: 'TABLE_NAME', format: 'yaml' as never }] }, 'Shop/Orders: configChecks[0].format: expected one of string, json, url, number, integer, boolean, got "yaml"'],
    ['a custom layer named like a built-in one', { customLayers: [{ name: 'service', alarms: [] }] }, 'Shop/Orders: customLayers: layer name "service" must be lowercase letters, digits and dashes, and not a built-in layer (config, probes, new-version, service)'],
  ])('rejects %s', (_name, props, message) => {
    expect(() => guard(props)).toThrow(message);
  });

  it('rejects more than 10 native alarms when combining is off', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog', { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    expect(
      () => new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack), extraAlarms: extra(6)(stack), combineNativeAlarms: false }),
    ).toThrow("Shop/Orders: extraAlarms: 11 alarms for the deployment group (heartbeat, 4 layer alarms, 6 of yours) exceed CodeDeploy's limit of 10; allow combineNativeAlarms or pass fewer extraAlarms");
  });

  it('rejects both an existing function and the props of a new one', () => {
    expect(() => guard({ entry: 'x.ts', memorySize: 512 })).toThrow(
      'Shop/Orders: existingFunction: give either an existing function or the props of a new one, not both; remove entry, memorySize or existingFunction',
    );
  });

  it('fails synth when a config check requires an environment key the function does not define', () => {
    const app = guard({ configChecks: [{ key: 'TABLE_NAME' }, { key: 'PRICING_URL', format: ConfigFormat.URL }, { key: 'OPTIONAL_FLAG', required: false }] }, { TABLE_NAME: 't' });
    expect(() => app.synth()).toThrow(/Shop\/Orders: configChecks: PRICING_URL is required by a config check but not defined in the function's environment \(defined: TABLE_NAME\)/);
  });

  it('accepts a key added later with addEnvironment', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    const fn = inlineFunction(stack, 'Fn', {});
    new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: fn, configChecks: [{ key: 'LATE' }], dashboard: false });
    fn.addEnvironment('LATE', 'yes');
    expect(() => app.synth()).not.toThrow();
  });
});

describe('a validation error as Node prints it', () => {
  it('shows the message and the prop, not the construct tree it came from', () => {
    const stack = new Stack(new App(), 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'W');
    let err: unknown;
    try {
      new GuardedFunction(stack, 'G', { watchdog, existingFunction: inlineFunction(stack), configChecks: [{ key: 'A' }, { key: 'A' }] });
    } catch (e) {
      err = e;
    }
    // An uncaught error is printed with util.inspect: a construct among its own properties
    // printed the whole tree, thousands of lines burying the message.
    const printed = inspect(err);
    expect(printed).toContain('Shop/G: configChecks: duplicate config check key "A"');
    expect(printed).toContain("prop: 'configChecks'");
    expect(printed).not.toContain('DependableTrait');
    expect((err as { scope?: unknown }).scope).toBe(stack.node.findChild('G'));
  });
});
