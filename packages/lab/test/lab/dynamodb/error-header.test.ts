/**
 * Only awsQuery-compatible services (CloudWatch) send x-amzn-query-error with their JSON errors;
 * DynamoDB never does (botocore would otherwise add QueryErrorCode and Type: Sender to its error).
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait
 */
import { loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
beforeEach(async () => {
  lab = await loopbackDynamo({ Thread: 'Id' });
});
afterEach(() => lab.close());

const call = (target: string, body: unknown) =>
  fetch(lab.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target }, body: JSON.stringify(body) });

it('a DynamoDB error carries x-amzn-errortype and no x-amzn-query-error', async () => {
  const res = await call('DynamoDB_20120810.GetItem', { TableName: 'Nope', Key: { Id: { S: 'a' } } });
  expect(res.status).toBe(400);
  expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
  expect(res.headers.get('x-amzn-query-error')).toBeNull();
  expect(((await res.json()) as { __type: string }).__type).toBe('ResourceNotFoundException');
});

it('an unknown JSON target gets no x-amzn-query-error either', async () => {
  const res = await call('Nope_20120810.GetItem', {});
  expect(res.status).toBe(400);
  expect(res.headers.get('x-amzn-query-error')).toBeNull();
});

it('an awsQuery-compatible service (CloudWatch over JSON) still sends x-amzn-query-error', async () => {
  const { rig } = await import('../cloudwatch/helpers');
  const { LabServer } = await import('../../../src/lab/server');
  const server = new LabServer([rig().cw.service], []);
  const url = await server.listen(0, '127.0.0.1');
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.DescribeAlarms' }, body: '{"MaxRecords":1000}' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
  } finally {
    await server.close();
  }
});
