import { decisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { DEFAULT_POLICY, evaluate } from 'canary-watchdog/lib/core/evaluate';
import { explainRecords, jsonValues, parseDecisionLines } from '../../src/cli/commands';
import type { DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { counts, LAYERS, MIN, obs, snapshot, state, T0 } from '../../../constructs/test/core/fixtures';

const verdict = evaluate({ snapshot: snapshot(), layers: LAYERS, observations: obs({ 'new-version/errors': counts(60, 600) }), state: state() }, DEFAULT_POLICY, T0 + 5 * MIN).verdict;
const record = decisionRecord(snapshot(), verdict, T0 + 5 * MIN, 'schedule', 'stop-deployment', 'ok');
const second = { ...record, at: new Date(T0 + 6 * MIN).toISOString(), action: 'proceed' };

describe('explain reads decision records in any shape a user saves them', () => {
  it.each([
    ['a JSON array', JSON.stringify([record, second])],
    ['pretty-printed JSON objects, one after another', `${JSON.stringify(record, null, 2)}\n${JSON.stringify(second, null, 2)}\n`],
    ['a pretty-printed array of EventBridge events', JSON.stringify([{ source: 'canary-watchdog', detail: record }, { source: 'canary-watchdog', detail: second }], null, 2)],
    ['JSON lines with Lambda log prefixes', `2026-11-28T10:05:00Z\tabc-123\t[INFO]\t${JSON.stringify({ message: 'decision', decision: record })}\nSTART RequestId: x [v1]\n${JSON.stringify(second)}\n`],
    ['a CloudWatch Logs export (aws logs filter-log-events)', JSON.stringify({ events: [{ message: JSON.stringify({ message: 'decision', decision: record }) }, { message: JSON.stringify({ message: 'decision', decision: second }) }] }, null, 2)],
  ])('finds both records in %s', (_name, text) => {
    expect(parseDecisionLines(text).map((r) => r.at)).toEqual([record.at, second.at]);
  });

  it('skips brackets that are not JSON and keeps reading', () => {
    expect(jsonValues('[INFO] {"a":[1,"]"]} [oops {"b":2}')).toEqual([{ a: [1, ']'] }, { b: 2 }]);
  });

  it('says how many records it read when none is a rollback', () => {
    expect(explainRecords(JSON.stringify(second), { rollbacksOnly: true })).toBe('no rollback decisions among 1 decision record(s)\n');
  });

  it('is bad input (2) when nothing is a decision record', () => {
    expect(() => explainRecords('{"level":"INFO"}\n[1,2]', { source: 'log.json' })).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^log\.json: no decision records found; expected /) }));
  });
});

describe('explain reads every JSON the project writes', () => {
  const follow = { deploymentId: record.deploymentId, application: 'orders-app', deploymentGroup: 'orders-dg', status: 'Stopped', outcome: 'rolled-back', reason: 'layer new-version: ...', decisions: [record, second] };
  it.each([
    ['watch --json', { target: { deployment: record.deploymentId }, exitCode: 1, summary: 's', deployments: [follow] }],
    ['deploy --json', { exitCode: 1, cdkStatus: 1, stacks: { OrdersService: { exitCode: 1, deployments: [follow], summary: 's' } }, summary: 's' }],
    ["the lab's /_lab/decisions", { decisions: [record, second] }],
    ['rehearse --json', { scenarios: [{ name: 'bad-code', passed: true, strategies: { watchdog: { outcome: 'rolled-back', decisions: [record, second] }, native: { outcome: 'rolled-back', decisions: [] } } }] }],
  ])('finds the records in %s', (_name, value) => {
    expect(parseDecisionLines(JSON.stringify(value, null, 2)).map((r) => r.at)).toEqual([record.at, second.at]);
    expect(explainRecords(JSON.stringify(value))).toContain('ROLLBACK by layer new-version');
  });
});

describe('explain shows alarm names that tell the rows apart', () => {
  const names = ['errors', 'latency-p99', 'throttles', 'duration'].map((m) => `canary-watchdog-OrdersService-PricingApi-live-${m}-v2`);
  const withAlarms: DecisionRecord = {
    ...record,
    evidence: names.map((n) => ({ layer: 'service', signal: n, outcome: 'failed' as const, observed: 'ALARM', threshold: `alarm ${n} in ALARM`, sampleSize: null, window: null, note: '' })),
  };

  it('prints every alarm name and threshold in full, one distinct row each', () => {
    const rows = explainRecords(JSON.stringify(withAlarms)).split('\n').filter((l) => l.startsWith('  service '));
    expect(rows).toHaveLength(4);
    for (const [i, n] of names.entries()) {
      expect(rows[i]).toContain(n);
      expect(rows[i]).toContain(`alarm ${n} in ALARM`);
    }
    expect(new Set(rows.map((r) => r.trim())).size).toBe(4);
  });
});

describe("explain shows a pre-traffic hook's failure, which has no decision record", () => {
  const hook = { type: 'canary-watchdog.pre-traffic', deploymentId: 'd-ABCDEF123', status: 'Failed', reasons: ['config TAX_RATE: expected a number, got "abc"'] };
  it.each([
    ['the hook\'s log line', JSON.stringify({ level: 'ERROR', message: 'pre-traffic hook', record: hook })],
    ['watch --json', JSON.stringify({ target: { deployment: 'd-ABCDEF123' }, exitCode: 1, deployments: [{ deploymentId: 'd-ABCDEF123', outcome: 'failed', preTraffic: hook, decisions: [] }] })],
    ['rehearse --json', JSON.stringify({ scenarios: [{ name: 'config-mistake', strategies: { watchdog: { outcome: 'rolled-back', preTraffic: hook, decisions: [] } } }] })],
  ])('from %s, once, also with --rollbacks-only', (_name, text) => {
    for (const rollbacksOnly of [false, true]) {
      const out = explainRecords(text, { rollbacksOnly });
      expect(out).toContain('d-ABCDEF123  PRE-TRAFFIC HOOK Failed');
      expect(out.match(/why: config TAX_RATE: expected a number, got "abc"/g)).toHaveLength(1);
    }
  });
});
