import { judgeInits } from './init-durations';
import { sequentialRateAbovePValue, sequentialWorseThanBaselinePValue, stratifiedPValues, stratifiedWorseThanBaselinePValue } from './sequential';
import type { AlarmSignal, CountSlice, Evidence, Observation, Outcome, RateSignal, SignalSpec, Stage, TelemetrySignal, ValueSignal, Window } from './types';
import { FRESH_EVIDENCE_STAGES, worstOutcome } from './types';

/** Context a signal needs besides its observation. */
export interface SignalContext {
  readonly layer: string;
  /**
   * Why an alarm of this layer in ALARM is not the release's doing: the version-scoped evidence
   * shows the new version significantly better than the old one (releaseIsBetter). Only for the
   * layers that are not version-scoped (service, custom); absent, an ALARM fails as always.
   */
  readonly notAttributed?: string;
  /** When the deployment was created, epoch ms: ALARM states older than this predate the release. */
  readonly deploymentCreatedAt: number;
  readonly preexistingAlarms: 'ignore' | 'rollback';
  /** Where the release stands: fresh evidence is required at FRESH_EVIDENCE_STAGES. */
  readonly stage: Stage;
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
    case 'telemetry':
      if (obs.kind !== 'counts') return unreadable(spec, ctx, `expected counts, got ${obs.kind}`);
      return judgeTelemetry(spec, obs, ctx);
    case 'inits':
      if (obs.kind !== 'inits') return unreadable(spec, ctx, `expected init reports, got ${obs.kind}`);
      return judgeInits(spec, obs, ctx.layer);
  }
}

/**
 * The telemetry counts' comparison with the old version's, pooled over the watch: whether the new
 * version fails more than `tolerance` (relative) above the old one, as an always-valid p-value.
 * Used until the watchdog has kept a read of both versions' counts; from then on the comparison
 * is made within the slices between reads (the observation's `slices`, judgeRate).
 */
export function telemetryWorseThanOldPValue(newEvents: number, newTotal: number, oldEvents: number, oldTotal: number, tolerance: number): number {
  return sequentialWorseThanBaselinePValue(newEvents, newTotal, oldEvents, oldTotal, tolerance);
}

/**
 * The telemetry counts' comparison within the slices between the watchdog's reads: the least of
 * the stratified p-values at each read the slices end at. Each of those reads was a look, and the
 * least is still always valid: Ville's inequality bounds the chance that the mixture's likelihood
 * ratio EVER reaches 1/alpha, so its running maximum may be read (Howard, Ramdas, McAuliffe &
 * Sekhon 2021, section 2). So a regression the slices before a shared failure showed is not
 * forgotten when the failure's slice, where both versions fail alike, weighs against it.
 */
export function telemetryStratifiedPValue(slices: readonly CountSlice[], tolerance: number): number {
  return Math.min(1, ...stratifiedPValues(slices, tolerance));
}

/**
 * The fast signal, judged like a rate against the old version's own counts. Where the cause can be
 * shared (failOnlyIfWorse), a failure judged on the new version alone while the old version's
 * counts are still awaited (the observation's `baselinePending`) is held as insufficient: the
 * old version's extension starts counting up to a recheck interval after the watch began. After
 * the final shift (`bothServedUntil`) the old version serves nothing to compare with, so the
 * comparison no longer excuses the new version's failures: the absolute test decides, as for the
 * CloudWatch error rate after the final shift.
 */
