/**
 * DescribeStackResource (`aws cloudformation describe-stack-resource`): one resource of a stack by
 * its logical id, and AWS's ValidationError for an unknown stack or resource.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResource.html
 */
import { CloudFormationClient, CreateChangeSetCommand, DescribeStackResourceCommand, DescribeStacksCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { Lab } from '../../../src/lab/lab';

let lab: Lab;
let cfn: CloudFormationClient;

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  cfn = new CloudFormationClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
  const TemplateBody = JSON.stringify({ Resources: { Greeting: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/cli/greeting', Type: 'String', Value: 'hello' } } } });
  await cfn.send(new CreateChangeSetCommand({ StackName: 'app', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody }));
  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'app', ChangeSetName: 'cs' }));
  for (let i = 0; i < 200 && (await cfn.send(new DescribeStacksCommand({ StackName: 'app' }))).Stacks![0].StackStatus !== 'CREATE_COMPLETE'; i++) await new Promise((r) => setTimeout(r, 10));
});
afterEach(() => lab.stop());

describe('CloudFormation DescribeStackResource', () => {
  it('answers one resource with its physical id and status', async () => {
    const { StackResourceDetail: r } = await cfn.send(new DescribeStackResourceCommand({ StackName: 'app', LogicalResourceId: 'Greeting' }));
    expect(r).toMatchObject({ StackName: 'app', LogicalResourceId: 'Greeting', PhysicalResourceId: '/cli/greeting', ResourceType: 'AWS::SSM::Parameter', ResourceStatus: 'CREATE_COMPLETE', DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' } });
    expect(r?.LastUpdatedTimestamp).toBeInstanceOf(Date);
  });

  it('an unknown resource or stack is a ValidationError, as AWS words it', async () => {
    await expect(cfn.send(new DescribeStackResourceCommand({ StackName: 'app', LogicalResourceId: 'Nope' }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Resource Nope does not exist for stack app' });
    await expect(cfn.send(new DescribeStackResourceCommand({ StackName: 'nope', LogicalResourceId: 'Greeting' }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Stack with id nope does not exist' });
  });
});
