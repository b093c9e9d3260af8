import { createHash } from 'node:crypto';
import { LabError, LAB_ACCOUNT, LAB_REGION, type JsonService } from '../kernel';
import { isLabNote, type LambdaLab, type LogEntry } from '../lambda';
import { compileFilterPattern, FilterPatternError, type Matcher } from './filter-pattern';

const invalid = (m: string) => new LabError('InvalidParameterException', m);
const GROUP_NOT_FOUND = () => new LabError('ResourceNotFoundException', 'The specified log group does not exist.');

/** One event of a log stream, numbered in the lab's log (its eventId). */
interface StreamEvent {
  readonly n: number;
  readonly e: LogEntry;
  readonly stream: string;
}

/**
 * A Lambda log stream's name: `YYYY/MM/DD/[version]` and an id. Lambda names one stream per
 * execution environment; the lab writes one per version and day.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
 */
export function streamNameOf(e: LogEntry): string {
  const day = new Date(e.at).toISOString().slice(0, 10).replace(/-/g, '/');
  const id = createHash('sha256').update(`${e.functionName}|${e.version}|${day}`).digest('hex').slice(0, 32);
  return `${day}/[${e.version}]${id}`;
}

/**
 * CloudWatch Logs, as far as reading what the lab's functions wrote: each function writes to its
 * `LoggingConfig.LogGroup`, or to `/aws/lambda/<name>`: its code's output and the Lambda
 * platform's START, END and REPORT lines, never the lab's own notes. DescribeLogGroups,
 * DescribeLogStreams, GetLogEvents and FilterLogEvents with every filter pattern syntax but
 * regular expressions (filter-pattern.ts). Logs Insights (StartQuery) is refused by name.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export class LogsLab {
  constructor(private readonly lambda: LambdaLab) {}

  /** The log groups that exist: one per function. */
  private groups(): Map<string, string> {
    return new Map(this.lambda.functionNames().map((fn) => [this.lambda.logGroupOf(fn), fn]));
  }

  /** A request's log group (logGroupName, or logGroupIdentifier: a name or an ARN), and its function. */
  private group(i: Record<string, unknown>): { name: string; fn: string } {
    const name = typeof i.logGroupName === 'string' ? i.logGroupName : typeof i.logGroupIdentifier === 'string' ? i.logGroupIdentifier.replace(/^arn:.*:log-group:/, '').replace(/:\*$/, '') : undefined;
    if (!name) throw invalid('logGroupName or logGroupIdentifier is required');
    if (typeof i.logGroupName === 'string' && typeof i.logGroupIdentifier === 'string') throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    const fn = this.groups().get(name);
    if (fn === undefined) throw GROUP_NOT_FOUND();
    return { name, fn };
  }

  /** A function's events in the order written, with their streams (the lab's notes are not in them). */
  private events(fn: string): StreamEvent[] {
    return this.lambda.logs.flatMap((e, n) => (e.functionName === fn && !isLabNote(e.line) ? [{ n, e, stream: streamNameOf(e) }] : []));
  }

  readonly service: JsonService = {
    name: 'CloudWatchLogs',
    targetPrefix: 'Logs_20140328',
    operations: {
      DescribeLogGroups: (i) => {
        const prefix = i.logGroupNamePrefix === undefined ? '' : String(i.logGroupNamePrefix);
        return {
          logGroups: [...this.groups().keys()]
            .filter((g) => g.startsWith(prefix))
            .sort()
            .map((g) => ({ logGroupName: g, arn: `${groupArn(g)}:*`, logGroupArn: groupArn(g), metricFilterCount: 0, storedBytes: 0, logGroupClass: 'STANDARD' })),
        };
      },
      // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
      DescribeLogStreams: (i) => {
        const { name, fn } = this.group(i);
        const prefix = optionalString(i.logStreamNamePrefix, 'logStreamNamePrefix');
        const orderBy = i.orderBy === undefined ? 'LogStreamName' : i.orderBy;
        if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') throw invalid(`orderBy: expected LogStreamName or LastEventTime, got ${JSON.stringify(orderBy)}`);
        if (orderBy === 'LastEventTime' && prefix !== undefined) throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
        const limit = optionalInt(i.limit, 'limit', 1, 50) ?? 50;
        const streams = new Map<string, { first: number; last: number }>();
        for (const { e, stream } of this.events(fn)) {
          const s = streams.get(stream);
          if (s) s.last = Math.max(s.last, e.at);
          else streams.set(stream, { first: e.at, last: e.at });
        }
        const rows = [...streams]
          .filter(([s]) => prefix === undefined || s.startsWith(prefix))
          .sort(([a, x], [b, y]) => (orderBy === 'LastEventTime' ? x.last - y.last : a < b ? -1 : a > b ? 1 : 0));
        if (i.descending === true) rows.reverse();
        const offset = token(i.nextToken);
        const page = rows.slice(offset, offset + limit);
        return {
          logStreams: page.map(([s, t]) => ({
            logStreamName: s, creationTime: t.first, firstEventTimestamp: t.first, lastEventTimestamp: t.last, lastIngestionTime: t.last,
            arn: `${groupArn(name)}:log-stream:${s}`, storedBytes: 0,
          })),
          ...(offset + limit < rows.length ? { nextToken: String(offset + limit) } : {}),
        };
      },
      // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
      GetLogEvents: (i) => {
        const { fn } = this.group(i);
        const stream = optionalString(i.logStreamName, 'logStreamName');
        if (stream === undefined) throw invalid('logStreamName is required');
        const all = this.events(fn).filter((x) => x.stream === stream);
        if (!all.length) throw new LabError('ResourceNotFoundException', 'The specified log stream does not exist.');
        const start = optionalMs(i.startTime, 'startTime');
        const end = optionalMs(i.endTime, 'endTime');
        // endTime is exclusive on GetLogEvents.
        const window = all.filter(({ e }) => (start === undefined || e.at >= start) && (end === undefined || e.at < end));
        const limit = optionalInt(i.limit, 'limit', 1, 10_000) ?? 10_000;
        // Tokens: f/<index> pages forward from an index of the window, b/<index> backward to it.
        let from: number;
        let to: number;
        if (i.nextToken === undefined) {
          [from, to] = i.startFromHead === true ? [0, Math.min(limit, window.length)] : [Math.max(0, window.length - limit), window.length];
        } else {
          const t = /^([fb])\/(\d+)$/.exec(String(i.nextToken));
          if (!t || Number(t[2]) > window.length) throw invalid('The specified nextToken is invalid.');
          const at = Number(t[2]);
          [from, to] = t[1] === 'f' ? [at, Math.min(window.length, at + limit)] : [Math.max(0, at - limit), at];
        }
        return {
          events: window.slice(from, to).map(({ e }) => ({ timestamp: e.at, message: e.line, ingestionTime: e.at })),
          nextForwardToken: `f/${to}`,
          nextBackwardToken: `b/${from}`,
        };
      },
      FilterLogEvents: (i) => {
        const { fn } = this.group(i);
        // `interleaved` has been ignored by AWS since 2019 (every answer is interleaved); `unmask`
        // shows masked data, and the lab masks none. The AWS CLI's `logs tail` sends interleaved.
        if (i.logStreamNames !== undefined && i.logStreamNamePrefix !== undefined) throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive');
        const names = i.logStreamNames === undefined ? undefined : stringList(i.logStreamNames, 'logStreamNames', 100);
        const prefix = optionalString(i.logStreamNamePrefix, 'logStreamNamePrefix');
        const start = optionalMs(i.startTime, 'startTime');
        const end = optionalMs(i.endTime, 'endTime');
        const limit = optionalInt(i.limit, 'limit', 1, 10_000) ?? 10_000;
        const match = matcherOf(i.filterPattern);
        const offset = token(i.nextToken);
        const matching = this.events(fn).filter(
          ({ e, stream }) =>
            (names === undefined || names.includes(stream)) && (prefix === undefined || stream.startsWith(prefix)) && (start === undefined || e.at >= start) && (end === undefined || e.at <= end) && match(e.line),
        );
        const page = matching.slice(offset, offset + limit);
        return {
          events: page.map(({ e, n, stream }) => ({ logStreamName: stream, timestamp: e.at, message: e.line, ingestionTime: e.at, eventId: String(n) })),
          ...(offset + limit < matching.length ? { nextToken: String(offset + limit) } : {}),
          searchedLogStreams: [],
        };
      },
      StartQuery: () => {
        throw new LabError('InvalidOperationException', 'CloudWatch Logs Insights (StartQuery) is not supported by the lab; use FilterLogEvents (aws logs filter-log-events, aws logs tail --filter-pattern) instead');
      },
    },
  };
}

const groupArn = (g: string) => `arn:aws:logs:${LAB_REGION}:${LAB_ACCOUNT}:log-group:${g}`;

function matcherOf(pattern: unknown): Matcher {
  if (pattern === undefined) return () => true;
  if (typeof pattern !== 'string') throw invalid('filterPattern: expected a string');
  try {
    return compileFilterPattern(pattern);
  } catch (err) {
    if (err instanceof FilterPatternError) throw invalid(err.message);
    throw err;
  }
}

function token(v: unknown): number {
  const offset = v === undefined ? 0 : Number(v);
  if (!Number.isInteger(offset) || offset < 0) throw invalid('The specified nextToken is invalid.');
  return offset;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`${field}: expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(v: unknown, field: string, max: number): string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > max || v.some((x) => typeof x !== 'string')) throw invalid(`${field}: expected 1 to ${max} stream names`);
  return v as string[];
}

function optionalInt(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${field}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function optionalMs(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(`${field}: expected milliseconds since the epoch, got ${JSON.stringify(v)}`);
  return v;
}
