import { serialization, validation, type Item } from './values';

/** AWS lets a table's TTL setting change once an hour. */
const CHANGE_INTERVAL_MS = 3600_000;
/** TTL ignores expiry times more than five years in the past. */
const OLDEST_EXPIRY_MS = 5 * 365 * 24 * 3600_000;

/**
 * A table's Time to Live, on the lab's clock. An item expires when its TTL attribute, a top-level
 * Number of epoch seconds, is earlier than now; items without the attribute, with another type, or
 * with an expiry more than five years in the past are never deleted. AWS deletes expired items in
 * the background, "typically within two days", and until then reads, queries and scans still
 * return them: the lab deletes an item once it has been expired for the deletion lag (two days by
 * default, `ttlDeletionLagSeconds`), judged whenever the table is next used, so no reader sees a
 * difference from a background deletion at that moment. Enabling or disabling takes effect at once
 * (AWS reports ENABLING / DISABLING for up to an hour); a second change within the hour is refused
 * as AWS refuses it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html
 */
export class TimeToLive {
  private attribute?: string;
  private enabled = false;
  private changedAt?: number;

  constructor(
    private readonly now: () => number,
    private readonly lagMs: number,
  ) {}

  /** UpdateTimeToLive's TimeToLiveSpecification, checked and applied; returns it as AWS echoes it. */
  update(spec: unknown): { AttributeName: string; Enabled: boolean } {
    if (spec === undefined || spec === null) throw validation(`1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null`);
    if (typeof spec !== 'object' || Array.isArray(spec)) throw serialization('Unexpected field type: TimeToLiveSpecification must be a structure');
    const { AttributeName: name, Enabled: enabled } = spec as Record<string, unknown>;
    if (enabled === undefined || enabled === null) throw validation(`1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null`);
    if (typeof enabled !== 'boolean') throw serialization('Unexpected value type in payload: TimeToLiveSpecification.Enabled must be a boolean');
    if (name === undefined || name === null) throw validation(`1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null`);
    if (typeof name !== 'string') throw serialization('Unexpected value type in payload: TimeToLiveSpecification.AttributeName must be a string');
    if (name.length < 1 || name.length > 255) throw validation(`1 validation error detected: Value '${name}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255`);
    if (enabled && this.enabled) throw validation(this.attribute === name ? 'TimeToLive is already enabled' : 'TimeToLive is active on a different AttributeName');
    if (!enabled && !this.enabled) throw validation('TimeToLive is already disabled');
    if (!enabled && this.attribute !== name) throw validation('TimeToLive is active on a different AttributeName');
    const now = this.now();
    if (this.changedAt !== undefined && now - this.changedAt < CHANGE_INTERVAL_MS) throw validation('Time to live has been modified multiple times within a fixed interval');
    this.set(name, enabled);
    this.changedAt = now;
    return { AttributeName: name, Enabled: enabled };
  }

  /**
   * The setting a template declares (AWS::DynamoDB::Table TimeToLiveSpecification), applied as
   * CloudFormation applies it when it creates the table.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-timetolivespecification.html
   */
  declare(spec: { AttributeName?: unknown; Enabled?: unknown } | undefined): void {
    if (!spec) return;
    if (typeof spec.Enabled !== 'boolean') throw validation(`TimeToLiveSpecification.Enabled: expected true or false, got ${JSON.stringify(spec.Enabled)}`);
    if (spec.Enabled && (typeof spec.AttributeName !== 'string' || !spec.AttributeName)) throw validation(`TimeToLiveSpecification.AttributeName: expected the name of the expiry attribute, got ${JSON.stringify(spec.AttributeName)}`);
    this.set(typeof spec.AttributeName === 'string' ? spec.AttributeName : undefined, spec.Enabled);
  }

  private set(attribute: string | undefined, enabled: boolean): void {
    this.enabled = enabled;
    this.attribute = enabled ? attribute : undefined;
  }

  /** DescribeTimeToLive's TimeToLiveDescription. */
  describe(): { TimeToLiveStatus: 'ENABLED' | 'DISABLED'; AttributeName?: string } {
    return this.enabled ? { TimeToLiveStatus: 'ENABLED', AttributeName: this.attribute } : { TimeToLiveStatus: 'DISABLED' };
  }

  /** Delete the items that have been expired for at least the deletion lag. */
  sweep(items: Map<string, Item>): void {
    if (!this.enabled || this.attribute === undefined) return;
    const now = this.now();
    for (const [id, item] of items) {
      const v = item[this.attribute]?.N;
      if (typeof v !== 'string') continue;
      const expiresAt = Number(v) * 1000;
      if (!Number.isFinite(expiresAt) || expiresAt < now - OLDEST_EXPIRY_MS) continue;
      if (expiresAt < now && expiresAt + this.lagMs <= now) items.delete(id);
    }
  }
}
