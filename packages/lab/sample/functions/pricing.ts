import { json, type UrlEvent, type UrlResult } from './http';

/**
 * Pricing: quotes a price for a SKU and quantity from the PRICE_LIST configuration
 * (JSON: SKU -> unit price in cents), with CURRENCY and TAX_RATE.
 */
interface PricingConfig {
  readonly prices: Readonly<Record<string, number>>;
  readonly currency: string;
  readonly taxRate: number;
}

let config: PricingConfig | undefined;

/** Read once per environment; a bad value throws at first use, as it would in production. */
function loadConfig(): PricingConfig {
  if (config) return config;
  const prices = JSON.parse(process.env.PRICE_LIST ?? '') as Record<string, number>;
  const taxRate = Number(process.env.TAX_RATE);
  if (!Number.isFinite(taxRate)) throw new Error(`TAX_RATE is not a number: ${process.env.TAX_RATE}`);
  config = { prices, currency: process.env.CURRENCY ?? 'USD', taxRate };
  return config;
}

export function quote(cfg: PricingConfig, sku: string, qty: number): { sku: string; qty: number; unitPrice: number; tax: number; total: number; currency: string } | undefined {
  const unitPrice = cfg.prices[sku];
  if (unitPrice === undefined) return undefined;
  const net = unitPrice * qty;
  const tax = Math.round(net * cfg.taxRate);
  return { sku, qty, unitPrice, tax, total: net + tax, currency: cfg.currency };
}

export async function handler(event: UrlEvent): Promise<UrlResult> {
  const cfg = loadConfig();
  if (event.rawPath !== '/price') return json(404, { error: `no route ${event.rawPath}` });
  const sku = event.queryStringParameters?.sku;
  const qty = Number(event.queryStringParameters?.qty ?? '1');
  if (!sku || !Number.isInteger(qty) || qty < 1 || qty > 1000) return json(400, { error: 'sku and qty (1-1000) are required' });
  const q = quote(cfg, sku, qty);
  return q ? json(200, q) : json(404, { error: `unknown sku ${sku}` });
}
