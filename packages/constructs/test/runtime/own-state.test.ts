import type { EvaluationState } from '../../src/core/types';
import { EvaluationMemory } from '../../src/runtime/evaluation-memory';
import { ownState } from '../../src/runtime/watchdog';

const at = (lastEvaluatedAt: number, n = 0): EvaluationState => ({ lastEvaluatedAt, consecutiveUnreadable: n ? { service: n } : {} });
const memoryWith = (remembered?: Parameters<EvaluationMemory['set']>[1]) => {
  const m = new EvaluationMemory();
  if (remembered) m.set('d-1', remembered);
  return m;
};

describe('ownState: where a run takes the evaluation state from', () => {
  it.each([
    { name: 'the stored item, when nothing failed', stored: at(100, 1), remembered: undefined, readFailure: undefined, evaluation: at(100, 1), unreadable: undefined },
    { name: 'memory, when the read failed (the item is unknown)', stored: undefined, remembered: { evaluation: at(100, 2) }, readFailure: 'state read: X', evaluation: at(100, 2), unreadable: 'state read: X' },
    { name: 'the initial state, when the read failed and nothing is remembered', stored: undefined, remembered: undefined, readFailure: 'state read: X', evaluation: { consecutiveUnreadable: {} }, unreadable: 'state read: X' },
    { name: 'memory, when the last write failed (the item is stale), counting that failure', stored: at(100, 0), remembered: { evaluation: at(160, 0), writeFailed: 'state write d-1: Y' }, readFailure: undefined, evaluation: at(160, 0), unreadable: "the previous evaluation's state write d-1: Y" },
    { name: 'memory on a tie (a same-moment run kept the time)', stored: at(100, 0), remembered: { evaluation: at(100, 1), writeFailed: 'state write d-1: Y' }, readFailure: undefined, evaluation: at(100, 1), unreadable: "the previous evaluation's state write d-1: Y" },
    { name: 'guard: the stored item when another environment wrote it since', stored: at(220, 0), remembered: { evaluation: at(160, 2), writeFailed: 'state write d-1: Y' }, readFailure: undefined, evaluation: at(220, 0), unreadable: undefined },
  ])('$name', ({ stored, remembered, readFailure, evaluation, unreadable }) => {
    const r = ownState('d-1', stored ? { deploymentId: 'd-1', evaluation: stored } : undefined, readFailure, memoryWith(remembered));
    expect(r.evaluation).toEqual(evaluation);
    expect(r.unreadable).toBe(unreadable);
  });

  it('forgets the oldest deployment beyond 1,000 remembered', () => {
    const m = new EvaluationMemory();
    for (let i = 0; i <= 1000; i++) m.set(`d-${i}`, { evaluation: at(i) });
    expect(m.get('d-0')).toBeUndefined();
    expect(m.get('d-1')).toEqual({ evaluation: at(1) });
    expect(m.get('d-1000')).toEqual({ evaluation: at(1000) });
  });
});
