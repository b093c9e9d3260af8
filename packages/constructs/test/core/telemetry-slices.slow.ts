/** The fast signal's slices between reads keep the false-rollback promise: simulated good releases (slow: CI's slow-tests step). */
import { telemetrySlices, type TelemetryPoint } from '../../src/core/observe';
import { binomialDraw, seededRandom } from '../../src/core/random';
import { telemetryStratifiedPValue } from '../../src/core/signals';

const T = Date.UTC(2026, 0, 1);

describe('the slices between reads keep the false-rollback promise (simulated)', () => {
  /**
   * Good releases on a linear rollout (20 % more every 2 minutes, 20 requests/s), the new version
   * failing 1.25x the old version's rate (the null's boundary), and a shared failure of a random
   * rate from a random second on. The watchdog reads both versions every 10 s; the comparison is
   * read at every look. Rejections at alpha 0.05 must stay near 5 % (3 standard errors of slack).
   */
  it('rejects at most about alpha of good releases, however the shared failure falls', () => {
    const rand = seededRandom(23);
    const alpha = 0.05;
    const runs = 1000;
    let rejected = 0;
    for (let run = 0; run < runs; run++) {
      const from = Math.floor(rand() * 480);
      const shared = rand() * 0.3;
      const cum = [0, 0, 0, 0];
      const points: TelemetryPoint[] = [];
      for (let s = 0; s < 480; s++) {
        const w = 0.2 * (Math.floor(s / 120) + 1);
        const nNew = binomialDraw(rand, 20, w);
        const base = 0.01 + (s >= from ? shared : 0);
        cum[0] += nNew;
        cum[1] += binomialDraw(rand, nNew, Math.min(1, base * 1.25));
        cum[2] += 20 - nNew;
        cum[3] += binomialDraw(rand, 20 - nNew, base);
        if (s % 10 === 9) points.push([T + s * 1000, cum[0], cum[1], cum[2], cum[3]]);
      }
      // The edges are the same at every look, so the least p-value over the prefixes is the least over the looks.
      if (telemetryStratifiedPValue(telemetrySlices(points.slice(0, -1), points.at(-1)!, T), 0.25) < alpha) rejected++;
    }
    // Measured: 16 of 1,000 (1.6 %).
    expect(rejected / runs).toBeLessThan(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs));
  });
});
