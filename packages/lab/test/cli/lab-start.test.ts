/** `canary-watchdog lab --start`: when the virtual clock starts. */
import { parseLabStart } from '../../src/cli/lab-start';

const NOW = Date.UTC(2026, 11, 7, 23, 45, 0);

describe('lab --start', () => {
  it.each([
    ['now', NOW],
    ['2026-03-01', Date.UTC(2026, 2, 1)],
    ['2026-03-01T09:30Z', Date.UTC(2026, 2, 1, 9, 30)],
    ['2026-03-01T09:30:15Z', Date.UTC(2026, 2, 1, 9, 30, 15)],
    ['2026-03-01T09:30:15.250Z', Date.UTC(2026, 2, 1, 9, 30, 15, 250)],
    ['2026-03-01T09:30:00+02:00', Date.UTC(2026, 2, 1, 7, 30)],
  ])('%s starts the clock at its instant', (value, expected) => {
    expect(parseLabStart(value, () => NOW)).toBe(expected);
  });

  it.each(['yesterday', 'NOW', '2026-03-01T09:30:00', '2026-13-01', '1767225600000', ''])('refuses %j, naming what it takes', (value) => {
    expect(() => parseLabStart(value, () => NOW)).toThrow(/expected now or an ISO 8601 time with a zone \(2026-01-01, 2026-01-01T09:30:00Z, 2026-01-01T09:30:00\+02:00\), got /);
  });
});
