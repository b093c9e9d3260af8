/**
 * Which alarms a guarded deployment group hands to CodeDeploy's own alarm check, by mode and by
 * the policy for alarms already in ALARM when a release begins. One rule, shared by the
 * constructs (what `cdk synth` writes) and the rehearsal (what a scenario's `watchdog` settings
 * would have synthesized).
 *
 * CodeDeploy stops a deployment when any listed alarm is in ALARM, however long it has been
 * there, and cannot tell an alarm raised by the release from one raised before it:
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
 * - shadow: nothing. Shadow mode must change no release's outcome, so neither the heartbeat nor
 *   any layer's alarm may stop a release; the watchdog only records what it would have done.
 * - enforce, preexistingAlarms rollback: the heartbeat and every layer's alarms, the service and
 *   custom layers too.
 * - enforce, preexistingAlarms ignore: the heartbeat and the version-scoped layers (probes,
 *   new-version). Their alarms are named for the version they watch (`<prefix>-...-v<version>`),
 *   so each release replaces them with new alarms (AlarmName is a replacement property), which
 *   start in INSUFFICIENT_DATA: they cannot carry the old version's ALARM into the release, as an
 *   alarm updated in place would (PutMetricAlarm leaves an existing alarm's state unchanged).
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 *   The service and custom layers (the alias-wide error rate, the user's own alarms) stay out of
 *   CodeDeploy's list, or a fix released during an incident would be stopped at once; the
 *   watchdog judges them, counting an ALARM that predates the release as no evidence. The
 *   version-scoped alarms remain the second check that does not depend on the watchdog.
 */
export type NativeAlarmMode = 'enforce' | 'shadow';
export type PreexistingAlarmPolicy = 'ignore' | 'rollback';

/** The built-in layers whose alarms follow the new version, each release with new alarms named for it. */
export const VERSION_SCOPED_LAYERS: readonly string[] = ['probes', 'new-version'];

export interface NativeAlarmSelection {
  /** The watchdog's heartbeat alarm is in the list (always first). */
  readonly heartbeat: boolean;
  /** Whether the alarms of a layer (built-in or custom) go into CodeDeploy's list. */
  readonly includesLayer: (layer: string) => boolean;
}

export function nativeAlarmSelection(mode: NativeAlarmMode, preexistingAlarms: PreexistingAlarmPolicy): NativeAlarmSelection {
  if (mode === 'shadow') return { heartbeat: false, includesLayer: () => false };
  if (preexistingAlarms === 'rollback') return { heartbeat: true, includesLayer: () => true };
  return { heartbeat: true, includesLayer: (layer) => VERSION_SCOPED_LAYERS.includes(layer) };
}
