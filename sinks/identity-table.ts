/**
 * The identity probe's results as text: a table per (arch, depth) for the terminal and
 * identity.txt, and identity.csv with one row per (arch, depth, ρ).
 */
import type { IdentityEvent } from '../events.ts';
import { writeTextAtomic } from './run-dir.ts';

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2).padStart(5) : String(v).padStart(5));

/** One block: a header with training and label, then ρ rows × corrI/corrC/baselines. */
export function formatIdentityTable(e: IdentityEvent): string {
  const t = e.train;
  const head = `${e.arch} depth ${e.depth} (${e.params} params; ${t.reason} after ${t.steps} steps, loss ${t.loss.toExponential(2)}, ${(t.wallMs / 1000).toFixed(1)} s)` +
    ` → ${e.label.toUpperCase()} (distance to identity ${e.distance.identity.toFixed(2)}, to constant ${e.distance.constant.toFixed(2)}; threshold ${e.threshold})`;
  const lines = [
    head,
    '    ρ │ corrI corrC  ±I    ±C  │ identity: corrI corrC │ constant: corrI corrC',
    ...e.rows.map((r) =>
      ` ${r.rho.toFixed(2)} │ ${f2(r.corrI)} ${f2(r.corrC)} ${f2(r.corrIStd)} ${f2(r.corrCStd)} │           ${f2(r.identity.corrI)} ${f2(r.identity.corrC)} │           ${f2(r.constant.corrI)} ${f2(r.constant.corrC)}`),
  ];
  return lines.join('\n');
}

/** A summary line per (arch, depth). */
export function formatIdentitySummary(events: IdentityEvent[]): string {
  const rows = events.map((e) => {
    const mid = e.rows.reduce((best, r) => (Math.abs(r.rho - 0.5) < Math.abs(best.rho - 0.5) ? r : best), e.rows[0]);
    return `  ${e.arch.padEnd(3)} depth ${String(e.depth).padStart(2)}  ${e.label.padEnd(8)}  corrI ${f2(mid.corrI)}  corrC ${f2(mid.corrC)} at ρ=${mid.rho.toFixed(2)}  ` +
      `dist→identity ${e.distance.identity.toFixed(2)}  dist→constant ${e.distance.constant.toFixed(2)}  loss ${e.train.loss.toExponential(1)}`;
  });
  return ['identity probe summary:', ...rows].join('\n');
}

export const IDENTITY_CSV_HEADER =
  'arch,depth,label,rho,corr_i,corr_c,corr_i_std,corr_c_std,identity_corr_i,identity_corr_c,constant_corr_i,constant_corr_c,distance_identity,distance_constant,train_steps,train_loss,train_reason,params';

export function writeIdentityCsv(path: string, events: IdentityEvent[]): void {
  const rows = events.flatMap((e) => e.rows.map((r) => [
    e.arch, e.depth, e.label, r.rho, r.corrI, r.corrC, r.corrIStd, r.corrCStd, r.identity.corrI, r.identity.corrC,
    r.constant.corrI, r.constant.corrC, e.distance.identity, e.distance.constant, e.train.steps, e.train.loss, e.train.reason, e.params,
  ].map(String).join(',')));
  writeTextAtomic(path, [IDENTITY_CSV_HEADER, ...rows].join('\n') + '\n');
}

export function writeIdentityText(path: string, events: IdentityEvent[]): void {
  writeTextAtomic(path, [...events.map(formatIdentityTable), formatIdentitySummary(events)].join('\n\n') + '\n');
}