function judgeTelemetry(spec: TelemetrySignal, obs: Extract<Observation, { kind: 'counts' }>, ctx: SignalContext): Evidence {
  const e = judgeRate(spec, obs, ctx, telemetryWorseThanOldPValue, telemetryStratifiedPValue);
  if (obs.bothServedUntil !== undefined && spec.baseline?.failOnlyIfWorse) {
    // The new version alone, on its requests since the final shift (the slices between reads that
    // start at it or later; all of the watch's when no read was kept): what both versions met
    // before it, the comparison has already judged.
    const since = new Date(obs.bothServedUntil).toISOString();
    const after = obs.slices?.length ? obs.slices.filter((x) => x.start >= obs.bothServedUntil!) : undefined;
    const events = after ? after.reduce((a, x) => a + x.newEvents, 0) : Math.round(obs.new.events);
    const total = after ? after.reduce((a, x) => a + x.newTotal, 0) : Math.round(obs.new.total);
    const pAlone = sequentialRateAbovePValue(events, total, spec.maxRate);
    const above = total > 0 && events / total > spec.maxRate && pAlone < spec.alpha;
    if (e.outcome === 'failed' || !above) return after ? { ...e, note: `${e.note}; ${events} of ${total} since the final shift (${since})` } : e;
    return {
      ...e,
      outcome: 'failed',
      note: `${e.note.replace(NOT_ATTRIBUTED, '')}; ${after ? `${events} of ${total} since ` : 'the old version has served nothing since '}the final shift (${since})${after ? `, above ${fmtRate(spec.maxRate)} (p = ${pAlone.toPrecision(3)} < ${spec.alpha})` : ''}, so the comparison no longer excuses it`,
    };
  }
  if (e.outcome !== 'failed' || !spec.baseline?.failOnlyIfWorse || e.baseline?.pValue !== undefined || !obs.baselinePending) return e;
  return { ...e, outcome: 'insufficient', note: `${obs.baselinePending}: not judged on the new version alone yet; ${e.note}` };
}

/** What judgeRate adds when a shared cause excused an absolute failure. */
const NOT_ATTRIBUTED = '; not worse than the old version, so not attributed to the release';

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
  if (ctx.notAttributed) {
    return { ...base, outcome: 'insufficient', note: `alarm ${spec.alarmName} is in ALARM, not attributed to the release: ${ctx.notAttributed}: ${obs.reason}` };
  }
  return { ...base, outcome: 'failed', note: `alarm ${spec.alarmName} is in ALARM: ${obs.reason}` };
}

/**
 * Whether the version-scoped evidence shows the new version significantly better than the old one:
 * a rate signal's comparison of the two (the same always-valid test, with the roles swapped and no
 * tolerance: the old version's rate above the new one's), at that signal's baseline alpha, on
 * enough samples of each. Says which, or undefined (no such evidence: today's rules apply).
 */
export function releaseIsBetter(signals: readonly { spec: SignalSpec; obs: Observation | undefined }[]): string | undefined {
  for (const { spec, obs } of signals) {
    if ((spec.kind !== 'rate' && spec.kind !== 'telemetry') || !spec.baseline || obs?.kind !== 'counts' || !obs.old) continue;
    const b = obs.baselineNew ?? obs.new;
    const [nE, nT, oE, oT] = [b.events, b.total, obs.old.events, obs.old.total].map(Math.round);
    if (nT < spec.minSamples || oT < spec.minSamples || nE > nT || oE > oT) continue;
    const p = sequentialWorseThanBaselinePValue(oE, oT, nE, nT, 0);
    if (p < spec.baseline.alpha) {
      return `the new version's ${spec.name} ${fmtRate(nE / nT)} of ${nT} is significantly below the old version's ${fmtRate(oE / oT)} of ${oT} (p = ${p.toPrecision(3)} < ${spec.baseline.alpha})`;
    }
  }
  return undefined;
}

function fmtRate(r: number): string {
  return `${(r * 100).toFixed(2)} %`;
}

/** What judging a rate needs of its signal: a CloudWatch rate signal, or the telemetry counts'. */
type JudgedRate = Pick<RateSignal, 'name' | 'maxRate' | 'minSamples' | 'alpha' | 'baseline' | 'freshMinutes'> & { readonly kind?: SignalSpec['kind'] };

