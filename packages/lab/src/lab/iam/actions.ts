/**
 * What each call asks IAM: per service, (operation, input) to the IAM action(s), the resource
 * ARN(s) and the condition keys AWS puts in the request context.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import { LAB_ACCOUNT, LAB_REGION } from '../kernel';
import type { AuthRequest } from './evaluate';

/**
 * Services whose calls the lab does not evaluate: the CDK CLI's bootstrap and deploy calls
 * (S3, SSM, CloudFormation, STS) and the lab's own control API. Their calls keep full access.
 */
export const NOT_EVALUATED = ['S3', 'SSM', 'CloudFormation', 'STS', 'Lab'] as const;

/** What the descriptors look up in the lab's state. */
export interface Lookups {
  /** The partition key attribute of a table, if the table exists. */
  partitionKeyOf(table: string): string | undefined;
  /** The application and deployment group of a deployment, if it exists. */
  deploymentGroupOf(deploymentId: string): { readonly application: string; readonly group: string } | undefined;
}

/** A call the server is about to serve. */
export interface Call {
  readonly service: string;
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** How a denied call is answered in its service's protocol. */
export interface DenialShape {
  readonly code: string;
  readonly status: number;
}

export interface Authorization {
  readonly requests: readonly AuthRequest[];
  readonly shape: DenialShape;
}

const ARN = (service: string, rest: string) => `arn:aws:${service}:${LAB_REGION}:${LAB_ACCOUNT}:${rest}`;

// DynamoDB, CodeDeploy, EventBridge and CloudWatch Logs answer AccessDeniedException (400) in awsJson;
// CloudWatch AccessDenied (403, Sender) in awsQuery; Lambda AccessDeniedException (403) in REST.
const JSON_DENIAL: DenialShape = { code: 'AccessDeniedException', status: 400 };
const SHAPES: Readonly<Record<string, DenialShape>> = {
  DynamoDB: JSON_DENIAL,
  CodeDeploy: JSON_DENIAL,
  EventBridge: JSON_DENIAL,
  CloudWatchLogs: JSON_DENIAL,
  CloudWatch: { code: 'AccessDenied', status: 403 },
  Lambda: { code: 'AccessDeniedException', status: 403 },
};

/** The requests a call makes of IAM, or undefined for a service the lab does not evaluate. */
export function authorizationFor(call: Call, lookups: Lookups): Authorization | undefined {
  const shape = SHAPES[call.service];
  if (!shape) return undefined;
  const describe = { DynamoDB: dynamodb, CloudWatch: cloudwatch, Lambda: lambda, CodeDeploy: codedeploy, EventBridge: eventbridge, CloudWatchLogs: logs }[call.service]!;
  return { requests: describe(call.operation, call.input, lookups), shape };
}

type Describe = (operation: string, input: Readonly<Record<string, unknown>>, lookups: Lookups) => AuthRequest[];

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * DynamoDB on its table ARN, with the fine-grained access control keys: dynamodb:LeadingKeys
 * (the partition key values the request touches), dynamodb:Attributes (the top-level attribute
 * names it reads or writes), dynamodb:ReturnValues and dynamodb:Select.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
 */
const dynamodb: Describe = (operation, input, lookups) => {
  const table = (name: unknown) => ARN('dynamodb', `table/${String(name)}`);
  const action = `dynamodb:${operation}`;
  if (operation === 'ListTables') return [{ action, resource: '*', context: {} }];
  if (operation === 'BatchGetItem') {
    return Object.entries(obj(input.RequestItems)).map(([name, r]) => {
      const req = obj(r);
      const pk = lookups.partitionKeyOf(name);
      const keys = arr(req.Keys).map(obj);
      const names = obj(req.ExpressionAttributeNames);
      return {
        action,
        resource: table(name),
        context: withKeys({}, leading(pk, keys), attributes(keys, [str(req.ProjectionExpression)], names, req.AttributesToGet)),
      };
    });
  }
  // A transaction asks for each of its entries' own action on its table; a batch write asks once per table.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const ops: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
    return arr(input.TransactItems).flatMap((e) => Object.entries(obj(e)).flatMap(([kind, spec]) => (ops[kind] ? dynamodb(ops[kind], obj(spec), lookups) : [])));
  }
  if (operation === 'BatchWriteItem') {
    return Object.entries(obj(input.RequestItems)).map(([name, rs]) => {
      const items = arr(rs).map((w) => obj(obj(obj(w).PutRequest).Item ?? obj(obj(w).DeleteRequest).Key));
      return { action, resource: table(name), context: withKeys({}, leading(lookups.partitionKeyOf(name), items), attributes(items, [], {}, undefined)) };
    });
  }
  const name = input.TableName;
  const pk = lookups.partitionKeyOf(String(name));
  const names = obj(input.ExpressionAttributeNames);
  const context: Record<string, string | string[]> = {};
  for (const k of ['ReturnValues', 'Select'] as const) if (typeof input[k] === 'string') context[`dynamodb:${k}`] = input[k] as string;
  const item = obj(input.Key ?? input.Item);
  const expressions = [input.ProjectionExpression, input.UpdateExpression, input.ConditionExpression, input.FilterExpression, input.KeyConditionExpression].map(str);
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'DeleteItem':
    case 'UpdateItem':
    case 'ConditionCheckItem':
      return [{ action, resource: table(name), context: withKeys(context, leading(pk, [item]), attributes([item], expressions, names, input.AttributesToGet)) }];
    case 'Query': {
      const value = pk === undefined ? undefined : queryPartitionValue(pk, str(input.KeyConditionExpression), names, obj(input.ExpressionAttributeValues));
      return [{ action, resource: table(name), context: withKeys(context, value === undefined ? undefined : [value], attributes([], expressions, names, input.AttributesToGet)) }];
    }
    case 'Scan':
      return [{ action, resource: table(name), context: withKeys(context, undefined, attributes([], expressions, names, input.AttributesToGet)) }];
    default:
      return [{ action, resource: table(name), context }];
  }
};

