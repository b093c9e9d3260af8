import { LabError } from '../kernel';
import type { PolicyDocument } from './evaluate';

/**
 * The AWS managed policies the lab knows, as AWS publishes their current versions in the AWS
 * Managed Policy Reference (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html).
 * A role that attaches any other AWS managed policy is refused: the lab cannot tell what it allows.
 */
const AWS_MANAGED: Readonly<Record<string, PolicyDocument>> = {
  // The CDK bootstrap's CloudFormation execution role (`cdk bootstrap`'s default policy).
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
  AdministratorAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  // The CDK bootstrap's lookup role. Only its read actions of the services the lab evaluates
  // (../iam/actions.ts): the lab never asks about the others.
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html
  ReadOnlyAccess: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'cloudwatch:Describe*', 'cloudwatch:Get*', 'cloudwatch:List*',
          'codedeploy:BatchGet*', 'codedeploy:Get*', 'codedeploy:List*',
          'dynamodb:BatchGet*', 'dynamodb:Describe*', 'dynamodb:Get*', 'dynamodb:List*', 'dynamodb:Query', 'dynamodb:Scan',
          'events:Describe*', 'events:List*', 'events:Test*',
          'lambda:Get*', 'lambda:List*',
          'logs:Describe*', 'logs:FilterLogEvents', 'logs:Get*', 'logs:ListTagsLogGroup', 'logs:StartQuery', 'logs:StopQuery', 'logs:TestMetricFilter',
        ],
        Resource: '*',
      },
    ],
  },
  // The CDK bootstrap's deploy role. https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloudFormationReadOnlyAccess.html
  AWSCloudFormationReadOnlyAccess: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['cloudformation:Describe*', 'cloudformation:EstimateTemplateCost', 'cloudformation:Get*', 'cloudformation:List*', 'cloudformation:ValidateTemplate', 'cloudformation:Detect*'], Resource: '*' }],
  },
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
  'service-role/AWSLambdaVPCAccessExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: '*',
      },
    ],
  },
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCodeDeployRoleForLambdaLimited.html
  'service-role/AWSCodeDeployRoleForLambdaLimited': {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms', 'lambda:UpdateAlias', 'lambda:GetAlias', 'lambda:GetProvisionedConcurrencyConfig', 'sns:Publish'], Resource: '*' },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::*/CodeDeploy/*' },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/UseWithCodeDeploy': 'true' } } },
      { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: 'arn:aws:lambda:*:*:function:CodeDeployHook_*' },
    ],
  },
};

const AWS_MANAGED_PREFIX = /^arn:aws:iam::aws:policy\//;

/** Whether an ARN names an AWS managed policy (account `aws`). */
export const isAwsManaged = (arn: string): boolean => AWS_MANAGED_PREFIX.test(arn);

/** The document of an AWS managed policy the lab knows; a clear error naming it otherwise. */
export function awsManagedPolicy(arn: string, where: string): PolicyDocument {
  const doc = AWS_MANAGED[arn.replace(AWS_MANAGED_PREFIX, '')];
  if (!doc) throw new LabError('InvalidTemplate', `${where}: the AWS managed policy ${arn} is not known to the lab, so it cannot evaluate what it allows; the lab knows ${Object.keys(AWS_MANAGED).map((k) => `arn:aws:iam::aws:policy/${k}`).join(', ')}`);
  return doc;
}
