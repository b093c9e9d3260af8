/**
 * The threat model's static audit: what the synthesized templates and the watchdog's
 * configuration already say about a release's chances, before any rehearsal. Each finding names
 * the construct path and the fix.
 */
import { METRIC, METRIC_URL } from 'canary-watchdog/lib/core/config';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionFacts } from './catalogue';

export interface AuditFinding {
  readonly id: 'alarm-unpublished' | 'threshold-below-baseline' | 'no-probes' | 'no-config-checks' | 'unguarded-integration' | 'canary-too-short';
  readonly severity: 'error' | 'warning';
  /** The construct path (aws:cdk:path), or the function's name. */
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

/** What the user declares about the traffic the functions get. */
export interface Declared {
  /** User requests a second per function. */
  readonly rps: number;
  /** The error rate the old version runs at. */
  readonly baselineErrorRate: number;
}

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Template = { Resources?: Record<string, Resource> };

/** Lambda's function metrics in AWS/Lambda. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html */
const LAMBDA_METRICS = new Set([
  'Invocations', 'Errors', 'DeadLetterErrors', 'DestinationDeliveryFailures', 'Throttles', 'OversizedRecordCount', 'ProvisionedConcurrencyInvocations',
  'ProvisionedConcurrencySpilloverInvocations', 'RecursiveInvocationsDropped', 'Duration', 'PostRuntimeExtensionsDuration', 'IteratorAge', 'OffsetLag',
  'ConcurrentExecutions', 'ProvisionedConcurrentExecutions', 'ProvisionedConcurrencyUtilization', 'UnreservedConcurrentExecutions', 'ClaimedAccountConcurrency',
  'AsyncEventsReceived', 'AsyncEventAge', 'AsyncEventsDropped', METRIC_URL.http5xx, METRIC_URL.requests, 'Url4xxCount', 'UrlRequestLatency',
]);

/** The templates of a cloud assembly (its stacks, nested assemblies' too). */
export function readTemplates(assembly: string): { file: string; template: Template }[] {
  const out: { file: string; template: Template }[] = [];
  for (const e of readdirSync(assembly, { withFileTypes: true })) {
    const p = join(assembly, e.name);
    if (e.isDirectory() && e.name.startsWith('assembly-')) out.push(...readTemplates(p));
    else if (e.isFile() && e.name.endsWith('.template.json')) out.push({ file: p, template: JSON.parse(readFileSync(p, 'utf8')) as Template });
  }
  return out;
}

const pathOf = (id: string, r: Resource) => String(r.Metadata?.['aws:cdk:path'] ?? id);

/** The logical id a value names: `{Ref: X}` or `{Fn::GetAtt: [X, 'Arn']}`. */
function refOf(v: unknown): string | undefined {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    const g = o['Fn::GetAtt'];
    if (Array.isArray(g) && g[1] === 'Arn' && typeof g[0] === 'string') return g[0];
  }
  return undefined;
}

