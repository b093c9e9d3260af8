import { runLab } from '../../src/cli/commands';

// `lab` says "Ctrl-C stops it." only once Ctrl-C does: a SIGINT that arrives right after the line
// (a script that waits for it, then stops the lab) must meet the handler, not Node's default
// (which kills the process with no "lab stopped" and no clean stop).
it('installs its SIGINT and SIGTERM handlers before it prints "Ctrl-C stops it."', async () => {
  const before = { int: process.listeners('SIGINT'), term: process.listeners('SIGTERM') };
  let seen: { int: number; term: number } | undefined;
  const lab = await runLab({ port: 0, clock: 'virtual', empty: true, seed: 1 }, (s) => {
    if (s.includes('Ctrl-C stops it.')) seen = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
  });
  try {
    expect(seen).toEqual({ int: before.int.length + 1, term: before.term.length + 1 });
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(sig)) if (!(sig === 'SIGINT' ? before.int : before.term).includes(l)) process.removeListener(sig, l);
    }
    await lab.stop();
  }
});
