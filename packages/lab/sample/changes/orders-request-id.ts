import { handler as orders } from '../functions/orders';
import type { UrlEvent, UrlResult } from '../functions/http';

/**
 * A good code change of the orders function (rehearsed by the real-traffic-good-release scenario):
 * every answer carries the request's id in an `x-request-id` header.
 */
export async function handler(event: UrlEvent & { requestContext?: { requestId?: string } }, context?: { awsRequestId?: string }): Promise<UrlResult> {
  const res = await orders(event);
  return { ...res, headers: { ...res.headers, 'x-request-id': event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown' } };
}
