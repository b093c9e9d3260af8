import { reportedDurationMs } from '../../src/aws/lambda';

// The prober reads a probe's own duration from Invoke's log tail (LogType Tail): the REPORT line
// with the text log format, the platform.report record with the JSON log format.
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
const tail = (text: string) => Buffer.from(text).toString('base64');

describe('reportedDurationMs', () => {
  it('reads Duration from the text REPORT line', () => {
    expect(reportedDurationMs(tail('START RequestId: r1 Version: 2\nEND RequestId: r1\nREPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n'))).toBe(12.34);
  });

  it('reads durationMs from the platform.report record of the JSON log format', () => {
    const lines = [
      { time: '2026-01-01T00:00:00.000Z', type: 'platform.start', record: { requestId: 'r1', version: '2' } },
      { timestamp: '2026-01-01T00:00:00.001Z', level: 'INFO', requestId: 'r1', message: 'Duration: 99 ms is not a report' },
      { time: '2026-01-01T00:00:00.020Z', type: 'platform.report', record: { requestId: 'r1', metrics: { durationMs: 18.5, billedDurationMs: 19, memorySizeMB: 128, maxMemoryUsedMB: 40 }, status: 'success' } },
    ];
    expect(reportedDurationMs(tail(lines.map((l) => JSON.stringify(l)).join('\n')))).toBe(18.5);
  });

  it('gives nothing without a report, or for a report with no number (the round trip is used instead)', () => {
    expect(reportedDurationMs(undefined)).toBeUndefined();
    expect(reportedDurationMs(tail('{"type":"platform.report","record":{"metrics":{}}}\nnot json {'))).toBeUndefined();
  });
});
