/**
 * Character plots for the dashboard: braille (2×4 dots a cell) for the loss chart and the audio
 * waveform, eighth blocks for sparklines and histograms. Pure functions from numbers to strings.
 */

const DOT = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

/** A vertical range per dot column (values already on the plot's scale; NaN lo/hi = nothing drawn). */
export interface DotRange {
  lo: number;
  hi: number;
}

/**
 * Draws one vertical range per dot column (2 per character) into `rows` lines of braille,
 * `ymin` at the bottom and `ymax` at the top.
 */
export function brailleRanges(ranges: readonly DotRange[], cols: number, rows: number, ymin: number, ymax: number): string[] {
  const cells = Array.from({ length: rows }, () => new Uint8Array(cols));
  const dotsY = rows * 4;
  const span = ymax - ymin || 1;
  const toDot = (v: number) => Math.min(dotsY - 1, Math.max(0, Math.round(((ymax - v) / span) * (dotsY - 1))));
  ranges.slice(0, cols * 2).forEach((r, x) => {
    if (!Number.isFinite(r.lo) || !Number.isFinite(r.hi)) return;
    const top = toDot(Math.max(r.lo, r.hi)), bottom = toDot(Math.min(r.lo, r.hi));
    for (let y = top; y <= bottom; y++) cells[y >> 2][x >> 1] |= DOT[y & 3][x & 1];
  });
  return cells.map((row) => String.fromCharCode(...Array.from(row, (b) => 0x2800 + b)));
}

/** Resamples n values onto m columns: each column covers a contiguous run (or repeats one value when m > n). */
export function columns<T>(n: number, m: number, pick: (from: number, to: number) => T): T[] {
  if (n === 0) return [];
  return Array.from({ length: m }, (_, j) => {
    const from = Math.floor((j * n) / m);
    return pick(from, Math.max(from + 1, Math.floor(((j + 1) * n) / m)));
  });
}

const BARS = '▁▂▃▄▅▆▇█';

/** One line of eighth blocks, scaled between the min and max of xs (or the given range). */
export function sparkline(xs: readonly number[], width: number, lo?: number, hi?: number): string {
  const vals = columns(xs.length, Math.min(width, xs.length), (a) => xs[a]);
  const finite = vals.filter(Number.isFinite);
  const min = lo ?? Math.min(...finite), max = hi ?? Math.max(...finite);
  return vals.map((v) => (Number.isFinite(v) ? BARS[Math.round(((v - min) / (max - min || 1)) * (BARS.length - 1))] ?? BARS[0] : ' ')).join('');
}

/** Vertical bars for counts (a histogram), the tallest reaching the top of one line. */
export function bars(counts: readonly number[]): string {
  const max = Math.max(1, ...counts);
  return counts.map((c) => (c === 0 ? ' ' : BARS[Math.max(0, Math.ceil((c / max) * BARS.length) - 1)])).join('');
}
