import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { FaultOutcome } from './faults';
import { LabError, type JsonService } from './kernel';
import { decodeQueryInput, encodeQueryError, encodeQueryOutput } from './query-protocol';

/** A REST route (Lambda's restJson1, the lab's control API). */
export interface RestRoute {
  /** `Service.Operation`, for request counts and fault injection. */
  readonly name?: string;
  readonly method: string;
  /** Path pattern with `:name` segments. */
  readonly pattern: string;
  readonly handle: (req: RestRequest) => Promise<RestReply> | RestReply;
}

export interface RestRequest {
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface RestReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/**
 * A service told apart by the signing name in its SigV4 credential scope (`.../us-east-1/s3/aws4_request`):
 * the awsQuery services (STS, CloudFormation) all POST form bodies to `/`, and S3's paths are its
 * buckets and keys. It answers in its own protocol, errors included.
 */
export interface SignedService {
  readonly name: string;
  readonly signingName: string;
  handle(req: SignedRequest): Promise<RestReply> | RestReply;
}

export interface SignedRequest {
  readonly method: string;
  /** The decoded path. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** The access key id that signed the request. */
  readonly accessKeyId?: string;
}

/**
 * Faults injected per API operation (`Service.Operation`): an error is answered before the
 * operation runs; a latency is told to the caller in the `x-lab-elapsed-ms` header, which moves
 * the calling invocation's clock on by that much (lambda/worker.js), success or error.
 */
export interface FaultInjector {
  /** `table`: the DynamoDB table the call names (its TableName), for faults on one table. */
  fault(service: string, operation: string, table?: string): FaultOutcome;
}

/** Response header: how long the call took in virtual time, ms (read by lambda/worker.js). */
export const ELAPSED_HEADER = 'x-lab-elapsed-ms';

/** The access key id that signed a request (SigV4 `Credential=<key>/<date>/...`), if signed. */
export function callerKey(req: { headers: IncomingMessage['headers'] }): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

/** What one request learnt along the way: the latency its faults add. */
interface Exchange {
  latencyMs: number;
}

/**
 * Asked before every operation runs whether the signer may make the call (the lab's IAM); an
 * error in the service's AccessDenied shape when it may not.
 */
export interface Authorizer {
  authorize(accessKeyId: string | undefined, call: { readonly service: string; readonly operation: string; readonly input: Readonly<Record<string, unknown>> }): LabError | undefined;
}

/**
 * The access key id that signed a request, from SigV4's Authorization header or a presigned URL's
 * X-Amz-Credential. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-signed-request-examples.html
 */
export function accessKeyOf(headers: IncomingMessage['headers'], url = '/'): string | undefined {
  const header = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1];
  return header ?? new URL(url, 'http://lab').searchParams.get('X-Amz-Credential')?.split('/')[0] ?? undefined;
}

const JSON_CONTENT = { '1.0': 'application/x-amz-json-1.0', '1.1': 'application/x-amz-json-1.1' } as const;

/**
 * One HTTP server on 127.0.0.1 for every emulated service. JSON-protocol services are told
 * apart by `X-Amz-Target` (`<prefix>.<Operation>`); everything else is matched against the REST
 * routes. Errors come back in AWS's JSON error shape.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
 */
export class LabServer {
  private server?: Server;
  readonly requests = new Map<string, number>();

  constructor(
    private services: readonly JsonService[],
    private routes: readonly RestRoute[],
    private readonly faults?: FaultInjector,
    private signed: readonly SignedService[] = [],
    private readonly authorizer?: Authorizer,
  ) {}

