import { pathDelaySeconds, summarizeDelays, type PathEvents } from '../../bench/floor';

const s = (x: number) => x * 1000;
const none: PathEvents = { failures: [], writes: [], deliveries: [], published: new Map(), runs: [] };

describe('the signal path, per failed request', () => {
  it.each<[string, Partial<PathEvents>, number[]]>([
    // A failure at 10 s, written at 10.5 s (the Telemetry API's buffer), delivered at 12.25 s.
    ['one failure, one write, one delivery', { failures: [s(10)], writes: [{ at: s(10.5), errors: 1 }], deliveries: [s(12.25)] }, [2.25]],
    // A delivery before the write cannot have read it: the next one does.
    ['a delivery before the write is not the one', { failures: [s(10)], writes: [{ at: s(10.5), errors: 1 }], deliveries: [s(10.25), s(14.25)] }, [4.25]],
    // Two failures counted in one write: both arrive with it.
    ['two failures in one write', { failures: [s(10), s(11)], writes: [{ at: s(12), errors: 2 }], deliveries: [s(13.25)] }, [3.25, 2.25]],
    // The second failure is in the second write (the running sum reaches 2 there), not the first.
    ['the k-th failure is in the write whose running sum reaches k', { failures: [s(10), s(11)], writes: [{ at: s(10.5), errors: 1 }, { at: s(30), errors: 1 }], deliveries: [s(11.75), s(31.25)] }, [1.75, 20.25]],
    // A failure no write ever carried is not timed (and stops the count: later writes cannot be matched to it).
    ['a failure never written', { failures: [s(10), s(11)], writes: [{ at: s(10.5), errors: 1 }], deliveries: [s(11.75)] }, [1.75]],
    ['a delivery after the end is not counted', { failures: [s(10)], writes: [{ at: s(10.5), errors: 1 }], deliveries: [s(500)] }, []],
  ])('telemetry: %s', (_n, e, expected) => {
    expect(pathDelaySeconds({ ...none, ...e }, s(400)).telemetry).toEqual(expected);
  });

  it.each<[string, Partial<PathEvents>, number[]]>([
    // A failure at 70 s belongs to minute 60 s; its datapoint is visible at 180 s (published at
    // the minute's end, 60 s late), and the watchdog's next run after that reads it at 185 s.
    ['its minute, then the next run', { failures: [s(70)], published: new Map([[s(60), s(180)]]), runs: [s(125), s(185), s(245)] }, [115]],
    ['a minute not published yet is not timed', { failures: [s(70), s(130)], published: new Map([[s(60), s(180)]]), runs: [s(185), s(245)] }, [115]],
  ])('CloudWatch: %s', (_n, e, expected) => {
    expect(pathDelaySeconds({ ...none, ...e }, s(400)).cloudwatch).toEqual(expected);
  });

  it('sums up: the median and p90, and how many of the failures were seen', () => {
    expect(summarizeDelays([2.25, 2.25, 4.25, 30.25], 5)).toEqual({ failures: 5, seen: 4, medianSeconds: 2.25, p90Seconds: 30.25 });
    expect(summarizeDelays([], 3)).toEqual({ failures: 3, seen: 0, medianSeconds: null, p90Seconds: null });
  });
});
