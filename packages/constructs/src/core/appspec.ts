import { parse as parseYaml } from 'yaml';
import { InputError } from './validate';

/** The Lambda part of a CodeDeploy AppSpec: which alias moves from which version to which. */
export interface LambdaAppSpec {
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  readonly hooks: { readonly beforeAllowTraffic?: string; readonly afterAllowTraffic?: string };
}

/**
 * Parse AppSpec content (YAML or JSON) of a Lambda deployment. The hook payload does not carry
 * the target version, so hooks and the watchdog read it from here.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html#reference-appspec-file-structure-resources-lambda
 */
export function parseLambdaAppSpec(content: string): LambdaAppSpec {
  let doc: unknown;
  try {
    doc = parseYaml(content);
  } catch (err) {
    throw new InputError(`AppSpec: neither YAML nor JSON: ${(err as Error).message}`, 'appspec');
  }
  const root = asRecord(doc, 'AppSpec');
  const resources = root.Resources ?? root.resources;
  if (!Array.isArray(resources) || resources.length !== 1) {
    throw new InputError('AppSpec.Resources: expected exactly one Lambda function resource', 'appspec.Resources');
  }
  const entry = asRecord(resources[0], 'AppSpec.Resources[0]');
  const [logicalName] = Object.keys(entry);
  const res = asRecord(entry[logicalName], `AppSpec.Resources[0].${logicalName}`);
  const props = asRecord(res.Properties ?? res.properties, `AppSpec.Resources[0].${logicalName}.Properties`);
  const field = (name: string): string => {
    const v = props[name] ?? props[name[0].toLowerCase() + name.slice(1)];
    if ((typeof v !== 'string' && typeof v !== 'number') || String(v) === '') {
      throw new InputError(`AppSpec.Resources[0].${logicalName}.Properties.${name}: expected a string, got ${JSON.stringify(v)}`, `appspec.${name}`);
    }
    return String(v);
  };
  const hooks: { beforeAllowTraffic?: string; afterAllowTraffic?: string } = {};
  const rawHooks = root.Hooks ?? root.hooks;
  if (Array.isArray(rawHooks)) {
    for (const h of rawHooks) {
      const r = asRecord(h, 'AppSpec.Hooks[]');
      if (typeof r.BeforeAllowTraffic === 'string') hooks.beforeAllowTraffic = r.BeforeAllowTraffic;
      if (typeof r.AfterAllowTraffic === 'string') hooks.afterAllowTraffic = r.AfterAllowTraffic;
    }
  }
  return {
    functionName: field('Name'),
    alias: field('Alias'),
    currentVersion: field('CurrentVersion'),
    targetVersion: field('TargetVersion'),
    hooks,
  };
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InputError(`${what}: expected a mapping, got ${Array.isArray(v) ? 'a list' : JSON.stringify(v)}`, what);
  }
  return v as Record<string, unknown>;
}
