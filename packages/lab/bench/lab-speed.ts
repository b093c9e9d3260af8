/**
 * The lab's own speed (issue 4's target): one 30-minute deployment of the sample app's OrdersApi
 * with 20 requests/s on a virtual clock, the watchdog, prober and hooks running for real. Each run
 * uses a fresh lab; threads are handed from one lab to the next, as rehearsals do.
 */
import { Lab } from '../src/lab/lab';
import { quantile } from './safety';

export interface LabSpeed {
  readonly runs: number;
  /** Wall ms of the 30 virtual minutes from CreateDeployment on, median and max over the runs. */
  readonly deploymentMedianMs: number;
  readonly deploymentMaxMs: number;
  /** Wall ms of a whole run: start, load the assembly, 2 minutes of warm-up traffic, the deployment, stop. */
  readonly totalMedianMs: number;
  readonly outcome: string;
}

export async function labSpeed(assembly: string, runs: number): Promise<LabSpeed> {
  const deployment: number[] = [];
  const total: number[] = [];
  let outcome = '';
  // One run first to start the threads (a cold process), not counted.
  for (let i = -1; i < runs; i++) {
    const t0 = Date.now();
    const lab = new Lab({ seed: 1 + Math.max(0, i), reuseThreads: true });
    await lab.start();
    try {
      await lab.loadAssembly(assembly);
      const r = lab.release('OrdersApi');
      lab.traffic.set(r.functionName, r.alias, 20);
      await lab.advance(120);
      const t1 = Date.now();
      const { deploymentId } = await lab.deploy('OrdersApi');
      await lab.advance(30 * 60);
      const t2 = Date.now();
      outcome = String(lab.codedeploy.deployments().find((d) => d.deploymentId === deploymentId)?.status);
      if (i >= 0) deployment.push(t2 - t1);
    } finally {
      await lab.stop();
    }
    if (i >= 0) total.push(Date.now() - t0);
  }
  return { runs, deploymentMedianMs: quantile(deployment, 0.5) ?? 0, deploymentMaxMs: Math.max(...deployment), totalMedianMs: quantile(total, 0.5) ?? 0, outcome };
}
