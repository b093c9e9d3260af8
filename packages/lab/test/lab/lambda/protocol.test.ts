import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListTagsCommand,
  paginateListAliases,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

let codeDir: string;
beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-lambda-protocol-'));
  // `sleep` sleeps that long (virtual time), then logs; `spin` blocks its thread for good; anything else echoes the event.
  writeFileSync(
    join(codeDir, 'index.js'),
    'exports.handler = async (e) => { if (e.busyMs) { const t = performance.now(); while (performance.now() - t < e.busyMs); } if (e.spin) for (;;); if (e.sleep) { await new Promise((r) => setTimeout(r, e.sleep)); console.log("woke after " + e.sleep); } return { env: process.env.V, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, e }; };',
  );
});
afterAll(() => rmSync(codeDir, { recursive: true, force: true }));

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';

async function startLab(clock: 'virtual' | 'real' = 'virtual', speed = 1) {
  const lab = new Lab({ clock, speed, warm: false });
  await lab.start();
  lab.lambda.createFunction({ name: 'fn', handler: 'index.handler', codeDir, environment: { V: '1' } });
  lab.lambda.publishVersion('fn');
  lab.lambda.updateConfiguration('fn', { V: '2' });
  lab.lambda.publishVersion('fn');
  const client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
  return { lab, client };
}

const payloadOf = (out: { Payload?: Uint8Array }) => JSON.parse(Buffer.from(out.Payload!).toString()) as Record<string, unknown>;

describe('Lambda over the SDK: invoking an unknown qualifier', () => {
  for (const clock of ['virtual', 'real'] as const) {
    it(`answers 404 ResourceNotFoundException for every invocation type, queues nothing, and the ${clock} clock keeps running`, async () => {
      const { lab, client } = await startLab(clock);
      try {
        const pending = lab.scheduler.pending();
        for (const InvocationType of ['RequestResponse', 'Event', 'DryRun'] as const) {
          await expect(client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: 'nope', InvocationType }))).rejects.toMatchObject({
            name: 'ResourceNotFoundException',
            $metadata: { httpStatusCode: 404 },
            message: `Function not found: ${ARN}:nope`,
          });
        }
        expect(lab.scheduler.pending()).toBe(pending);
        // An existing qualifier is still accepted by each type.
        expect((await client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: '1', InvocationType: 'DryRun' }))).StatusCode).toBe(204);
        let ran = false;
        lab.scheduler.after(100, 'probe', () => void (ran = true));
        if (clock === 'virtual') await lab.advance(1);
        else await new Promise((r) => setTimeout(r, 600));
        expect(ran).toBe(true);
      } finally {
        client.destroy();
        await lab.stop();
      }
    }, 20_000);
  }

  it('drops an asynchronous invocation whose target vanished with a log line, and the clock still advances', async () => {
    const { lab, client } = await startLab();
    try {
      lab.lambda.invokeAsync('gone', {});
      await expect(lab.advance(1)).resolves.toBeGreaterThan(0);
      expect(lab.lambda.logs.map((l) => l.line)).toContain(`lab: asynchronous invocation dropped: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone`);
    } finally {
      client.destroy();
      await lab.stop();
    }
  });
});

describe('Lambda over the SDK: a timeout on the real clock', () => {
  it('ends an invocation that blocks its thread once the timeout passes, and the next one runs in a fresh environment', async () => {
    const { lab, client } = await startLab('real');
    try {
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 1 }));
      const t = Date.now();
      const out = await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from(JSON.stringify({ spin: true })) }));
      expect(Date.now() - t).toBeLessThan(5000);
      expect(out.FunctionError).toBe('Unhandled');
      expect(payloadOf(out)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/) });
      expect(payloadOf(await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from('{}') })))).toMatchObject({ env: '2' });
    } finally {
      client.destroy();
      await lab.stop();
    }
  }, 20_000);
});

describe('Lambda over the SDK: a sped-up real clock', () => {
  it("counts a function's own compute at wall-clock speed: 150 ms of work at --speed 600 lasts 150 ms, not 90 s, and does not time out", async () => {
    const { lab, client } = await startLab('real', 600);
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: 'fn', LogType: 'Tail', Payload: Buffer.from(JSON.stringify({ busyMs: 150 })) }));
      expect(out.FunctionError).toBeUndefined();
      const duration = Number(/\tDuration: ([\d.]+) ms/.exec(Buffer.from(out.LogResult!, 'base64').toString())?.[1]);
      expect(duration).toBeGreaterThanOrEqual(150);
      expect(duration).toBeLessThan(2000);
      // A blocked thread still times out after its timeout of wall-clock time.
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 1 }));
      const t = Date.now();
      expect(payloadOf(await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from(JSON.stringify({ spin: true })) })))).toMatchObject({ errorType: 'Sandbox.Timedout' });
      expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    } finally {
      client.destroy();
      await lab.stop();
    }
  }, 20_000);
});

