import { parseLambdaAppSpec, type LambdaAppSpec } from '../../src/core/appspec';

// The Lambda AppSpec examples of
// https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-example.html#appspec-file-example-lambda
const AWS_YAML_EXAMPLE = `version: 0.0
Resources:
  - myLambdaFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: "myLambdaFunction"
        Alias: "myLambdaFunctionAlias"
        CurrentVersion: "1"
        TargetVersion: "2"
Hooks:
  - BeforeAllowTraffic: "LambdaFunctionToValidateBeforeTrafficShift"
  - AfterAllowTraffic: "LambdaFunctionToValidateAfterTrafficShift"
`;

// As on the page: indented with tabs, which YAML forbids in block indentation but allows in JSON.
const AWS_JSON_EXAMPLE = [
  '{',
  ' \t"version": 0.0,',
  ' \t"Resources": [{',
  ' \t\t"myLambdaFunction": {',
  ' \t\t\t"Type": "AWS::Lambda::Function",',
  ' \t\t\t"Properties": {',
  ' \t\t\t\t"Name": "myLambdaFunction",',
  ' \t\t\t\t"Alias": "myLambdaFunctionAlias",',
  ' \t\t\t\t"CurrentVersion": "1",',
  ' \t\t\t\t"TargetVersion": "2"',
  ' \t\t\t}',
  ' \t\t}',
  ' \t}],',
  ' \t"Hooks": [{',
  ' \t\t\t"BeforeAllowTraffic": "LambdaFunctionToValidateBeforeTrafficShift"',
  ' \t\t},',
  ' \t\t{',
  ' \t\t\t"AfterAllowTraffic": "LambdaFunctionToValidateAfterTraffic"',
  ' \t\t}',
  ' \t]',
  ' }',
].join('\n');

/** A one-resource AppSpec in JSON, as CodeDeploy's GetDeployment returns for a CDK deployment. */
const json = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: 0.0, Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: properties } }], ...extra });
const PROPS = { Name: 'orders', Alias: 'live', CurrentVersion: '6', TargetVersion: '7' };

