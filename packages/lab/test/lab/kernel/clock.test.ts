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

describe('a scheduled task that throws', () => {
  it('on a real clock is reported once with its name, and the clock and the other tasks go on', async () => {
    const s = new Scheduler('real', undefined, undefined, 100);
    const reported: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      s.onTaskError((label, err) => reported.push(`${label}: ${(err as Error).message}`));
      const t0 = s.now();
      let ticks = 0;
      const ticker = s.every(1_000, 'broken ticker', () => {
        ticks++;
        throw new Error('boom');
      });
      const later = new Promise<number>((resolve) => s.after(5_000, 'after the failures', () => resolve(s.now())));
      const ranAt = await later;
      ticker.cancel();
      // The broken task kept its schedule (ticks at 1 s .. 5 s of lab time) and the later task ran on time.
      expect(ticks).toBeGreaterThanOrEqual(4);
      expect(ranAt - t0).toBeGreaterThanOrEqual(5_000);
      expect(reported).toEqual(['broken ticker: boom']);
      expect(s.taskFailures()).toEqual([{ label: 'broken ticker', count: ticks, first: 'boom' }]);
      // The clock still moves after the failures.
      const before = s.now();
      await new Promise((r) => setTimeout(r, 50));
      expect(s.now()).toBeGreaterThan(before);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      s.stop();
    }
  });

  it('on a virtual clock does not reject the advance, and the tasks due after it still run', async () => {
    const s = new Scheduler('virtual', 0);
    s.onTaskError(() => undefined);
    const ran: string[] = [];
    s.at(1_000, 'first', () => void ran.push('first'));
    s.at(2_000, 'broken', async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    s.at(3_000, 'third', () => void ran.push('third'));
    await expect(s.advance(10_000)).resolves.toBe(10_000);
    expect(ran).toEqual(['first', 'third']);
    expect(s.taskFailures()).toEqual([{ label: 'broken', count: 1, first: 'async boom' }]);
  });
});

describe('a real clock the machine cannot keep up with', () => {
  it('says so when a task runs more than 30 s of lab time late (a busy machine at a high --speed), at most once a wall second', async () => {
    const s = new Scheduler('real', undefined, undefined, 3600);
    const said: string[] = [];
    try {
      s.onLate((line) => said.push(line));
      const t0 = s.now();
      // A task that holds the clock's loop 200 ms of wall time: 12 lab minutes at x3600.
      s.at(t0 + 1_000, 'a busy task', () => {
        const until = Date.now() + 200;
        while (Date.now() < until);
      });
      const done = new Promise<void>((resolve) => s.at(t0 + 2_000, 'the watchdog schedule', () => resolve()));
      await done;
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^lab: "the watchdog schedule" ran \d+ s of lab time late at --speed 3600: this machine cannot keep up, so releases move on faster than the functions judging them, as they would not on AWS; lower --speed$/);
    } finally {
      s.stop();
    }
  });

  it('says nothing when tasks run on time (guard)', async () => {
    const s = new Scheduler('real', undefined, undefined, 60);
    const said: string[] = [];
    try {
      s.onLate((line) => said.push(line));
      await new Promise<void>((resolve) => s.after(5_000, 'on time', () => resolve()));
      expect(said).toEqual([]);
    } finally {
      s.stop();
    }
  });
});
