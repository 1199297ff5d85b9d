import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel, type Model } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import { createTrainer } from '../../engine/trainer.ts';
import { cellOf, computeBasins } from '../../operators/basins.ts';
import type { IteratedMap } from '../../engine/limits.ts';
import { runRecall } from '../../operators/recall.ts';
import { nearestExample } from '../../operators/recovery.ts';
import { writePlot } from '../../sinks/plot.ts';
import { basinsPlotSpec } from '../../sinks/plots/basins.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-basins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const points = [[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]].map((p) => Float32Array.from(p));

/** Decoded size of a PNG, checking its chunks inflate. */
function pngSize(path: string): { width: number; height: number } {
  const buf = readFileSync(path);
  expect(buf.subarray(1, 4).toString()).toBe('PNG');
  const idat: Buffer[] = [];
  let off = 8, width = 0, height = 0;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.subarray(off + 4, off + 8).toString();
    if (type === 'IHDR') [width, height] = [buf.readUInt32BE(off + 8), buf.readUInt32BE(off + 12)];
    if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  expect(inflateSync(Buffer.concat(idat)).length).toBeGreaterThan(width * height);
  return { width, height };
}

describe('basins on a stub map', () => {
  it('colours the plane by the nearest point when every point attracts its Voronoi cell', () => {
    const map: IteratedMap = {
      spec: { dim: 2 },
      iterate: (x0, steps) => {
        const out = new Float32Array(steps * x0.length);
        let x = x0.slice();
        for (let s = 0; s < steps; s++) {
          const y = new Float32Array(x.length);
          for (let q = 0; q < x.length; q += 2) {
            const c = points[nearestExample(points, x.subarray(q, q + 2))];
            y[q] = c[0] + 0.5 * (x[q] - c[0]);
            y[q + 1] = c[1] + 0.5 * (x[q + 1] - c[1]);
          }
          out.set(y, s * x.length);
          x = y;
        }
        return out;
      },
    };
    const b = computeBasins({ map, points, objective: 'autoencode' }, { runId: 'b', size: 40, steps: 100 });
    expect(b.labels).toHaveLength(1600);
    const { size, x0, x1, y0, y1 } = b.grid;
    for (let q = 0; q < size * size; q++) {
      const c = Float32Array.of(x0 + ((q % size) + 0.5) * (x1 - x0) / size, y0 + (Math.floor(q / size) + 0.5) * (y1 - y0) / size);
      expect(b.labels[q]).toBe(nearestExample(points, c));
    }
    // the field points towards the attracting point: f(x) − x = −0.5 (x − c)
    const [fx, fy, dx, dy] = b.field[0];
    const c = points[nearestExample(points, Float32Array.of(fx, fy))];
    expect(dx).toBeCloseTo(-0.5 * (fx - c[0]), 5);
    expect(dy).toBeCloseTo(-0.5 * (fy - c[1]), 5);
    expect(b.share['0'] + b.share['1'] + b.share['2']).toBeCloseTo(1, 6);
  });
});

