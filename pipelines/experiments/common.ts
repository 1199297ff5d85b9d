/** Small helpers the experiments share: number formatting and their size tables. */
import type { ReproduceSize } from '../reproduce.ts';

/** A number for a report: 3 significant digits, exponent form when tiny or huge. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e5 ? x.toExponential(2) : Number(x.toPrecision(3)).toString();
}

export const sized = (s: Record<ReproduceSize, string>) => s;
