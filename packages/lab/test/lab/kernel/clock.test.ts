/** The lab's clock: a real clock at a speed runs scheduled work that many times sooner in wall time. */
import { Scheduler } from '../../../src/lab/kernel';

describe('a real clock with a speed', () => {
  it('moves lab time N times faster than the wall clock and runs tasks when lab time reaches them', async () => {
    const s = new Scheduler('real', undefined, undefined, 60);
    try {
      const t0 = s.now();
      const wall0 = Date.now();
      const ran = new Promise<number>((resolve) => s.after(30_000, 'half a lab minute', () => resolve(Date.now() - wall0)));
      const wallMs = await ran;
      // 30 lab seconds at x60 is 500 ms of wall time (ticks of 250/60 ms add little).
      expect(wallMs).toBeGreaterThanOrEqual(450);
      expect(wallMs).toBeLessThan(2_000);
      expect(s.now() - t0).toBeGreaterThanOrEqual(30_000);
    } finally {
      s.stop();
    }
  });

  it('refuses a speed out of range, and a speed on a virtual clock', () => {
    expect(() => new Scheduler('real', undefined, undefined, 0.5)).toThrow('speed: expected a number from 1 to 3600 (lab seconds per wall-clock second), got 0.5');
    expect(() => new Scheduler('virtual', undefined, undefined, 10)).toThrow('speed: only a real clock runs at a speed; a virtual clock moves only when advanced');
  });
});
