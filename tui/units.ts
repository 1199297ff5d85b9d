/** How the dashboard writes numbers, durations and counts: short and fixed-width-ish. */
import type { ProgressEvent } from '../events.ts';

export const sci = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined ? '–' : Number.isFinite(x) ? x.toExponential(digits) : String(x);

/**
 * A progress event for people: "decoding clip.mp4: 120/400 frames (30%), 3.2 s",
 * "recall (noise starts): 4000/20000 iterations (20%)".
 */
export function describeProgress(e: Pick<ProgressEvent, 'what' | 'done' | 'total' | 'unit' | 'stage' | 'source' | 'elapsedMs'>): string {
  const what = e.what === 'decode' ? `decoding${e.source ? ` ${e.source === '-' ? 'standard input' : e.source}` : ''}`
    : e.what === 'experiment' ? `experiment${e.source ? ` ${e.source}` : ''}` : 'recall';
  const n = (x: number) => (e.unit === 'seconds' ? x.toFixed(1) : String(Math.round(x)));
  const of = e.total !== null && e.total > 0 ? `${n(e.done)}/${n(e.total)} ${e.unit} (${Math.min(100, Math.floor((100 * e.done) / e.total))}%)` : `${n(e.done)} ${e.unit}`;
  return `${what}${e.stage ? ` (${e.stage})` : ''}: ${of}${e.elapsedMs !== undefined ? `, ${(e.elapsedMs / 1000).toFixed(1)} s` : ''}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

/** Cuts a string to `width` characters with an ellipsis. */
export const clip = (s: string, width: number): string => (s.length <= width ? s : width <= 1 ? s.slice(0, width) : s.slice(0, width - 1) + '…');

/** A spectral radius: four decimals, or two significant digits below 1e-3 (a solved memory's ρ is often 1e-6). */
export function rho(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(1) : x.toFixed(4);
}

/** A spectral radius in few characters: two significant digits (0.09, 0.12, 1.3), an exponent below 1e-3. */
export function rhoShort(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(1) : String(Number(x.toPrecision(2)));
}