describe('basins of several cycles, and spurious limits', () => {
  // two 2-cycles (0 ↔ 1 and 2 ↔ 3): a state in the Voronoi cell of a point contracts towards that
  // point's successor; right of x = 1.1 everything contracts to a fixed point (1.2, 0.5) that is no point
  const pts = [[0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8]].map((p) => Float32Array.from(p));
  const next = [1, 0, 3, 2];
  const map: IteratedMap = {
    spec: { dim: 2 },
    iterate: (x0, steps) => {
      const out = new Float32Array(steps * x0.length);
      let x = x0.slice();
      for (let s = 0; s < steps; s++) {
        const y = new Float32Array(x.length);
        for (let q = 0; q < x.length; q += 2) {
          const far = x[q] > 1.1;
          const c = far ? Float32Array.of(1.2, 0.5) : pts[next[nearestExample(pts, x.subarray(q, q + 2))]];
          const from = far ? c : pts[nearestExample(pts, x.subarray(q, q + 2))];
          y[q] = c[0] + 0.5 * (x[q] - from[0]);
          y[q + 1] = c[1] + 0.5 * (x[q + 1] - from[1]);
        }
        out.set(y, s * x.length);
        x = y;
      }
      return out;
    },
  };

  it('labels each cell by the point of the cycle it reaches in phase, and lists the spurious fixed point once', () => {
    const b = computeBasins({ map, points: pts, objective: 'cycle', sequences: [2, 2] }, { runId: 'b', size: 40, steps: 200 });
    expect(b.sequences).toEqual([2, 2]);
    const { size, x0, x1, y0, y1 } = b.grid;
    let checked = 0;
    for (let q = 0; q < b.labels.length; q++) {
      const x = x0 + ((q % size) + 0.5) * (x1 - x0) / size, y = y0 + (Math.floor(q / size) + 0.5) * (y1 - y0) / size;
      if (x > 1.05 && x < 1.15) continue; // cells on the border of the far region may go either way
      if (x > 1.15) expect(b.labels[q]).toBe(-1);
      else {
        expect(b.labels[q]).toBe(nearestExample(pts, Float32Array.of(x, y)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(b.spurious!.limits).toHaveLength(1);
    expect(b.spurious!.periods).toEqual([1]);
    expect(b.spurious!.limits[0][0]).toBeCloseTo(1.2, 4);
    expect(b.spurious!.limits[0][1]).toBeCloseTo(0.5, 4);
    expect(b.spurious!.cells).toBe(b.labels.filter((l) => l === -1).length);
  });
});

describe('basins where some cells diverge', () => {
  it('colours cells that blow up or turn NaN as diverged, the rest by the point they reach', () => {
    // a < 0: a ↦ 2a − 1 (blows up); a > 1.2: NaN; otherwise contract onto the nearest point
    const f = (a: number, b: number): [number, number] => {
      if (a < 0) return [2 * a - 1, b];
      if (!(a <= 1.2)) return [Number.NaN, Number.NaN];
      const c = points[nearestExample(points, Float32Array.of(a, b))];
      return [c[0] + 0.5 * (a - c[0]), c[1] + 0.5 * (b - c[1])];
    };
    const map: IteratedMap = {
      spec: { dim: 2 },
      iterate: (x0, steps) => {
        const out = new Float32Array(steps * x0.length);
        const x = x0.slice();
        for (let s = 0; s < steps; s++) {
          for (let q = 0; q < x.length; q += 2) [x[q], x[q + 1]] = f(x[q], x[q + 1]);
          out.set(x, s * x.length);
        }
        return out;
      },
    };
    const b = computeBasins({ map, points, objective: 'autoencode' }, { runId: 'b', size: 32, steps: 200 });
    const { size, x0, x1, y0, y1 } = b.grid;
    for (let q = 0; q < size * size; q++) {
      const c = Float32Array.of(x0 + ((q % size) + 0.5) * (x1 - x0) / size, y0 + (Math.floor(q / size) + 0.5) * (y1 - y0) / size);
      expect(b.labels[q]).toBe(c[0] < 0 || c[0] > 1.2 ? -2 : nearestExample(points, c));
    }
    expect(b.share.diverged).toBeGreaterThan(0);
    expect(b.steps).toBeLessThan(200); // every cell was decided before the cap
  });
});

describe('basins of a tiny trained 2-D network', () => {
  let model: Model;
  beforeAll(async () => {
    await selectBackend();
    model = createFcModel({ kind: 'fc', dim: 2, width: 64, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 }, points[0]);
  });
  afterAll(() => model.dispose());

  for (const objective of ['autoencode', 'cycle'] as const) {
    it(`${objective}: each training point's own cell is coloured by that point, and basins.png decodes`, async () => {
      model.setWeights(createFcModel({ ...model.spec }, points[0]).weights().map((w) => ({ name: w.name, data: w.data })));
      const trainer = createTrainer(model, makeDataset(objective, [points]), { name: 'adam', lr: 1e-3 }, { seed: 1 });
      for (let s = 0; s < 3000 && trainer.step().loss > 1e-8; s++);
      trainer.dispose();
      const rec = await runRecall({ map: model, sequences: [points], objective }, { runId: 'b', from: 'gaussian', peak: 0.6 });
      expect(rec.event.framesStored).toBe(3);
      const b = computeBasins({ map: model, points, objective, stored: rec.stored }, { runId: 'b', steps: 600 });
      expect(b.grid.size).toBe(100);
      points.forEach((p, i) => expect(b.labels[cellOf(b.grid, p[0], p[1])]).toBe(i));
      const path = await writePlot(join(dir, `basins-${objective}.png`), basinsPlotSpec([b])!);
      const { width, height } = pngSize(path);
      expect(width).toBeGreaterThan(400);
      expect(height).toBeGreaterThan(400);
    });
  }
});
