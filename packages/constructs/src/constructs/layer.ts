/** The built-in layers, judged in this order before any custom layer. */
export const BUILT_IN_LAYERS: readonly string[] = ['config', 'probes', 'new-version', 'service'];

/** Why `name` cannot name a custom layer; undefined when it can. Pure. */
export function customLayerNameProblem(name: string): string | undefined {
  if (/^[a-z][a-z0-9-]{0,39}$/.test(name) && !BUILT_IN_LAYERS.includes(name)) return undefined;
  return `layer name ${JSON.stringify(name)} must be lowercase letters, digits and dashes, and not a built-in layer (${BUILT_IN_LAYERS.join(', ')})`;
}

/**
 * The layer an alarm of yours joins (`GuardedFunction.addAlarm`). The watchdog judges the layers
 * in order, built-in ones first, and names the layer that decided in its decision record.
 */
export class AlarmLayer {
  /** The built-in service layer, judged after the new version's own alarms: the `extraAlarms` prop's layer. */
  static readonly SERVICE = new AlarmLayer('service');

  /**
   * A layer of your own, judged after the built-in ones in the order of first use, the
   * `customLayers` prop's first; an alarm added to a layer of that prop joins it.
   * @param name lowercase letters, digits and dashes (at most 40), not a built-in layer's name
   */
  static custom(name: string): AlarmLayer {
    const problem = customLayerNameProblem(name);
    if (problem) throw new Error(`AlarmLayer.custom: ${problem}`);
    return new AlarmLayer(name);
  }

  private constructor(
    /** The layer's name in the watchdog's configuration and decision records. */
    public readonly name: string,
  ) {}
}
