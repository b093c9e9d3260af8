/**
 * The awsQuery protocol, for clients that speak it to a service the lab serves over awsJson
 * (CloudWatch: older SDKs and CLIs): a form-encoded `Action=...&Version=...` request is turned
 * into the JSON input the service's operations take, and the JSON output into the XML answer.
 * The wire carries no types, so each service names its number, boolean and list members.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
import type { LabError, QueryShapes } from './kernel';

export type { QueryShapes } from './kernel';


/** Parameters that sign or route a request rather than belong to the operation's input. */
const CONTROL = /^(Action|Version|X-Amz-.*|AWSAccessKeyId|Signature|SignatureMethod|SignatureVersion|Timestamp|Expires|SecurityToken)$/;

type Tree = { [key: string]: Tree | string };

/**
 * Turn form parameters into the JSON input of an operation: `A.member.2.B=x` becomes
 * `{A: [.., {B: 'x'}]}`, `M.entry.1.key/value` a map, and values of the members the service
 * names as numbers or booleans are converted (a value that does not convert is passed on as
 * the string, for the operation to reject by name).
 */
export function decodeQueryInput(params: URLSearchParams, shapes: QueryShapes): Record<string, unknown> {
  // Nodes without a prototype: a parameter named `__proto__.x` is a member like any other.
  const tree = (): Tree => Object.create(null) as Tree;
  const root = tree();
  for (const [key, value] of params) {
    if (CONTROL.test(key) && !key.includes('.')) continue;
    const path = key.split('.');
    let node = root;
    path.forEach((seg, i) => {
      if (i === path.length - 1) node[seg] = value;
      else {
        const next = node[seg];
        if (typeof next === 'object') node = next;
        else node = node[seg] = tree();
      }
    });
  }
  return convert(root, undefined, shapes) as Record<string, unknown>;
}

function convert(node: Tree | string, name: string | undefined, shapes: QueryShapes): unknown {
  if (typeof node === 'string') {
    if (name === undefined) return node;
    if (node === '' && shapes.lists.has(name)) return [];
    if (shapes.numbers.has(name) && node.trim() !== '' && Number.isFinite(Number(node))) return Number(node);
    if (shapes.booleans.has(name) && (node === 'true' || node === 'false')) return node === 'true';
    return node;
  }
  const keys = Object.keys(node);
  const indexed = (child: Tree | string) => (typeof child === 'object' ? Object.entries(child).filter(([k]) => /^\d+$/.test(k)).sort((a, b) => Number(a[0]) - Number(b[0])) : []);
  if (keys.length === 1 && keys[0] === 'member') return indexed(node.member).map(([, v]) => convert(v, name, shapes));
  if (keys.length === 1 && keys[0] === 'entry') {
    return Object.fromEntries(
      indexed(node.entry).map(([, e]) => {
        const entry = typeof e === 'object' ? e : {};
        return [String(entry.key ?? ''), convert(entry.value ?? '', name, shapes)];
      }),
    );
  }
  return Object.fromEntries(keys.map((k) => [k, convert(node[k], k, shapes)]));
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/**
 * The XML answer of an operation: `<{Op}Response><{Op}Result>...</{Op}Result><ResponseMetadata>`.
 * An operation without output members answers with the metadata only.
 */
export function encodeQueryOutput(action: string, output: Record<string, unknown>, shapes: QueryShapes, requestId: string): string {
  const members = Object.entries(output).filter(([, v]) => v !== undefined && v !== null);
  const result = members.length ? `<${action}Result>${members.map(([k, v]) => memberXml(k, k, v, shapes)).join('')}</${action}Result>` : '';
  return `<${action}Response xmlns="${shapes.xmlns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/**
 * One member as XML under the element `tag`; `name` is the member's name (a list's items are
 * `<member>`s of their list's name). Lists as `<member>`s, maps as `<entry><key/><value/></entry>`s,
 * timestamps in ISO 8601.
 */
function memberXml(tag: string, name: string, value: unknown, shapes: QueryShapes): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `<${tag}>${value.map((v) => memberXml('member', name, v, shapes)).join('')}</${tag}>`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const inner = shapes.maps.has(name)
      ? entries.map(([k, v]) => `<entry><key>${escape(k)}</key>${memberXml('value', 'value', v, shapes)}</entry>`)
      : entries.map(([k, v]) => memberXml(k, k, v, shapes));
    return `<${tag}>${inner.join('')}</${tag}>`;
  }
  if (typeof value === 'number' && shapes.timestamps.has(name)) return `<${tag}>${new Date(value * 1000).toISOString()}</${tag}>`;
  return `<${tag}>${escape(String(value))}</${tag}>`;
}

/** The XML error of the awsQuery protocol. https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization */
export function encodeQueryError(e: LabError, xmlns: string | undefined, requestId: string): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse${xmlns ? ` xmlns="${xmlns}"` : ''}><Error><Type>${type}</Type><Code>${escape(e.code)}</Code><Message>${escape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
