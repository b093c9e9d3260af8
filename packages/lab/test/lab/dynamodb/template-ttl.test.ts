/**
 * A table's TimeToLiveSpecification in a CDK app's template is live in the lab: TTL is ENABLED on
 * the attribute the template names, and expired items go on the lab's clock, not the wall clock.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-timetolivespecification.html
 */
import { DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

it('enables TTL as the template declares it and deletes expired items after the lag, on the lab clock', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ttl-app-'));
  const app = new App({ outdir: dir });
  new dynamodb.Table(new Stack(app, 'Ttl'), 'State', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiresAt' });
  app.synth();
  const lab = new Lab({ seed: 1, ttlDeletionLagSeconds: 60 });
  const endpoint = await lab.start();
  const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  try {
    await lab.loadAssembly(dir);
    const [TableName] = (await ddb.send(new ListTablesCommand({}))).TableNames!;
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    await ddb.send(new PutItemCommand({ TableName, Item: { id: { S: 'a' }, expiresAt: { N: String(Math.floor(lab.now() / 1000) + 10) } } }));
    const count = async () => (await ddb.send(new ScanCommand({ TableName }))).Count;
    await lab.advance(69);
    expect(await count()).toBe(1);
    await lab.advance(2);
    expect(await count()).toBe(0);
  } finally {
    ddb.destroy();
    await lab.stop();
  }
}, 60_000);
