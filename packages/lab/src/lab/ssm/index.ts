import { createHash } from 'node:crypto';
import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService } from '../kernel';

interface Parameter {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly value: string;
  readonly version: number;
  readonly lastModified: number;
}

const TYPES = ['String', 'StringList', 'SecureString'] as const;

/**
 * SSM Parameter Store as `cdk deploy` reads it (the bootstrap version parameter) and as
 * CloudFormation's AWS::SSM::Parameter writes it.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 */
export class SsmLab {
  private readonly params = new Map<string, Parameter>();
  /** Every version of each parameter, oldest first (a name:version selector reads them). */
  private readonly history = new Map<string, Parameter[]>();
  readonly service: JsonService;

  constructor(private readonly clock: { now(): number }) {
    this.service = {
      name: 'SSM',
      targetPrefix: 'AmazonSSM',
      operations: {
        GetParameter: (input) => ({ Parameter: this.describe(this.select(name(input.Name, 'Name'), true), input.WithDecryption === true) }),
        GetParameters: (input) => {
          const names = input.Names;
          // 1 to 10 names per call (GetParameters API reference).
          if (!Array.isArray(names) || names.length < 1 || names.length > 10) throw new LabError('ValidationException', `Names: expected 1 to 10 parameter names, got ${JSON.stringify(names)}`);
          const found = names.map((n, i) => this.select(name(n, `Names[${i}]`), false));
          return { Parameters: found.filter((p): p is Selected => Boolean(p)).map((p) => this.describe(p, input.WithDecryption === true)), InvalidParameters: names.filter((_n, i) => !found[i]) };
        },
        // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
        GetParametersByPath: (input) => {
          const path = input.Path;
          if (typeof path !== 'string' || !path.startsWith('/') || path.length > 2048) throw new LabError('ValidationException', `Path: expected a hierarchy starting with "/", got ${JSON.stringify(path)}`);
          if (input.ParameterFilters !== undefined) throw new LabError('ValidationException', 'ParameterFilters: the lab does not model parameter filters on GetParametersByPath');
          const max = input.MaxResults ?? 10;
          if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 10) throw new LabError('ValidationException', `MaxResults: expected an integer from 1 to 10, got ${JSON.stringify(input.MaxResults)}`);
          const base = path.endsWith('/') ? path : `${path}/`;
          // Without Recursive, only the parameters one level below the path.
          const names = [...this.params.keys()].filter((n) => n.startsWith(base) && (input.Recursive === true || !n.slice(base.length).includes('/'))).sort();
          const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
          if (!Number.isInteger(start) || start < 0 || start > names.length) throw new LabError('ValidationException', `NextToken: not a token this lab returned: ${JSON.stringify(input.NextToken)}`);
          const end = start + (max as number);
          return { Parameters: names.slice(start, end).map((n) => this.describe(this.params.get(n)!, input.WithDecryption === true)), ...(end < names.length ? { NextToken: String(end) } : {}) };
        },
        PutParameter: (input) => ({ Version: this.put(name(input.Name, 'Name'), input.Value, input.Type ?? 'String', input.Overwrite === true).version, Tier: 'Standard' }),
        DeleteParameter: (input) => {
          this.get(name(input.Name, 'Name'));
          this.params.delete(String(input.Name));
          return {};
        },
      },
    };
  }

  put(paramName: string, value: unknown, type: unknown, overwrite: boolean): Parameter {
    if (typeof value !== 'string' || value.length === 0) throw new LabError('ValidationException', `Value: expected a non-empty string, got ${JSON.stringify(value)}`);
    if (!TYPES.includes(type as Parameter['type'])) throw new LabError('ValidationException', `Type: expected one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    const key = paramName;
    const old = this.params.get(key);
    if (old && !overwrite) throw new LabError('ParameterAlreadyExists', `The parameter already exists. To overwrite this value, set the overwrite option in the request to true.`);
    const p: Parameter = { name: paramName, type: type as Parameter['type'], value, version: (old?.version ?? 0) + 1, lastModified: this.clock.now() };
    this.params.set(key, p);
    this.history.set(key, [...(old ? (this.history.get(key) ?? []) : []), p]);
    return p;
  }

  /** A parameter's value, if it exists (CloudFormation's SSM parameter types read it). */
  value(paramName: string): string | undefined {
    return this.params.get(paramName)?.value;
  }

  delete(paramName: string): void {
    this.params.delete(paramName);
    this.history.delete(paramName);
  }

  private get(paramName: string): Parameter {
    const p = this.params.get(paramName);
    if (!p) throw new LabError('ParameterNotFound', `Parameter ${paramName} not found.`);
    return p;
  }

  /**
   * The parameter a name asks for: `name`, or `name:version` for an older version (names hold no
   * colon, so the first one starts the selector). Labels (`name:label`) are not modelled.
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
   */
  private select(asked: string, orThrow: true): Selected;
  private select(asked: string, orThrow: false): Selected | undefined;
  private select(asked: string, orThrow: boolean): Selected | undefined {
    const colon = asked.indexOf(':');
    if (colon < 0) return orThrow ? this.get(asked) : this.params.get(asked);
    const [paramName, selector] = [asked.slice(0, colon), asked.slice(colon)];
    if (!/^:\d+$/.test(selector)) throw new LabError('ValidationException', `${asked}: the lab does not model parameter labels (name:label); select a version with name:N`);
    const versions = this.history.get(paramName);
    if (!versions) {
      if (orThrow) throw new LabError('ParameterNotFound', `Parameter ${paramName} not found.`);
      return undefined;
    }
    const p = versions.find((v) => v.version === Number(selector.slice(1)));
    if (!p) throw new LabError('ParameterVersionNotFound', `Systems Manager could not find version ${selector.slice(1)} of ${paramName}. Verify the version and try again.`);
    return { ...p, selector };
  }

  /**
   * A parameter as the API answers it. A SecureString read without WithDecryption answers its
   * ciphertext, never the value (here an opaque base64 blob standing for the KMS ciphertext).
   * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
   */
  private describe(p: Selected, decrypt: boolean) {
    const path = p.name.startsWith('/') ? p.name : `/${p.name}`;
    const value = p.type === 'SecureString' && !decrypt ? ciphertext(p) : p.value;
    return {
      Name: p.name,
      Type: p.type,
      Value: value,
      Version: p.version,
      ...(p.selector ? { Selector: p.selector } : {}),
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${LAB_REGION}:${LAB_ACCOUNT}:parameter${path}`,
      DataType: 'text',
    };
  }
}

type Selected = Parameter & { readonly selector?: string };

/** Stands for a SecureString's KMS ciphertext: opaque, stable per version, and not the value. */
function ciphertext(p: Parameter): string {
  return Buffer.concat([Buffer.from('lab-kms-ciphertext:'), createHash('sha256').update(`${p.name}|${p.version}|${p.value}`).digest()]).toString('base64');
}

function name(v: unknown, field: string): string {
  // 1 to 2048 characters (PutParameter API reference).
  if (typeof v !== 'string' || v.length < 1 || v.length > 2048) throw new LabError('ValidationException', `${field}: expected a parameter name of 1 to 2048 characters, got ${JSON.stringify(v)}`);
  return v;
}
