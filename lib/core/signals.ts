import { rateAboveThresholdPValue, rateWorseThanBaselinePValue } from './stats';
import type { AlarmSignal, Evidence, Observation, Outcome, RateSignal, SignalSpec, ValueSignal, Window } from './types';
import { worstOutcome } from './types';

/** Context a signal needs besides its observation. */
export interface SignalContext {
  readonly layer: string;
  /** When the deployment was created, epoch ms: ALARM states older than this predate the release. */
  readonly deploymentCreatedAt: number;
  readonly preexistingAlarms: 'ignore' | 'rollback';
}

/** Judge one signal from its observation. Returns one evidence item that says why. */
export function judgeSignal(spec: SignalSpec, obs: Observation | undefined, ctx: SignalContext): Evidence {
  if (obs === undefined) {
    return unreadable(spec, ctx, 'no observation was gathered for this signal');
  }
  if (obs.kind === 'unreadable') return unreadable(spec, ctx, obs.error);
  switch (spec.kind) {
    case 'alarm':
      if (obs.kind !== 'alarm') return unreadable(spec, ctx, `expected an alarm state, got ${obs.kind}`);
      return judgeAlarm(spec, obs, ctx);
    case 'rate':
      if (obs.kind !== 'counts') return unreadable(spec, ctx, `expected counts, got ${obs.kind}`);
      return judgeRate(spec, obs, ctx);
    case 'value':
      if (obs.kind !== 'value') return unreadable(spec, ctx, `expected a value, got ${obs.kind}`);
      return judgeValue(spec, obs, ctx);
  }
}

function unreadable(spec: SignalSpec, ctx: SignalContext, error: string): Evidence {
  return {
    layer: ctx.layer,
    signal: spec.name,
    outcome: 'unreadable',
    observed: null,
    threshold: null,
    sampleSize: null,
    window: null,
    note: `could not read: ${error}`,
  };
}

function isoWindow(w: Window): { start: string; end: string } {
  return { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() };
}

function judgeAlarm(
  spec: AlarmSignal,
  obs: Extract<Observation, { kind: 'alarm' }>,
  ctx: SignalContext,
): Evidence {
  const base = {
    layer: ctx.layer,
    signal: spec.name,
    observed: obs.state,
    threshold: 'state != ALARM',
    sampleSize: null,
    window: null,
  };
  // Only ALARM stops a CodeDeploy deployment; INSUFFICIENT_DATA protects nothing, so it is
  // reported as insufficient evidence, never as healthy.
  // https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
  if (obs.state === 'OK') return { ...base, outcome: 'healthy', note: `alarm ${spec.alarmName} is OK` };
  if (obs.state === 'INSUFFICIENT_DATA') {
    return { ...base, outcome: 'insufficient', note: `alarm ${spec.alarmName} has insufficient data: ${obs.reason}` };
  }
  if (obs.since < ctx.deploymentCreatedAt && ctx.preexistingAlarms === 'ignore') {
    return {
      ...base,
      outcome: 'insufficient',
      note:
        `alarm ${spec.alarmName} has been in ALARM since ${new Date(obs.since).toISOString()}, before the deployment ` +
        `began: not attributed to the release (policy preexistingAlarms=ignore): ${obs.reason}`,
    };
  }
  return { ...base, outcome: 'failed', note: `alarm ${spec.alarmName} is in ALARM: ${obs.reason}` };
}

function fmtRate(r: number): string {
  return `${(r * 100).toFixed(2)} %`;
}

