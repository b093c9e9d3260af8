/** What CloudFormation does to a template before creating anything, case by case from its documentation's examples. */
import { dependencyOrder, s3Location } from '../../../src/lab/cloudformation';
import { flattenTemplate, type RawTemplate } from '../../../src/lab/cloudformation/template';
import { planUpdate } from '../../../src/lab/cloudformation/update';

const ssm = (name: string) => ({ '/cdk-bootstrap/hnb659fds/version': '30' })[name];
const flat = (t: Partial<RawTemplate>, given: { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }[] = [], previous = new Map<string, string>()) =>
  flattenTemplate({ Resources: { R: { Type: 'AWS::SNS::Topic' } }, ...t } as RawTemplate, 'S', given, previous, ssm);

describe('parameters', () => {
  it.each([
    ['the given value over the default', [{ ParameterKey: 'Env', ParameterValue: 'prod' }], 'prod'],
    ['the default when none is given', [], 'test'],
    ['the previous value with UsePreviousValue', [{ ParameterKey: 'Env', UsePreviousValue: true }], 'old'],
  ])('a Ref to a parameter takes %s', (_what, given, value) => {
    const out = flat({ Parameters: { Env: { Type: 'String', Default: 'test' } }, Resources: { R: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { Ref: 'Env' } } } } }, given, new Map([['Env', 'old']]));
    expect(out.template.Resources.R.Properties).toEqual({ TopicName: value });
  });

  it('an SSM parameter type takes the parameter store value, and reports the name as ParameterValue and the value as ResolvedValue', () => {
    const out = flat({ Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' } } });
    expect(out.parameters).toEqual([{ ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version', ResolvedValue: '30' }]);
  });

  it.each([
    [{ Parameters: { P: { Type: 'String' } } }, [], 'Parameters: [P] must have values'],
    [{}, [{ ParameterKey: 'Nope', ParameterValue: 'x' }], 'Parameters: [Nope] do not exist in the template'],
    [{ Parameters: { P: { Type: 'String', AllowedValues: ['a', 'b'] } } }, [{ ParameterKey: 'P', ParameterValue: 'c' }], "Parameter 'P' must be one of AllowedValues"],
    [{ Parameters: { P: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/missing' } } }, [], 'Unable to fetch parameters [/missing] from parameter store for this account.'],
    [{ Resources: {} }, [], 'Template format error: At least one Resources member must be defined.'],
  ])('refuses %j given %j: %s', (t, given, message) => {
    expect(() => flat(t as Partial<RawTemplate>, given)).toThrow(message);
  });
});

describe('conditions and rules', () => {
  const t: Partial<RawTemplate> = {
    Parameters: { Env: { Type: 'String', Default: 'test' }, Key: { Type: 'String', Default: '' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] }, HasKey: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Key' }, ''] }] }, Both: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'HasKey' }] } },
    Resources: {
      Always: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::If': ['IsProd', 'prod-topic', { Ref: 'AWS::NoValue' }] }, KmsMasterKeyId: { 'Fn::If': ['HasKey', { Ref: 'Key' }, 'alias/aws/sns'] } } },
      OnlyProd: { Type: 'AWS::SNS::Topic', Condition: 'Both' },
    },
    Outputs: { Name: { Value: { 'Fn::Sub': 'topic in ${Env}' } }, ProdOnly: { Condition: 'IsProd', Value: 'x' } },
  };

  it('drops what a false condition guards, picks Fn::If branches and removes AWS::NoValue', () => {
    const out = flat(t);
    expect(out.template.Resources).toEqual({ Always: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: 'alias/aws/sns' } } });
    expect(out.template.Outputs).toEqual({ Name: { Value: { 'Fn::Sub': 'topic in test' } } });
  });

  it('keeps them when the conditions hold', () => {
    const out = flat(t, [{ ParameterKey: 'Env', ParameterValue: 'prod' }, { ParameterKey: 'Key', ParameterValue: 'k-1' }]);
    expect(Object.keys(out.template.Resources)).toEqual(['Always', 'OnlyProd']);
    expect(out.template.Resources.Always.Properties).toEqual({ TopicName: 'prod-topic', KmsMasterKeyId: 'k-1' });
  });

  it("fails a rule's assertion with its AssertDescription (CDK's bootstrap version check)", () => {
    const rules = { Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' } }, Rules: { CheckBootstrapVersion: { Assertions: [{ Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '30'], { Ref: 'BootstrapVersion' }] }] }, AssertDescription: 'bootstrap too old' }] } } };
    expect(() => flat(rules)).toThrow('bootstrap too old');
    rules.Rules.CheckBootstrapVersion.Assertions[0].Assert['Fn::Not'][0]['Fn::Contains'][0] = ['1', '2'];
    expect(() => flat(rules)).not.toThrow();
  });
});

describe('dependency order', () => {
  it('puts each resource after what it names through DependsOn, Ref, GetAtt and Sub', () => {
    const order = dependencyOrder({
      Alias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionVersion: { 'Fn::GetAtt': ['Version', 'Version'] } }, DependsOn: ['Alarm'] },
      Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: { 'Fn::Sub': '${Fn}-errors' } } },
      Version: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } } },
      Fn: { Type: 'AWS::Lambda::Function' },
    });
    expect(order.indexOf('Fn')).toBeLessThan(order.indexOf('Version'));
    expect(order.indexOf('Fn')).toBeLessThan(order.indexOf('Alarm'));
    expect(order.indexOf('Alarm')).toBeLessThan(order.indexOf('Alias'));
    expect(order.indexOf('Version')).toBeLessThan(order.indexOf('Alias'));
  });

  it('refuses a cycle and a DependsOn on nothing', () => {
    expect(() => dependencyOrder({ A: { Type: 'T', DependsOn: 'B' }, B: { Type: 'T', Properties: { X: { Ref: 'A' } } } })).toThrow('Circular dependency between resources: [A, B]');
    expect(() => dependencyOrder({ A: { Type: 'T', DependsOn: 'Nope' } })).toThrow('Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template');
  });
});

