import { decisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { DEFAULT_POLICY, evaluate } from 'canary-watchdog/lib/core/evaluate';
import { explainRecords, jsonValues, parseDecisionLines } from '../../src/cli/commands';
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
