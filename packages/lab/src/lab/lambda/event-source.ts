import type { DynamoDbLab, StreamChange } from '../dynamodb';
import { matches } from '../events';
import { LAB_REGION, LabError, type Scheduler } from '../kernel';
import { RESERVED_THROTTLE } from './environments';

/**
 * Lambda polls each shard of a DynamoDB stream four times a second.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
export const STREAM_POLL_MS = 250;

export interface StreamMapping {
  /** The template's logical id, for messages. */
  readonly id: string;
  readonly table: string;
  readonly functionName: string;
  /** FilterCriteria patterns (ORed); none passes every record. */
  readonly patterns: readonly Record<string, unknown>[];
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  /** MaximumRecordAgeInSeconds: older records are discarded, not sent (-1 or absent: never, until they expire). */
  readonly maxRecordAgeSeconds?: number;
  /** MaximumRetryAttempts: retries of a batch the function failed, then it is discarded (-1 or absent: no limit). Throttles are not attempts. */
  readonly maxRetryAttempts?: number;
}

/**
 * A Lambda event source mapping on a DynamoDB stream: the records of the table's changes that
 * pass the filter are handed to the function in batches, synchronously, in order. A batch is sent
 * at the poll after the first record arrives, or after the batching window when the mapping has
 * one (up to `batchSize` records); a failed invocation is retried with the same batch (the
 * default: until the records expire, here until it succeeds).
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */
export class StreamEventSources {
  /** Per mapping: records waiting (when each arrived), when the next delivery is due, and failed attempts of the batch at the head. */
  private readonly pending = new Map<string, { records: { at: number; record: Record<string, unknown> }[]; due?: number; failures: number }>();
  /** Batches delivered, for tests and the report. */
  readonly delivered: { at: number; mapping: string; records: number }[] = [];
  /** Functions that are down (a rehearsal's fault): their mappings deliver nothing, and the records are lost. */
  readonly disabledFunctions = new Set<string>();
  /** Batches the function's reserved concurrency refused (each retried). */
  readonly throttled: { at: number; mapping: string; records: number }[] = [];
  /** Records given up: too old, or failed too often. */
  readonly discarded: { at: number; mapping: string; records: number; why: string }[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly dynamodb: DynamoDbLab,
    private readonly invoke: (functionName: string, event: unknown) => Promise<{ functionError?: string }>,
  ) {}

  add(m: StreamMapping): void {
    if (!Number.isInteger(m.batchSize) || m.batchSize < 1 || m.batchSize > 10_000) throw new Error(`${m.id}: BatchSize must be 1-10000 for a DynamoDB stream, got ${m.batchSize}`);
    if (!(m.batchingWindowSeconds >= 0 && m.batchingWindowSeconds <= 300)) throw new Error(`${m.id}: MaximumBatchingWindowInSeconds must be 0-300, got ${m.batchingWindowSeconds}`);
    // https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
    const age = m.maxRecordAgeSeconds;
    if (age !== undefined && !(Number.isInteger(age) && (age === -1 || (age >= 60 && age <= 604_800)))) throw new Error(`${m.id}: MaximumRecordAgeInSeconds must be -1 (infinite) or 60-604800, got ${age}`);
    const retries = m.maxRetryAttempts;
    if (retries !== undefined && !(Number.isInteger(retries) && retries >= -1 && retries <= 10_000)) throw new Error(`${m.id}: MaximumRetryAttempts must be -1 (infinite) or 0-10000, got ${retries}`);
    this.pending.set(m.id, { records: [], failures: 0 });
    this.dynamodb.onStream(m.table, (c) => this.record(m, c));
  }

  private record(m: StreamMapping, c: StreamChange): void {
    const record = toRecord(c, this.scheduler.now());
    if (m.patterns.length && !m.patterns.some((p) => matches(p, record))) return;
    const p = this.pending.get(m.id)!;
    p.records.push({ at: this.scheduler.now(), record });
    if (p.due !== undefined) return;
    // The next poll, then the batching window (Lambda waits for more records up to it).
    const now = this.scheduler.now();
    p.due = Math.ceil((now + 1) / STREAM_POLL_MS) * STREAM_POLL_MS + m.batchingWindowSeconds * 1000;
    this.scheduler.at(p.due, `event source mapping ${m.id}`, () => this.deliver(m));
  }

  private async deliver(m: StreamMapping): Promise<void> {
    const p = this.pending.get(m.id)!;
    const now = this.scheduler.now();
    // Records older than MaximumRecordAgeInSeconds are discarded, whatever held them back.
    // https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
    const maxAge = m.maxRecordAgeSeconds ?? -1;
    if (maxAge >= 0) {
      const expired = p.records.findIndex((x) => now - x.at <= maxAge * 1000);
      const n = expired < 0 ? p.records.length : expired;
      if (n) {
        p.records.splice(0, n);
        p.failures = 0;
        this.discarded.push({ at: now, mapping: m.id, records: n, why: `older than MaximumRecordAgeInSeconds (${maxAge})` });
      }
    }
    const batch = p.records.splice(0, m.batchSize);
    p.due = undefined;
    if (batch.length && !this.disabledFunctions.has(m.functionName)) {
      const r = await this.invoke(m.functionName, { Records: batch.map((x) => x.record) }).catch((err: unknown) => {
        // A throttled batch is retried, in order, as a failed one is: "If your function is
        // throttled or the Lambda service returns an error without invoking your function, Lambda
        // retries until the records expire". https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
        if (err instanceof LabError && err.code === RESERVED_THROTTLE.code) return 'throttled' as const;
        throw err;
      });
      if (r === 'throttled') this.throttled.push({ at: this.scheduler.now(), mapping: m.id, records: batch.length });
      else this.delivered.push({ at: this.scheduler.now(), mapping: m.id, records: batch.length });
      const retries = m.maxRetryAttempts ?? -1;
      if (r !== 'throttled' && r.functionError) p.failures++;
      else if (r !== 'throttled') p.failures = 0;
      if (r !== 'throttled' && r.functionError && retries >= 0 && p.failures > retries) {
        // Retried MaximumRetryAttempts times: the batch is discarded and the records after it go on.
        this.discarded.push({ at: this.scheduler.now(), mapping: m.id, records: batch.length, why: `failed ${p.failures} times (MaximumRetryAttempts ${retries})` });
        p.failures = 0;
      } else if (r === 'throttled' || r.functionError) {
        // A failed batch is retried, in order, before anything after it.
        p.records.unshift(...batch);
      }
    }
    if (p.records.length) {
      p.due = this.scheduler.now() + STREAM_POLL_MS;
      this.scheduler.at(p.due, `event source mapping ${m.id}`, () => this.deliver(m));
    }
  }
}

/** A DynamoDB stream record as Lambda hands it to a function. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html */
function toRecord(c: StreamChange, now: number): Record<string, unknown> {
  return {
    eventID: `${c.table}-${c.sequenceNumber}`,
    eventName: c.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: LAB_REGION,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(now / 1000),
      Keys: c.keys,
      ...(c.newImage ? { NewImage: c.newImage } : {}),
      ...(c.oldImage ? { OldImage: c.oldImage } : {}),
      SequenceNumber: c.sequenceNumber,
      SizeBytes: JSON.stringify([c.keys, c.newImage ?? {}, c.oldImage ?? {}]).length,
      StreamViewType: c.streamViewType,
    },
  };
}
