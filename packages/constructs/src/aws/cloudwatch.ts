import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmReading, MetricQuery, MetricReading } from '../core/observe';
import type { Datapoint, MetricsPort, SignalPort } from './ports';
import { chunk, errorText } from './util';

/** DescribeAlarms takes up to 100 alarm names per call.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html */
export const DESCRIBE_ALARMS_MAX_NAMES = 100;
/** GetMetricData takes up to 500 queries per call.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html */
export const GET_METRIC_DATA_MAX_QUERIES = 500;
/** PutMetricData takes up to 1,000 metrics per request.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html */
export const PUT_METRIC_DATA_MAX = 1000;

const STATES = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/**
 * When the alarm entered its current state: StateTransitionedTimestamp changes only when the
 * state value changes; StateUpdatedTimestamp also moves when only the reason or the
 * configuration changes, so it would make an old ALARM look new. The latter only when the former
 * is absent. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html
 */
function stateSince(a: { StateTransitionedTimestamp?: Date; StateUpdatedTimestamp?: Date }): number {
  return (a.StateTransitionedTimestamp ?? a.StateUpdatedTimestamp)?.getTime() ?? 0;
}

export class CloudWatchSignals implements SignalPort {
  constructor(private readonly client: CloudWatchClient) {}

  async readAlarms(names: readonly string[]): Promise<Record<string, AlarmReading>> {
    const out: Record<string, AlarmReading> = {};
    const unique = [...new Set(names)];
    await Promise.all(
      chunk(unique, DESCRIBE_ALARMS_MAX_NAMES).map(async (batch) => {
        try {
          const found = new Map<string, AlarmReading>();
          let nextToken: string | undefined;
          do {
            const res = await this.client.send(
              new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: nextToken }),
            );
            for (const a of [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])]) {
              if (!a.AlarmName) continue;
              found.set(
                a.AlarmName,
                a.StateValue && STATES.has(a.StateValue)
                  ? { state: a.StateValue as 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason: a.StateReason ?? '', since: stateSince(a) }
                  : { error: `alarm ${a.AlarmName} has an unknown state ${JSON.stringify(a.StateValue)}` },
              );
            }
            nextToken = res.NextToken;
          } while (nextToken);
          // An alarm that does not exist guards nothing: read as an error, so it counts towards blindness.
          for (const n of batch) out[n] = found.get(n) ?? { error: `alarm ${n} does not exist` };
        } catch (err) {
          for (const n of batch) out[n] = { error: `DescribeAlarms failed: ${errorText(err)}` };
        }
      }),
    );
    return out;
  }

  async readMetrics(queries: readonly MetricQuery[]): Promise<Record<string, MetricReading>> {
    const out: Record<string, MetricReading> = {};
    // The same metric over the same window is read once, whoever asked for it.
    const keysOf = new Map<string, string[]>();
    const byWindow = new Map<string, MetricQuery[]>();
    for (const q of queries) {
      const sig = JSON.stringify([q.window.start, q.window.end, q.periodSeconds, q.metric.namespace, q.metric.metricName, q.metric.stat, q.metric.dimensions]);
      const seen = keysOf.get(sig);
      if (seen) {
        seen.push(q.key);
        continue;
      }
      keysOf.set(sig, [q.key]);
      // Queries of one call share one time range, so group by window.
      const k = `${q.window.start}-${q.window.end}`;
      byWindow.set(k, [...(byWindow.get(k) ?? []), { ...q, key: sig }]);
    }
    const batches = [...byWindow.values()].flatMap((qs) => chunk(qs, GET_METRIC_DATA_MAX_QUERIES));
    await Promise.all(
      batches.map(async (batch) => {
        const ids = new Map<string, string>();
        const data: MetricDataQuery[] = batch.map((q, i) => {
          const id = `q${i}`;
          ids.set(id, q.key);
          return {
            Id: id,
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: q.metric.namespace,
                MetricName: q.metric.metricName,
                Dimensions: Object.entries(q.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
              },
              Period: q.periodSeconds,
              Stat: q.metric.stat,
            },
          };
        });
        try {
          const values = new Map<string, number[]>();
          const stamps = new Map<string, number[]>();
          const failed = new Map<string, string>();
          let nextToken: string | undefined;
          do {
            const res = await this.client.send(
              new GetMetricDataCommand({
                MetricDataQueries: data,
                StartTime: new Date(batch[0].window.start),
                EndTime: new Date(batch[0].window.end),
                NextToken: nextToken,
              }),
            );
            for (const r of res.MetricDataResults ?? []) {
              if (!r.Id) continue;
              if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
                failed.set(r.Id, `GetMetricData ${r.StatusCode}: ${(r.Messages ?? []).map((m) => m.Value).join('; ')}`);
              }
              values.set(r.Id, [...(values.get(r.Id) ?? []), ...(r.Values ?? [])]);
              // Timestamps[i] is the start of Values[i]'s period: the per-minute comparison matches periods by it.
              // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataResult.html
              stamps.set(r.Id, [...(stamps.get(r.Id) ?? []), ...(r.Timestamps ?? []).map((t) => t.getTime())]);
            }
            nextToken = res.NextToken;
          } while (nextToken);
          for (const [id, sig] of ids) {
            const err = failed.get(id);
            const vs = values.get(id) ?? [];
            const ts = stamps.get(id) ?? [];
            // Without a timestamp for every value, the values alone (a pooled comparison).
            const reading: MetricReading = ts.length === vs.length ? { values: vs, timestamps: ts } : { values: vs };
            for (const key of keysOf.get(sig)!) out[key] = err ? { error: err } : reading;
          }
        } catch (err) {
          for (const sig of ids.values()) for (const key of keysOf.get(sig)!) out[key] = { error: `GetMetricData failed: ${errorText(err)}` };
        }
      }),
    );
    return out;
  }
}

export class CloudWatchMetrics implements MetricsPort {
  constructor(private readonly client: CloudWatchClient) {}

  async publish(namespace: string, points: readonly Datapoint[]): Promise<void> {
    for (const batch of chunk(points, PUT_METRIC_DATA_MAX)) {
      await this.client.send(
        new PutMetricDataCommand({
          Namespace: namespace,
          MetricData: batch.map((p) => ({
            MetricName: p.metricName,
            Dimensions: Object.entries(p.dimensions).map(([Name, Value]) => ({ Name, Value })),
            Value: p.value,
            Unit: p.unit,
            Timestamp: new Date(p.timestamp),
            StorageResolution: p.storageResolution,
          })),
        }),
      );
    }
  }
}
