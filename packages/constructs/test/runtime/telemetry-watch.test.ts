/** The watch item's stored form and the tally's flush interval (src/runtime/telemetry.ts). */
import { FLUSH_SECONDS, TelemetryTally, WATCH_DEPLOYMENT_FIELD, watchedDeployment, watchItem, watchKey } from '../../src/runtime/telemetry';

describe('watch item', () => {
  it('is keyed by watchKey and names the deployment in its own attribute', () => {
    const item = watchItem({ deploymentId: 'd-ABC', functionName: 'orders', version: '7' });
    expect(item).toEqual({ deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: 'd-ABC', functionName: 'orders', version: '7' });
    expect(watchedDeployment(item)).toBe('d-ABC');
  });

  it.each([
    ['no item', undefined],
    ['an item without the field', { deploymentId: watchKey('orders', '7') }],
    ['an empty deployment id', { deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: '' }],
    ['a number', { deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: 42 }],
  ])('names no deployment for %s', (_, item) => {
    expect(watchedDeployment(item)).toBeUndefined();
  });
});

describe('TelemetryTally flush interval', () => {
  it.each([
    // flushMs, elapsed ms, due
    [undefined, FLUSH_SECONDS * 1000 - 1, false],
    [undefined, FLUSH_SECONDS * 1000, true],
    [500, 499, false],
    [500, 500, true],
  ])('with flushMs %p, successes %p ms after the last flush are due: %p', (flushMs, elapsed, due) => {
    const tally = new TelemetryTally(0, flushMs);
    tally.add(false);
    expect(tally.due(elapsed)).toBe(due);
  });
});
