import { LabError, LAB_ACCOUNT, LAB_REGION, type JsonService } from '../kernel';
import type { LambdaLab } from '../lambda';

const invalid = (m: string) => new LabError('InvalidParameterException', m);

/**
 * CloudWatch Logs, as far as reading what the lab's functions wrote: each function writes to its
 * `LoggingConfig.LogGroup`, or to `/aws/lambda/<name>`, one stream per version. FilterLogEvents
 * with term patterns (every term must appear, case-sensitive; quoted terms may hold spaces) and
 * DescribeLogGroups. Other filter pattern syntaxes and stream filters are refused, never ignored.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
export class LogsLab {
  constructor(private readonly lambda: LambdaLab) {}

  /** The log groups that exist: one per function. */
  private groups(): Map<string, string> {
    return new Map(this.lambda.functionNames().map((fn) => [this.lambda.logGroupOf(fn), fn]));
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
            .map((g) => ({ logGroupName: g, arn: `arn:aws:logs:${LAB_REGION}:${LAB_ACCOUNT}:log-group:${g}:*`, storedBytes: 0 })),
        };
      },
      FilterLogEvents: (i) => {
        const name = typeof i.logGroupName === 'string' ? i.logGroupName : typeof i.logGroupIdentifier === 'string' ? String(i.logGroupIdentifier).replace(/^arn:.*:log-group:/, '').replace(/:\*$/, '') : undefined;
        if (!name) throw invalid('logGroupName or logGroupIdentifier is required');
        for (const k of ['logStreamNames', 'logStreamNamePrefix', 'interleaved', 'unmask']) if (i[k] !== undefined) throw invalid(`${k}: the lab does not model it`);
        const fn = this.groups().get(name);
        if (fn === undefined) throw new LabError('ResourceNotFoundException', 'The specified log group does not exist.');
        const start = optionalMs(i.startTime, 'startTime');
        const end = optionalMs(i.endTime, 'endTime');
        const limit = i.limit === undefined ? 10_000 : Number(i.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw invalid(`limit: expected an integer from 1 to 10000, got ${JSON.stringify(i.limit)}`);
        const terms = termsOf(i.filterPattern);
        const offset = i.nextToken === undefined ? 0 : Number(i.nextToken);
        if (!Number.isInteger(offset) || offset < 0) throw invalid('nextToken: not a token this lab gave');
        const matching = this.lambda.logs
          .map((e, n) => ({ e, n }))
          .filter(({ e }) => e.functionName === fn && (start === undefined || e.at >= start) && (end === undefined || e.at <= end) && terms.every((t) => e.line.includes(t)));
        const page = matching.slice(offset, offset + limit);
        return {
          events: page.map(({ e, n }) => ({ logStreamName: `lab/[${e.version}]`, timestamp: e.at, message: e.line, ingestionTime: e.at, eventId: String(n) })),
          ...(offset + limit < matching.length ? { nextToken: String(offset + limit) } : {}),
          searchedLogStreams: [],
        };
      },
    },
  };
}

function optionalMs(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(`${field}: expected milliseconds since the epoch, got ${JSON.stringify(v)}`);
  return v;
}

/** A term pattern's terms: words, or "quoted phrases"; JSON, space-delimited and regular-expression patterns are refused. */
function termsOf(pattern: unknown): string[] {
  if (pattern === undefined || pattern === '') return [];
  if (typeof pattern !== 'string') throw invalid('filterPattern: expected a string');
  const p = pattern.trim();
  if (/^[{[%]/.test(p) || /(^|\s)[?-]/.test(p)) throw invalid(`filterPattern: the lab models term patterns only (every term must appear), not ${JSON.stringify(pattern)}`);
  return [...p.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}