function judgeRate(
  spec: JudgedRate,
  obs: Extract<Observation, { kind: 'counts' }>,
  ctx: SignalContext,
  worseThanBaseline: typeof sequentialWorseThanBaselinePValue = sequentialWorseThanBaselinePValue,
  worseWithinSlices: typeof stratifiedWorseThanBaselinePValue = stratifiedWorseThanBaselinePValue,
): Evidence {
  const events = Math.round(obs.new.events);
  const total = Math.round(obs.new.total);
  const rate = total > 0 ? events / total : null;
  const threshold = `> ${spec.maxRate} (always-valid sequential p < ${spec.alpha})`;
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
  // After the final shift, a signal the comparison alone judged while both versions served
  // (comparedAloneWhileBothServe) is judged on the new version's requests since then: the
  // comparison has already spoken for the earlier ones, and counting a failure both versions met
  // then (a dependency down in the canary) again would roll a good release back.
  const afterShift =
    spec.baseline?.comparedAloneWhileBothServe === true && obs.old !== undefined && obs.baselineNew !== undefined && obs.baselineWindow !== undefined && obs.baselineWindow.end < obs.window.end;
  const aEvents = afterShift ? Math.max(0, events - Math.round(obs.baselineNew!.events)) : events;
  const aTotal = afterShift ? Math.max(0, total - Math.round(obs.baselineNew!.total)) : total;
  const aRate = aTotal > 0 ? aEvents / aTotal : null;
  // Always-valid tests (./sequential.ts): the watchdog looks every minute, on alarm events and on
  // every fast look, and each test still rejects a release within its threshold at most `alpha`
  // of the time over the whole release, however many looks that is.
  const pAbs = sequentialRateAbovePValue(aEvents, aTotal, spec.maxRate);
  const absFailed = aRate !== null && aRate > spec.maxRate && pAbs < spec.alpha;

  let baseline: Evidence['baseline'];
  let baseFailed = false;
  let compared = false;
  let baseNote = '';
  if (spec.baseline && obs.old) {
    const oEvents = Math.round(obs.old.events);
    const oTotal = Math.round(obs.old.total);
    // Both versions over the window in which both served traffic.
    const bEvents = Math.round((obs.baselineNew ?? obs.new).events);
    const bTotal = Math.round((obs.baselineNew ?? obs.new).total);
    const during = obs.baselineWindow ? ` while both served traffic (${fmtWindow(obs.baselineWindow)}: new version ${bEvents} of ${bTotal})` : '';
    if (oTotal >= spec.minSamples && oEvents <= oTotal && bEvents <= bTotal) {
      // Minute by minute when the per-minute counts were read, so errors both versions meet while
      // the split shifts cancel within each minute; otherwise pooled over the window.
      const slices = obs.slices?.length ? obs.slices : undefined;
      const pBase = slices
        ? worseWithinSlices(slices, spec.baseline.tolerance)
        : worseThanBaseline(bEvents, bTotal, oEvents, oTotal, spec.baseline.tolerance);
      const how = !slices ? 'pooled over the window' : spec.kind === 'telemetry' ? `compared within ${slices.length} time slices between reads` : `compared minute by minute over ${slices.length} minutes`;
      const oRate = oEvents / oTotal;
      compared = true;
      baseline = { observed: oRate, sampleSize: oTotal, pValue: pBase };
      baseFailed = pBase < spec.baseline.alpha;
      baseNote =
        `; old version ${fmtRate(oRate)} of ${oTotal}${during} ` +
        (baseFailed
          ? `(worse than the old version by more than ${spec.baseline.tolerance * 100} %, ${how}, p = ${pBase.toPrecision(3)} < ${spec.baseline.alpha})`
          : `(not significantly worse, ${how}, p = ${pBase.toPrecision(3)})`);
    } else {
      baseline = { observed: oTotal > 0 ? oEvents / oTotal : null, sampleSize: oTotal };
      baseNote = `; old version has ${oTotal} samples${during}, too few to compare`;
    }
  }
  // A cause both versions share (function-wide throttling) fails only when the new version is also worse.
  const failOnlyIfWorse = spec.baseline?.failOnlyIfWorse === true && compared;
  const comparedAlone = compared && spec.baseline?.comparedAloneWhileBothServe === true && (!obs.baselineWindow || obs.baselineWindow.end >= obs.window.end);
  const failed = failOnlyIfWorse ? absFailed && baseFailed : comparedAlone ? baseFailed : absFailed || baseFailed;
  const sharedNote = (failOnlyIfWorse || comparedAlone) && absFailed && !baseFailed ? NOT_ATTRIBUTED : '';
  const note =
    `${events} of ${total} (${fmtRate(rate ?? 0)}); ` +
    (afterShift ? `${aEvents} of ${aTotal} since the final shift (${fmtRate(aRate ?? 0)}), ` : '') +
    (absFailed ? `above ${fmtRate(spec.maxRate)} with p = ${pAbs.toPrecision(3)} < ${spec.alpha}` : `not significantly above ${fmtRate(spec.maxRate)} (p = ${pAbs.toPrecision(3)})`) +
    baseNote +
    sharedNote;
  const judged = { ...common, pValue: pAbs, ...(baseline ? { baseline } : {}) };
  if (failed) return { ...judged, outcome: 'failed', note };
  const stale = staleness(spec, obs, ctx.stage);
  if (stale) return { ...judged, outcome: 'insufficient', note: `${stale}; ${note}` };
  return { ...judged, outcome: 'healthy', note };
}

