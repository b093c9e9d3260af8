// The checkout function: GET /health answers at once, anything else charges through PAYMENTS_URL.
interface UrlEvent {
  readonly rawPath?: string;
}

export const handler = async (event: UrlEvent) => {
  if (event.rawPath === '/health') return { statusCode: 200, body: JSON.stringify({ ok: true, currency: process.env.CURRENCY }) };
  const res = await fetch(`${process.env.PAYMENTS_URL}/charges`, { method: 'POST' });
  return { statusCode: res.ok ? 200 : 502, body: JSON.stringify({ payments: res.status }) };
};
