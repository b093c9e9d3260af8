/**
 * Lambda's JSON log format, from a template's LoggingConfig (CDK: loggingFormat: LoggingFormat.JSON):
 * platform lines become JSON records, console output becomes JSON with its level and request id,
 * and ApplicationLogLevel / SystemLogLevel filter what reaches the log group.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 */
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Lab } from '../../../src/lab/lab';

const CODE = [
  'exports.handler = async () => {',
  '  console.trace("tracing");',
  '  console.debug("debugging");',
  '  console.log("hello", 42, { a: 1 });',
  '  console.info("informing");',
  '  console.warn("careful");',
  '  console.error("broken");',
  '  return "ok";',
  '};',
].join('\n');
const fn = (name: string, logging?: Record<string, string>) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { FunctionName: name, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: CODE }, ...(logging ? { LoggingConfig: logging } : {}) },
});

let lab: Lab;
let client: LambdaClient;
beforeAll(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  await lab.loadDeployedStack({
    stackName: 'json-logs',
    template: {
      Resources: {
        Json: fn('json', { LogFormat: 'JSON' }),
        Warn: fn('warn', { LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'WARN' }),
        Debug: fn('debug', { LogFormat: 'JSON', ApplicationLogLevel: 'TRACE', SystemLogLevel: 'DEBUG' }),
        Text: fn('text'),
      },
    } as never,
    assemblyDir: '/nonexistent',
  });
  client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await lab.stop();
});

/** The lines an invocation wrote (Invoke's LogType Tail), and its request id. */
async function invoke(name: string): Promise<{ lines: string[]; requestId: string }> {
  const out = await client.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
  const lines = Buffer.from(out.LogResult!, 'base64').toString('utf8').split('\n').filter(Boolean);
  return { lines, requestId: out.$metadata.requestId! };
}
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('LogFormat JSON, default levels (INFO for both)', () => {
  it('writes platform.start and platform.report records around JSON console records, and no text lines', async () => {
    const { lines } = await invoke('json');
    const records = parsed(lines);
    const requestId = (records[0].record as { requestId: string }).requestId;
    expect(records.map((r) => r.type ?? r.level)).toEqual(['platform.start', 'INFO', 'INFO', 'WARN', 'ERROR', 'platform.report']);
    expect(records[0]).toEqual({ time: expect.stringMatching(ISO), type: 'platform.start', record: { requestId, version: '$LATEST' } });
    expect(records[1]).toEqual({ timestamp: expect.stringMatching(ISO), level: 'INFO', requestId, message: 'hello 42 { a: 1 }' });
    expect(records.slice(2, 5).map((r) => r.message)).toEqual(['informing', 'careful', 'broken']);
    expect(records[5]).toEqual({
      time: expect.stringMatching(ISO),
      type: 'platform.report',
      record: {
        requestId,
        metrics: { durationMs: expect.any(Number), billedDurationMs: expect.any(Number), memorySizeMB: 128, maxMemoryUsedMB: expect.any(Number), initDurationMs: expect.any(Number) },
        status: 'success',
      },
    });
  });

  it('describes LoggingConfig with its format and levels, and gives the function AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL', async () => {
    const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'json' }));
    expect(c.LoggingConfig).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/json' });
    const env = lab.lambda.environmentOf('json', '$LATEST')?.env ?? {};
    expect([env.AWS_LAMBDA_LOG_FORMAT, env.AWS_LAMBDA_LOG_LEVEL]).toEqual(['JSON', 'INFO']);
  });
});

describe('log levels', () => {
  it('ApplicationLogLevel WARN keeps only WARN and ERROR; SystemLogLevel WARN drops start and report', async () => {
    const records = parsed((await invoke('warn')).lines);
    expect(records.map((r) => r.level)).toEqual(['WARN', 'ERROR']);
  });

  it('TRACE and DEBUG keep every console record and add platform.runtimeDone', async () => {
    const records = parsed((await invoke('debug')).lines);
    expect(records.map((r) => r.type ?? r.level)).toEqual(['platform.start', 'TRACE', 'DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR', 'platform.runtimeDone', 'platform.report']);
  });
});

it('a function without LoggingConfig keeps the text format: START, its own lines, END, REPORT', async () => {
  const { lines } = await invoke('text');
  expect(lines[0]).toMatch(/^START RequestId: \S+ Version: \$LATEST$/);
  expect(lines).toContain('hello 42 { a: 1 }');
  expect(lines.at(-2)).toMatch(/^END RequestId: /);
  expect(lines.at(-1)).toMatch(/^REPORT RequestId: /);
});

it.each([
  [{ LogFormat: 'Json' }, 'LogFormat: expected Text or JSON, got "Json"'],
  [{ LogFormat: 'JSON', ApplicationLogLevel: 'VERBOSE' }, 'ApplicationLogLevel: expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL, got "VERBOSE"'],
  [{ LogFormat: 'JSON', SystemLogLevel: 'ERROR' }, 'SystemLogLevel: expected DEBUG, INFO or WARN, got "ERROR"'],
  [{ ApplicationLogLevel: 'WARN' }, 'ApplicationLogLevel and SystemLogLevel need LogFormat JSON'],
])('refuses LoggingConfig %j: %s', async (logging, message) => {
  const other = new Lab({ warm: false });
  await other.start();
  try {
    await expect(other.loadDeployedStack({ stackName: 'bad', template: { Resources: { Bad: fn('bad', logging) } } as never, assemblyDir: '/nonexistent' })).rejects.toThrow(message);
  } finally {
    await other.stop();
  }
});
