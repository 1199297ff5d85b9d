/**
 * Pixels → terminal lines of '▀': the foreground colours the upper pixel, the background the lower,
 * so a w×h image takes w columns and h/2 rows. Colours are written as ANSI escapes into one string
 * per line (one Ink <Text> per line rather than one per cell, which keeps redraws cheap).
 */

export type ColorMode = 'truecolor' | '256';

/** truecolor when the terminal says so (COLORTERM=truecolor|24bit), else the 256-colour gray ramp. */
export function colorModeFrom(env: NodeJS.ProcessEnv): ColorMode {
  return /^(truecolor|24bit)$/i.test(env.COLORTERM ?? '') ? 'truecolor' : '256';
}

export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3;
  /** width·height·channels bytes, row-major, channels interleaved. */
  data: Uint8Array;
}

/** 232…255 is xterm's 24-step gray ramp. */
export const gray256 = (g: number) => 232 + Math.round((g / 255) * 23);

function sgr(rgb: [number, number, number], mode: ColorMode, bg: boolean): string {
  if (mode === 'truecolor') return `\x1b[${bg ? 48 : 38};2;${rgb[0]};${rgb[1]};${rgb[2]}m`;
  const luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  return `\x1b[${bg ? 48 : 38};5;${gray256(luma)}m`;
}

/** The largest size that fits cols × rows cells (2 pixels a row), keeping the aspect; upscaling by whole factors only. */
export function fitSize(w: number, h: number, cols: number, rows: number): { width: number; height: number } {
  if (w <= 0 || h <= 0 || cols <= 0 || rows <= 0) return { width: 0, height: 0 };
  const s = Math.min(cols / w, (rows * 2) / h);
  const k = s >= 1 ? Math.floor(s) : s;
  return { width: Math.max(1, Math.floor(w * k)), height: Math.max(2, Math.floor(h * k)) };
}

export function halfBlockLines(p: Pixels, cols: number, rows: number, mode: ColorMode): string[] {
  const { width, height } = fitSize(p.width, p.height, cols, rows);
  const at = (x: number, y: number): [number, number, number] => {
    if (y >= height) return [0, 0, 0];
    const sx = Math.min(p.width - 1, Math.floor((x * p.width) / width)), sy = Math.min(p.height - 1, Math.floor((y * p.height) / height));
    const i = (sy * p.width + sx) * p.channels;
    return p.channels === 3 ? [p.data[i], p.data[i + 1], p.data[i + 2]] : [p.data[i], p.data[i], p.data[i]];
  };
  const lines: string[] = [];
  for (let y = 0; y < height; y += 2) {
    // escapes only where a colour changes: Ink's cost grows with the number of styled runs
    let s = '', fg = '', bg = '';
    for (let x = 0; x < width; x++) {
      const f = sgr(at(x, y), mode, false), b = sgr(at(x, y + 1), mode, true);
      if (f !== fg) s += fg = f;
      if (b !== bg) s += bg = b;
      s += '▀';
    }
    lines.push(s + '\x1b[0m');
  }
  return lines;
}