describe('update plans', () => {
  const app = (env: string, versionId: string, code = 'k.zip') => ({
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: code }, Environment: { Variables: { PRICE_LIST: env } } } },
    [versionId]: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } }, DeletionPolicy: 'Retain' },
    Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { Dimensions: [{ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } }] } },
    Alias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Fn' }, FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] } }, UpdatePolicy: { CodeDeployLambdaAliasUpdate: { ApplicationName: 'a', DeploymentGroupName: 'g' } } },
    Role: { Type: 'AWS::IAM::Role', Properties: { Description: env } },
  });

  it('a configuration change is a release through the alias: new version, alarms and alias follow it, recorded resources change', () => {
    expect(planUpdate(app('{}', 'V1'), app('{"a":1}', 'V2'))).toEqual({
      functions: [{ id: 'Fn', aliasId: 'Alias', newVersionId: 'V2', oldVersionId: 'V1' }],
      recorded: [{ id: 'Role', action: 'Modify' }],
      custom: [],
      following: ['Alarm', 'Alias'],
    });
  });

  it('a code change is a release through the alias too', () => {
    expect(planUpdate(app('{}', 'V1'), app('{}', 'V2', 'new.zip'))).toMatchObject({ functions: [{ id: 'Fn', aliasId: 'Alias', newVersionId: 'V2', oldVersionId: 'V1' }] });
  });

  it('refuses a change of a function property it does not model, naming the property and the modelled ones', () => {
    const runtime = (r: string) => ({ ...app('{}', 'V1'), Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: 'k.zip' }, Runtime: r } } });
    expect(planUpdate(runtime('nodejs22.x'), runtime('nodejs24.x'))).toEqual({ refused: 'the lab cannot apply this update: Fn (AWS::Lambda::Function): changing Runtime is not modelled; the lab models changes of Code, Handler, Environment, Description, Timeout, MemorySize' });
  });

  it('refuses adding a live resource type to an existing stack', () => {
    expect(planUpdate(app('{}', 'V1'), { ...app('{}', 'V1'), Table: { Type: 'AWS::DynamoDB::Table' } })).toEqual({ refused: 'the lab cannot apply this update: adding Table (AWS::DynamoDB::Table)' });
  });
});

describe('TemplateURL', () => {
  it.each([
    ['https://s3.us-east-1.amazonaws.com/cdk-assets/abc.json', 'cdk-assets', 'abc.json'],
    ['https://cdk-assets.s3.us-east-1.amazonaws.com/dir/abc.json', 'cdk-assets', 'dir/abc.json'],
    ['https://cdk-assets.s3.amazonaws.com/abc.json', 'cdk-assets', 'abc.json'],
  ])('%s names bucket %s, key %s', (url, bucket, key) => {
    expect(s3Location(url)).toEqual({ bucket, key });
  });
});
