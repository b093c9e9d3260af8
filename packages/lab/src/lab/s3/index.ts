import { createHash } from 'node:crypto';
import { LabError } from '../kernel';
import { toXml } from '../query';
import type { RestReply, SignedRequest, SignedService } from '../server';

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: number;
}

interface Upload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly parts: Map<number, { body: Buffer; etag: string }>;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** The lab account's canonical user id (64 hex digits, as S3's are). */
const OWNER_ID = createHash('sha256').update('canary-watchdog-lab').digest('hex');
/** Subresources of a bucket the lab answers; any other is refused by name. */
const BUCKET_SUBRESOURCES = ['location', 'list-type', 'encryption', 'versioning', 'policy', 'uploads', 'delete'];

/**
 * S3 as `cdk deploy` publishes assets through it: buckets, objects (PutObject and multipart
 * uploads, HeadObject, GetObject), ListObjectsV2, GetBucketLocation, GetBucketEncryption, and
 * ListBuckets and delimited listings as `aws s3 ls` reads them.
 * Requests come path-style (the SDK uses path-style addressing for an IP endpoint), in restXml.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
export class S3Lab implements SignedService {
  readonly name = 'S3';
  readonly signingName = 's3';
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly created = new Map<string, number>();
  private readonly uploads = new Map<string, Upload>();
  private uploadSeq = 0;

  constructor(private readonly clock: { now(): number }) {}

  createBucket(bucket: string): void {
    validateBucketName(bucket);
    // In us-east-1 creating a bucket you already own succeeds and changes nothing.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    if (!this.buckets.has(bucket)) {
      this.buckets.set(bucket, new Map());
      this.created.set(bucket, this.clock.now());
    }
  }

  deleteBucket(bucket: string): void {
    const b = this.bucket(bucket);
    if (b.size) throw new LabError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
    this.buckets.delete(bucket);
    this.created.delete(bucket);
  }

  hasBucket(bucket: string): boolean {
    return this.buckets.has(bucket);
  }

  /** An object's bytes, for CloudFormation's TemplateURL and Lambda's Code.S3Key. */
  getObject(bucket: string, key: string): Buffer {
    const o = this.bucket(bucket).get(key);
    if (!o) throw new LabError('NoSuchKey', `The specified key does not exist: s3://${bucket}/${key}`, 404);
    return o.body;
  }

  handle(req: SignedRequest): RestReply {
    try {
      return this.route(req);
    } catch (err) {
      const e = err instanceof LabError ? err : new LabError('InternalError', `lab internal error: ${(err as Error).message}`, 500);
      // A HEAD answer has no body: the status alone tells the SDK (NotFound for 404).
      if (req.method === 'HEAD') return { status: e.status };
      return { status: e.status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${toXml(e.message)}</Message></Error>` };
    }
  }

  private route(req: SignedRequest): RestReply {
    const [, bucket = '', ...rest] = req.path.split('/');
    const key = rest.join('/');
    const q = req.query;
    if (!bucket) {
      if (req.method !== 'GET') throw new LabError('NotImplemented', `${req.method} / is not supported by the lab`, 501);
      return this.listBuckets();
    }
    if (!key) {
      const sub = BUCKET_SUBRESOURCES.find((s) => q.has(s));
      const unknown = [...q.keys()].find((k) => !BUCKET_SUBRESOURCES.includes(k) && !['prefix', 'max-keys', 'continuation-token', 'start-after', 'delimiter', 'encoding-type', 'fetch-owner'].includes(k));
      if (unknown) throw new LabError('NotImplemented', `the bucket subresource ?${unknown} is not supported by the lab; it answers ${BUCKET_SUBRESOURCES.join(', ')}`, 501);
      switch (`${req.method} ${sub ?? ''}`) {
        case 'PUT ':
          this.createBucket(bucket);
          return { headers: { location: `/${bucket}` } };
        case 'HEAD ':
          this.bucket(bucket);
          return { headers: { 'x-amz-bucket-region': 'us-east-1' } };
        case 'DELETE ':
          this.deleteBucket(bucket);
          return { status: 204 };
        case 'GET location':
          this.bucket(bucket);
          // us-east-1 answers an empty LocationConstraint.
          return xml(`<LocationConstraint xmlns="${XMLNS}"></LocationConstraint>`);
        case 'GET encryption':
          this.bucket(bucket);
          // Every bucket has SSE-S3 default encryption since January 2023.
          // https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html
          return xml(`<ServerSideEncryptionConfiguration xmlns="${XMLNS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`);
        case 'GET list-type':
          return this.listObjectsV2(bucket, q);
        default:
          throw new LabError('NotImplemented', `${req.method} /${bucket}${sub ? `?${sub}` : ''} is not supported by the lab`, 501);
      }
    }
    const objects = this.bucket(bucket);
    if (req.method === 'PUT' && req.headers['x-amz-copy-source']) throw new LabError('NotImplemented', 'CopyObject and UploadPartCopy are not supported by the lab', 501);
    if (req.method === 'PUT' && q.has('uploadId')) return this.uploadPart(bucket, key, q, payload(req));
    if (req.method === 'POST' && q.has('uploads')) return this.createUpload(bucket, key, String(req.headers['content-type'] ?? 'binary/octet-stream'));
    if (req.method === 'POST' && q.has('uploadId')) return this.completeUpload(bucket, key, q.get('uploadId')!, req.body.toString('utf8'));
    if (req.method === 'DELETE' && q.has('uploadId')) {
      this.upload(q.get('uploadId')!, bucket, key);
      this.uploads.delete(q.get('uploadId')!);
      return { status: 204 };
    }
    const sub = [...q.keys()].find((k) => k !== 'x-id');
    if (sub) throw new LabError('NotImplemented', `the object subresource ?${sub} is not supported by the lab`, 501);
    switch (req.method) {
      case 'PUT': {
        const body = payload(req);
        const o = this.store(bucket, key, body, md5(body), String(req.headers['content-type'] ?? 'binary/octet-stream'));
        return { headers: { etag: o.etag } };
      }
      case 'GET':
      case 'HEAD': {
        const o = objects.get(key);
        if (!o) throw new LabError('NoSuchKey', 'The specified key does not exist.', 404);
        const headers = { etag: o.etag, 'content-type': o.contentType, 'content-length': String(o.body.length), 'last-modified': new Date(o.lastModified).toUTCString() };
        return { headers, body: req.method === 'GET' ? o.body : undefined };
      }
      case 'DELETE':
        objects.delete(key);
        return { status: 204 };
      default:
        throw new LabError('NotImplemented', `${req.method} on an object is not supported by the lab`, 501);
    }
  }

  private bucket(bucket: string): Map<string, StoredObject> {
    const b = this.buckets.get(bucket);
    if (!b) throw new LabError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
    return b;
  }

  private store(bucket: string, key: string, body: Buffer, etag: string, contentType: string): StoredObject {
    if (Buffer.byteLength(key) > 1024) throw new LabError('KeyTooLongError', 'Your key is too long (at most 1024 bytes)');
    const o = { body, etag, contentType, lastModified: this.clock.now() };
    this.bucket(bucket).set(key, o);
    return o;
  }

  /** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html */
  private listBuckets(): RestReply {
    const buckets = [...this.buckets.keys()].sort().map((Name) => `<Bucket>${toXml({ Name, CreationDate: new Date(this.created.get(Name)!) })}</Bucket>`);
    return xml(`<ListAllMyBucketsResult xmlns="${XMLNS}">${toXml({ Owner: { ID: OWNER_ID, DisplayName: 'lab' } })}<Buckets>${buckets.join('')}</Buckets></ListAllMyBucketsResult>`);
  }

  /**
   * A page of keys under a prefix. With a delimiter, the keys whose rest (after the prefix) holds
   * it are rolled up into one CommonPrefix each (a "folder"), which counts as one entry toward
   * max-keys and is never repeated on a later page. With encoding-type=url, keys and prefixes are
   * url-encoded in the answer, as the AWS CLI asks on every listing.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
   */
  private listObjectsV2(bucket: string, q: URLSearchParams): RestReply {
    const objects = this.bucket(bucket);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = q.has('max-keys') ? Number(q.get('max-keys')) : 1000;
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new LabError('InvalidArgument', `max-keys: expected an integer >= 0, got ${q.get('max-keys')}`);
    const encoding = q.get('encoding-type');
    if (encoding !== null && encoding !== 'url') throw new LabError('InvalidArgument', `Invalid Encoding Method specified in Request: encoding-type must be url, got ${JSON.stringify(encoding)}`);
    const enc = (v: string) => (encoding === 'url' ? encodeURIComponent(v).replace(/%2F/g, '/').replace(/%20/g, '+') : v);
    const after = q.get('continuation-token') ?? q.get('start-after') ?? '';
    const entries: { key?: string; commonPrefix?: string }[] = [];
    for (const key of [...objects.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at < 0) entries.push({ key });
      else {
        const commonPrefix = key.slice(0, at + delimiter.length);
        if (entries.at(-1)?.commonPrefix !== commonPrefix) entries.push({ commonPrefix });
      }
    }
    const rest = entries.filter((e) => (e.key ?? e.commonPrefix)! > after);
    const page = rest.slice(0, Math.min(maxKeys, 1000));
    const truncated = rest.length > page.length;
    const contents = page.flatMap(({ key }) => {
      if (key === undefined) return [];
      const o = objects.get(key)!;
      return [`<Contents>${toXml({ Key: enc(key), LastModified: new Date(o.lastModified), ETag: o.etag, Size: o.body.length, StorageClass: 'STANDARD' })}</Contents>`];
    });
    const prefixes = page.flatMap(({ commonPrefix }) => (commonPrefix === undefined ? [] : [`<CommonPrefixes>${toXml({ Prefix: enc(commonPrefix) })}</CommonPrefixes>`]));
    const last = page.at(-1);
    return xml(
      `<ListBucketResult xmlns="${XMLNS}">${toXml({ Name: bucket, Prefix: enc(prefix), Delimiter: delimiter ? enc(delimiter) : undefined, KeyCount: page.length, MaxKeys: maxKeys, IsTruncated: truncated, EncodingType: encoding ?? undefined })}${contents.join('')}${prefixes.join('')}${
        truncated && last ? toXml({ NextContinuationToken: last.key ?? last.commonPrefix }) : ''
      }${q.has('continuation-token') ? toXml({ ContinuationToken: q.get('continuation-token') }) : ''}${q.has('start-after') ? toXml({ StartAfter: enc(q.get('start-after')!) }) : ''}</ListBucketResult>`,
    );
  }

  private createUpload(bucket: string, key: string, contentType: string): RestReply {
    this.bucket(bucket);
    const id = `lab-upload-${++this.uploadSeq}`;
    this.uploads.set(id, { bucket, key, contentType, parts: new Map() });
    return xml(`<InitiateMultipartUploadResult xmlns="${XMLNS}">${toXml({ Bucket: bucket, Key: key, UploadId: id })}</InitiateMultipartUploadResult>`);
  }

  private upload(id: string, bucket: string, key: string): Upload {
    const u = this.uploads.get(id);
    if (!u || u.bucket !== bucket || u.key !== key) throw new LabError('NoSuchUpload', 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.', 404);
    return u;
  }

  private uploadPart(bucket: string, key: string, q: URLSearchParams, body: Buffer): RestReply {
    const u = this.upload(q.get('uploadId')!, bucket, key);
    const n = Number(q.get('partNumber'));
    // Part numbers 1 to 10,000. https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
    if (!Number.isInteger(n) || n < 1 || n > 10000) throw new LabError('InvalidArgument', `partNumber: expected an integer from 1 to 10000, got ${q.get('partNumber')}`);
    const etag = md5(body);
    u.parts.set(n, { body, etag });
    return { headers: { etag } };
  }

  private completeUpload(bucket: string, key: string, id: string, bodyXml: string): RestReply {
    const u = this.upload(id, bucket, key);
    const listed = [...bodyXml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1])?.[1]),
      etag: (/<ETag>([^<]*)<\/ETag>/.exec(m[1])?.[1] ?? '').replace(/&quot;/g, '"'),
    }));
    if (!listed.length) throw new LabError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (no Part)');
    const parts = listed.map(({ n, etag }, i) => {
      const p = u.parts.get(n);
      if (!p || p.etag.replace(/"/g, '') !== etag.replace(/"/g, '')) throw new LabError('InvalidPart', `One or more of the specified parts could not be found (part ${n})`);
      if (i > 0 && n <= listed[i - 1].n) throw new LabError('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order of the part number.');
      // Every part but the last is at least 5 MiB.
      if (i < listed.length - 1 && p.body.length < 5 * 1024 * 1024) throw new LabError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed object size (part ${n}: ${p.body.length} bytes; parts but the last need 5 MiB)`);
      return p;
    });
    const etag = `"${createHash('md5').update(Buffer.concat(parts.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')))).digest('hex')}-${parts.length}"`;
    this.store(bucket, key, Buffer.concat(parts.map((p) => p.body)), etag, u.contentType);
    this.uploads.delete(id);
    return xml(`<CompleteMultipartUploadResult xmlns="${XMLNS}">${toXml({ Location: `/${bucket}/${key}`, Bucket: bucket, Key: key, ETag: etag })}</CompleteMultipartUploadResult>`);
  }
}

const xml = (body: string): RestReply => ({ headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>${body}` });
const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

