import { randomUUID } from 'node:crypto';
import { LAB_ACCOUNT, LAB_REGION } from '../kernel';
import { enumOf, itemSize, serialization, validation, type Item } from './values';

/**
 * What DynamoDB knows of a table besides its items: key attribute types, billing, throughput,
 * when it was made, and its stream's label. Filled by CreateTable and by a template's
 * AWS::DynamoDB::Table, changed by UpdateTable.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html
 */
export interface TableSettings {
  /** Key attribute name to its type (S, N or B); empty when a template left them out. */
  readonly types: Readonly<Record<string, 'S' | 'N' | 'B'>>;
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  /** Whether a BillingMode was ever set: AWS shows BillingModeSummary only then. */
  billingModeSet: boolean;
  read: number;
  write: number;
  readonly createdAt: number;
  readonly tableId: string;
}

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export const STREAM_VIEW_TYPES: readonly StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

/** What describeTable reads of a table. */
export interface DescribedTable {
  readonly name: string;
  readonly hash: string;
  readonly range?: string;
  readonly items: ReadonlyMap<string, Item>;
  readonly settings: TableSettings;
  readonly stream?: { readonly viewType: StreamViewType; readonly label: string };
}

export const tableArn = (name: string) => `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/${name}`;

/**
 * A TableDescription as CreateTable, DescribeTable, UpdateTable and DeleteTable return it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html
 */
export function describeTable(t: DescribedTable, status: 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING'): Record<string, unknown> {
  const s = t.settings;
  const keys = t.range ? [t.hash, t.range] : [t.hash];
  let size = 0;
  for (const item of t.items.values()) size += itemSize(item);
  return {
    TableName: t.name,
    TableStatus: status,
    TableArn: tableArn(t.name),
    TableId: s.tableId,
    CreationDateTime: s.createdAt / 1000,
    ...(Object.keys(s.types).length ? { AttributeDefinitions: keys.map((n) => ({ AttributeName: n, AttributeType: s.types[n] })) } : {}),
    KeySchema: keys.map((n, i) => ({ AttributeName: n, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    ...(s.billingModeSet ? { BillingModeSummary: { BillingMode: s.billingMode, ...(s.billingMode === 'PAY_PER_REQUEST' ? { LastUpdateToPayPerRequestDateTime: s.createdAt / 1000 } : {}) } } : {}),
    ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: s.read, WriteCapacityUnits: s.write },
    ItemCount: t.items.size,
    TableSizeBytes: size,
    DeletionProtectionEnabled: false,
    ...(t.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: t.stream.viewType }, LatestStreamLabel: t.stream.label, LatestStreamArn: `${tableArn(t.name)}/stream/${t.stream.label}` } : {}),
  };
}

/** A stream's label: the time it was enabled, as AWS writes it. */
export const streamLabel = (now: number) => new Date(now).toISOString().replace(/Z$/, '');

const list = (v: unknown, at: string): Record<string, unknown>[] => {
  if (v === undefined || v === null) throw validation(`1 validation error detected: Value null at '${at}' failed to satisfy constraint: Member must not be null`);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) throw serialization(`Unexpected field type: ${at} must be a list of structures`);
  return v as Record<string, unknown>[];
};

/**
 * Billing mode and throughput of a CreateTable or UpdateTable request, checked as DynamoDB does.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html#DDB-CreateTable-request-BillingMode
 */
export function billingOf(i: Record<string, unknown>, current?: TableSettings): Pick<TableSettings, 'billingMode' | 'read' | 'write'> & { set: boolean } {
  const mode = enumOf(i.BillingMode, 'billingMode', ['PROVISIONED', 'PAY_PER_REQUEST'], current?.billingMode ?? 'PROVISIONED');
  const pt = i.ProvisionedThroughput as { ReadCapacityUnits?: unknown; WriteCapacityUnits?: unknown } | undefined;
  if (pt !== undefined && (typeof pt !== 'object' || pt === null)) throw serialization('Unexpected field type: ProvisionedThroughput must be a structure');
  if (mode === 'PAY_PER_REQUEST') {
    if (pt) throw validation('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
    return { billingMode: mode, read: 0, write: 0, set: i.BillingMode !== undefined || !!current?.billingModeSet };
  }
  if (!pt) {
    if (current?.billingMode === 'PROVISIONED') return { billingMode: mode, read: current.read, write: current.write, set: i.BillingMode !== undefined || current.billingModeSet };
    throw validation(
      current
        ? 'One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED'
        : 'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
    );
  }
  const units = (v: unknown, name: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw validation(`1 validation error detected: Value ${JSON.stringify(v ?? null)} at 'provisionedThroughput.${name[0].toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must have value greater than or equal to 1`);
    if (v < 1) throw validation(`1 validation error detected: Value '${v}' at 'provisionedThroughput.${name[0].toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must have value greater than or equal to 1`);
    return v;
  };
  return { billingMode: mode, read: units(pt.ReadCapacityUnits, 'ReadCapacityUnits'), write: units(pt.WriteCapacityUnits, 'WriteCapacityUnits'), set: i.BillingMode !== undefined || !!current?.billingModeSet };
}

/** A StreamSpecification: enabled with a view type, or disabled. */
export function streamSpecOf(v: unknown): { enabled: true; viewType: StreamViewType } | { enabled: false } | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) throw serialization('Unexpected field type: StreamSpecification must be a structure');
  const s = v as { StreamEnabled?: unknown; StreamViewType?: unknown };
  if (typeof s.StreamEnabled !== 'boolean') throw validation("1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null");
  if (!s.StreamEnabled) return { enabled: false };
  if (s.StreamViewType === undefined) throw validation('One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true');
  return { enabled: true, viewType: enumOf(s.StreamViewType, 'streamSpecification.streamViewType', STREAM_VIEW_TYPES, 'KEYS_ONLY') };
}