function judgeRate(spec: RateSignal, obs: Extract<Observation, { kind: 'counts' }>, ctx: SignalContext): Evidence {
  const events = Math.round(obs.new.events);
  const total = Math.round(obs.new.total);
  const rate = total > 0 ? events / total : null;
  const threshold = `> ${spec.maxRate} (one-sided binomial p < ${spec.alpha})`;
  const common = {
    layer: ctx.layer,
    signal: spec.name,
    observed: rate,
    threshold,
    sampleSize: total,
    window: isoWindow(obs.window),
  };
  if (events > total) {
    return { ...common, outcome: 'unreadable', note: `inconsistent counts: ${events} events among ${total} samples` };
  }
  if (total < spec.minSamples) {
    return {
      ...common,
      outcome: 'insufficient',
      note: `${total} samples, fewer than the ${spec.minSamples} needed to judge (${events} events so far)`,
    };
  }
  const pAbs = rateAboveThresholdPValue(events, total, spec.maxRate);
  const absFailed = rate !== null && rate > spec.maxRate && pAbs < spec.alpha;

  let baseline: Evidence['baseline'];
  let baseFailed = false;
  let baseNote = '';
  if (spec.baseline && obs.old) {
    const oEvents = Math.round(obs.old.events);
    const oTotal = Math.round(obs.old.total);
    if (oTotal >= spec.minSamples && oEvents <= oTotal) {
      const pBase = rateWorseThanBaselinePValue(events, total, oEvents, oTotal, spec.baseline.tolerance);
      const oRate = oEvents / oTotal;
      baseline = { observed: oRate, sampleSize: oTotal, pValue: pBase };
      baseFailed = pBase < spec.baseline.alpha;
      baseNote =
        `; old version ${fmtRate(oRate)} of ${oTotal} ` +
        (baseFailed
          ? `(worse than the old version by more than ${spec.baseline.tolerance * 100} %, p = ${pBase.toPrecision(3)} < ${spec.baseline.alpha})`
          : `(not significantly worse, p = ${pBase.toPrecision(3)})`);
    } else {
      baseline = { observed: oTotal > 0 ? oEvents / oTotal : null, sampleSize: oTotal };
      baseNote = `; old version has ${oTotal} samples, too few to compare`;
    }
  }
  const outcome: Outcome = absFailed || baseFailed ? 'failed' : 'healthy';
  const note =
    `${events} of ${total} (${fmtRate(rate ?? 0)}); ` +
    (absFailed ? `above ${fmtRate(spec.maxRate)} with p = ${pAbs.toPrecision(3)} < ${spec.alpha}` : `not significantly above ${fmtRate(spec.maxRate)} (p = ${pAbs.toPrecision(3)})`) +
    baseNote;
  return { ...common, outcome, pValue: pAbs, ...(baseline ? { baseline } : {}), note };
}

function judgeValue(spec: ValueSignal, obs: Extract<Observation, { kind: 'value' }>, ctx: SignalContext): Evidence {
  const samples = Math.round(obs.new.samples);
  const v = obs.new.value;
  const parts: string[] = [];
  if (spec.max !== undefined) parts.push(`> ${spec.max} ${spec.unit}`);
  if (spec.baseline) parts.push(`> ${spec.baseline.maxRatio}x old version and +${spec.baseline.minExcess} ${spec.unit}`);
  const common = {
    layer: ctx.layer,
    signal: spec.name,
    observed: v,
    unit: spec.unit,
    threshold: parts.length ? parts.join(' or ') : null,
    sampleSize: samples,
    window: isoWindow(obs.window),
  };
  if (samples < spec.minSamples || v === null || !Number.isFinite(v)) {
    return {
      ...common,
      outcome: 'insufficient',
      note: `${samples} samples, fewer than the ${spec.minSamples} needed to judge`,
    };
  }
  const outcomes: Outcome[] = [];
  const notes: string[] = [];
  if (spec.max !== undefined) {
    const over = v > spec.max;
    outcomes.push(over ? 'failed' : 'healthy');
    notes.push(`${v} ${spec.unit} ${over ? 'above' : 'within'} ${spec.max} ${spec.unit}`);
  }
  let baseline: Evidence['baseline'];
  if (spec.baseline && obs.old) {
    const ov = obs.old.value;
    const os = Math.round(obs.old.samples);
    baseline = { observed: ov, sampleSize: os };
    if (ov !== null && Number.isFinite(ov) && os >= spec.minSamples) {
      const worse = v > ov * spec.baseline.maxRatio && v - ov >= spec.baseline.minExcess;
      outcomes.push(worse ? 'failed' : 'healthy');
      notes.push(`old version ${ov} ${spec.unit} of ${os} samples (${worse ? 'regression' : 'no regression'})`);
    } else {
      notes.push(`old version has ${os} samples, too few to compare`);
    }
  }
  // With no maximum and no comparable baseline nothing was judged: that is not evidence of health.
  const outcome: Outcome = outcomes.length ? worstOutcome(outcomes) : 'insufficient';
  return { ...common, outcome, ...(baseline ? { baseline } : {}), note: notes.join('; ') || `${v} ${spec.unit}` };
}
