/**
 * `engram doctor`: what this machine gives engram (pipelines/doctor.ts) — the backend, BLAS and
 * threads, ffmpeg and its encoders, fonts for plots, free memory and disk, espeak-ng — and for each
 * missing piece the command that adds it. Exit 0 when engram can run here (missing optional pieces
 * are warnings), 1 with the code of the first missing required piece (E_BACKEND, E_FFMPEG).
 * --json: the report as one JSON line ({"kind":"doctor",…}), then the error line if any.
 */
import { EngramError, type ErrorCode } from '../errors.ts';
import { checkBackendOption } from '../pipelines/backend-start.ts';
import { doctor, type DoctorCheck, type DoctorReport } from '../pipelines/doctor.ts';
import type { Parsed } from './args.ts';
import { presenterOf } from './execute.ts';

const MARK: Record<DoctorCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗' };
const CODE: Partial<Record<DoctorCheck['name'], ErrorCode>> = { backend: 'E_BACKEND', ffmpeg: 'E_FFMPEG', node: 'E_BACKEND' };

/** The report for people: one line per check, and under each missing piece what it costs and the command that adds it. */
export function formatDoctor(r: DoctorReport): string[] {
  const pad = Math.max(...r.checks.map((c) => c.name.length));
  const lines = ['engram doctor: what this machine gives engram'];
  for (const c of r.checks) {
    lines.push(`  ${MARK[c.status]} ${c.name.padEnd(pad)}  ${c.found}`);
    if (c.impact) lines.push(`  ${' '.repeat(pad + 4)}impact: ${c.impact}`);
    if (c.fix) lines.push(`  ${' '.repeat(pad + 4)}fix: ${c.fix}`);
  }
  lines.push(summaryOf(r));
  return lines;
}

export function summaryOf(r: DoctorReport): string {
  const failed = r.checks.filter((c) => c.status === 'fail' && c.required);
  // the pieces that can be added (a slow backend is the consequence of a missing one, not a piece)
  const warned = r.checks.filter((c) => c.fix && (c.status === 'warn' || (c.status === 'fail' && !c.required)));
  if (failed.length) return `engram cannot run here: ${failed.map((c) => c.name).join(', ')} not usable`;
  if (warned.length) return `engram runs here; ${warned.length} optional piece${warned.length > 1 ? 's' : ''} missing: ${warned.map((c) => c.name).join(', ')}`;
  return 'engram runs here with everything it can use';
}

export async function doctorCommand(args: Parsed): Promise<number> {
  if (args.positionals.length) throw new EngramError('E_BAD_ARGUMENT', 'doctor takes no input: engram doctor [--json]');
  const requested = args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined);
  checkBackendOption(requested, args.values.backend !== undefined ? '--backend' : 'ENGRAM_BACKEND');
  const report = await doctor(requested);
  const p = presenterOf(args, { dashboard: false });
  if (p === 'json') console.log(JSON.stringify(report));
  else if (p === 'quiet') console.log(summaryOf(report));
  else for (const l of formatDoctor(report)) console.log(l);
  const failed = report.checks.find((c) => c.status === 'fail' && c.required);
  if (failed) throw new EngramError(CODE[failed.name] ?? 'E_BACKEND', `engram cannot run here: ${failed.name}: ${failed.found}${failed.fix ? `; to add it: ${failed.fix}` : ''}`);
  return 0;
}
