import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { plotSvg, writePlot, type PlotSpec } from '../../sinks/plot.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: PlotSpec = {
  width: 200, height: 100,
  data: { values: [{ x: 1, y: 1 }, { x: 2, y: 10 }, { x: 3, y: 100 }] },
  mark: 'line',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative', scale: { type: 'log' } } },
};

/** Width, height and the fraction of non-white pixels of an 8-bit RGBA PNG. */
function inspectPng(buf: Buffer): { width: number; height: number; inked: number } {
  expect(buf.subarray(1, 4).toString()).toBe('PNG');
  let off = 8;
  let width = 0, height = 0, colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString();
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colorType = body[9];
    }
    if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const ch = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  // undo the PNG row filters to count inked pixels
  const stride = width * ch;
  const prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  let inked = 0;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= ch ? cur[i - ch] : 0, b = prev[i], c = i >= ch ? prev[i - ch] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      cur[i] = (x + pred) & 255;
    }
    for (let i = 0; i < stride; i += ch) if (cur[i] < 200 || cur[i + 1] < 200 || cur[i + 2] < 200) inked++;
    prev.set(cur);
  }
  return { width, height, inked: inked / (width * height) };
}

describe('plots', () => {
  it('renders a Vega-Lite spec to SVG with its axes', async () => {
    const svg = await plotSvg(spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('path'); // the line
  });

  it('writes a PNG that has the line and axes drawn on white', async () => {
    const path = await writePlot(join(dir, 'p.png'), spec, 1);
    const info = inspectPng(readFileSync(path));
    expect(info.width).toBeGreaterThanOrEqual(200);
    expect(info.height).toBeGreaterThanOrEqual(100);
    expect(info.inked).toBeGreaterThan(0.005);
    expect(info.inked).toBeLessThan(0.5);
  });

  it('names an unwritable path', async () => {
    await expect(writePlot(join(dir, 'no/such/dir/p.png'), spec)).rejects.toThrow(EngramError);
    await expect(writePlot(join(dir, 'no/such/dir/p.png'), spec)).rejects.toThrow(/no\/such\/dir\/p\.png/);
  });
});