/**
 * Why the evidence is stale at an irreversible step, or null. Samples counted from the
 * deployment's creation can all be old (the pre-traffic round, then a prober that died), so at
 * FRESH_EVIDENCE_STAGES a signal with `freshMinutes` needs `minSamples` from its last minutes.
 */
function staleness(spec: JudgedRate, obs: Extract<Observation, { kind: 'counts' }>, stage: Stage): string | null {
  if (spec.freshMinutes === undefined || !FRESH_EVIDENCE_STAGES.includes(stage)) return null;
  const fresh = Math.round(obs.fresh?.total ?? 0);
  if (fresh >= spec.minSamples) return null;
  const since = obs.freshWindow ? ` (since ${new Date(obs.freshWindow.start).toISOString()})` : '';
  return `only ${fresh} samples in the last ${spec.freshMinutes} minutes${since}, fewer than the ${spec.minSamples} needed at stage ${stage}: no fresh evidence`;
}

function fmtWindow(w: Window): string {
  return `${new Date(w.start).toISOString()} to ${new Date(w.end).toISOString()}`;
}

/** The level of a percentile statistic: 0.99 for p99, undefined for any other statistic. */
export function percentileLevel(stat: string): number | undefined {
  const m = /^p(\d+(?:\.\d+)?)$/i.exec(stat);
  if (!m) return undefined;
  const q = Number(m[1]) / 100;
  return q > 0 && q < 1 ? q : undefined;
}

/**
 * Samples a percentile statistic needs to be stable, as CloudWatch counts them: fewer than
 * 10 / (1 - q) data points for 0.5 <= q < 1 (1,000 for p99; 50 are about the maximum), or 10 / q
 * below 0.5, is a low sample. 0 for a statistic that is not a percentile.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
 */
export function percentileMinSamples(stat: string): number {
  const q = percentileLevel(stat);
  if (q === undefined) return 0;
  return Math.ceil((q >= 0.5 ? 10 / (1 - q) : 10 / q) - 1e-9);
}

/** Default significance level of the exceedance tests (the thresholds' `alpha`). */
const EXCEEDANCE_ALPHA = 0.001;

/**
 * The latency the new version's requests are counted above, from the old version's percentile:
 * the most the comparison allows (`maxRatio` times it, or `minExcess` more, whichever is higher),
 * rounded up to 0.001 (the PR(:X) bound CloudWatch is asked for). A new version that is no
 * regression (no slower than that on the same requests) has at most the old version's share of
 * requests above the old percentile above it: 1 % for p99.
 */
