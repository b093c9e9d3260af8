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
  readonly service: JsonService;

  constructor(private readonly clock: { now(): number }) {
    this.service = {
      name: 'SSM',
      targetPrefix: 'AmazonSSM',
      operations: {
        GetParameter: (input) => ({ Parameter: this.describe(this.get(name(input.Name, 'Name'))) }),
        GetParameters: (input) => {
          const names = input.Names;
          // 1 to 10 names per call (GetParameters API reference).
          if (!Array.isArray(names) || names.length < 1 || names.length > 10) throw new LabError('ValidationException', `Names: expected 1 to 10 parameter names, got ${JSON.stringify(names)}`);
          const found = names.map((n, i) => this.params.get(name(n, `Names[${i}]`)));
          return { Parameters: found.filter((p): p is Parameter => Boolean(p)).map((p) => this.describe(p)), InvalidParameters: names.filter((_n, i) => !found[i]) };
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
    return p;
  }

  /** A parameter's value, if it exists (CloudFormation's SSM parameter types read it). */
  value(paramName: string): string | undefined {
    return this.params.get(paramName)?.value;
  }

  delete(paramName: string): void {
    this.params.delete(paramName);
  }

  private get(paramName: string): Parameter {
    const p = this.params.get(paramName);
    if (!p) throw new LabError('ParameterNotFound', `Parameter ${paramName} not found.`);
    return p;
  }

  private describe(p: Parameter) {
    const path = p.name.startsWith('/') ? p.name : `/${p.name}`;
    return { Name: p.name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: p.lastModified / 1000, ARN: `arn:aws:ssm:${LAB_REGION}:${LAB_ACCOUNT}:parameter${path}`, DataType: 'text' };
  }
}

function name(v: unknown, field: string): string {
  // 1 to 2048 characters (PutParameter API reference).
  if (typeof v !== 'string' || v.length < 1 || v.length > 2048) throw new LabError('ValidationException', `${field}: expected a parameter name of 1 to 2048 characters, got ${JSON.stringify(v)}`);
  return v;
}
