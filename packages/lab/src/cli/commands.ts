import { loadTrafficFile } from '../lab/user-events';
import { buildLayers, parseWatchdogConfig } from 'canary-watchdog/lib/core/config';
import { summarize, type DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import type { SignalSpec } from 'canary-watchdog/lib/core/types';
import { InputError } from 'canary-watchdog/lib/core/validate';
import { resolve } from 'node:path';
import { asDecision } from '../lab/events/decisions';
import { LabError } from '../lab/kernel';
import { Lab } from '../lab/lab';
import { isLabNote } from '../lab/lambda';
import { synthSampleApp } from '../lab/sample-app';
import { badInput } from './exit-codes';
import { checkCloudAssembly, checkPortFree, portInUse } from './preflight';
import { terminalSafe } from './terminal-text';

/** A rate (0-1) in percent, without trailing zeros: 0.05 is "5 %". */
const percent = (rate: number): string => `${+(rate * 100).toPrecision(6)} %`;

function describeSignal(s: SignalSpec): string {
  switch (s.kind) {
    case 'alarm':
      return `alarm ${s.alarmName} (fails in ALARM; INSUFFICIENT_DATA is insufficient evidence)`;
    case 'rate': {
      const dims = Object.entries(s.events.dimensions).map(([k, v]) => `${k}=${v}`).join(',');
      const base = s.baseline ? `; or worse than the old version by > ${percent(s.baseline.tolerance)} (p < ${s.baseline.alpha})` : '';
      // One metric read twice (ProbeFailure: Sum of failures over SampleCount) is named once.
      const metrics = s.events.metricName === s.total.metricName ? `${s.events.metricName} ${s.events.stat}/${s.total.stat}` : `${s.events.metricName}/${s.total.metricName}`;
      return `${s.name}: ${s.events.namespace} ${metrics} [${dims}] fails above ${percent(s.maxRate)} (p < ${s.alpha}) after ${s.minSamples} samples${base}`;
    }
    case 'value': {
      const limits = [s.max !== undefined ? `> ${s.max} ${s.unit}` : '', s.baseline ? `> ${s.baseline.maxRatio}x old and +${s.baseline.minExcess} ${s.unit}` : '']
        .filter(Boolean)
        .join(' or ');
      return `${s.name}: ${s.value.namespace} ${s.value.metricName} ${s.value.stat} fails ${limits} after ${s.minSamples} samples`;
    }
    case 'telemetry':
      return `${s.name}: the new version's invocations counted by the telemetry extension (state table, seconds late) fail above ${percent(s.maxRate)} (p < ${s.alpha}) after ${s.minSamples} samples`;
    case 'inits':
      return `${s.name}: both versions' cold starts from their init reports (telemetry extension) fail when the new median init is significantly above ${s.maxRatio}x the old and +${s.minExcessMs} ms (p < ${s.alpha})`;
  }
}

/** Validate a configuration and describe what it guards, layer by layer. */
export function checkConfigReport(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`configuration is not valid JSON: ${(err as Error).message}`, 'config');
  }
  const config = parseWatchdogConfig(json);
  const lines = [
    `configuration is valid: ${config.guards.length} guarded function(s), mode ${config.mode}, namespace ${config.namespace}`,
    `policy: blind after ${config.policy.blindAfter} unreadable evaluations; final-shift guard ${config.policy.finalShiftGuardSeconds} s; pre-existing alarms ${config.policy.preexistingAlarms}`,
  ];
  for (const g of config.guards) {
    lines.push('', `${g.functionName}:${g.alias}  (CodeDeploy ${g.application}/${g.deploymentGroup}, bake ${g.bakeMinutes} min)`);
    for (const layer of buildLayers(g, config.namespace)) {
      lines.push(`  ${layer.name}${layer.signals.length ? '' : ': no signals (not applicable)'}`);
      for (const s of layer.signals) lines.push(`    - ${describeSignal(s)}`);
    }
    if (g.configChecks.length) lines.push(`  pre-traffic config checks: ${g.configChecks.map((c) => `${c.key} (${c.format}${c.required ? '' : ', optional'})`).join(', ')}`);
    if (g.probes.length) lines.push(`  probes: ${g.probes.map((p) => p.name).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The JSON values in `text`, in order: one document (a record, an array, a pretty-printed
 * object), JSON lines, or log lines with a prefix (timestamp, request id, level) before their
 * JSON. Text between values, and a value that does not parse, is skipped.
 */
export function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  const opening = /[{[]/g;
  for (let m = opening.exec(text); m; m = opening.exec(text)) {
    const end = closingIndex(text, m.index);
    if (end < 0) continue;
    try {
      values.push(JSON.parse(text.slice(m.index, end + 1)));
      opening.lastIndex = end + 1;
    } catch {
      // Not JSON from here (a "[INFO]" prefix): look on from the next character.
    }
  }
  return values;
}

/** Index of the bracket that closes the one at `from`, strings and escapes skipped; -1 if none. */
function closingIndex(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

/** The pre-traffic hook's record (its log line's `record`): a release it failed has no decision record. */
export interface PreTrafficRecord {
  readonly type: 'canary-watchdog.pre-traffic';
  readonly deploymentId: string;
  readonly status: string;
  readonly reasons: readonly string[];
}

const isPreTraffic = (v: unknown): v is PreTrafficRecord => {
  const o = v as Partial<PreTrafficRecord> | null;
  return o !== null && typeof o === 'object' && o.type === 'canary-watchdog.pre-traffic' && typeof o.deploymentId === 'string' && Array.isArray(o.reasons);
};

/**
 * The decision records (and pre-traffic hook records) a JSON value holds, wherever they are: a
 * bare record, a Powertools log line with `decision` (or `record`), an EventBridge event with it
 * as `detail`, a log line's `message` (a CloudWatch Logs export), or any array or object that
 * holds these: what `watch --json`, `deploy --json`, `rehearse --json` and the lab's
 * /_lab/decisions write.
 */
function recordsIn(v: unknown): (DecisionRecord | PreTrafficRecord)[] {
  if (Array.isArray(v)) return v.flatMap(recordsIn);
  const r = asDecision(v);
  if (r) return [r];
  if (isPreTraffic(v)) return [v];
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => (k === 'message' && typeof x === 'string' && x.includes('{') ? jsonValues(x).flatMap(recordsIn) : recordsIn(x)));
}

/** Find decision records in a JSON document, a JSON array or JSON lines (see `recordsIn`). */
export function parseDecisionLines(text: string): DecisionRecord[] {
  return jsonValues(text).flatMap(recordsIn).filter((r): r is DecisionRecord => !isPreTraffic(r));
}

function fmt(v: number | string | null | undefined, unit?: string): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return unit ? `${Math.round(v * 100) / 100} ${unit}` : v <= 1 && v >= 0 && !Number.isInteger(v) ? `${(v * 100).toFixed(2)} %` : String(v);
  return v;
}

/** What `explain` reads, for its help and its error. */
export const EXPLAIN_INPUT = 'decision records: bare, in Powertools log lines ("decision"), or EventBridge events ("detail"), or the JSON of watch, deploy and rehearse --json and the lab\'s /_lab/decisions; as a JSON array, JSON lines or pretty-printed JSON';

export function explainRecords(text: string, opts: { rollbacksOnly?: boolean; source?: string; deployment?: string } = {}): string {
  const all = jsonValues(text)
    .flatMap(recordsIn)
    .filter((r) => opts.deployment === undefined || r.deploymentId === opts.deployment);
  if (!all.length) throw badInput(`${opts.source ?? 'input'}: no decision records found; expected ${EXPLAIN_INPUT} (each record has "type": "canary-watchdog.decision")`);
  // A failed pre-traffic hook stopped the release: it counts as a rollback.
  const records = all.filter((r) => !opts.rollbacksOnly || (isPreTraffic(r) ? r.status === 'Failed' : r.action === 'rollback'));
  if (!records.length) return `no rollback decisions among ${all.length} decision record(s)\n`;
  const lines: string[] = [];
  for (const r of records) {
    if (isPreTraffic(r)) {
      lines.push(`${r.deploymentId}  PRE-TRAFFIC HOOK ${r.status}`, ...r.reasons.map((x) => `  why: ${x}`), '');
      continue;
    }
    lines.push(
      `${r.at}  ${r.deploymentId}  ${r.functionName}:${r.alias} v${r.currentVersion} -> v${r.targetVersion}  ${r.trafficPercent} % new  [${r.stage}]`,
      `  ${r.action.toUpperCase()}${r.layer ? ` by layer ${r.layer}` : ''}; action ${r.actionTaken} (${r.actionResult}); trigger ${r.trigger}`,
    );
    for (const reason of r.reasons) lines.push(`  why: ${reason}`);
    // Names are never cut (alarm names share long prefixes): each column is as wide as its longest cell.
    const rows = [['layer', 'signal', 'outcome', 'observed', 'threshold', 'samples'], ...r.evidence.map((e) => [e.layer, e.signal, e.outcome, fmt(e.observed, e.unit), e.threshold ?? '-', String(e.sampleSize ?? '-')])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) lines.push(`  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`);
    lines.push('');
  }
  // Reasons and notes quote AWS (alarm reasons): each line is made terminal-safe.
  return lines.map(terminalSafe).join('\n');
}

/** Start the lab, load an app (or none: `empty`, for `cdk deploy`), print how to reach it, and run until Ctrl-C. */
export async function runLab(
  opts: { port: number; clock: 'virtual' | 'real'; speed?: number; start?: number; app?: string; empty?: boolean; seed: number; traffic?: string },
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<Lab> {
  if (opts.empty && opts.app) throw new InputError('--empty and --app exclude each other: an empty lab loads no app', 'empty');
  if (opts.speed !== undefined && opts.speed !== 1 && opts.clock !== 'real') throw new InputError('--speed needs --clock real: a virtual clock moves only when advanced', 'speed');
  if (opts.start !== undefined && opts.clock === 'real') throw new InputError('--start needs --clock virtual: a real clock always starts now', 'start');
  // The app and the port are checked before the sample app is synthesized (seconds).
  if (opts.app !== undefined && !opts.empty) checkCloudAssembly(opts.app);
  // The traffic file is read (and every error in it named) before anything starts.
  const userTraffic = opts.traffic === undefined ? undefined : loadTrafficFile(opts.traffic, '--traffic');
  await checkPortFree(opts.port);
  const dir = opts.empty ? undefined : opts.app === undefined ? synthSampleApp() : resolve(opts.app);
  const lab = new Lab({ clock: opts.clock, seed: opts.seed, port: opts.port, ...(opts.speed !== undefined ? { speed: opts.speed } : {}), ...(opts.start !== undefined ? { start: opts.start } : {}) });
  let endpoint;
  let report;
  try {
    endpoint = await lab.start();
    if (userTraffic) lab.setUserTraffic(userTraffic);
    if (dir !== undefined) report = await lab.loadAssembly(dir);
  } catch (err) {
    // Nothing is left running: the server and any function started so far stop with the error.
    await lab.stop();
    // Not a cloud assembly, or one whose manifest or template is not JSON: bad input.
    if (err instanceof LabError || err instanceof SyntaxError) throw badInput(`--app: ${err.message}`);
    // The port was free when checked, and taken since.
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(opts.port);
    throw err;
  }
  const clock = `clock: ${opts.clock}${opts.clock === 'real' && (opts.speed ?? 1) !== 1 ? ` x${opts.speed}` : ''}`;
  const lines = [`canary-watchdog lab listening on ${endpoint} (${clock}, now ${new Date(lab.now()).toISOString()}, seed ${opts.seed})`];
  if (!report) {
    lines.push('no app loaded: waiting for cdk bootstrap and cdk deploy (CloudFormation, S3, SSM and STS answer on the same endpoint)');
  } else {
    lines.push(
      `loaded ${report.stacks.join(', ')} from ${dir}: ${report.functions.length} functions, ${report.releases.length} guarded releases`,
      ...report.releases.map((r) => `  guarded: ${r.functionName}:${r.alias} (CodeDeploy ${r.application}/${r.deploymentGroup})`),
      `not modelled (no behaviour to emulate or not supported): ${Object.entries(report.unmodelled).map(([t, n]) => `${t} x${n}`).join(', ') || 'none'}`,
    );
  }
  if (userTraffic) {
    const started = lab.traffic.streamsOf.bind(lab.traffic);
    const running = lab.releases.filter((r) => started(r.functionName).some((x) => x.events));
    lines.push(
      `user traffic from ${opts.traffic} (real code): ${[...userTraffic].map(([k, t]) => `${k} ${t.rps}/s`).join(', ')}; ${running.length ? `running for ${running.map((r) => r.functionName).join(', ')}` : 'none deployed yet'}, the others start as a stack deploys them`,
    );
  }
  lines.push(
    '',
    'point the AWS SDK or CLI at it:',
    `  export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab`,
    'control it:',
    `  curl -s ${endpoint}/_lab/clock`,
    `  curl -s -XPOST ${endpoint}/_lab/traffic -d '{"rps": 20}'`,
    `  curl -s -XPOST ${endpoint}/_lab/release -d '{"behaviour": {"errorRate": 0.2}}'`,
    ...(opts.clock === 'virtual' ? [`  curl -s -XPOST ${endpoint}/_lab/clock/advance -d '{"seconds": 300}'`] : []),
    `  curl -s ${endpoint}/_lab/state            # every deployment, and why each one ended`,
    `  curl -s ${endpoint}/_lab/decisions        # the watchdog's decision records (?deploymentId=d-...)`,
    'Ctrl-C stops it.',
    '',
  );
  // The lab's own notes (a Python runtime run on another host Python, ...): those of the load, then each as it comes (cdk deploy).
  const note = (line: string) => isLabNote(line) && out(`${terminalSafe(line)}\n`);
  lab.lambda.onLog((e) => note(e.line));
  // Each watchdog decision as it happens: deployment, layer, action and reason.
  // The trigger tells apart decisions taken at the same instant (a schedule tick, an alarm's state change).
  lab.onDecision((r: DecisionRecord) => out(`${terminalSafe(`${r.at} decision ${summarize(r)} (${r.actionTaken}: ${r.actionResult}; trigger ${r.trigger})`)}\n`));
  let stopping = false;
  const stop = async (signal: string) => {
    // A second signal while stopping ends the process at once.
    if (stopping) process.exit(1);
    stopping = true;
    // Worker threads end with the process; the server and the scheduler are stopped first so
    // that no request is cut half-way. A stop that hangs is cut short.
    setTimeout(() => process.exit(1), 5000).unref();
    await lab.stop();
    out(`lab stopped (${signal})\n`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // "Ctrl-C stops it" only once it does: a SIGINT before the handler would kill the process outright.
  out(lines.join('\n'));
  for (const l of lab.lambda.logs) note(l.line);
  return lab;
}