  /** Serve other services from now on (the lab's reset). */
  replace(services: readonly JsonService[], routes: readonly RestRoute[], signed: readonly SignedService[] = this.signed): void {
    this.services = services;
    this.routes = routes;
    this.signed = signed;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const addr = this.server.address() as AddressInfo;
    return `http://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private count(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    // The SDK gzips large request bodies (PutMetricData over 10 KB).
    if (String(req.headers['content-encoding'] ?? '').includes('gzip')) body = gunzipSync(body);
    const target = req.headers['x-amz-target'];
    const form = typeof target === 'string' ? undefined : queryParams(req, body);
    // Smithy RPC v2 CBOR (newer SDKs for CloudWatch, DynamoDB...): not spoken by the lab; the refusal
    // is written in CBOR so that the client reports it instead of failing to parse it.
    // https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
    if (req.headers['smithy-protocol'] === 'rpc-v2-cbor') {
      const e = new LabError('UnknownOperationException', `the lab does not speak the rpcv2Cbor protocol (${req.url}); configure the client for awsJson (or awsQuery for CloudWatch)`);
      res.writeHead(e.status, { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor', 'x-amzn-errortype': e.code, 'x-amzn-requestid': `lab-${Date.now().toString(36)}` });
      res.end(cborTextMap({ __type: e.code, message: e.message }));
      return;
    }
    const ex: Exchange = { latencyMs: 0 };
    try {
      if (typeof target === 'string') return await this.handleJson(target, req, body, res, ex);
      const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
      const signed = scope && this.signed.find((s) => s.signingName === scope[2]);
      if (signed) return await this.handleSigned(signed, scope[1], req, body, res);
      if (form) return await this.handleQuery(form, req, res, ex);
      return await this.handleRest(req, body, res, ex);
    } catch (err) {
      const e = err instanceof LabError ? err : new LabError('InternalFailure', `lab internal error: ${(err as Error).message}`, 500);
      if (form) {
        const requestId = `lab-${Date.now().toString(36)}`;
        res.writeHead(e.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...elapsed(ex) });
        res.end(encodeQueryError(e, this.queryService(form)?.query?.xmlns, requestId));
        return;
      }
      const version = (req.headers['content-type'] ?? '').includes('1.1') ? '1.1' : '1.0';
      // Only awsQuery-compatible services (CloudWatch) send this header, which their clients read
      // the code from; on any other JSON error botocore would add QueryErrorCode and Type: Sender.
      // https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait
      const queryCompatible = typeof target === 'string' && this.services.some((s) => s.query && s.targetPrefix === target.slice(0, target.lastIndexOf('.')));
      res.writeHead(e.status, {
        'content-type': typeof target === 'string' ? JSON_CONTENT[version] : 'application/json',
        'x-amzn-errortype': e.code,
        ...(queryCompatible ? { 'x-amzn-query-error': `${e.code};${e.status >= 500 ? 'Receiver' : 'Sender'}` } : {}),
        'x-amzn-requestid': `lab-${Date.now().toString(36)}`,
        ...elapsed(ex),
      });
      res.end(JSON.stringify({ ...e.fields, __type: e.code, message: e.message, Message: e.message }));
    }
  }

  /** Apply the injector's faults to one call: note its latency, throw its error. */
  private injectFaults(service: string, operation: string, ex: Exchange, table?: string): void {
    const f = this.faults?.fault(service, operation, table);
    if (!f) return;
    ex.latencyMs += f.latencyMs;
    if (f.error) throw f.error;
  }

  private async handleJson(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse, ex: Exchange): Promise<void> {
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const op = target.slice(dot + 1);
    const service = this.services.find((s) => s.targetPrefix === prefix);
    if (!service) throw new LabError('UnknownOperationException', `the lab does not emulate the service of ${target}`);
    const operation = service.operations[op];
    this.count(`${service.name}.${op}`);
    if (!operation) throw new LabError('UnknownOperationException', `${service.name}.${op} is not supported by the lab`);
    let input: Record<string, unknown>;
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch (err) {
      this.injectFaults(service.name, op, ex);
      throw new LabError('SerializationException', `request body is not JSON: ${(err as Error).message}`);
    }
    // A fault on one table meets the calls that name it.
    this.injectFaults(service.name, op, ex, typeof input?.TableName === 'string' ? input.TableName : undefined);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new LabError('SerializationException', 'request body must be a JSON object');
    this.authorize(req, { service: service.name, operation: op, input });
    const output = await operation(input, { accessKeyId: callerKey(req) });
    const version = (req.headers['content-type'] ?? '').includes('1.1') ? '1.1' : '1.0';
    res.writeHead(200, { 'content-type': JSON_CONTENT[version], 'x-amzn-requestid': `lab-${Date.now().toString(36)}`, ...elapsed(ex) });
    res.end(JSON.stringify(output ?? {}));
  }

  /** The service an awsQuery request's `Version` names, among those that speak awsQuery. */
  private queryService(form: URLSearchParams): JsonService | undefined {
    return this.services.find((s) => s.query && s.query.version === form.get('Version'));
  }

  /**
   * An awsQuery request (`Action=...&Version=...`, form-encoded), answered in XML.
   * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
   */
  /** Throw the service's AccessDenied when the signer may not make the call. */
  private authorize(req: IncomingMessage, call: Parameters<Authorizer['authorize']>[1]): void {
    const denied = this.authorizer?.authorize(accessKeyOf(req.headers, req.url), call);
    if (denied) throw denied;
  }

  private async handleQuery(form: URLSearchParams, req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
    const action = form.get('Action');
    if (!action) throw new LabError('MissingAction', 'The request must contain the parameter Action.');
    const service = this.queryService(form);
    if (!service?.query) {
      const spoken = this.services.flatMap((s) => (s.query ? [`${s.name} (Version=${s.query.version})`] : []));
      throw new LabError('InvalidAction', `The lab serves no awsQuery service with Version=${form.get('Version') ?? '(none)'}; it speaks awsQuery for ${spoken.join(', ') || 'no service'}.`);
    }
    const operation = service.operations[action];
    this.count(`${service.name}.${action}`);
    if (!operation) throw new LabError('InvalidAction', `The action ${action} is not valid for this web service: ${service.name}.${action} is not supported by the lab.`);
    this.injectFaults(service.name, action, ex);
    const input = decodeQueryInput(form, service.query);
    this.authorize(req, { service: service.name, operation: action, input });
    const output = (await operation(input)) as Record<string, unknown> | undefined;
    const requestId = `lab-${Date.now().toString(36)}`;
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...elapsed(ex) });
    res.end(encodeQueryOutput(action, output ?? {}, service.query, requestId));
  }

  private async handleSigned(service: SignedService, accessKeyId: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    this.count(`${service.name}.${req.method}`);
    const reply = await service.handle({ method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, body, accessKeyId });
    res.writeHead(reply.status ?? 200, { 'x-amzn-requestid': `lab-${Date.now().toString(36)}`, ...(reply.headers ?? {}) });
    res.end(reply.body instanceof Buffer || typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  private async handleRest(req: IncomingMessage, body: Buffer, res: ServerResponse, ex: Exchange): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    const path = decodeURIComponent(url.pathname);
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const params = match(route.pattern, path);
      if (!params) continue;
      this.count(route.name ?? `${route.method} ${route.pattern}`);
      if (route.name) {
        const [service, op] = route.name.split('.');
        const qualifier = url.searchParams.get('Qualifier');
        this.authorize(req, { service, operation: op, input: { ...params, ...(qualifier === null ? {} : { Qualifier: qualifier }) } });
        this.injectFaults(service, op, ex);
      }
      const reply = await route.handle({
        params,
        query: url.searchParams,
        headers: req.headers,
        body,
        json: <T>() => {
          if (!body.length) return {} as T;
          try {
            return JSON.parse(body.toString('utf8')) as T;
          } catch (err) {
            throw new LabError('InvalidRequestContentException', `request body is not JSON: ${(err as Error).message}`);
          }
        },
      });
      const raw = reply.body instanceof Buffer;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...(reply.headers ?? {}), ...addElapsed(reply.headers, ex) });
      res.end(raw ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body));
      return;
    }
    throw new LabError('UnknownOperationException', `${req.method} ${path} is not supported by the lab`, 404);
  }
}

/** The elapsed-time header of a call slowed by a fault; none otherwise. */
const elapsed = (ex: Exchange): Record<string, string> => (ex.latencyMs > 0 ? { [ELAPSED_HEADER]: String(Math.round(ex.latencyMs)) } : {});

/** A reply that already says how long it took (Invoke) takes the fault's latency on top. */
function addElapsed(headers: Record<string, string> | undefined, ex: Exchange): Record<string, string> {
  if (!(ex.latencyMs > 0)) return {};
  return { [ELAPSED_HEADER]: String(Math.round(Number(headers?.[ELAPSED_HEADER] ?? 0) + ex.latencyMs)) };
}

/** A CBOR map of text strings (RFC 8949 major types 5 and 3), enough for an error body. */
export function cborTextMap(map: Record<string, string>): Buffer {
  const head = (major: number, n: number) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  const text = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  };
  const entries = Object.entries(map);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [text(k), text(v)])]);
}

/**
 * The parameters of an awsQuery request: a form-encoded body posted to `/` or naming an Action,
 * or a GET whose query string names an Action. (`curl -d` posts the control API's JSON as a form:
 * those requests go to their routes.)
 */
function queryParams(req: IncomingMessage, body: Buffer): URLSearchParams | undefined {
  const url = new URL(req.url ?? '/', 'http://lab');
  if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(body.toString('utf8'));
    for (const [k, v] of url.searchParams) if (!params.has(k)) params.append(k, v);
    return url.pathname === '/' || params.has('Action') ? params : undefined;
  }
  return req.method === 'GET' && url.searchParams.has('Action') ? url.searchParams : undefined;
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = a[i];
    else if (p[i] !== a[i]) return undefined;
  }
  return params;
}
