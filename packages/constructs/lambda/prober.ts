import { errorText } from '../src/aws/util';
import { proberOptionsFrom } from '../src/runtime/env';
import { DEFAULT_PROBER_OPTIONS, runProber, type ProberRun } from '../src/runtime/prober';
import { adapters, log, now, rereadableConfig, settings } from './shared';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Invoked every minute by EventBridge: probes each in-progress deployment's versions several times. */
export async function handler(): Promise<ProberRun | { error: string }> {
  const s = await settings();
  if ('error' in s) {
    log.error('prober misconfigured', { error: s.error });
    return { error: s.error };
  }
  try {
    const opts = proberOptionsFrom(process.env, DEFAULT_PROBER_OPTIONS);
    return await runProber({ config: s.settings.config, configSource: rereadableConfig(), ...adapters(s.settings), log, now, sleep }, opts);
  } catch (err) {
    log.error('prober crashed', { error: errorText(err) });
    return { error: errorText(err) };
  }
}
