/**
 * The lab's CloudWatch over awsQuery: hand-written form-encoded requests, as older SDKs and CLIs
 * send them, answered in XML. https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
import { cbor } from '@smithy/core/cbor';
import { cborTextMap, LabServer } from '../../../src/lab/server';
import { rig, T0, type Rig } from './helpers';

let lab: Rig;
let server: LabServer;
let url: string;

beforeEach(async () => {
  lab = rig();
  server = new LabServer([lab.cw.service], []);
  url = await server.listen(0, '127.0.0.1');
});

afterEach(async () => {
  lab.cw.dispose();
  await server.close();
});

async function query(params: Record<string, string>, version = '2010-08-01'): Promise<{ status: number; type: string | null; xml: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ ...params, Version: version }).toString(),
  });
  return { status: res.status, type: res.headers.get('content-type'), xml: await res.text() };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('CloudWatch over awsQuery', () => {
  it('stores PutMetricData members and answers GetMetricData in XML', async () => {
    const put = await query({
      Action: 'PutMetricData',
      Namespace: 'Lab/Q',
      'MetricData.member.1.MetricName': 'Errors',
      'MetricData.member.1.Timestamp': iso(T0 - 90_000),
      'MetricData.member.1.Values.member.1': '2',
      'MetricData.member.1.Values.member.2': '5',
      'MetricData.member.1.Counts.member.1': '1',
      'MetricData.member.1.Counts.member.2': '2',
      'MetricData.member.1.Dimensions.member.1.Name': 'FunctionName',
      'MetricData.member.1.Dimensions.member.1.Value': 'f',
      'MetricData.member.1.Unit': 'Count',
    });
    expect(put).toEqual({
      status: 200,
      type: 'text/xml',
      xml: expect.stringMatching(/^<PutMetricDataResponse xmlns="http:\/\/monitoring.amazonaws.com\/doc\/2010-08-01\/"><ResponseMetadata><RequestId>lab-\w+<\/RequestId><\/ResponseMetadata><\/PutMetricDataResponse>$/),
    });
    const got = await query({
      Action: 'GetMetricData',
      StartTime: iso(T0 - 5 * 60_000),
      EndTime: iso(T0),
      'MetricDataQueries.member.1.Id': 'sum',
      'MetricDataQueries.member.1.MetricStat.Metric.Namespace': 'Lab/Q',
      'MetricDataQueries.member.1.MetricStat.Metric.MetricName': 'Errors',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name': 'FunctionName',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value': 'f',
      'MetricDataQueries.member.1.MetricStat.Period': '60',
      'MetricDataQueries.member.1.MetricStat.Stat': 'Sum',
      'MetricDataQueries.member.2.Id': 'hidden',
      'MetricDataQueries.member.2.Expression': 'sum * 2',
      'MetricDataQueries.member.2.ReturnData': 'false',
    });
    expect(got.status).toBe(200);
    expect(got.xml).toContain(
      '<GetMetricDataResult><MetricDataResults><member><Id>sum</Id><Label>Errors</Label>' +
        `<Timestamps><member>${iso(T0 - 2 * 60_000)}</member></Timestamps><Values><member>12</member></Values>` +
        '<StatusCode>Complete</StatusCode><Messages></Messages></member></MetricDataResults><Messages></Messages></GetMetricDataResult>',
    );
  });

  it('takes an empty list as Name= and describes the alarm with ISO timestamps and booleans', async () => {
    const put = await query({
      Action: 'PutMetricAlarm',
      AlarmName: 'errors & more',
      Namespace: 'Lab/Q',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: '60',
      EvaluationPeriods: '2',
      Threshold: '1.5',
      ComparisonOperator: 'GreaterThanThreshold',
      ActionsEnabled: 'false',
      AlarmActions: '',
    });
    expect(put.status).toBe(200);
    const { xml } = await query({ Action: 'DescribeAlarms', 'AlarmNames.member.1': 'errors & more' });
    expect(xml).toContain('<MetricAlarms><member><AlarmName>errors &amp; more</AlarmName>');
    expect(xml).toContain('<ActionsEnabled>false</ActionsEnabled><OKActions></OKActions><AlarmActions></AlarmActions>');
    expect(xml).toContain('<EvaluationPeriods>2</EvaluationPeriods><Threshold>1.5</Threshold>');
    expect(xml).toContain(`<StateUpdatedTimestamp>${iso(T0)}</StateUpdatedTimestamp>`);
    expect(xml).toContain('<CompositeAlarms></CompositeAlarms>');
  });

  it('writes GetMetricStatistics percentiles as a map of entries', async () => {
    await query({ Action: 'PutMetricData', Namespace: 'Lab/Q', 'MetricData.member.1.MetricName': 'Latency', 'MetricData.member.1.Timestamp': iso(T0 - 60_000), 'MetricData.member.1.Value': '7' });
    const { xml } = await query({
      Action: 'GetMetricStatistics',
      Namespace: 'Lab/Q',
      MetricName: 'Latency',
      StartTime: iso(T0 - 60_000),
      EndTime: iso(T0),
      Period: '60',
      'ExtendedStatistics.member.1': 'p99',
    });
    expect(xml).toContain(`<Datapoints><member><Timestamp>${iso(T0 - 60_000)}</Timestamp><Unit>None</Unit><ExtendedStatistics><entry><key>p99</key><value>7</value></entry></ExtendedStatistics></member></Datapoints>`);
  });

  it('takes the parameters from the query string of a GET', async () => {
    await query({ Action: 'PutMetricAlarm', AlarmName: 'g', Namespace: 'Lab/Q', MetricName: 'E', Statistic: 'Sum', Period: '60', EvaluationPeriods: '1', Threshold: '1', ComparisonOperator: 'GreaterThanThreshold' });
    const res = await fetch(`${url}/?${new URLSearchParams({ Action: 'DescribeAlarms', Version: '2010-08-01', AlarmNamePrefix: 'g' })}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<MetricAlarms><member><AlarmName>g</AlarmName>');
  });

  it.each([
    ['a missing member', { Action: 'PutMetricAlarm', AlarmName: 'a' }, '2010-08-01', 400, 'MissingParameter', 'EvaluationPeriods'],
    ['a number that is not one', { Action: 'DescribeAlarms', MaxRecords: 'ten' }, '2010-08-01', 400, 'InvalidParameterValue', 'MaxRecords'],
    ['an unknown action', { Action: 'PutDashboard' }, '2010-08-01', 400, 'InvalidAction', 'CloudWatch.PutDashboard is not supported by the lab'],
    ['an unknown version', { Action: 'ListQueues' }, '2012-11-05', 400, 'InvalidAction', 'no awsQuery service with Version=2012-11-05; it speaks awsQuery for CloudWatch (Version=2010-08-01)'],
    ['no action', {}, '2010-08-01', 400, 'MissingAction', 'Action'],
  ])('answers %s with an XML error', async (_, params, version, status, code, message) => {
    const res = await query(params as Record<string, string>, version);
    expect(res.status).toBe(status);
    expect(res.type).toBe('text/xml');
    expect(res.xml).toMatch(new RegExp(`^<ErrorResponse( xmlns="[^"]+")?><Error><Type>Sender</Type><Code>${code}</Code><Message>[^<]*</Message></Error><RequestId>lab-\\w+</RequestId></ErrorResponse>$`));
    expect(res.xml).toContain(message);
  });
});

describe('form parameters that name prototypes', () => {
  it('are members like any other and pollute nothing', async () => {
    const res = await query({ Action: 'DescribeAlarms', '__proto__.polluted': 'yes' });
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a protocol the lab does not speak', () => {
  it('refuses rpcv2Cbor in CBOR, so the client reports the refusal', async () => {
    const res = await fetch(`${url}/service/GraniteServiceVersion20100801/operation/DescribeAlarms`, {
      method: 'POST',
      headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor', accept: 'application/cbor' },
      body: new Uint8Array([0xa0]),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('smithy-protocol')).toBe('rpc-v2-cbor');
    // Decoded with the SDK's own CBOR reader.
    expect(cbor.deserialize(new Uint8Array(await res.arrayBuffer()))).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining('the lab does not speak the rpcv2Cbor protocol'),
    });
  });

  it('encodes long strings with the right CBOR length heads', () => {
    const long = 'é'.repeat(40_000);
    expect(cbor.deserialize(cborTextMap({ a: '', b: 'x'.repeat(23), c: 'y'.repeat(200), d: long }))).toEqual({ a: '', b: 'x'.repeat(23), c: 'y'.repeat(200), d: long });
  });
});

describe('form-encoded requests that are not awsQuery', () => {
  it('leaves a JSON body that curl -d posts as a form to its REST route', async () => {
    const routed = new LabServer([lab.cw.service], [{ method: 'POST', pattern: '/_lab/echo', handle: (req) => ({ body: req.json() }) }]);
    const base = await routed.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${base}/_lab/echo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{"rps": 20}' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ rps: 20 });
    } finally {
      await routed.close();
    }
  });

  it('answers DescribeAlarmsForMetric in XML', async () => {
    const put = await query({
      Action: 'PutMetricAlarm', AlarmName: 'q-errors', Namespace: 'Lab/Q', MetricName: 'Errors', Statistic: 'Sum', Period: '60', EvaluationPeriods: '1', Threshold: '1',
      ComparisonOperator: 'GreaterThanThreshold', 'Dimensions.member.1.Name': 'FunctionName', 'Dimensions.member.1.Value': 'f',
    });
    expect(put.status).toBe(200);
    const r = await query({ Action: 'DescribeAlarmsForMetric', Namespace: 'Lab/Q', MetricName: 'Errors', Period: '60', 'Dimensions.member.1.Name': 'FunctionName', 'Dimensions.member.1.Value': 'f' });
    expect(r.status).toBe(200);
    expect(r.xml).toContain('<DescribeAlarmsForMetricResponse');
    expect(r.xml).toMatch(/<MetricAlarms>\s*<member>[\s\S]*<AlarmName>q-errors<\/AlarmName>/);
    const none = await query({ Action: 'DescribeAlarmsForMetric', Namespace: 'Lab/Q', MetricName: 'Errors', Period: '300' });
    expect(none.xml).not.toContain('q-errors');
  });
});
