import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DecisionRecord } from '../core/decision-record';
import type { DecisionPort } from './ports';
import { chunk } from './util';

/** PutEvents takes up to 10 entries per call.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html */
export const PUT_EVENTS_MAX = 10;
export const DECISION_SOURCE = 'canary-watchdog';
export const DECISION_DETAIL_TYPE = 'Canary Watchdog Decision';

export interface DecisionLogger {
  info(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** Every decision goes to the log as one structured line; those selected also to EventBridge, one event each. */
export class LogAndEventBridgeDecisions implements DecisionPort {
  constructor(
    private readonly logger: DecisionLogger,
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(records: readonly DecisionRecord[], toEvents: (r: DecisionRecord) => boolean = () => true): Promise<void> {
    for (const r of records) this.logger.info('decision', { decision: r });
    for (const batch of chunk(records.filter(toEvents), PUT_EVENTS_MAX)) {
      const res = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((r) => ({
            Source: DECISION_SOURCE,
            DetailType: DECISION_DETAIL_TYPE,
            Detail: JSON.stringify(r),
            EventBusName: this.eventBusName,
            Resources: [],
          })),
        }),
      );
      if (res.FailedEntryCount) {
        const failures = (res.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        this.logger.error('some decision events were not delivered to EventBridge', { failures });
      }
    }
  }
}
