/**
 * aws-sdk-client-mock set-ups that answer like AWS for one deployment: metric values per
 * metric and version, alarm states, and a DynamoDB state table kept in memory so that state
 * carries from one invocation to the next.
 */
import { DescribeAlarmsCommand, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { BatchGetCommand, DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

export interface VersionTraffic {
  invocations: number;
  errors: number;
  throttles?: number;
  p99?: number;
  probeRuns?: number;
  probeFailures?: number;
  configRuns?: number;
  configFailures?: number;
}

export type Traffic = Record<string, VersionTraffic>;

export const GOOD: Traffic = {
  '1': { invocations: 5400, errors: 27, p99: 120, probeRuns: 30, probeFailures: 0 },
  '2': { invocations: 600, errors: 3, p99: 125, probeRuns: 30, probeFailures: 0, configRuns: 2, configFailures: 0 },
};

export const BAD_CODE: Traffic = {
  '1': { invocations: 5400, errors: 27, p99: 120, probeRuns: 30, probeFailures: 0 },
  '2': { invocations: 600, errors: 120, p99: 125, probeRuns: 30, probeFailures: 0, configRuns: 2, configFailures: 0 },
};

function valueFor(traffic: Traffic, metricName: string, stat: string, dims: Record<string, string>): number[] {
  const v = traffic[dims.ExecutedVersion ?? dims.Version ?? ''];
  if (!v) return [];
  switch (`${metricName}/${stat}`) {
    case 'Invocations/Sum':
      return [v.invocations];
    case 'Errors/Sum':
      return [v.errors];
    case 'Throttles/Sum':
      return [v.throttles ?? 0];
    case 'Duration/p99':
      return v.p99 === undefined ? [] : [v.p99];
    case 'Duration/SampleCount':
      return [v.invocations];
    case 'ProbeFailure/Sum':
      return v.probeRuns ? [v.probeFailures ?? 0] : [];
    case 'ProbeFailure/SampleCount':
      return v.probeRuns ? [v.probeRuns] : [];
    case 'ConfigCheckFailure/Sum':
      return v.configRuns ? [v.configFailures ?? 0] : [];
    case 'ConfigCheckFailure/SampleCount':
      return v.configRuns ? [v.configRuns] : [];
    default:
      return [];
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Stub = AwsStub<any, any, any>;

export function answerMetrics(cw: Stub, traffic: Traffic): void {
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const m = q.MetricStat!.Metric!;
      const dims = Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name!, d.Value!]));
      return { Id: q.Id, StatusCode: 'Complete', Values: valueFor(traffic, m.MetricName!, q.MetricStat!.Stat!, dims) };
    }),
  }));
}

export function answerAlarms(cw: Stub, states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> = {}, since = new Date('2026-11-28T09:00:00Z')): void {
  cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) => ({
    MetricAlarms: (input.AlarmNames ?? []).map((name) => ({
      AlarmName: name,
      StateValue: states[name] ?? 'OK',
      StateReason: `Threshold Crossed: test state ${states[name] ?? 'OK'}`,
      StateUpdatedTimestamp: since,
    })),
    CompositeAlarms: [],
  }));
}

/**
 * A DynamoDB table in memory behind the document client. UpdateItem and DeleteItem honour the conditions the
 * runtime writes (`attribute_not_exists(#n)`, `attribute_exists(#n)`, `#n = :v`, `#n <> :v`, joined
 * by AND or by OR, without parentheses) as DynamoDB does; any other condition fails the test
 * loudly rather than being ignored.
 */
export function stateTable(ddb: Stub, faults: { /** Errors the next DeleteItem calls answer, one each. */ deletes?: Error[] } = {}) {
  const items = new Map<string, Record<string, unknown>>();
  const stub = ddb;
  stub.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { deploymentId: string }[] }> }) => {
    const [table, req] = Object.entries(input.RequestItems)[0];
    return { Responses: { [table]: req.Keys.map((k) => items.get(k.deploymentId)).filter(Boolean) } };
  });
  stub.on(GetCommand).callsFake((input: { Key: { deploymentId: string } }) => {
    const item = items.get(input.Key.deploymentId);
    return item ? { Item: item } : {};
  });
  stub.on(UpdateCommand).callsFake(
    (input: {
      Key: { deploymentId: string };
      UpdateExpression: string;
      ConditionExpression?: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    }) => {
      const stored = items.get(input.Key.deploymentId);
      const item = { ...(stored ?? { deploymentId: input.Key.deploymentId }) };
      const names = input.ExpressionAttributeNames;
      const values = input.ExpressionAttributeValues;
      if (input.ConditionExpression !== undefined && !holds(input.ConditionExpression, stored, names, values)) {
        throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
      }
      // The registry's set operations (`ADD #ids :ids`, `DELETE #ids :ids`), then SET assignments.
      for (const [, op, n, v] of input.UpdateExpression.matchAll(/\b(ADD|DELETE) (#\w+) (:\w+)/g)) {
        const set = new Set((item[names[n]] as Set<string> | undefined) ?? []);
        for (const id of values[v] as Set<string>) {
          if (op === 'ADD') set.add(id);
          else set.delete(id);
        }
        if (set.size) item[names[n]] = set;
        else delete item[names[n]];
      }
      for (const [, n, v] of input.UpdateExpression.matchAll(/(#\w+) = (:\w+)/g)) item[names[n]] = values[v];
      for (const [, list] of input.UpdateExpression.matchAll(/\bREMOVE ((?:#\w+)(?:\s*,\s*#\w+)*)/g)) for (const n of list.split(/\s*,\s*/)) delete item[names[n]];
      items.set(input.Key.deploymentId, item);
      return {};
    },
  );
  // DeleteItem, with the same conditions as UpdateItem.
  stub.on(DeleteCommand).callsFake((input: { Key: { deploymentId: string }; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }) => {
    const fault = faults.deletes?.shift();
    if (fault) throw fault;
    const stored = items.get(input.Key.deploymentId);
    if (input.ConditionExpression !== undefined && !holds(input.ConditionExpression, stored, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})) {
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    }
    items.delete(input.Key.deploymentId);
    return {};
  });
  return items;
}

/** A condition of the forms stateTable supports, on the stored item (undefined: no item). */
function holds(expr: string, stored: Record<string, unknown> | undefined, names: Record<string, string>, values: Record<string, unknown>): boolean {
  if (/\bAND\b/.test(expr) && /\bOR\b/.test(expr)) throw new Error(`the fake state table does not mix AND and OR: ${expr}`);
  const or = /\bOR\b/.test(expr);
  const results = expr.split(/\s+(?:AND|OR)\s+/).map((t) => {
    const term = t.trim();
    let m = /^attribute_(not_)?exists\((#\w+)\)$/.exec(term);
    if (m) return (stored?.[names[m[2]]] !== undefined) !== Boolean(m[1]);
    m = /^(#\w+) (=|<>) (:\w+)$/.exec(term);
    if (m) {
      const v = stored?.[names[m[1]]];
      // DynamoDB: a comparison with a missing attribute is false, whichever the operator.
      if (v === undefined) return false;
      return (v === values[m[3]]) === (m[2] === '=');
    }
    throw new Error(`the fake state table supports only attribute_(not_)exists(#n), #n = :v and #n <> :v conditions, got ${expr}`);
  });
  return or ? results.some(Boolean) : results.every(Boolean);
}