describe('Lambda over the SDK, on a fresh lab each', () => {
  let lab: Lab;
  let client: LambdaClient;
  beforeEach(async () => ({ lab, client } = await startLab()));
  afterEach(async () => {
    client.destroy();
    await lab.stop();
  });

  describe('aliases', () => {
    it('keeps the alias description and gives a fresh RevisionId on every change, even at the same instant', async () => {
      const created = await client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1', Description: 'the live traffic' }));
      expect(created.Description).toBe('the live traffic');
      const shifted = await client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
      const back = await client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } }));
      expect(shifted.Description).toBe('the live traffic');
      const ids = [created.RevisionId, shifted.RevisionId, back.RevisionId];
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const renamed = await client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', Description: 'renamed' }));
      expect((await client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).Description).toBe('renamed');
      expect(renamed.FunctionVersion).toBe('1');
    });

    it('honours RevisionId on UpdateAlias: a stale one fails with PreconditionFailedException and changes nothing', async () => {
      const created = await client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
      const updated = await client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '2', RevisionId: created.RevisionId }));
      await expect(client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1', RevisionId: created.RevisionId }))).rejects.toMatchObject({
        name: 'PreconditionFailedException',
        $metadata: { httpStatusCode: 412 },
      });
      const now = await client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
      expect(now).toMatchObject({ FunctionVersion: '2', RevisionId: updated.RevisionId });
    });

    it('allows an alias on $LATEST, and invoking it runs $LATEST', async () => {
      await client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'dev', FunctionVersion: '$LATEST' }));
      const out = await client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: 'dev', Payload: Buffer.from('{}') }));
      expect(out.ExecutedVersion).toBe('$LATEST');
      expect(payloadOf(out).env).toBe('2');
      await expect(client.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'dev', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } }))).rejects.toMatchObject({
        name: 'InvalidParameterValueException',
      });
    });

    it('answers RoutingConfig null and malformed weights with a 400 ValidationException, never a 500', async () => {
      await client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
      const put = (body: unknown) => fetch(`${lab.endpoint}/2015-03-31/functions/fn/aliases/live`, { method: 'PUT', body: JSON.stringify(body) });
      for (const body of [{ RoutingConfig: null }, { RoutingConfig: { AdditionalVersionWeights: null } }, { RoutingConfig: { AdditionalVersionWeights: { '2': 'x' } } }, { RoutingConfig: 5 }, { FunctionVersion: 7 }]) {
        const res = await put(body);
        expect([res.status, res.headers.get('x-amzn-errortype')]).toEqual([400, 'ValidationException']);
      }
      expect((await client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion).toBe('1');
    });

    it('lists aliases page by page (MaxItems, NextMarker) and filters by FunctionVersion', async () => {
      for (const [Name, FunctionVersion] of [['a', '1'], ['b', '2'], ['c', '1'], ['d', '2'], ['e', '1']]) await client.send(new CreateAliasCommand({ FunctionName: 'fn', Name, FunctionVersion }));
      const pages: string[][] = [];
      for await (const p of paginateListAliases({ client, pageSize: 2 }, { FunctionName: 'fn' })) pages.push(p.Aliases!.map((a) => a.Name!));
      expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
      const onOne: string[] = [];
      for await (const p of paginateListAliases({ client }, { FunctionName: 'fn', FunctionVersion: '1' })) onOne.push(...p.Aliases!.map((a) => a.Name!));
      expect(onOne).toEqual(['a', 'c', 'e']);
    });
  });

  describe('configuration, versions and tags', () => {
    it('stores Timeout and MemorySize, returns them, and a published version keeps its own', async () => {
      const out = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 30, MemorySize: 512 }));
      expect(out).toMatchObject({ Timeout: 30, MemorySize: 512 });
      expect(await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }))).toMatchObject({ Timeout: 30, MemorySize: 512 });
      expect(await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' }))).toMatchObject({ Timeout: 3, MemorySize: 128 });
      const v = await client.send(new PublishVersionCommand({ FunctionName: 'fn', Description: 'bigger' }));
      expect(v).toMatchObject({ Version: '3', Timeout: 30, MemorySize: 512, Description: 'bigger' });
      expect(await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '3' }))).toMatchObject({ Description: 'bigger' });
      expect(payloadOf(await client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: '3', Payload: Buffer.from('{}') }))).memory).toBe('512');
    });

    it('refuses Timeout and MemorySize out of range and fields it does not model', async () => {
      await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 901 }))).rejects.toMatchObject({ name: 'ValidationException', message: 'Timeout: expected an integer from 1 to 900, got 901' });
      await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', MemorySize: 64 }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Handler: 'other.handler' }))).rejects.toMatchObject({
        name: 'InvalidParameterValueException',
        message: 'Handler: the lab does not model this; it models Environment, Description, Timeout, MemorySize',
      });
    });

    it('ends an invocation that outlasts its timeout as Lambda does: Sandbox.Timedout, and the code after the deadline never runs', async () => {
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 2 }));
      const out = await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from(JSON.stringify({ sleep: 5000 })) }));
      expect(out.FunctionError).toBe('Unhandled');
      expect(payloadOf(out)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 2\.00 seconds$/) });
      const within = await client.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from(JSON.stringify({ sleep: 1500 })) }));
      expect(within.FunctionError).toBeUndefined();
      await lab.advance(0);
      const lines = lab.lambda.logs.map((l) => l.line).join('\n');
      expect(lines).toContain('woke after 1500');
      expect(lines).not.toContain('woke after 5000');
    }, 20_000);

    it('tags a function: TagResource merges, ListTags lists, UntagResource removes', async () => {
      await client.send(new TagResourceCommand({ Resource: ARN, Tags: { team: 'payments', tier: '1' } }));
      await client.send(new TagResourceCommand({ Resource: ARN, Tags: { tier: '2' } }));
      expect((await client.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'payments', tier: '2' });
      await client.send(new UntagResourceCommand({ Resource: ARN, TagKeys: ['team'] }));
      expect((await client.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ tier: '2' });
      await expect(client.send(new ListTagsCommand({ Resource: `${ARN}:live` }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(client.send(new ListTagsCommand({ Resource: `${ARN}x` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});
