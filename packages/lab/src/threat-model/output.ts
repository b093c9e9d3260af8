/**
 * What `threat-model` prints and writes: a table within 100 columns, the JSON rows, and a
 * self-contained HTML matrix of modes by layers.
 */
import { CATALOGUE } from './catalogue';
import type { ThreatRow } from './run';
import type { AuditFinding } from './audit';
import { wrap } from '../rehearsal/summary';

export const TABLE_COLUMNS = 100;

const fit = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** A function's short name: the construct's part of a CloudFormation-generated name. */
export const shortName = (fn: string): string => fn.replace(/^[^-]+-/, '').replace(/[A-F0-9]{8}$/, '').replace(/Function$/, '') || fn;

/** Short names of the built-in layers in the table (a legend under it says them in full). */
export const LAYER_ABBREVIATIONS: Readonly<Record<string, string>> = { config: 'cfg', probes: 'prb', 'fast-signal': 'fast', 'new-version': 'nv', service: 'svc', heartbeat: 'hb', 'fail-closed': 'closed' };

/** The chances a row's failure mode meets, in words, with a mark when fewer than `need`. */
export function verdict(r: ThreatRow, need: number): string {
  if (r.skipped) return 'not rehearsed';
  if (r.kind === 'good') return r.outcome === 'rolled-back' ? 'FALSE ROLLBACK' : 'ok';
  if (r.redundancy === 0) return 'NONE';
  return r.redundancy < need ? `ONLY ${r.redundancy}` : `${r.redundancy} chances`;
}

/** The terminal table: one row per function and mode; advice under it, wrapped, never cut. */
export function threatTable(rows: readonly ThreatRow[], need: number): string {
  const head = `${fit('function', 14)} ${fit('mode', 22)} ${fit('stopped by (in turn)', 26)} ${'max'.padStart(5)} ${'failed'.padStart(6)} ${'detect'.padStart(6)}  verdict`;
  const lines = [head, '-'.repeat(TABLE_COLUMNS)];
  for (const r of rows) {
    const stoppedBy = r.skipped ? '-' : r.detectedBy.length ? r.detectedBy.map((l) => LAYER_ABBREVIATIONS[l] ?? l).join('>') : '(nothing)';
    const figures = r.skipped ? `${'-'.padStart(5)} ${'-'.padStart(6)} ${'-'.padStart(6)}` : `${`${r.maxTrafficPercent} %`.padStart(5)} ${String(r.failedUserRequests).padStart(6)} ${(r.detectionSeconds === null || r.detectionSeconds === undefined ? '-' : `${r.detectionSeconds}s`).padStart(6)}`;
    lines.push(fit(`${fit(shortName(r.function), 14)} ${fit(r.mode, 22)} ${fit(stoppedBy, 26)} ${figures}  ${verdict(r, need)}`, TABLE_COLUMNS).trimEnd());
  }
  const used = Object.entries(LAYER_ABBREVIATIONS).filter(([l]) => rows.some((r) => r.detectedBy.includes(l)));
  if (used.length) lines.push(...wrap(`layers: ${used.map(([l, a]) => `${a} ${l}`).join(', ')}; each stopped the mode with the ones before it taken away`, TABLE_COLUMNS));
  const advised = rows.filter((r) => r.advice);
  if (advised.length) {
    lines.push('', 'second chances:');
    for (const r of advised) lines.push(...wrap(`${shortName(r.function)} ${r.mode}: ${r.advice}`, TABLE_COLUMNS, '  ', '    '));
  }
  return `${lines.join('\n')}\n`;
}

/** The static audit's findings, each with its construct path and fix. */
export function auditText(findings: readonly AuditFinding[]): string {
  if (!findings.length) return 'static audit: no finding\n';
  const lines = [`static audit: ${findings.length} finding(s)`];
  for (const f of findings) lines.push(...wrap(`${f.severity === 'error' ? 'ERROR' : 'warn '} ${f.id} ${f.path}: ${f.message} Fix: ${f.fix}`, TABLE_COLUMNS, '  ', '    '));
  return `${lines.join('\n')}\n`;
}

/** Rows whose bad release fewer than `need` layers stop before 100 % (rehearsed ones only). */
export const underRedundancy = (rows: readonly ThreatRow[], need: number): ThreatRow[] => rows.filter((r) => !r.skipped && r.kind === 'bad' && r.redundancy < need);

/** Good releases a layer rolled back. */
export const falseRollbacks = (rows: readonly ThreatRow[]): ThreatRow[] => rows.filter((r) => !r.skipped && r.kind === 'good' && r.outcome === 'rolled-back');

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One page: per function, a matrix of modes by layers; a mode with one chance or none in red. */
export function threatReport(rows: readonly ThreatRow[], findings: readonly AuditFinding[], need: number): string {
  const layers = [...new Set(rows.flatMap((r) => r.detectedBy))];
  const functions = [...new Set(rows.map((r) => r.function))];
  const explain = new Map(CATALOGUE.map((m) => [m.id, m.explain]));
  const tables = functions.map((fn) => {
    const body = rows
      .filter((r) => r.function === fn)
      .map((r) => {
        const bad = (!r.skipped && r.kind === 'bad' && r.redundancy < need) || (r.kind === 'good' && r.outcome === 'rolled-back');
        const cells = layers.map((l) => {
          const i = r.detectedBy.indexOf(l);
          return `<td class="${i >= 0 ? 'hit' : ''}">${i >= 0 ? String(i + 1) : ''}</td>`;
        });
        return `<tr class="${r.skipped ? 'skip' : bad ? 'spof' : 'ok'}"><td class="mode" title="${esc(explain.get(r.mode) ?? '')}">${esc(r.mode)}</td>${cells.join('')}<td>${esc(verdict(r, need))}</td><td>${r.skipped ? '-' : `${r.maxTrafficPercent} %`}</td><td>${r.skipped ? '-' : r.failedUserRequests}</td><td class="advice">${esc(r.advice ?? '')}</td></tr>`;
      })
      .join('\n');
    return `<h2>${esc(shortName(fn))} <small>${esc(fn)}</small></h2>
<table><thead><tr><th>mode</th>${layers.map((l) => `<th>${esc(l)}</th>`).join('')}<th>verdict</th><th>max</th><th>failed</th><th>second chance</th></tr></thead><tbody>
${body}
</tbody></table>`;
  });
  const single = underRedundancy(rows, need).length;
  return `<!doctype html><html><head><meta charset="utf-8"><title>canary-watchdog threat model</title><style>
body{font:14px system-ui,sans-serif;margin:16px;max-width:1360px}table{border-collapse:collapse;width:100%;table-layout:auto}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:center}td.mode,td.advice{text-align:left}td.advice{font-size:12px;max-width:420px}
td.hit{background:#cfe8cf;font-weight:bold}tr.spof td.mode,tr.spof td:nth-last-child(4){background:#f6c6c6;color:#700}tr.skip{color:#888}
</style></head><body><h1>Threat model</h1>
<p>${rows.length} rehearsed pairs of function and failure mode; ${single} with fewer than ${need} layers stopping them before 100 % (red). A number is the order in which a layer stopped the mode, each with the layers before it taken away.</p>
${findings.length ? `<h2>Static audit</h2><ul>${findings.map((f) => `<li><b>${esc(f.id)}</b> ${esc(f.path)}: ${esc(f.message)} <i>Fix:</i> ${esc(f.fix)}</li>`).join('')}</ul>` : ''}
${tables.join('\n')}
</body></html>
`;
}
