/**
 * `npm run bench`: runs the benchmarks, writes bench/results.json and BENCHMARKS.md.
 * `--quick` uses fewer trials and sizes. Figures are measured on this machine in one run;
 * wall times are context, counts and ratios are the result.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runComparison } from './comparison-test';
import { runScale } from './scale';
import { evaluationCost, monthlyCost } from './watchdog-cost';

void (async () => {
  const quick = process.argv.includes('--quick');
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const started = Date.now();
  const comparison = runComparison(quick ? 0.2 : 1);
  const scale = runScale(quick ? [1, 10] : [1, 10, 30]);
  const cost = [];
  for (const n of quick ? [1, 10] : [1, 10, 50, 200]) {
    const c = await evaluationCost(n);
    cost.push({ ...c, monthly: monthlyCost(n, c.calls) });
  }
  const results = { commit, quick, measuredAt: new Date().toISOString(), wallSeconds: Math.round((Date.now() - started) / 1000), comparison, scale, cost };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)} %`;
  const md = [
    '# Benchmarks',
    '',
    `Measured on commit \`${commit}\`${quick ? ' (quick mode)' : ''}, ${results.measuredAt}, on the 2-core development machine, by \`npm run bench\`. Raw figures: \`bench/results.json\`.`,
    '',
    '## Error-rate test: false rollbacks and power',
    '',
    'Both error-rate rules of the new-version layer (absolute, and versus the old version), evaluated once a minute on cumulative counts over a 10-minute canary at 10 %; the old version at 0.5 %. Seeded simulation of the core functions.',
    '',
    '| case | trials | evaluations failing | deployments rolled back |',
    '|---|---|---|---|',
    ...comparison.map((r) => `| ${r.name} | ${r.trials} | ${pct(r.perEvaluation, 3)} | ${pct(r.perDeployment)} |`),
    '',
    '## Scale of the constructs',
    '',
    '`cdk synth` (in-process `app.synth()`, CDK\'s built-in template validation included) of N guarded functions (`configDelivery: state-table`, one probe each) against N plain functions with a plain `LambdaDeploymentGroup`.',
    '',
    '| N | guarded: resources | guarded: synth ms | plain: resources | plain: synth ms |',
    '|---|---|---|---|---|',
    ...scale.map((r) => `| ${r.n} | ${r.guarded.resources ?? `fails: ${r.guarded.error}`} | ${Math.round(r.guarded.ms)} | ${r.plain.resources ?? 'fails'} | ${Math.round(r.plain.ms)} |`),
    '',
    '## Watchdog cost',
    '',
    'One evaluation by the real bundled watchdog against the lab, with N deployments in progress (second run, warm). The monthly figure is a model from the prices in shared/AWS-FACTS.md (4 standard and 1 high-resolution alarm, 5 custom metrics per function, watchdog and prober every minute, deployments in progress 5 % of the time), next to one 1-minute CloudWatch Synthetics canary per function.',
    '',
    '| N | API calls | per operation | wall ms | monthly (model) | Synthetics canaries |',
    '|---|---|---|---|---|---|',
    ...cost.map((c) => `| ${c.n} | ${c.calls} | ${Object.entries(c.byOperation).map(([k, v]) => `${k} ${v}`).join(', ')} | ${c.wallMs} | $${c.monthly.watchdog.toFixed(2)} | $${c.monthly.synthetics.toFixed(2)} |`),
    '',
    '## Not measured yet',
    '',
    'The safety matrix and the false-rollback runs on the lab (issue 6, items 1 and 2) and rehearsal throughput are not in this harness yet.',
    '',
  ].join('\n');
  writeFileSync(join(__dirname, '..', 'BENCHMARKS.md'), md);
  console.log(md);
  process.exit(0);
})();
