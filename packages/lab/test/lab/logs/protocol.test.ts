/**
 * CloudWatch Logs on the lab's endpoint, read by the real SDK v3 client: FilterLogEvents over what
 * a function wrote, term patterns, paging, AWS's errors; and `explain --log-group` reading the
 * watchdog's decision records from it.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand, paginateFilterLogEvents, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { explainRecords } from '../../../src/cli/commands';
import { decisionLinesFromLogGroup } from '../../../src/cli/log-group';
import { Lab } from '../../../src/lab/lab';

/** The README's decision record, as the watchdog logs it (a Powertools JSON line). */
const README = readFileSync(resolve(__dirname, '../../../../../docs/layers-and-statistics.md'), 'utf8');
const record = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(README.slice(README.indexOf('## Decision record')))![1]) as { deploymentId: string };

let lab: Lab;
const config = () => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
const logs = () => new CloudWatchLogsClient(config());

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  const codeDir = mkdtempSync(join(tmpdir(), 'lab-logs-'));
  const line = JSON.stringify({ level: 'INFO', message: 'decision', service: 'canary-watchdog', decision: record });
  writeFileSync(join(codeDir, 'index.js'), `exports.handler = async (e) => { for (let i = 0; i < (e.n || 1); i++) console.log('tick ' + i); console.log(${JSON.stringify(line)}); return 'ok'; };`);
  lab.lambda.createFunction({ name: 'watchdog', handler: 'index.handler', codeDir, logGroup: 'Stack-WatchdogLogs1A2B3C' });
  lab.lambda.createFunction({ name: 'other', handler: 'index.handler', codeDir });
  const lambda = new LambdaClient(config());
  await lambda.send(new InvokeCommand({ FunctionName: 'watchdog', Payload: JSON.stringify({ n: 5 }) }));
  lambda.destroy();
  // A function's output reaches its log group shortly after the invocation ends (in Lambda too): wait for all six lines.
  for (let i = 0; i < 500 && lab.lambda.logs.filter((e) => e.functionName === 'watchdog').length < 6; i++) await new Promise((r) => setTimeout(r, 10));
});
afterEach(() => lab.stop());

describe('FilterLogEvents', () => {
  it('answers the lines of the function whose log group it is, by term pattern, page by page', async () => {
    const all: string[] = [];
    for await (const page of paginateFilterLogEvents({ client: logs(), pageSize: 2 }, { logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: 'tick' })) all.push(...(page.events ?? []).map((e) => e.message!));
    expect(all).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
    const decision = await logs().send(new FilterLogEventsCommand({ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: `"canary-watchdog.decision" "${record.deploymentId}"` }));
    expect(decision.events).toHaveLength(1);
  });

  it('lists a function without a LoggingConfig under /aws/lambda/<name>', async () => {
    expect((await logs().send(new DescribeLogGroupsCommand({}))).logGroups!.map((g) => g.logGroupName)).toEqual(['/aws/lambda/other', 'Stack-WatchdogLogs1A2B3C']);
  });

  it('accepts interleaved, which AWS ignores and the AWS CLI v2 sends for `logs tail`', async () => {
    const r = await logs().send(new FilterLogEventsCommand({ logGroupName: 'Stack-WatchdogLogs1A2B3C', interleaved: true, filterPattern: 'tick' }));
    expect(r.events!.map((e) => e.message)).toHaveLength(5);
  });

  it('matches a JSON pattern, and a space-delimited one, on the function\'s lines', async () => {
    const info = await logs().send(new FilterLogEventsCommand({ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '{ $.level = "INFO" && $.service = "canary-watchdog" }' }));
    expect(info.events!.map((e) => JSON.parse(e.message!).message)).toEqual(['decision']);
    const none = await logs().send(new FilterLogEventsCommand({ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '{ $.level = "ERROR" }' }));
    expect(none.events).toEqual([]);
    const ticks = await logs().send(new FilterLogEventsCommand({ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '[word = tick, n >= 3]' }));
    expect(ticks.events!.map((e) => e.message)).toEqual(['tick 3', 'tick 4']);
  });

  it.each([
    [{ logGroupName: 'nope' }, 'ResourceNotFoundException', 'The specified log group does not exist.'],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '%tick [0-9]%' }, 'InvalidParameterException', 'regular-expression filter patterns (%...%) are not supported by the lab'],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '{ $.level = }' }, 'InvalidParameterException', 'expected a value after $.level ='],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', limit: 0 }, 'InvalidParameterException', 'limit: expected an integer from 1 to 10000'],
  ])('%j is refused as AWS refuses it, or as not modelled', async (input, name, message) => {
    await expect(logs().send(new FilterLogEventsCommand(input))).rejects.toMatchObject({ name, message: expect.stringContaining(message) });
  });
});

