/** The lab's DynamoDB served over loopback, with the real SDK clients pointed at it. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbLab, type DynamoDbLabOptions } from '../../../src/lab/dynamodb';
import { LabServer } from '../../../src/lab/server';

export interface LoopbackDynamo {
  readonly raw: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** The lab's DynamoDB itself (its capacity ledger). */
  readonly dynamodb: DynamoDbLab;
  /** The lab's endpoint, for requests no SDK would send. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Start a lab DynamoDB with the given tables (name to partition key attribute, or to partition and
 * sort key), on a clock that stands still at the start of 2026 unless `now` is given.
 */
export async function loopbackDynamo(tables: Record<string, string | readonly [string, string]>, opts: Partial<DynamoDbLabOptions> = {}): Promise<LoopbackDynamo> {
  const ddb = new DynamoDbLab({ now: () => Date.UTC(2026, 0, 1), ...opts });
  for (const [name, key] of Object.entries(tables)) {
    if (typeof key === 'string') ddb.createTable(name, key);
    else ddb.createTable(name, key[0], key[1]);
  }
  const server = new LabServer([ddb.service], []);
  const url = await server.listen(0, '127.0.0.1');
  const raw = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  return {
    raw,
    doc: DynamoDBDocumentClient.from(raw),
    dynamodb: ddb,
    url,
    close: async () => {
      raw.destroy();
      await server.close();
    },
  };
}

/** The error a call fails with; a call that succeeds fails the test. */
export const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: Error & { $metadata?: { httpStatusCode?: number } }) => err,
  );
