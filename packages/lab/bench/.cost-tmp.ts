import { evaluationCost } from '/work/wt/calls/packages/lab/bench/watchdog-cost';
void (async () => {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes) {
    const c = await evaluationCost(n);
    console.log(JSON.stringify({ n, steady: c.calls, by: c.byOperation, decisions: c.decisions, wallMs: c.wallMs, reconcile: c.reconcile.calls, rby: c.reconcile.byOperation }));
  }
  process.exit(0);
})();
