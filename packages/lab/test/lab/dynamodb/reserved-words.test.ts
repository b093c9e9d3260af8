/**
 * DynamoDB's reserved words: an expression that names an attribute with one directly (not through
 * ExpressionAttributeNames) is refused, so code that passes in the lab also passes on AWS.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html
 */
import { GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ Thread: 'Id' });
  ({ raw } = lab);
  await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, status: { S: 'open' }, size: { N: '1' } } }));
});
afterEach(() => lab.close());

const reserved = (expression: string, word: string) => ({ name: 'ValidationException', message: `Invalid ${expression}: Attribute name is a reserved keyword; reserved keyword: ${word}` });

it.each([
  ['UpdateExpression', () => new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'SET status = :s', ExpressionAttributeValues: { ':s': { S: 'closed' } } }), 'status'],
  ['ConditionExpression', () => new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'b' } }, ConditionExpression: 'attribute_not_exists(Total)' }), 'Total'],
  ['ProjectionExpression', () => new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ProjectionExpression: 'Id, status' }), 'status'],
  ['FilterExpression', () => new ScanCommand({ TableName: 'Thread', FilterExpression: 'size > :n', ExpressionAttributeValues: { ':n': { N: '0' } } }), 'size'],
] as const)('%s naming an attribute by a reserved word is refused, whatever its case', async (expression, command, word) => {
  expect(await failure(raw.send(command() as never))).toMatchObject(reserved(expression, word));
});

it('the same expressions through ExpressionAttributeNames work', async () => {
  await raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'closed' } } }));
  const out = await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ProjectionExpression: 'Id, #s', ExpressionAttributeNames: { '#s': 'status' } }));
  expect(out.Item).toEqual({ Id: { S: 'a' }, status: { S: 'closed' } });
});
