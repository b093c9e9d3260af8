import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWatchdogConfig } from 'canary-watchdog/lib/core/config';
import { audit } from '../../src/threat-model/audit';
import type { FunctionFacts } from '../../src/threat-model/catalogue';

// The static audit reads the templates and the watchdog's configuration only: each finding names
// the construct path and the fix. A well-configured function gets none (the overcorrection guard).
const guard = (over: Record<string, unknown> = {}) =>
  parseWatchdogConfig({
    guards: [
      {
        application: 'app',
        deploymentGroup: 'dg',
        functionName: 'orders',
        alias: 'live',
        configChecks: [{ key: 'TABLE' }],
        probes: [{ name: 'health', event: {}, expect: { status: 'success' } }],
        ...over,
      },
    ],
  }).guards[0];

const facts = (over: Partial<FunctionFacts> = {}, guardOver: Record<string, unknown> = {}): FunctionFacts => ({
  functionName: 'orders',
  logicalId: 'OrdersFn',
  guard: guard(guardOver),
  env: { TABLE: 't' },
  shiftMinutes: 10,
  rollout: 'canary 10 % for 10 min',
  ...over,
});

function assembly(resources: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  writeFileSync(join(dir, 'Stack.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

const fn = { OrdersFn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'orders' }, Metadata: { 'aws:cdk:path': 'Stack/Orders/Function/Resource' } } };
const declared = { rps: 10, baselineErrorRate: 0.005 };

describe('the static audit', () => {
  it('finds nothing in a well-configured app', () => {
    const app = assembly({
      ...fn,
      Errors: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'OrdersFn' } }] } },
      Url: { Type: 'AWS::Lambda::Url', Properties: { TargetFunctionArn: { Ref: 'OrdersFn' }, Qualifier: 'live' } },
    });
    expect(audit(app, [facts()], declared)).toEqual([]);
  });

  it('finds alarms that can never fire: a metric Lambda does not publish, a function not in the app, a namespace nothing may publish', () => {
    const app = assembly({
      ...fn,
      Typo: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'AWS/Lambda', MetricName: 'Erors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'OrdersFn' } }] }, Metadata: { 'aws:cdk:path': 'Stack/Typo/Resource' } },
      Other: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'someone-else' }] } },
      Custom: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Id: 'm', MetricStat: { Metric: { Namespace: 'Shop/Warehouse', MetricName: 'Errors' } } }] } },
    });
    const found = audit(app, [facts()], declared);
    expect(found.map((f) => [f.id, f.path])).toEqual([
      ['alarm-unpublished', 'Stack/Typo/Resource'],
      ['alarm-unpublished', 'Other'],
      ['alarm-unpublished', 'Custom'],
    ]);
    expect(found[0].message).toContain('AWS/Lambda publishes no metric Erors');
    expect(found[1].message).toContain('no function of the app is named someone-else');
    expect(found[2].message).toContain('nothing in the app may publish Shop/Warehouse Errors');
    // A policy that allows PutMetricData makes the custom namespace plausible.
    const withPolicy = assembly({ ...fn, Custom: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'Shop/Warehouse', MetricName: 'Errors' } }, P: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { Statement: [{ Action: 'cloudwatch:PutMetricData' }] } } } });
    expect(audit(withPolicy, [facts()], declared)).toEqual([]);
  });

  it('finds an integration with the guarded function itself, a threshold a good release breaks, no probes, no checks, and a canary too short to judge', () => {
    const app = assembly({ ...fn, Url: { Type: 'AWS::Lambda::Url', Properties: { TargetFunctionArn: { 'Fn::GetAtt': ['OrdersFn', 'Arn'] } }, Metadata: { 'aws:cdk:path': 'Stack/Orders/Function/FunctionUrl/Resource' } } });
    const found = audit(app, [facts({ rollout: 'canary 1 % for 1 min', shiftMinutes: 1 }, { probes: [], configChecks: [], thresholds: { maxErrorRate: 0.004 } })], { rps: 1, baselineErrorRate: 0.005 });
    expect(found.map((f) => f.id)).toEqual(['unguarded-integration', 'threshold-below-baseline', 'no-probes', 'no-config-checks', 'canary-too-short']);
    expect(found[0]).toMatchObject({ path: 'Stack/Orders/Function/FunctionUrl/Resource', fix: expect.stringContaining('guarded.alias') });
    expect(found[4].message).toContain('canary 1 % for 1 min at 1 requests/s sends the new version about 1 requests');
    expect(audit(app, [facts({ rollout: 'all at once', shiftMinutes: 0 })], declared).find((f) => f.id === 'canary-too-short')?.message).toContain('every user meets the new version at once');
  });
});
