import { handler as orders, validateOrder } from '../functions/orders';
import { method, parseBody, type UrlEvent, type UrlResult } from '../functions/http';

/**
 * A code change of the orders function (rehearsed by the real-traffic-bug scenario): bulk orders
 * (10 items or more) get a discount from a tier table. The bug: only sku-1 has tiers, so a bulk
 * order of any other SKU throws a TypeError. The probes order sku-1, 2 items, and never meet it.
 */
const BULK_TIERS: Readonly<Record<string, readonly { minQty: number; percentOff: number }[]>> = {
  'sku-1': [
    { minQty: 10, percentOff: 5 },
    { minQty: 20, percentOff: 10 },
  ],
};

export function bulkPercentOff(sku: string, qty: number): number {
  if (qty < 10) return 0;
  // The bug: BULK_TIERS[sku] is undefined for every SKU but sku-1.
  return BULK_TIERS[sku].filter((t) => qty >= t.minQty).reduce((best, t) => Math.max(best, t.percentOff), 0);
}

export async function handler(event: UrlEvent): Promise<UrlResult> {
  const res = await orders(event);
  if (res.statusCode !== 201 || event.rawPath !== '/orders' || method(event) !== 'POST') return res;
  const { order } = validateOrder(parseBody(event), Number(process.env.MAX_ITEMS_PER_ORDER));
  if (!order) return res;
  return { ...res, body: JSON.stringify({ ...(JSON.parse(res.body) as object), percentOff: bulkPercentOff(order.sku, order.qty) }) };
}
