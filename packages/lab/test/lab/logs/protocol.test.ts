/**
 * CloudWatch Logs on the lab's endpoint, read by the real SDK v3 client: FilterLogEvents over what
 * a function wrote, term patterns, paging, AWS's errors; and `explain --log-group` reading the
 * watchdog's decision records from it.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
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

  it.each([
    [{ logGroupName: 'nope' }, 'ResourceNotFoundException', 'The specified log group does not exist.'],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', filterPattern: '{ $.level = "INFO" }' }, 'InvalidParameterException', 'filterPattern: the lab models term patterns only'],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', logStreamNamePrefix: 'x' }, 'InvalidParameterException', 'logStreamNamePrefix: the lab does not model it'],
    [{ logGroupName: 'Stack-WatchdogLogs1A2B3C', limit: 0 }, 'InvalidParameterException', 'limit: expected an integer from 1 to 10000'],
  ])('%j is refused as AWS refuses it, or as not modelled', async (input, name, message) => {
    await expect(logs().send(new FilterLogEventsCommand(input))).rejects.toMatchObject({ name, message: expect.stringContaining(message) });
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