/**
 * The object's bytes: a streamed upload comes in aws-chunked encoding, `<hex size>[;ext]\r\n<data>\r\n`
 * chunks ending with a 0-size chunk and trailing checksum headers.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
function payload(req: SignedRequest): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  if (!encoding.includes('aws-chunked') && !sha.startsWith('STREAMING-')) return req.body;
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = req.body.indexOf('\r\n', at);
    if (eol < 0) throw new LabError('IncompleteBody', 'aws-chunked body ends inside a chunk header');
    const size = parseInt(req.body.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size)) throw new LabError('InvalidRequest', 'aws-chunked body has a chunk without a hexadecimal size');
    if (size === 0) break;
    out.push(req.body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  const body = Buffer.concat(out);
  const declared = Number(req.headers['x-amz-decoded-content-length']);
  if (Number.isFinite(declared) && declared !== body.length) throw new LabError('IncompleteBody', `x-amz-decoded-content-length says ${declared} bytes, the chunks hold ${body.length}`);
  return body;
}

/**
 * 3 to 63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a
 * letter or digit, not shaped like an IP address.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function validateBucketName(bucket: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || /\.\./.test(bucket) || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new LabError('InvalidBucketName', `The specified bucket is not valid: ${JSON.stringify(bucket)} (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)`);
  }
}
