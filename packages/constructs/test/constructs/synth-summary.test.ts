import { Annotations as CdkAnnotations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { build } from './helpers';

// The CDK CLI prints a stack's info annotations only when it has no warning; the summary of the
// layers guarding each function must not vanish then (issue 24): under the CLI it goes to stderr.
describe('the synth summary', () => {
  const env = process.env.CDK_OUTDIR;
  let written: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    written = [];
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
  });
  afterEach(() => {
    spy.mockRestore();
    if (env === undefined) delete process.env.CDK_OUTDIR;
    else process.env.CDK_OUTDIR = env;
  });

  it('is an info annotation, and under the CDK CLI with a warning in the stack it is also written to stderr', () => {
    process.env.CDK_OUTDIR = '/tmp/cdk.out';
    const { app, stack } = build();
    CdkAnnotations.of(stack).addWarningV2('test:warning', 'any warning hides the CLI\'s infos');
    app.synth();
    expect(Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('canary-watchdog guards live with')).length).toBe(1);
    expect(written.filter((l) => l.startsWith('Shop/Orders: canary-watchdog guards live with canary'))).toHaveLength(1);
  });

  it('is not written to stderr when the stack has no warning (the CLI shows the info itself)', () => {
    process.env.CDK_OUTDIR = '/tmp/cdk.out';
    const { app } = build();
    app.synth();
    expect(written.filter((l) => l.includes('canary-watchdog guards'))).toEqual([]);
  });

  it('is not written outside the CDK CLI (tests, scripts)', () => {
    delete process.env.CDK_OUTDIR;
    const { app, stack } = build();
    CdkAnnotations.of(stack).addWarningV2('test:warning', 'x');
    app.synth();
    expect(written.filter((l) => l.includes('canary-watchdog guards'))).toEqual([]);
  });
});
