/**
 * DynamoDB numbers are decimal: up to 38 significant digits, magnitude 1E-130 to
 * 9.9999999999999999999999999999999999999E+125, stored and returned in plain notation, compared
 * and added exactly. Cases from the Developer Guide's number data type and AWS-verified tests.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
import { GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ Thread: 'Id', Ledger: ['Account', 'Seq'] });
  ({ raw } = lab);
});
afterEach(() => lab.close());

const put = (n: string, name = 'x') => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, [name]: { N: n } } }));
const get = async () => (await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).Item;
const add = (n: string) => raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'ADD x :n', ExpressionAttributeValues: { ':n': { N: n } }, ReturnValues: 'UPDATED_NEW' }));

describe('arithmetic', () => {
  it('100 ADD -88.3 is 11.7, not the binary float 11.700000000000003', async () => {
    await put('100');
    expect((await add('-88.3')).Attributes).toEqual({ x: { N: '11.7' } });
  });

  it('0.1 ADD 0.2 is 0.3', async () => {
    await put('0.1');
    expect((await add('0.2')).Attributes).toEqual({ x: { N: '0.3' } });
  });

  it('adds 38-digit integers beyond 2^53 exactly', async () => {
    await put('9007199254740993');
    expect((await add('1')).Attributes).toEqual({ x: { N: '9007199254740994' } });
    await put('12345678901234567890123456789012345670');
    expect((await add('8')).Attributes).toEqual({ x: { N: '12345678901234567890123456789012345678' } });
  });

  it('refuses a sum that needs more than 38 significant digits', async () => {
    await put('1E+37');
    const err = await failure(add('0.1'));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe('Attempting to store more than 38 significant digits in a Number');
    expect((await get())!.x).toEqual({ N: '10000000000000000000000000000000000000' });
  });

  it('adds to a number set by value (1.0 is already in [1])', async () => {
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, s: { NS: ['1'] } } }));
    await raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'ADD s :n', ExpressionAttributeValues: { ':n': { NS: ['1.0', '2'] } } }));
    expect(((await get())!.s.NS ?? []).sort()).toEqual(['1', '2']);
  });
});

describe('range, precision and notation', () => {
  it.each([
    // AWS-verified: these come back in plain notation, leading and trailing zeros dropped.
    ['0000012345678901234567890123456789012345678', '12345678901234567890123456789012345678'],
    ['-00001.23456789012345678901234567890123456780000', '-1.2345678901234567890123456789012345678'],
    ['0009.99999999999999999999999999999999999990000e125', '9'.repeat(38) + '0'.repeat(88)],
    ['0001.000e-130', '0.' + '0'.repeat(129) + '1'],
    ['-0015.789e6', '-15789000'],
    ['1.50', '1.5'],
  ])('stores %s and returns it as %s', async (given, returned) => {
    await put(given);
    expect((await get())!.x).toEqual({ N: returned });
  });

  it.each([
    ['1E+126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
    ['-1E+126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
    ['1E-131', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
    ['1.23456789012345678901234567890123456789', 'Attempting to store more than 38 significant digits in a Number'],
    ['ten', 'The parameter cannot be converted to a numeric value: ten'],
    ['1e', 'The parameter cannot be converted to a numeric value: 1e'],
    ['Infinity', 'The parameter cannot be converted to a numeric value: Infinity'],
  ])('refuses %s with AWS\'s message', async (given, message) => {
    const err = await failure(put(given));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(message);
  });

  it('keeps 38 significant digits with trailing zeros beyond them (a guard against counting zeros)', async () => {
    await put('1234567890123456789012345678901234567800000');
    expect((await get())!.x).toEqual({ N: '1234567890123456789012345678901234567800000' });
  });
});

describe('numbers as keys and in comparisons', () => {
  it('1 and 1.0 are one key; Query orders sort keys by decimal value', async () => {
    for (const seq of ['10', '9.99999999999999999999', '10.000000000000000001', '-3']) {
      await raw.send(new PutItemCommand({ TableName: 'Ledger', Item: { Account: { N: '1.0' }, Seq: { N: seq } } }));
    }
    const out = await raw.send(new QueryCommand({ TableName: 'Ledger', KeyConditionExpression: 'Account = :a AND Seq > :s', ExpressionAttributeValues: { ':a': { N: '1' }, ':s': { N: '9.999999999999999999990' } } }));
    expect(out.Items!.map((i) => i.Seq.N)).toEqual(['10', '10.000000000000000001']);
    expect(out.Items![0].Account).toEqual({ N: '1' });
  });

  it('tells apart numbers a binary float cannot (a condition on 2^53 + 1)', async () => {
    await put('9007199254740993');
    const scan = await raw.send(new ScanCommand({ TableName: 'Thread', FilterExpression: 'x = :v', ExpressionAttributeValues: { ':v': { N: '9007199254740992' } } }));
    expect(scan.Count).toBe(0);
    const cond = await failure(raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ConditionExpression: 'x < :v', ExpressionAttributeValues: { ':v': { N: '9007199254740993' } } })));
    expect(cond.name).toBe('ConditionalCheckFailedException');
  });
});
