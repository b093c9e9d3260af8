/**
 * The awsQuery protocol (STS, CloudFormation): form-encoded `Action=...&Version=...` requests,
 * XML answers wrapped in `<ActionResponse><ActionResult>`, lists as `<member>` elements, errors
 * as `<ErrorResponse><Error>`. Also the XML writer S3's restXml answers use.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
import { LabError } from './kernel';
import type { RestReply, SignedRequest, SignedService } from './server';

/** An awsQuery operation: the decoded parameters and who signed the call; returns the Result's content. */
export type QueryOperation = (input: Record<string, unknown>, caller: { accessKeyId?: string }) => unknown | Promise<unknown>;

/**
 * Decode form parameters into nested values: `A.B=1` is `{A: {B: '1'}}` and `L.member.2.K=v`
 * is `{L: [undefined, {K: 'v'}]}` (lists are 1-based `member.N`; maps `entry.N.key/value`).
 */
export function decodeQuery(body: string): Record<string, unknown> {
  // Prototype-less nodes: a parameter named `__proto__.x` or `constructor.prototype.x` stays a
  // key of the request instead of reaching Object.prototype (every object of the lab).
  const node = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;
  const root = node();
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split('.');
    let at = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = at[parts[i]];
      at = (next !== null && typeof next === 'object' ? next : (at[parts[i]] = node())) as Record<string, unknown>;
    }
    at[parts[parts.length - 1]] = value;
  }
  return lists(root) as Record<string, unknown>;
}

function lists(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'member' || keys[0] === 'entry')) {
    const items = o[keys[0]] as Record<string, unknown>;
    const ordered = Object.keys(items)
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => lists(items[String(i)]));
    if (keys[0] === 'member') return ordered;
    return Object.fromEntries((ordered as { key: string; value: unknown }[]).map((e) => [e.key, e.value]));
  }
  return Object.fromEntries(keys.map((k) => [k, lists(o[k])]));
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Write a value as XML elements: arrays as `<member>` (or `itemName`) elements, dates in ISO 8601. */
export function toXml(v: unknown, itemName = 'member'): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => `<${itemName}>${toXml(x, itemName)}</${itemName}>`).join('');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && x !== null)
      .map(([k, x]) => `<${k}>${toXml(x, itemName)}</${k}>`)
      .join('');
  }
  return escape(String(v));
}

const requestId = () => `lab-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;

/** A LabError in awsQuery's error shape. */
export function queryError(e: LabError): RestReply {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: e.status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse><Error><Type>${type}</Type><Code>${escape(e.code)}</Code><Message>${escape(e.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`,
  };
}

/** An awsQuery service on the lab's endpoint. */
export function queryService(name: string, signingName: string, xmlns: string, operations: Readonly<Record<string, QueryOperation>>): SignedService & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    signingName,
    calls,
    async handle(req: SignedRequest): Promise<RestReply> {
      try {
        if (req.method !== 'POST') throw new LabError('InvalidAction', `${name} takes POST requests with a form body, got ${req.method}`);
        const input = decodeQuery(req.body.toString('utf8'));
        const action = String(input.Action ?? '');
        calls.push(action);
        const op = operations[action];
        if (!op) throw new LabError('InvalidAction', `${name}.${action || '(no Action)'} is not supported by the lab; it answers ${Object.keys(operations).join(', ')}`);
        delete input.Action;
        delete input.Version;
        const result = await op(input, { accessKeyId: req.accessKeyId });
        return {
          headers: { 'content-type': 'text/xml' },
          body: `<${action}Response xmlns="${xmlns}"><${action}Result>${toXml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`,
        };
      } catch (err) {
        if (err instanceof LabError) return queryError(err);
        return queryError(new LabError('InternalFailure', `lab internal error: ${(err as Error).message}`, 500));
      }
    },
  };
}
