/**
 * CloudWatch over awsQuery (the protocol of older SDKs and CLIs): the members of its input that
 * are numbers, booleans and lists, and of its output that are timestamps and maps, by name, as
 * the CloudWatch API reference types them. Only members of operations the lab serves are listed.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/making-api-requests.html
 */
import type { QueryShapes } from '../query-protocol';

export const CLOUDWATCH_QUERY: QueryShapes = {
  version: '2010-08-01',
  xmlns: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
  numbers: new Set([
    'Value', 'Values', 'Counts', 'SampleCount', 'Sum', 'Minimum', 'Maximum', 'StorageResolution', 'Period', 'EvaluationPeriods',
    'DatapointsToAlarm', 'Threshold', 'MaxRecords', 'MaxDatapoints', 'ActionsSuppressorWaitPeriod', 'ActionsSuppressorExtensionPeriod',
  ]),
  booleans: new Set(['ActionsEnabled', 'ReturnData', 'IncludeLinkedAccounts', 'StrictEntityValidation']),
  lists: new Set([
    'MetricData', 'Dimensions', 'Values', 'Counts', 'Metrics', 'MetricDataQueries', 'Statistics', 'ExtendedStatistics', 'AlarmNames',
    'AlarmTypes', 'OKActions', 'AlarmActions', 'InsufficientDataActions', 'Tags', 'TagKeys',
  ]),
  timestamps: new Set(['Timestamp', 'Timestamps', 'StateUpdatedTimestamp', 'StateTransitionedTimestamp', 'AlarmConfigurationUpdatedTimestamp']),
  maps: new Set(['ExtendedStatistics']),
};