function withKeys(context: Record<string, string | string[]>, leadingKeys: string[] | undefined, attrs: string[]): Record<string, string | string[]> {
  return { ...context, ...(leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {}), ...(attrs.length ? { 'dynamodb:Attributes': attrs } : {}) };
}

/** The partition key values of some keys or items, as strings (S, N, or B in base64). */
function leading(pk: string | undefined, items: readonly Record<string, unknown>[]): string[] | undefined {
  if (pk === undefined) return undefined;
  const values = items.map((i) => scalar(i[pk])).filter((v): v is string => v !== undefined);
  return values.length ? [...new Set(values)] : undefined;
}

const scalar = (v: unknown): string | undefined => {
  const o = obj(v);
  return str(o.S) ?? str(o.N) ?? str(o.B);
};

/** The value the KeyConditionExpression gives the partition key (`pk = :v`, either side). */
function queryPartitionValue(pk: string, expression: string | undefined, names: Record<string, unknown>, values: Record<string, unknown>): string | undefined {
  if (!expression) return undefined;
  for (const clause of expression.split(/\s+AND\s+/i)) {
    const m = /^\s*\(?\s*([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)\s*\)?\s*$/.exec(clause);
    if (!m) continue;
    const [left, right] = [m[1], m[2]];
    const nameOf = (t: string) => (t.startsWith('#') ? str(names[t]) : t);
    if (nameOf(left) === pk && right.startsWith(':')) return scalar(values[right]);
    if (nameOf(right) === pk && left.startsWith(':')) return scalar(values[left]);
  }
  return undefined;
}

const KEYWORDS = new Set(['SET', 'REMOVE', 'ADD', 'DELETE', 'AND', 'OR', 'NOT', 'BETWEEN', 'IN']);

/** The top-level attribute names of keys or items and of expressions (after ExpressionAttributeNames). */
function attributes(items: readonly Record<string, unknown>[], expressions: readonly (string | undefined)[], names: Record<string, unknown>, attributesToGet: unknown): string[] {
  const out = new Set<string>();
  for (const i of items) for (const k of Object.keys(i)) out.add(k);
  for (const a of arr(attributesToGet)) if (typeof a === 'string') out.add(a);
  for (const e of expressions) {
    if (!e) continue;
    // A path starts at a name (`#n` or a bare word) not preceded by `.` and not a function call.
    const token = /(\.?)\s*(#\w+|:\w+|[A-Za-z_]\w*)(\s*\()?/g;
    for (let m = token.exec(e); m; m = token.exec(e)) {
      const [, dot, t, call] = m;
      if (dot || call || t.startsWith(':') || KEYWORDS.has(t.toUpperCase())) continue;
      const name = t.startsWith('#') ? str(names[t]) : t;
      if (name !== undefined) out.add(name);
    }
  }
  return [...out];
}

/**
 * CloudWatch: PutMetricData on `*` with cloudwatch:namespace; alarm operations on alarm ARNs.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
 */
const cloudwatch: Describe = (operation, input) => {
  const action = `cloudwatch:${operation}`;
  const alarm = (n: unknown) => ARN('cloudwatch', `alarm:${String(n)}`);
  if (operation === 'PutMetricData') {
    const context: Record<string, string> = typeof input.Namespace === 'string' ? { 'cloudwatch:namespace': input.Namespace } : {};
    return [{ action, resource: '*', context }];
  }
  if (typeof input.AlarmName === 'string') return [{ action, resource: alarm(input.AlarmName), context: {} }];
  const names = arr(input.AlarmNames);
  if (names.length) return names.map((n) => ({ action, resource: alarm(n), context: {} }));
  if (['TagResource', 'UntagResource', 'ListTagsForResource'].includes(operation) && typeof input.ResourceARN === 'string') return [{ action, resource: input.ResourceARN, context: {} }];
  if (['DescribeAlarms', 'DescribeAlarmHistory'].includes(operation)) return [{ action, resource: alarm('*'), context: {} }];
  return [{ action, resource: '*', context: {} }];
};

/** Lambda's REST operations and the IAM action each is authorized as. */
const LAMBDA_ACTIONS: Readonly<Record<string, string>> = { Invoke: 'InvokeFunction' };

/**
 * Lambda on function ARNs, qualified when the call names a version or alias: "actions that operate
 * on a function can be restricted to a specific function by function, version, or alias ARN".
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
 */
const lambda: Describe = (operation, input) => {
  const action = `lambda:${LAMBDA_ACTIONS[operation] ?? operation}`;
  if (operation === 'ListFunctions') return [{ action, resource: '*', context: {} }];
  if (typeof input.arn === 'string') return [{ action, resource: input.arn, context: {} }];
  const m = /^(?:arn:aws:lambda:[^:]+:\d{12}:function:|\d{12}:function:)?([^:]+)(?::(.+))?$/.exec(String(input.fn ?? ''));
  const name = m?.[1] ?? String(input.fn);
  const qualifier = str(input.alias) ?? str(input.Qualifier) ?? m?.[2];
  const fn = ARN('lambda', `function:${name}`);
  const unqualified = ['UpdateFunctionConfiguration', 'PublishVersion', 'ListVersionsByFunction', 'CreateAlias', 'ListAliases'].includes(operation);
  return [{ action, resource: qualifier && !unqualified ? `${fn}:${qualifier}` : fn, context: {} }];
};

/**
 * CodeDeploy on application, deployment group and deployment config ARNs.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html
 */
const codedeploy: Describe = (operation, input, lookups) => {
  const action = `codedeploy:${operation}`;
  const group = (app: unknown, g: unknown) => ARN('codedeploy', `deploymentgroup:${String(app)}/${String(g)}`);
  const ofDeployment = (id: unknown) => {
    const d = lookups.deploymentGroupOf(String(id));
    // A deployment that does not exist: the operation answers its own not-found error.
    return d ? group(d.application, d.group) : ARN('codedeploy', 'deploymentgroup:*');
  };
  const one = (resource: string) => [{ action, resource, context: {} }];
  switch (operation) {
    case 'ListApplications':
    case 'ListDeploymentConfigs':
      return one('*');
    case 'CreateApplication':
    case 'GetApplication':
    case 'ListDeploymentGroups':
      return one(ARN('codedeploy', `application:${String(input.applicationName)}`));
    case 'CreateDeploymentConfig':
    case 'GetDeploymentConfig':
      return one(ARN('codedeploy', `deploymentconfig:${String(input.deploymentConfigName)}`));
    case 'UpdateDeploymentGroup':
      return one(group(input.applicationName, input.currentDeploymentGroupName));
    case 'ListDeployments':
      return one(input.applicationName && input.deploymentGroupName ? group(input.applicationName, input.deploymentGroupName) : '*');
    case 'GetDeployment':
    case 'StopDeployment':
    case 'PutLifecycleEventHookExecutionStatus':
      return one(ofDeployment(input.deploymentId));
    case 'BatchGetDeployments':
      return arr(input.deploymentIds).map((id) => ({ action, resource: ofDeployment(id), context: {} }));
    default:
      return one(group(input.applicationName, input.deploymentGroupName));
  }
};

/** EventBridge PutEvents on each entry's event bus. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html */
const eventbridge: Describe = (operation, input) => {
  const action = `events:${operation}`;
  if (operation !== 'PutEvents') return [{ action, resource: '*', context: {} }];
  const buses = new Set(arr(input.Entries).map((e) => str(obj(e).EventBusName) ?? 'default'));
  return [...buses].map((b) => ({ action, resource: b.startsWith('arn:') ? b : ARN('events', `event-bus/${b}`), context: {} }));
};

/** CloudWatch Logs reads on log group ARNs (`...:log-group:<name>:*`, as CloudFormation's Arn gives them). */
const logs: Describe = (operation, input) => {
  const action = `logs:${operation}`;
  const name = str(input.logGroupName);
  return [{ action, resource: ARN('logs', `log-group:${name ?? '*'}:*`), context: {} }];
};