describe('log streams', () => {
  const group = 'Stack-WatchdogLogs1A2B3C';
  const REPORT = /^REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?$/;

  it('hold START, the function\'s lines, END and REPORT for every invocation; Init Duration on the cold start only', async () => {
    const lambda = new LambdaClient(config());
    await lambda.send(new InvokeCommand({ FunctionName: 'watchdog', Payload: JSON.stringify({ n: 1 }) }));
    lambda.destroy();
    const streams = (await logs().send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams!;
    expect(streams.map((s) => s.logStreamName)).toEqual([expect.stringMatching(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/)]);
    const lines = (await logs().send(new GetLogEventsCommand({ logGroupName: group, logStreamName: streams[0].logStreamName, startFromHead: true }))).events!.map((e) => e.message!);
    const starts = lines.flatMap((l, i) => (l.startsWith('START ') ? [i] : []));
    expect(starts).toHaveLength(2);
    const [first, second] = [lines.slice(starts[0], starts[1]), lines.slice(starts[1])];
    for (const [run, ticks] of [[first, 5], [second, 1]] as const) {
      const id = REPORT.exec(run.at(-1)!)![1];
      expect(run[0]).toBe(`START RequestId: ${id} Version: $LATEST`);
      expect(run.at(-2)).toBe(`END RequestId: ${id}`);
      expect(run.filter((l) => l.startsWith('tick '))).toHaveLength(ticks);
    }
    expect(REPORT.exec(first.at(-1)!)![2]).toMatch(/^Init Duration/);
    expect(REPORT.exec(second.at(-1)!)![2]).toBeUndefined();
  });

  it('hold neither the lab\'s own notes nor the host\'s Node.js version warning; the function\'s own warnings stay', async () => {
    const codeDir = mkdtempSync(join(tmpdir(), 'lab-logs-warn-'));
    writeFileSync(
      join(codeDir, 'index.js'),
      "const { STSClient } = require('@aws-sdk/client-sts'); exports.handler = async () => { new STSClient({}); process.emitWarning('the function warns itself'); return 'ok'; };",
    );
    lab.lambda.createFunction({ name: 'warner', handler: 'index.handler', codeDir });
    lab.lambda.log('warner', '$LATEST', 'lab: a note for whoever runs the lab');
    const lambda = new LambdaClient(config());
    await lambda.send(new InvokeCommand({ FunctionName: 'warner' }));
    lambda.destroy();
    const text = (await logs().send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/warner' }))).events!.map((e) => e.message).join('\n');
    expect(text).toContain('the function warns itself');
    expect(text).toMatch(/^REPORT RequestId/m);
    expect(text).not.toContain('NodeVersionSupportWarning');
    expect(text).not.toContain(process.version);
    expect(text).not.toContain('lab: a note');
  });

  it('Invoke with LogType Tail answers the invocation\'s own lines, START to REPORT', async () => {
    const lambda = new LambdaClient(config());
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'watchdog', Payload: JSON.stringify({ n: 2 }), LogType: 'Tail' }));
    lambda.destroy();
    const lines = Buffer.from(r.LogResult!, 'base64').toString().trimEnd().split('\n');
    const id = REPORT.exec(lines.at(-1)! + (lines.at(-1)!.endsWith('\t') ? '' : '\t'))![1];
    expect(lines.slice(0, -1)).toEqual([`START RequestId: ${id} Version: $LATEST`, 'tick 0', 'tick 1', expect.stringContaining('"message":"decision"'), `END RequestId: ${id}`]);
  });

  it('GetLogEvents pages forward from the head, and the forward token stays put at the end', async () => {
    const stream = (await logs().send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams![0].logStreamName!;
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await logs().send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit: 3, ...(token ? { nextToken: token } : { startFromHead: true }) }));
      if (r.nextForwardToken === token) break;
      seen.push(...r.events!.map((e) => e.message!));
      token = r.nextForwardToken;
    }
    expect(seen.filter((l) => l.startsWith('tick '))).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
    // Without a token and startFromHead, the newest events come back: the REPORT line last.
    const tail = await logs().send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit: 1 }));
    expect(tail.events![0].message).toMatch(REPORT);
  });

  it.each([
    [() => new DescribeLogStreamsCommand({ logGroupName: group, orderBy: 'LastEventTime', logStreamNamePrefix: '2' }), 'InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.'],
    [() => new GetLogEventsCommand({ logGroupName: group, logStreamName: 'nope' }), 'ResourceNotFoundException', 'The specified log stream does not exist.'],
    [() => new StartQueryCommand({ logGroupName: group, startTime: 0, endTime: 1, queryString: 'fields @message' }), 'InvalidOperationException', 'CloudWatch Logs Insights (StartQuery) is not supported by the lab'],
  ])('%#: refused as AWS refuses it, or by name as not modelled', async (command, name, message) => {
    await expect(logs().send(command() as never)).rejects.toMatchObject({ name, message: expect.stringContaining(message) });
  });
});

describe('explain --log-group', () => {
  it("reads the decision records from the watchdog's log group, of one deployment", async () => {
    const text = await decisionLinesFromLogGroup('Stack-WatchdogLogs1A2B3C', record.deploymentId, logs());
    expect(explainRecords(text, { source: 'log group', deployment: record.deploymentId })).toContain(record.deploymentId);
  });

  it('is bad input for a group that does not exist, and names it', async () => {
    await expect(decisionLinesFromLogGroup('nope', undefined, logs())).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('--log-group: nope does not exist') });
  });

  it('finds no records of another deployment: bad input, saying what it expected', async () => {
    const text = await decisionLinesFromLogGroup('Stack-WatchdogLogs1A2B3C', 'd-OTHER0000', logs());
    expect(() => explainRecords(text, { source: 'log group', deployment: 'd-OTHER0000' })).toThrow(/no decision records found/);
  });
});
