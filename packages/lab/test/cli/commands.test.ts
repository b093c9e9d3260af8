import { checkConfigReport, explainRecords, parseDecisionLines } from '../../src/cli/commands';
import { decisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { DEFAULT_POLICY, evaluate } from 'canary-watchdog/lib/core/evaluate';
import { counts, LAYERS, MIN, obs, snapshot, state, T0 } from '../../../constructs/test/core/fixtures';

const verdict = evaluate({ snapshot: snapshot(), layers: LAYERS, observations: obs({ 'new-version/errors': counts(60, 600) }), state: state() }, DEFAULT_POLICY, T0 + 5 * MIN).verdict;
const record = decisionRecord(snapshot(), verdict, T0 + 5 * MIN, 'schedule', 'stop-deployment', 'ok');

describe('explain', () => {
  it.each([
    ['a bare record', JSON.stringify(record)],
    ['a Powertools log line', JSON.stringify({ level: 'INFO', message: 'decision', decision: record })],
    ['an EventBridge event', JSON.stringify({ source: 'canary-watchdog', 'detail-type': 'Canary Watchdog Decision', detail: record })],
  ])('finds the decision in %s', (_name, line) => {
    expect(parseDecisionLines(`noise\n${line}\n{"other":1}\n`)).toHaveLength(1);
  });

  it('shows the deciding layer, the signal, its value, threshold and sample size', () => {
    const text = explainRecords(JSON.stringify(record));
    expect(text).toContain('ROLLBACK by layer new-version; action stop-deployment (ok); trigger schedule');
    expect(text).toMatch(/new-version\s+errors\s+failed\s+10.00 %\s+> 0.05 \(always-valid sequential p < 0.001\)\s+600/);
  });

  it('filters to rollbacks', () => {
    const proceed = { ...record, action: 'proceed' };
    expect(explainRecords(JSON.stringify(proceed), { rollbacksOnly: true })).toMatch(/^no rollback decisions/);
  });
});

describe('check-config', () => {
  it('lists every layer and its signals', () => {
    const out = checkConfigReport(JSON.stringify({ guards: [{ application: 'a', deploymentGroup: 'g', functionName: 'orders', alias: 'live' }] }));
    expect(out).toContain('configuration is valid: 1 guarded function(s), mode enforce');
    expect(out).toContain('  config: no signals (not applicable)');
    expect(out).toContain('ExecutedVersion={version}');
  });

  it('names a metric read twice once, with both statistics, and rates in percent', () => {
    const probe = { name: 'p', event: {}, expect: { status: 'success' } };
    const out = checkConfigReport(JSON.stringify({ guards: [{ application: 'a', deploymentGroup: 'g', functionName: 'orders', alias: 'live', probes: [probe] }] }));
    expect(out).toContain('probe-failures: CanaryWatchdog ProbeFailure Sum/SampleCount [FunctionName=orders,Version={version}] fails above 5 % (p < 0.001)');
    expect(out).not.toMatch(/(\w+)\/\1\b/);
    expect(out).toContain('errors: AWS/Lambda Errors/Invocations');
  });

  it('names the field and the allowed values of a bad configuration', () => {
    expect(() => checkConfigReport('{"mode":"yolo"}')).toThrow('config.mode: expected one of enforce, shadow, got "yolo"');
    expect(() => checkConfigReport('{')).toThrow(/^configuration is not valid JSON/);
  });
});
