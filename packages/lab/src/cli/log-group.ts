import { CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { sdkClientConfig } from 'canary-watchdog/lib/aws/clients';
import { errorText } from 'canary-watchdog/lib/aws/util';
import { CliError, EXIT } from './exit-codes';
import { checkRegion } from './preflight';

/**
 * The watchdog's log lines that hold decision records, read from its log group with
 * FilterLogEvents (every page), on AWS (the default credential chain and region) or the lab
 * (AWS_ENDPOINT_URL); with a deployment id, only lines that name it. Returns them as JSON lines
 * for parseDecisionLines. A log group that cannot be read is "could not observe" (3); one that
 * does not exist is bad input (2).
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export async function decisionLinesFromLogGroup(logGroupName: string, deploymentId?: string, client = new CloudWatchLogsClient(sdkClientConfig())): Promise<string> {
  // Terms with punctuation are quoted; every term must appear in a line.
  const filterPattern = ['"canary-watchdog.decision"', ...(deploymentId ? [`"${deploymentId}"`] : [])].join(' ');
  const lines: string[] = [];
  try {
    await checkRegion(client);
  } catch (err) {
    client.destroy();
    throw err;
  }
  try {
    for await (const page of paginateFilterLogEvents({ client }, { logGroupName, filterPattern })) {
      for (const e of page.events ?? []) if (e.message) lines.push(e.message);
    }
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'ResourceNotFoundException') throw new CliError(EXIT.badInput, `--log-group: ${logGroupName} does not exist (${errorText(err)})`);
    throw new CliError(EXIT.unobservable, `could not read the log group ${logGroupName}: ${errorText(err)}`);
  } finally {
    client.destroy();
  }
  return lines.join('\n');
}
