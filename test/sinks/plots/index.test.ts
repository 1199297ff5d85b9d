import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent, IdentityEvent } from '../../../events.ts';
import { identityHeatmap } from '../../../sinks/plots/identity.ts';
import { PLOT_BUILDERS, writePlots } from '../../../sinks/plots/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-plots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probe = (arch: 'fc' | 'cnn', depth: number, diff: number): IdentityEvent => ({
  kind: 'identity', runId: 'r', step: 0, time: 0, arch, depth, params: 1, corr: 'cosine', probesPerRho: 1, threshold: 0.25,
  train: { steps: 1, loss: 0, reason: 'loss-target', wallMs: 1 }, distance: { identity: 0, constant: 1 }, label: 'identity',
  rows: [0, 0.5, 1].map((rho) => ({
    rho, corrI: 1, corrC: 1 - diff, corrIStd: 0, corrCStd: 0, identity: { corrI: 1, corrC: rho }, constant: { corrI: rho, corrC: 1 },
  })),
});

describe('plot registry', () => {
  it('every builder has a unique name and file', () => {
    expect(new Set(PLOT_BUILDERS.map((b) => b.name)).size).toBe(PLOT_BUILDERS.length);
    expect(new Set(PLOT_BUILDERS.map((b) => b.file)).size).toBe(PLOT_BUILDERS.length);
    expect(PLOT_BUILDERS.map((b) => b.name)).toContain('identity');
  });

  it('the identity heatmap: null without identity events; one cell per (arch, depth, ρ), the newest event winning', () => {
    const log: EngramEvent = { kind: 'log', runId: 'r', step: 0, time: 0, level: 'info', message: 'x' };
    expect(identityHeatmap([log])).toBeNull();
    const spec = identityHeatmap([log, probe('fc', 2, 0.1), probe('cnn', 1, 0.2), probe('fc', 2, 0.7)]) as { data: { values: { row: string; diff: number }[] } };
    const cells = spec.data.values;
    expect(cells).toHaveLength(2 * 3);
    expect(new Set(cells.map((c) => c.row))).toEqual(new Set(['cnn depth 1: identity', 'fc depth 2: identity']));
    expect(cells.filter((c) => c.row.startsWith('fc')).every((c) => Math.abs(c.diff - 0.7) < 1e-12)).toBe(true);
  });

  it('writePlots writes only the plots whose events are present', async () => {
    expect(await writePlots([], dir)).toEqual({ written: [], failed: [] });
    const { written: out } = await writePlots([probe('fc', 1, 0.5)], dir);
    expect(out).toEqual([{ name: 'identity', path: join(dir, 'identity.png') }]);
    expect(readFileSync(out[0].path).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a plot that cannot be drawn is reported and does not stop the others', async () => {
    const broken = { name: 'broken', file: 'broken.png', build: () => { throw new Error('no such field'); } };
    const { written, failed } = await writePlots([probe('fc', 1, 0.5)], dir, [broken, ...PLOT_BUILDERS]);
    expect(failed).toEqual([{ name: 'broken', error: 'no such field' }]);
    expect(written.map((w) => w.name)).toEqual(['identity']);
  });
});
