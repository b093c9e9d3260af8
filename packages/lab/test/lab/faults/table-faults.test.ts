/**
 * DynamoDB faults on one table (a scenario's `faults.dynamodb.table`): the user's own table
 * fails while the watchdog's state table answers.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { Faults, faultSpecErrors } from '../../../src/lab/faults';
import { Lab } from '../../../src/lab/lab';
import { tableNamed } from '../../../src/rehearsal/runner';

const T0 = Date.UTC(2026, 0, 1);

describe('DynamoDB faults on one table', () => {
  it('meets only the calls that name the table', () => {
    const f = new Faults(() => 0);
    f.set([{ service: 'DynamoDB', table: 'orders', unavailable: true }], T0);
    expect(f.decide('DynamoDB', 'PutItem', T0, 'orders').error).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(f.decide('DynamoDB', 'PutItem', T0, 'state').error).toBeUndefined();
    expect(f.decide('DynamoDB', 'ListTables', T0).error).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a table of another service', { service: 'CloudWatch', table: 'orders' }, 'faults[0].table: expected a DynamoDB table name (3-255 letters, digits, _ . -) with service DynamoDB, got "orders"'],
    ['a table name that is not one', { service: 'DynamoDB', table: 'a b' }, 'faults[0].table: expected a DynamoDB table name (3-255 letters, digits, _ . -) with service DynamoDB, got "a b"'],
  ])('refuses %s, naming the field', (_, spec, message) => {
    expect(faultSpecErrors([spec])).toEqual([message]);
  });

  it('fails an outside client\'s calls to that table through the lab, and not those to another', async () => {
    const lab = new Lab({ seed: 1 });
    await lab.start();
    const client = new DynamoDBClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
    try {
      for (const name of ['orders', 'state']) lab.dynamodb.createTable(name, 'id');
      lab.setFaults([{ service: 'DynamoDB', table: 'orders', unavailable: true }]);
      await expect(client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'x' } } }))).rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      await expect(client.send(new GetItemCommand({ TableName: 'state', Key: { id: { S: 'x' } } }))).resolves.toBeDefined();
    } finally {
      client.destroy();
      await lab.stop();
    }
  });
});

describe("a scenario's table: by name or construct id", () => {
  it('finds the physical table a construct id names, and names the tables when none matches', async () => {
    const lab = new Lab({ seed: 1 });
    await lab.start();
    try {
      for (const name of ['OrdersService-WatchdogStateTable0C1D', 'OrdersService-Orders315AB3B1']) lab.dynamodb.createTable(name, 'id');
      expect(tableNamed(lab, 'Orders', 's.yaml')).toBe('OrdersService-Orders315AB3B1');
      expect(tableNamed(lab, 'OrdersService-WatchdogStateTable0C1D', 's.yaml')).toBe('OrdersService-WatchdogStateTable0C1D');
      expect(() => tableNamed(lab, 'Payments', 's.yaml')).toThrow("s.yaml.faults.dynamodb.table: Payments is none of the app's tables: OrdersService-WatchdogStateTable0C1D, OrdersService-Orders315AB3B1");
    } finally {
      await lab.stop();
    }
  });
});