/**
 * A CreateTable request's key schema and attribute definitions, checked with DynamoDB's messages.
 * The lab models no secondary indexes, so a request for one is refused naming it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
 */
export function keySchemaOf(i: Record<string, unknown>): { hash: string; range?: string; types: Record<string, 'S' | 'N' | 'B'> } {
  for (const p of ['GlobalSecondaryIndexes', 'LocalSecondaryIndexes'] as const) {
    if (i[p] !== undefined) throw validation(`the lab does not model secondary indexes: ${p} cannot be created (create the table without them)`);
  }
  const defs = list(i.AttributeDefinitions, 'attributeDefinitions').map((d, n) => {
    if (typeof d.AttributeName !== 'string') throw validation(`1 validation error detected: Value null at 'attributeDefinitions.${n + 1}.member.attributeName' failed to satisfy constraint: Member must not be null`);
    return { name: d.AttributeName, type: enumOf(d.AttributeType, `attributeDefinitions.${n + 1}.member.attributeType`, ['S', 'N', 'B'], 'S') };
  });
  const schema = list(i.KeySchema, 'keySchema').map((k, n) => {
    if (typeof k.AttributeName !== 'string') throw validation(`1 validation error detected: Value null at 'keySchema.${n + 1}.member.attributeName' failed to satisfy constraint: Member must not be null`);
    return { name: k.AttributeName, type: enumOf(k.KeyType, `keySchema.${n + 1}.member.keyType`, ['HASH', 'RANGE'], 'HASH') };
  });
  if (schema.length < 1 || schema.length > 2) throw validation(`1 validation error detected: Value '${JSON.stringify(schema)}' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2`);
  const defined = defs.map((d) => d.name);
  const keys = schema.map((k) => k.name);
  // Messages and their order as AWS-verified tests record them.
  if (keys.length > defined.length) throw validation('Invalid KeySchema: Some index key attribute have no definition');
  if (keys.some((k) => !defined.includes(k))) throw validation(`One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${keys.join(', ')}], AttributeDefinitions: [${defined.join(', ')}]`);
  if (keys[0] === keys[1]) throw validation('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  if (schema[0].type !== 'HASH') throw validation('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (schema[1] && schema[1].type !== 'RANGE') throw validation('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
  if (keys.length !== defined.length) throw validation('One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions');
  return { hash: keys[0], range: keys[1], types: Object.fromEntries(defs.map((d) => [d.name, d.type])) };
}

/** Settings of a new table (CreateTable, or a template's properties, which CloudFormation has already checked). */
export function newSettings(now: number, types: Record<string, 'S' | 'N' | 'B'>, billing: { billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST'; read: number; write: number; set: boolean }): TableSettings {
  return { types, billingMode: billing.billingMode, billingModeSet: billing.set, read: billing.read, write: billing.write, createdAt: now, tableId: randomUUID() };
}

/** A template's AWS::DynamoDB::Table properties, read leniently (CloudFormation validated them). */
export function templateSettings(now: number, props: Record<string, unknown> | undefined): TableSettings {
  const defs = Array.isArray(props?.AttributeDefinitions) ? (props.AttributeDefinitions as { AttributeName?: unknown; AttributeType?: unknown }[]) : [];
  const types: Record<string, 'S' | 'N' | 'B'> = {};
  for (const d of defs) if (typeof d.AttributeName === 'string' && (d.AttributeType === 'S' || d.AttributeType === 'N' || d.AttributeType === 'B')) types[d.AttributeName] = d.AttributeType;
  const pt = (props?.ProvisionedThroughput ?? {}) as { ReadCapacityUnits?: unknown; WriteCapacityUnits?: unknown };
  const onDemand = props?.BillingMode === 'PAY_PER_REQUEST';
  return newSettings(now, types, { billingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED', read: onDemand ? 0 : Number(pt.ReadCapacityUnits) || 0, write: onDemand ? 0 : Number(pt.WriteCapacityUnits) || 0, set: props?.BillingMode !== undefined });
}
