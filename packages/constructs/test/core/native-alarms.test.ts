import { nativeAlarmSelection } from '../../src/core/native-alarms';

describe('nativeAlarmSelection', () => {
  it.each([
    // mode, preexisting, heartbeat, probes, new-version, service, custom
    ['enforce', 'rollback', true, true, true, true, true],
    ['enforce', 'ignore', true, true, true, false, false],
    ['shadow', 'rollback', false, false, false, false, false],
    ['shadow', 'ignore', false, false, false, false, false],
  ] as const)('%s with preexistingAlarms %s: heartbeat %s, probes %s, new-version %s, service %s, custom %s', (mode, pre, hb, probes, nv, service, custom) => {
    const s = nativeAlarmSelection(mode, pre);
    expect([s.heartbeat, s.includesLayer('probes'), s.includesLayer('new-version'), s.includesLayer('service'), s.includesLayer('downstream')]).toEqual([hb, probes, nv, service, custom]);
  });
});
