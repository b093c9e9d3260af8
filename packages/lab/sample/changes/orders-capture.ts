import { authorizePayment, handler as orders, validateOrder } from '../functions/orders';
import { method, parseBody, type UrlEvent, type UrlResult } from '../functions/http';

/**
 * A code change of the orders function (rehearsed by the real-traffic-timeout scenario): a stored
 * order's payment is also captured, a second call to the payments service after the one
 * orders.ts makes. Each call waits for payments; when payments is slow, two calls outlast the
 * function's 5 s timeout where one did not. The probes validate in dry runs and never pay.
 */
export async function handler(event: UrlEvent): Promise<UrlResult> {
  const res = await orders(event);
  if (res.statusCode !== 201 || event.rawPath !== '/orders' || method(event) !== 'POST') return res;
  const { order } = validateOrder(parseBody(event), Number(process.env.MAX_ITEMS_PER_ORDER));
  const captured = order ? await authorizePayment(order, 'capture') : undefined;
  return captured ?? res;
}
