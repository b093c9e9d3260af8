/**
 * What CloudFormation does to a template before it creates anything: parameters take their
 * values (given, previous, default, or read from SSM for the `AWS::SSM::Parameter::Value<...>`
 * types), rules are asserted, conditions are evaluated, and `Fn::If`, `AWS::NoValue` and the
 * resources and outputs whose condition is false drop out. What is left holds only Ref, GetAtt,
 * Sub, Join, Select and Split, which the lab's loader resolves.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
 */
import { LAB_ACCOUNT, LAB_REGION, LabError } from '../kernel';

export interface RawTemplate {
  readonly Parameters?: Record<string, { Type: string; Default?: unknown; AllowedValues?: unknown[]; NoEcho?: unknown; Description?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Rules?: Record<string, { RuleCondition?: unknown; Assertions?: { Assert: unknown; AssertDescription?: string }[] }>;
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown>; UpdatePolicy?: Record<string, unknown>; DependsOn?: string | string[]; Condition?: string; DeletionPolicy?: string }>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string; Condition?: string; Export?: unknown }>;
  readonly Description?: string;
  readonly [k: string]: unknown;
}

export interface ParameterInput {
  readonly ParameterKey: string;
  readonly ParameterValue?: string;
  readonly UsePreviousValue?: boolean | string;
}

export interface Flattened {
  readonly template: RawTemplate & { Resources: NonNullable<RawTemplate['Resources']> };
  /** Every parameter's value as given or defaulted (SSM parameter names, not their values, as CloudFormation reports them). */
  readonly parameters: { ParameterKey: string; ParameterValue: string; ResolvedValue?: string }[];
}

const err = (message: string) => new LabError('ValidationError', message);
const NO_VALUE = Symbol('AWS::NoValue');