export function exceedanceReference(oldValue: number, baseline: { readonly maxRatio: number; readonly minExcess: number }): number {
  return Math.ceil(Math.max(oldValue * baseline.maxRatio, oldValue + baseline.minExcess) * 1000 - 1e-6) / 1000;
}

/**
 * An upper confidence bound on the true share of the old version's requests above its
 * nearest-rank q-percentile of `samples` samples: at least ceil(q n) of them are at or below it,
 * and the bound is the largest share above it that the always-valid test (./sequential.ts) does
 * not reject at `delta` from those counts. It falls to 1 - q as the old version's samples grow;
 * with few of them the reference is uncertain and the bound is wide.
 */
export function referenceShareBound(samples: number, q: number, delta: number): number {
  const n = Math.floor(samples);
  if (n <= 0) return 1;
  const atOrBelow = Math.min(n, Math.ceil(q * n - 1e-9));
  // The share above is u when the share at or below is 1 - u: rejected when that rate is
  // significantly exceeded. The p-value falls as u grows: bisect for where it crosses delta.
  let lo = 1 - q;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sequentialRateAbovePValue(atOrBelow, n, 1 - mid) >= delta) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A p-value as the notes give it: three digits, and below what a double holds as such. */
function fmtP(p: number): string {
  return p > 0 ? `= ${p.toPrecision(3)}` : '< 1e-300';
}

interface ExceedanceResult {
  readonly failed: boolean;
  readonly pValue: number;
  readonly note: string;
}

/**
 * The exceedance test against `max`: a p99 at or below `max` means at most 1 % of requests
 * above it, so a share of the new version's requests significantly above 1 % over `max` is a p99
 * above it. The always-valid binomial test (./sequential.ts) judges that share at any sample
 * size, where the percentile itself needs 10 / (1 - q) samples to be stable.
 */
function exceedsMax(spec: ValueSignal, above: number, samples: number, q: number, alpha: number): ExceedanceResult {
  const a = Math.min(Math.round(above), samples);
  const p = sequentialRateAbovePValue(a, samples, 1 - q);
  const failed = a / samples > 1 - q && p < alpha;
  return {
    failed,
    pValue: p,
    note:
      `${a} of ${samples} new-version samples above ${spec.max} ${spec.unit} (${fmtRate(1 - q)} allowed for ${spec.value.stat} <= ${spec.max}), ` +
      (failed ? `p ${fmtP(p)}, below ${alpha}` : `not significantly more (p ${fmtP(p)})`),
  };
}

/**
 * The exceedance test against the old version: the share of the new version's requests above
 * the reference (exceedanceReference of the old version's percentile, same minutes) against the
 * share the old version has above its percentile, bounded from above at alpha / 2 for the
 * percentile's own uncertainty (referenceShareBound); the share is then tested at alpha / 2.
 */
function exceedsBaseline(
  spec: ValueSignal,
  over: { readonly reference: number; readonly above: number },
  samples: number,
  old: { readonly value: number; readonly samples: number },
  q: number,
  alpha: number,
): ExceedanceResult {
  const a = Math.min(Math.round(over.above), samples);
  const bound = referenceShareBound(old.samples, q, alpha / 2);
  const p = sequentialRateAbovePValue(a, samples, bound);
  const failed = a / samples > bound && p < alpha / 2;
  return {
    failed,
    pValue: p,
    note:
      `${a} of ${samples} new-version samples above ${over.reference} ${spec.unit} (${spec.baseline!.maxRatio}x the old version's ` +
      `${spec.value.stat} ${old.value} ${spec.unit} of ${old.samples} samples, or +${spec.baseline!.minExcess} ${spec.unit}; ` +
      `at most ${fmtRate(bound)} expected: ${fmtRate(1 - q)} above the old ${spec.value.stat}, widened for its uncertainty at ${alpha / 2}), ` +
      (failed ? `p ${fmtP(p)}, below ${alpha / 2}` : `not significantly more (p ${fmtP(p)})`),
  };
}

