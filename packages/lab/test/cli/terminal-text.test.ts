import 'aws-sdk-client-mock-jest';
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentGroupsCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { decisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { DEFAULT_POLICY, evaluate } from 'canary-watchdog/lib/core/evaluate';
import { explainRecords } from '../../src/cli/commands';
import { terminalLines, terminalSafe } from '../../src/cli/terminal-text';
import { deployCommand, watchCommand } from '../../src/cli/watch-command';
import { alarm, LAYERS, MIN, obs, snapshot, state, T0 } from '../../../constructs/test/core/fixtures';

/** Retitles the terminal window (OSC 0, ended by BEL) and clears the screen (CSI 2J). */
const PAYLOAD = '\u001b]0;pwned\u0007\u001b[2J';
/** Anything a terminal would act on rather than show. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminalSafe', () => {
  it.each([
    ['removes ESC and BEL: what is left of the sequence is inert text', `reason ${PAYLOAD} end`, 'reason ]0;pwned[2J end'],
    ['removes a C1 CSI (U+009B) and DEL', 'a\u009b2Jb\u007fc', 'a2Jbc'],
    ['removes bidi overrides and isolates, which reorder what is read', 'ok \u202egnp.exe\u202c \u2066x\u2069', 'ok gnp.exe x'],
    ['turns tabs and line breaks inside one line into spaces', 'a\tb\nc\r\nd', 'a b c  d'],
    ['removes NUL and backspace', 'ab\u0000\u0008c', 'abc'],
  ])('%s', (_name, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });

  it('guard: keeps printable text in any script, and the CLI\'s own line breaks in terminalLines', () => {
    const text = 'Seuil dépassé: 1 datapoint [5.0 (28/11/26 10:00:00)] > 1 — 警报 ✓ 𝛼';
    expect(terminalSafe(text)).toBe(text);
    expect(terminalLines(`one\n  two ${PAYLOAD}\nthree`)).toBe('one\n  two ]0;pwned[2J\nthree');
  });
});

describe('an alarm StateReason carrying escape sequences prints harmlessly', () => {
  // The record the watchdog keeps when the service alarm is in ALARM with the hostile reason.
  const hostile = { ...alarm('ALARM'), reason: `Threshold Crossed ${PAYLOAD}` };
  const verdict = evaluate({ snapshot: snapshot(), layers: LAYERS, observations: obs({ 'service/alarm:orders-5xx': hostile }), state: state() }, DEFAULT_POLICY, T0 + 5 * MIN).verdict;
  const record = decisionRecord(snapshot(), verdict, T0 + 5 * MIN, 'schedule', 'stop-deployment', 'ok');

  it('holds the payload in the record, as AWS gave it (the premise)', () => {
    expect(JSON.stringify(record)).toContain('\\u001b]0;pwned');
  });

  it('in explain', () => {
    const out = explainRecords(JSON.stringify(record));
    expect(out).toMatch(/why: service\/alarm:orders-5xx failed: alarm orders-5xx is in ALARM: Threshold Crossed \]0;pwned\[2J/);
    expect(out).not.toMatch(CONTROL);
  });

  describe('in watch and deploy', () => {
    const cd = mockClient(CodeDeployClient);
    const lambda = mockClient(LambdaClient);
    const ddb = mockClient(DynamoDBDocumentClient);
    const cfn = mockClient(CloudFormationClient);
    const clients = { codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), dynamodb: new DynamoDBClient({}), cloudformation: new CloudFormationClient({}) };
    const appSpec = JSON.stringify({
      version: 0.0,
      Resources: [{ orders: { Type: 'AWS::Lambda::Function', Properties: { Name: 'orders', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }],
      Hooks: [{ BeforeAllowTraffic: 'CodeDeployHook_pre' }],
    });
    const began = new Date('2026-01-01T00:10:00Z');
    const flags = { interval: 0.1, timeout: 1 };

    beforeEach(() => {
      for (const m of [cd, lambda, ddb, cfn]) m.reset();
      lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { CANARY_WATCHDOG_STATE_TABLE: 'state-table' } } });
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
      ddb.on(GetCommand).resolves({ Item: { decisions: [record] } });
      // CodeDeploy's own message quotes the alarm too.
      cd.on(GetDeploymentCommand).resolves({
        deploymentInfo: {
          deploymentId: 'd-1', applicationName: 'app', deploymentGroupName: 'dg', deploymentConfigName: 'cfg', status: 'Stopped',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
          errorInformation: { code: 'ALARM_ACTIVE', message: `alarm orders-5xx: ${PAYLOAD}` },
          rollbackInfo: { rollbackDeploymentId: 'd-2' },
        },
      });
    });

    it('in watch: the lines it prints and the summary it fails with', async () => {
      let out = '';
      const err = await watchCommand({ ...flags, deployment: 'd-1' }, clients, (s) => void (out += s)).catch((e: Error) => e);
      expect(out).toMatch(/Threshold Crossed \]0;pwned\[2J/);
      expect(out).not.toMatch(CONTROL);
      expect((err as Error).message).toMatch(/rolled-back: layer service: .*\]0;pwned\[2J/);
      expect((err as Error).message).not.toMatch(CONTROL);
    });

    it('in deploy: the lines, the stack status reason and the summary', async () => {
      // Before cdk runs, the stack is at rest; after, its update rolled back with a hostile reason.
      let calls = 0;
      cfn.on(DescribeStacksCommand).callsFake(() => {
        calls++;
        return { Stacks: [{ StackName: 'S', StackStatus: calls === 1 ? 'UPDATE_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE', StackStatusReason: `failed ${PAYLOAD}`, CreationTime: began, LastUpdatedTime: calls === 1 ? began : new Date(began.getTime() + 60_000) }] };
      });
      cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [{ StackName: 'S', LogicalResourceId: 'S', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_IN_PROGRESS', Timestamp: began, EventId: '1', StackId: 's' }] });
      cfn.on(DescribeStackResourcesCommand).resolves({
        StackResources: [
          { LogicalResourceId: 'App', PhysicalResourceId: 'app', ResourceType: 'AWS::CodeDeploy::Application', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: began },
          { LogicalResourceId: 'Dg', PhysicalResourceId: 'dg', ResourceType: 'AWS::CodeDeploy::DeploymentGroup', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: began },
        ],
      });
      cd.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: ['dg'] });
      cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-1'] });
      let out = '';
      // An app is named (deploy checks for one before running cdk); the fake cdk fails after the update began.
      const err = await deployCommand(['--app', 'cdk.out'], { ...flags, cdk: process.execPath + ' -e process.exit(1)' }, clients, (s) => void (out += s)).catch((e: Error) => e);
      expect(out).toMatch(/stack S: UPDATE_ROLLBACK_COMPLETE \(failed \]0;pwned\[2J\)/);
      expect(out).toMatch(/Threshold Crossed \]0;pwned\[2J/);
      expect(out).not.toMatch(CONTROL);
      expect((err as Error).message).toMatch(/^release failed: d-1 .*\]0;pwned\[2J/);
      expect((err as Error).message).not.toMatch(CONTROL);
    });
  });
});
