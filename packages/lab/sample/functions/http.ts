/** Minimal Lambda function URL request/response shapes (payload format 2.0). */
export interface UrlEvent {
  readonly rawPath?: string;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
  readonly queryStringParameters?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface UrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function json(statusCode: number, body: unknown): UrlResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function method(e: UrlEvent): string {
  return (e.requestContext?.http?.method ?? 'GET').toUpperCase();
}

export function parseBody(e: UrlEvent): unknown {
  if (!e.body) return undefined;
  const text = e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body;
  return JSON.parse(text);
}