function judgeValue(spec: ValueSignal, obs: Extract<Observation, { kind: 'value' }>, ctx: SignalContext): Evidence {
  const samples = Math.round(obs.new.samples);
  const v = obs.new.value;
  const minSamples = Math.max(spec.minSamples, percentileMinSamples(spec.value.stat));
  const q = percentileLevel(spec.value.stat);
  const alpha = spec.alpha ?? EXCEEDANCE_ALPHA;
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
  const outcomes: Outcome[] = [];
  const notes: string[] = [];
  const exceedance: ExceedanceResult[] = [];
  // Below its stable sample count a percentile is not judged by its value: the exceedance tests
  // judge the share of requests above a reference instead, valid at any sample size. They can
  // only fail a release: without a significant share the evidence stays insufficient.
  const judgeExceedance = (r: ExceedanceResult) => {
    exceedance.push(r);
    outcomes.push(r.failed ? 'failed' : 'insufficient');
    notes.push(`${r.failed ? 'exceedance test decided' : 'exceedance test'}: ${r.note}`);
  };
  const stable = samples >= minSamples && v !== null && Number.isFinite(v);
  if (!stable) {
    notes.push(`${samples} samples, fewer than the ${minSamples} needed to judge${minSamples > spec.minSamples ? ` a stable ${spec.value.stat}` : ''}`);
  }
  if (spec.max !== undefined) {
    if (stable) {
      const over = v! > spec.max;
      outcomes.push(over ? 'failed' : 'healthy');
      notes.push(`${v} ${spec.unit} ${over ? 'above' : 'within'} ${spec.max} ${spec.unit}`);
    } else if (q !== undefined && obs.overMax !== undefined && samples > 0) {
      judgeExceedance(exceedsMax(spec, obs.overMax, samples, q, alpha));
    }
  }
  let baseline: Evidence['baseline'];
  if (spec.baseline && obs.old) {
    const ov = obs.old.value;
    const os = Math.round(obs.old.samples);
    // Both versions over the window in which both served traffic.
    const bv = (obs.baselineNew ?? obs.new).value;
    const bs = Math.round((obs.baselineNew ?? obs.new).samples);
    const during = obs.baselineWindow ? ` while both served traffic (new version ${bv} ${spec.unit} of ${bs} samples)` : '';
    baseline = { observed: ov, sampleSize: os };
    const oldReadable = ov !== null && Number.isFinite(ov);
    if (stable && oldReadable && os >= minSamples && bv !== null && Number.isFinite(bv) && bs >= minSamples) {
      const worse = bv > ov * spec.baseline.maxRatio && bv - ov >= spec.baseline.minExcess;
      outcomes.push(worse ? 'failed' : 'healthy');
      notes.push(`old version ${ov} ${spec.unit} of ${os} samples${during} (${worse ? 'regression' : 'no regression'})`);
    } else if (q !== undefined && oldReadable && os > 0 && bs > 0 && obs.overBaseline !== undefined) {
      judgeExceedance(exceedsBaseline(spec, obs.overBaseline, bs, { value: ov, samples: os }, q, alpha));
    } else {
      notes.push(`old version has ${os} samples${during}, too few to compare (${minSamples} needed)`);
    }
  }
  const decided = exceedance.filter((r) => r.failed);
  const pValue = exceedance.length ? Math.min(...(decided.length ? decided : exceedance).map((r) => r.pValue)) : undefined;
  // With no maximum and no comparable baseline nothing was judged: that is not evidence of health.
  const outcome: Outcome = outcomes.length ? worstOutcome(outcomes) : 'insufficient';
  return {
    ...common,
    outcome,
    ...(pValue !== undefined ? { pValue } : {}),
    ...(baseline ? { baseline } : {}),
    note: notes.join('; ') || `${v} ${spec.unit}`,
  };
}