/** Everything the static audit finds. */
export function audit(assembly: string, facts: readonly FunctionFacts[], declared: Declared, namespace = 'CanaryWatchdog'): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const templates = readTemplates(assembly);
  const resources = templates.flatMap((t) => Object.entries(t.template.Resources ?? {}));
  const functions = new Set(resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([id]) => id));
  const functionNames = new Set(resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function' && typeof r.Properties?.FunctionName === 'string').map(([, r]) => String(r.Properties!.FunctionName)));
  const publishes = resources.some(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.PolicyDocument ?? {}).includes('cloudwatch:PutMetricData'));
  const guardedIds = new Set(facts.map((f) => f.logicalId));

  for (const [id, r] of resources) {
    if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = r.Properties ?? {};
    const metrics: { ns: string; name: string; dims: { Name: string; Value: unknown }[] }[] = [];
    if (typeof p.MetricName === 'string') metrics.push({ ns: String(p.Namespace ?? ''), name: p.MetricName, dims: (p.Dimensions as { Name: string; Value: unknown }[]) ?? [] });
    for (const m of (p.Metrics as { MetricStat?: { Metric?: { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value: unknown }[] } } }[] | undefined) ?? []) {
      const x = m.MetricStat?.Metric;
      if (x?.MetricName) metrics.push({ ns: String(x.Namespace ?? ''), name: x.MetricName, dims: x.Dimensions ?? [] });
    }
    for (const m of metrics) {
      let problem: string | undefined;
      if (m.ns === 'AWS/Lambda') {
        const fn = m.dims.find((d) => d.Name === 'FunctionName')?.Value;
        if (!LAMBDA_METRICS.has(m.name)) problem = `AWS/Lambda publishes no metric ${m.name}`;
        else if (fn !== undefined && !(refOf(fn) && functions.has(refOf(fn)!)) && !(typeof fn === 'string' && functionNames.has(fn)) && typeof fn === 'string') problem = `no function of the app is named ${fn}`;
      } else if (m.ns === namespace) {
        if (![...Object.values(METRIC)].includes(m.name as never)) problem = `canary-watchdog publishes no metric ${m.name} in ${namespace}`;
      } else if (!m.ns.startsWith('AWS/') && !publishes) {
        problem = `nothing in the app may publish ${m.ns} ${m.name} (no IAM policy allows cloudwatch:PutMetricData)`;
      }
      if (problem) {
        findings.push({ id: 'alarm-unpublished', severity: 'error', path: pathOf(id, r), message: `the alarm can never fire: ${problem}.`, fix: 'use a metric and dimensions the app publishes (for your function: fn.metricErrors(), guarded.metricErrors()).' });
      }
    }
    // An integration of a guarded function's unqualified ARN bypasses the alias (and the canary).
  }
  for (const [id, r] of resources) {
    const p = r.Properties ?? {};
    const target =
      r.Type === 'AWS::Lambda::Url' ? p.TargetFunctionArn : r.Type === 'AWS::Lambda::Permission' || r.Type === 'AWS::Lambda::EventSourceMapping' ? p.FunctionName : undefined;
    const ref = refOf(target);
    if (ref && guardedIds.has(ref) && !(r.Type === 'AWS::Lambda::Url' && p.Qualifier)) {
      findings.push({ id: 'unguarded-integration', severity: 'error', path: pathOf(id, r), message: `${r.Type} reaches the guarded function ${ref} itself ($LATEST), not its alias: its traffic skips the canary.`, fix: 'integrate with guarded.alias (e.g. guarded.alias.addFunctionUrl(), guarded.alias.grantInvoke()).' });
    }
  }
  for (const f of facts) {
    const path = f.functionName;
    const t = f.guard.thresholds;
    if (t.maxErrorRate <= declared.baselineErrorRate) {
      findings.push({ id: 'threshold-below-baseline', severity: 'error', path, message: `maxErrorRate ${t.maxErrorRate} is at or below the declared baseline ${declared.baselineErrorRate}: a good release fails it.`, fix: `raise maxErrorRate above ${declared.baselineErrorRate}, or compare with the old version (the default baseline).` });
    }
    if (!f.guard.probes.length) findings.push({ id: 'no-probes', severity: 'warning', path, message: 'no probes: nothing exercises the new version before user traffic, and at low traffic a release can reach 100 % on no evidence.', fix: 'declare probes (GuardedFunction probes / addProbe) with the requests that matter.' });
    if (!f.guard.configChecks.length && Object.keys(f.env).some((k) => !k.startsWith('CANARY_WATCHDOG') && !k.startsWith('AWS_'))) {
      findings.push({ id: 'no-config-checks', severity: 'warning', path, message: `no configuration checks for its environment (${Object.keys(f.env).filter((k) => !k.startsWith('CANARY_WATCHDOG')).join(', ')}).`, fix: 'declare configChecks (format, oneOf, reachableWithinMs) so a bad value is stopped at 0 %.' });
    }
    const first = firstStep(f);
    const canaryRequests = declared.rps * (first.percent / 100) * first.minutes * 60;
    if (first.percent >= 100) {
      findings.push({ id: 'canary-too-short', severity: 'warning', path, message: `${f.rollout}: every user meets the new version at once; only the pre-traffic checks and probes can stop it before 100 %.`, fix: 'use Rollout.canary or Rollout.linear.' });
    } else if (canaryRequests * t.maxErrorRate < 3 || canaryRequests < t.minInvocations) {
      findings.push({
        id: 'canary-too-short',
        severity: 'warning',
        path,
        message: `${f.rollout} at ${declared.rps} requests/s sends the new version about ${Math.round(canaryRequests)} requests in its first step: a release failing at maxErrorRate ${t.maxErrorRate} shows ${Math.round(canaryRequests * t.maxErrorRate * 10) / 10} errors there (fewer than 3, or under minInvocations ${t.minInvocations}).`,
        fix: `a longer or larger first step: at least ${Math.ceil(Math.max(3 / t.maxErrorRate, t.minInvocations) / (declared.rps * (first.percent / 100) * 60))} minutes at ${first.percent} %.`,
      });
    }
  }
  return findings;
}

/** The first traffic step of a rollout: its share and how long it lasts. */
function firstStep(f: FunctionFacts): { percent: number; minutes: number } {
  const m = /(\d+(?:\.\d+)?) % (?:for|every) (\d+(?:\.\d+)?) min/.exec(f.rollout);
  return m ? { percent: Number(m[1]), minutes: Number(m[2]) } : { percent: 100, minutes: 0 };
}