describe('parseLambdaAppSpec', () => {
  it.each<{ name: string; content: string; expected: LambdaAppSpec }>([
    {
      name: 'reads the YAML example of the AWS documentation',
      content: AWS_YAML_EXAMPLE,
      expected: {
        functionName: 'myLambdaFunction',
        alias: 'myLambdaFunctionAlias',
        currentVersion: '1',
        targetVersion: '2',
        hooks: { beforeAllowTraffic: 'LambdaFunctionToValidateBeforeTrafficShift', afterAllowTraffic: 'LambdaFunctionToValidateAfterTrafficShift' },
      },
    },
    {
      name: 'reads the tab-indented JSON example of the AWS documentation',
      content: AWS_JSON_EXAMPLE,
      expected: {
        functionName: 'myLambdaFunction',
        alias: 'myLambdaFunctionAlias',
        currentVersion: '1',
        targetVersion: '2',
        hooks: { beforeAllowTraffic: 'LambdaFunctionToValidateBeforeTrafficShift', afterAllowTraffic: 'LambdaFunctionToValidateAfterTraffic' },
      },
    },
    {
      name: 'reads numeric versions of YAML as text',
      content: 'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: orders\n        Alias: live\n        CurrentVersion: 9\n        TargetVersion: 10\n',
      expected: { functionName: 'orders', alias: 'live', currentVersion: '9', targetVersion: '10', hooks: {} },
    },
    {
      name: 'reads numeric versions of JSON as text',
      content: json({ ...PROPS, CurrentVersion: 6, TargetVersion: 7 }),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: {} },
    },
    {
      name: 'reads an AppSpec without hooks',
      content: json(PROPS),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: {} },
    },
    {
      name: 'reads only the hook that is declared',
      content: json(PROPS, { Hooks: [{ AfterAllowTraffic: 'orders-bake' }] }),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: { afterAllowTraffic: 'orders-bake' } },
    },
    {
      name: 'reads both hooks from one hook entry',
      content: json(PROPS, { Hooks: [{ BeforeAllowTraffic: 'orders-pre', AfterAllowTraffic: 'orders-post' }] }),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: { beforeAllowTraffic: 'orders-pre', afterAllowTraffic: 'orders-post' } },
    },
    {
      name: 'ignores hooks that are not lists',
      content: json(PROPS, { Hooks: { BeforeAllowTraffic: 'orders-pre' } }),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: {} },
    },
    {
      name: 'reads lowercase section and property names',
      content: JSON.stringify({
        resources: [{ fn: { properties: { name: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7' } } }],
        hooks: [{ BeforeAllowTraffic: 'orders-pre' }],
      }),
      expected: { functionName: 'orders', alias: 'live', currentVersion: '6', targetVersion: '7', hooks: { beforeAllowTraffic: 'orders-pre' } },
    },
  ])('$name', ({ content, expected }) => {
    expect(parseLambdaAppSpec(content)).toEqual(expected);
  });

  it.each<{ name: string; content: string; message: string }>([
    { name: 'rejects content that is neither YAML nor JSON', content: '{"Resources": [', message: 'AppSpec: neither YAML nor JSON: ' },
    { name: 'rejects YAML with a duplicate key', content: 'Resources: []\nResources: []\n', message: 'AppSpec: neither YAML nor JSON: Map keys must be unique' },
    { name: 'rejects empty content', content: '', message: 'AppSpec: expected a mapping, got null' },
    { name: 'rejects a plain string', content: 'just text', message: 'AppSpec: expected a mapping, got "just text"' },
    { name: 'rejects a list at the top', content: '[]', message: 'AppSpec: expected a mapping, got a list' },
    { name: 'rejects an AppSpec without resources', content: 'version: 0.0\n', message: 'AppSpec.Resources: expected exactly one Lambda function resource' },
    { name: 'rejects zero resources', content: JSON.stringify({ Resources: [] }), message: 'AppSpec.Resources: expected exactly one Lambda function resource' },
    {
      name: 'rejects two resources',
      content: JSON.stringify({ Resources: [{ a: { Properties: PROPS } }, { b: { Properties: PROPS } }] }),
      message: 'AppSpec.Resources: expected exactly one Lambda function resource',
    },
    { name: 'rejects resources that are a mapping', content: JSON.stringify({ Resources: { fn: { Properties: PROPS } } }), message: 'AppSpec.Resources: expected exactly one Lambda function resource' },
    { name: 'rejects a resource that is not a mapping', content: JSON.stringify({ Resources: ['fn'] }), message: 'AppSpec.Resources[0]: expected a mapping, got "fn"' },
    { name: 'rejects a resource without properties', content: JSON.stringify({ Resources: [{ fn: { Type: 'AWS::Lambda::Function' } }] }), message: 'AppSpec.Resources[0].fn.Properties: expected a mapping, got undefined' },
    { name: 'rejects a missing TargetVersion', content: json({ Name: 'orders', Alias: 'live', CurrentVersion: '6' }), message: 'AppSpec.Resources[0].fn.Properties.TargetVersion: expected a string, got undefined' },
    { name: 'rejects an empty TargetVersion', content: json({ ...PROPS, TargetVersion: '' }), message: 'AppSpec.Resources[0].fn.Properties.TargetVersion: expected a string, got ""' },
    { name: 'rejects a TargetVersion that is a list', content: json({ ...PROPS, TargetVersion: ['7'] }), message: 'AppSpec.Resources[0].fn.Properties.TargetVersion: expected a string, got ["7"]' },
    { name: 'rejects a missing CurrentVersion', content: json({ Name: 'orders', Alias: 'live', TargetVersion: '7' }), message: 'AppSpec.Resources[0].fn.Properties.CurrentVersion: expected a string, got undefined' },
    { name: 'rejects a missing Name', content: json({ Alias: 'live', CurrentVersion: '6', TargetVersion: '7' }), message: 'AppSpec.Resources[0].fn.Properties.Name: expected a string, got undefined' },
    { name: 'rejects a missing Alias', content: json({ Name: 'orders', CurrentVersion: '6', TargetVersion: '7' }), message: 'AppSpec.Resources[0].fn.Properties.Alias: expected a string, got undefined' },
    {
      name: 'rejects a hook entry that is not a mapping',
      content: json(PROPS, { Hooks: ['orders-pre'] }),
      message: 'AppSpec.Hooks[]: expected a mapping, got "orders-pre"',
    },
  ])('$name', ({ content, message }) => {
    expect(() => parseLambdaAppSpec(content)).toThrow(message);
  });
});
