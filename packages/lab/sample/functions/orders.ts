import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { json, method, parseBody, type UrlEvent, type UrlResult } from './http';

/**
 * Orders: validates and stores orders in TABLE_NAME. MAX_ITEMS_PER_ORDER caps the quantity;
 * PAYMENT_MODE is `live` or `sandbox`; an order is first authorized by the payments service at
 * PAYMENTS_URL (when set; PAYMENT_MODE tells it live from sandbox), and a payments failure answers 502. POST
 * /orders?dryRun=true validates without storing or paying, which is what the probes use.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export interface OrderInput {
  readonly sku: string;
  readonly qty: number;
}

export function validateOrder(input: unknown, maxItems: number): { order?: OrderInput; error?: string } {
  const o = input as Partial<OrderInput> | undefined;
  if (!o || typeof o.sku !== 'string' || !/^[a-z0-9-]{1,40}$/.test(o.sku)) return { error: 'sku must be 1-40 lowercase letters, digits or dashes' };
  if (!Number.isInteger(o.qty) || (o.qty as number) < 1) return { error: 'qty must be a whole number of at least 1' };
  if ((o.qty as number) > maxItems) return { error: `qty above the limit of ${maxItems} items per order` };
  return { order: { sku: o.sku, qty: o.qty as number } };
}

function settings() {
  const table = process.env.TABLE_NAME;
  const maxItems = Number(process.env.MAX_ITEMS_PER_ORDER);
  const paymentMode = process.env.PAYMENT_MODE;
  if (!table) throw new Error('TABLE_NAME is not set');
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error(`MAX_ITEMS_PER_ORDER is not a positive integer: ${process.env.MAX_ITEMS_PER_ORDER}`);
  if (paymentMode !== 'live' && paymentMode !== 'sandbox') throw new Error(`PAYMENT_MODE must be live or sandbox: ${paymentMode}`);
  return { table, maxItems, paymentMode };
}

/** Authorize an order with the payments service: a failure answer (502), or undefined when paid (or no service is set). */
export async function authorizePayment(order: OrderInput, paymentMode: string): Promise<UrlResult | undefined> {
  const url = process.env.PAYMENTS_URL;
  if (!url) return undefined;
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...order, mode: paymentMode }) });
    return res.ok ? undefined : json(502, { error: `payments answered ${res.status}` });
  } catch (err) {
    return json(502, { error: `payments unreachable: ${(err as Error).message}` });
  }
}

export async function handler(event: UrlEvent): Promise<UrlResult> {
  const s = settings();
  const path = event.rawPath ?? '/';
  if (path === '/orders' && method(event) === 'POST') {
    let body: unknown;
    try {
      body = parseBody(event);
    } catch {
      return json(400, { error: 'body is not JSON' });
    }
    const { order, error } = validateOrder(body, s.maxItems);
    if (!order) return json(400, { error });
    if (event.queryStringParameters?.dryRun === 'true') return json(200, { valid: true, order, paymentMode: s.paymentMode });
    const paid = await authorizePayment(order, s.paymentMode);
    if (paid) return paid;
    const orderId = randomUUID();
    await doc.send(new PutCommand({ TableName: s.table, Item: { orderId, ...order, createdAt: new Date().toISOString(), paymentMode: s.paymentMode } }));
    return json(201, { orderId, ...order });
  }
  if (path.startsWith('/orders/') && method(event) === 'GET') {
    const res = await doc.send(new GetCommand({ TableName: s.table, Key: { orderId: path.slice('/orders/'.length) } }));
    return res.Item ? json(200, res.Item) : json(404, { error: 'no such order' });
  }
  return json(404, { error: `no route ${method(event)} ${path}` });
}
