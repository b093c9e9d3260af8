/**
 * Ctrl-C (SIGINT) as an AbortSignal: a command that runs long stops its work when it fires,
 * prints what finished so far, and ends with EXIT.interrupted (130). A second Ctrl-C ends the
 * process at once, with the same status.
 */
import { CliError, EXIT } from './exit-codes';

/** The error an interrupted command ends with. */
export const interrupted = (what: string): CliError => new CliError(EXIT.interrupted, `interrupted (SIGINT): ${what}`);

/** Whether `signal` fired because of Ctrl-C. */
export const wasInterrupted = (signal: AbortSignal | undefined): boolean => Boolean(signal?.aborted && signal.reason instanceof CliError && signal.reason.exitCode === EXIT.interrupted);

/** A signal that fires on the process's first SIGINT; `dispose` removes the handler. */
export function onInterrupt(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(interrupted('stopping'));
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', handler) };
}

/** Resolves after `ms`, or at once when `signal` fires. */
export function sleepUnless(signal: AbortSignal | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
