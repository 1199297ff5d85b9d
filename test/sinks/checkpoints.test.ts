/** The checkpoint store's guard against NaN/Inf weights, and how last-finite.ckpt ranks on resume. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointContents } from '../../engine/checkpoint.ts';
import { checkpointStore } from '../../sinks/checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint store and non-finite weights', () => {
  const contents = (step: number, fill: number): CheckpointContents => ({
    spec: { kind: 'fc', dim: 2, width: 2, depth: 1, activation: 'relu', bias: false, init: 'torch', seed: 1 },
    step, weights: [{ name: 'W0', shape: [2, 2], data: new Float32Array(4).fill(fill) }, { name: 'W1', shape: [2, 2], data: new Float32Array(4).fill(1) }],
  });

  it('refuses to write NaN/Inf weights, naming the file', () => {
    const store = checkpointStore(join(dir, 'guard'));
    expect(() => store.save(contents(5, Number.NaN))).toThrow(/step-000000005\.ckpt: weight W0 holds NaN or Inf/);
    expect(() => store.saveFinal(contents(5, Infinity))).toThrow(/model\.ckpt/);
    expect(() => store.saveLastFinite(contents(5, Number.NaN))).toThrow(/last-finite\.ckpt/);
    expect(store.newest()).toBeNull();
  });

  it('last-finite.ckpt drops the later interval checkpoints and is what a resume picks', () => {
    const run = join(dir, 'run');
    const store = checkpointStore(run);
    for (const s of [2, 4, 6]) store.save(contents(s, s));
    const path = store.saveLastFinite(contents(5, 5));
    expect(path).toBe(join(run, 'checkpoints', 'last-finite.ckpt'));
    expect(readdirSync(join(run, 'checkpoints')).sort()).toEqual(['last-finite.ckpt', 'step-000000002.ckpt', 'step-000000004.ckpt']);
    const newest = store.newest()!;
    expect(newest.path).toBe(path);
    expect(newest.contents.step).toBe(5);
    // a resumed run that goes further saves interval checkpoints that win again
    store.save(contents(8, 8));
    expect(store.newest()!.contents.step).toBe(8);
  });
});