export function flattenTemplate(
  template: RawTemplate,
  stackName: string,
  given: readonly ParameterInput[],
  previous: ReadonlyMap<string, string>,
  ssm: (name: string) => string | undefined,
): Flattened {
  if (typeof template !== 'object' || template === null || typeof template.Resources !== 'object' || template.Resources === null || !Object.keys(template.Resources).length) {
    throw err('Template format error: At least one Resources member must be defined.');
  }
  const declared = template.Parameters ?? {};
  const unknown = given.map((p) => p.ParameterKey).filter((k) => !(k in declared));
  if (unknown.length) throw err(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
  const values = new Map<string, unknown>();
  const report: Flattened['parameters'] = [];
  const missing: string[] = [];
  for (const [key, decl] of Object.entries(declared)) {
    const g = given.find((p) => p.ParameterKey === key);
    const usePrevious = g?.UsePreviousValue === true || g?.UsePreviousValue === 'true';
    const raw = usePrevious ? previous.get(key) : (g?.ParameterValue ?? (decl.Default === undefined ? undefined : String(decl.Default)));
    if (usePrevious && raw === undefined) throw err(`Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`);
    if (raw === undefined) {
      missing.push(key);
      continue;
    }
    if (decl.AllowedValues && !decl.AllowedValues.map(String).includes(raw)) {
      throw err(`Parameter '${key}' must be one of AllowedValues`);
    }
    const ssmType = /^AWS::SSM::Parameter::Value<(.+)>$/.exec(decl.Type);
    if (ssmType) {
      const v = ssm(raw);
      if (v === undefined) throw err(`Unable to fetch parameters [${raw}] from parameter store for this account.`);
      values.set(key, ssmType[1].startsWith('List<') || ssmType[1] === 'CommaDelimitedList' ? v.split(',') : v);
      report.push({ ParameterKey: key, ParameterValue: raw, ResolvedValue: v });
      continue;
    }
    if (decl.Type === 'Number' && !Number.isFinite(Number(raw))) throw err(`Parameter '${key}' must be a number`);
    values.set(key, decl.Type === 'CommaDelimitedList' || decl.Type.startsWith('List<') ? raw.split(',') : raw);
    report.push({ ParameterKey: key, ParameterValue: raw });
  }
  if (missing.length) throw err(`Parameters: [${missing.join(', ')}] must have values`);

  const pseudo: Record<string, unknown> = { 'AWS::Region': LAB_REGION, 'AWS::AccountId': LAB_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': stackName };
  const conditions = new Map<string, boolean>();
  const evaluating = new Set<string>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const def = template.Conditions?.[name];
    if (def === undefined) throw err(`Template format error: Unresolved dependencies [${name}]. Cannot reference resources in the Conditions block of the template`);
    if (evaluating.has(name)) throw err(`Template format error: circular condition ${name}`);
    evaluating.add(name);
    const v = truth(def, `Conditions.${name}`);
    conditions.set(name, v);
    return v;
  };
  // A value inside a condition or rule: parameters and pseudo parameters only.
  const scalar = (v: unknown, where: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => scalar(x, where));
    const [k, arg] = Object.entries(v as Record<string, unknown>)[0] ?? [];
    if (k === 'Ref') {
      const name = String(arg);
      if (values.has(name)) return values.get(name);
      if (name in pseudo) return pseudo[name];
      throw err(`Template format error: ${where} refers to ${name}, which is not a parameter (conditions and rules see parameters only)`);
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return (scalar(parts, where) as unknown[]).join(sep);
    }
    if (k === 'Fn::Select') {
      const [i, list] = arg as [unknown, unknown];
      return (scalar(list, where) as unknown[])[Number(scalar(i, where))];
    }
    if (k?.startsWith('Fn::') || k === 'Condition') return truth(v, where);
    return v;
  };
  const truth = (v: unknown, where: string): boolean => {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    const [k, arg] = Object.entries((v ?? {}) as Record<string, unknown>)[0] ?? [];
    const args = (Array.isArray(arg) ? arg : [arg]) as unknown[];
    switch (k) {
      case 'Condition':
        return condition(String(arg));
      case 'Fn::Equals':
        return String(scalar(args[0], where)) === String(scalar(args[1], where));
      case 'Fn::Not':
        return !truth(args[0], where);
      case 'Fn::And':
        return args.every((a) => truth(a, where));
      case 'Fn::Or':
        return args.some((a) => truth(a, where));
      case 'Fn::Contains':
        return (scalar(args[0], where) as unknown[]).map(String).includes(String(scalar(args[1], where)));
      case 'Fn::EachMemberEquals':
        return (scalar(args[0], where) as unknown[]).every((x) => String(x) === String(scalar(args[1], where)));
      default:
        throw err(`Template format error: ${where}: ${k ?? JSON.stringify(v)} is not a condition function the lab evaluates (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Condition)`);
    }
  };

  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && !truth(rule.RuleCondition, `Rules.${name}`)) continue;
    for (const a of rule.Assertions ?? []) {
      if (!truth(a.Assert, `Rules.${name}`)) throw err(a.AssertDescription ?? `Template error: rule ${name} failed`);
    }
  }

  const sub = (text: string, locals: Record<string, unknown>) =>
    text.replace(/\$\{([^}!.]+)\}/g, (m, name: string) => (name in locals || !values.has(name) ? m : String(values.get(name))));
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const arg = o[keys[0]];
      if (keys[0] === 'Ref' && arg === 'AWS::NoValue') return NO_VALUE;
      if (keys[0] === 'Ref' && values.has(String(arg))) return values.get(String(arg));
      if (keys[0] === 'Fn::If') {
        const [c, yes, no] = arg as [string, unknown, unknown];
        return walk(condition(c) ? yes : no);
      }
      if (keys[0] === 'Fn::Sub') {
        if (typeof arg === 'string') return { 'Fn::Sub': sub(arg, {}) };
        const [text, locals] = arg as [string, Record<string, unknown>];
        return { 'Fn::Sub': [sub(text, locals), walk(locals)] };
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      const w = walk(x);
      if (w !== NO_VALUE) out[k] = w;
    }
    return out;
  };
  const resources: NonNullable<RawTemplate['Resources']> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Condition !== undefined && !condition(r.Condition)) continue;
    resources[id] = walk(r) as typeof r;
  }
  const outputs: NonNullable<RawTemplate['Outputs']> = {};
  for (const [id, o] of Object.entries(template.Outputs ?? {})) {
    if (o.Condition !== undefined && !condition(o.Condition)) continue;
    outputs[id] = walk(o) as typeof o;
  }
  return { template: { ...template, Resources: resources, Outputs: outputs }, parameters: report };
}
