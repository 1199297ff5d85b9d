/**
 * engram inspect <run-dir> through the real CLI: a run directory is built here (run.json + a
 * model.ckpt of a small tanh net with its training data), inspect certifies every stored memory and
 * writes attractors.json and two histogram PNGs; its ρ must equal the dense solver's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { certifyCycle } from '../../engine/certify.ts';
import { createFcModel, type Model } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';
import { saveCheckpoint } from '../../sinks/checkpoints.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-inspect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend();
});

const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });

function makeRun(dir: string, objective: 'autoencode' | 'cycle', model: Model, xs: Float32Array[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: `test-${objective}`, command: 'test', status: 'complete', created: '', updated: '' }));
  const d = model.spec.dim;
  const packed = new Float32Array(xs.length * d);
  xs.forEach((x, i) => packed.set(x, i * d));
  saveCheckpoint(join(dir, 'model.ckpt'), {
    spec: model.spec, step: 42, weights: model.weights(),
    data: { objective, sequenceLengths: [xs.length], vectors: { name: 'vectors', shape: [xs.length, d], data: packed } },
    meta: {},
  });
}

const isPng = (p: string) => readFileSync(p).subarray(1, 4).toString() === 'PNG';

describe('engram inspect', () => {
  const d = 12;
  const model = () => createFcModel({ kind: 'fc', dim: d, width: 8, depth: 2, activation: 'tanh', bias: true, init: 'uniform:0.6', seed: 4 });
  const xs = Array.from({ length: 5 }, (_, i) => new Rng(30 + i).uniformArray(d, 0, 1));

  it('autoencode: every example certified at its stored point, ρ as the dense solver gives', () => {
    const m = model();
    const dir = join(tmp, 'ae');
    makeRun(dir, 'autoencode', m, xs);
    writeFileSync(join(dir, 'events.jsonl'), '');
    const r = cli(['inspect', dir, '--eig-method', 'full', '--quiet']);
    expect(r.stderr).not.toContain('internal error');
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'attractors.json'), 'utf8'));
    // an untrained net stores none of its examples: said as memorize says it, not as "k/5 are attractors"
    expect(json.items.map((i: { stored: boolean }) => i.stored)).toEqual([false, false, false, false, false]);
    expect(json.totals.stored).toBe(0);
    expect(r.stdout).toMatch(/: no stored memory to certify; 5\/5 training examples are not a stored memory \(the network does not come back to them\); at the training points \d\/5 (is|are) attracting; ρ /);
    expect(r.stdout).not.toMatch(/stored examples? (is an attractor|are attractors)/);
    expect(json.method).toBe('full');
    expect(json.step).toBe(42);
    expect(json.totals.n).toBe(5);
    expect(json.items).toHaveLength(5);
    json.items.forEach((item: { rho: number; attractor: boolean; top: unknown[] }, i: number) => {
      const settled = m.iterate(xs[i], json.settle).subarray((json.settle - 1) * d);
      const dense = certifyCycle(m, [settled], 5, 'full');
      expect(item.rho).toBeCloseTo(dense.rho, 5);
      expect(item.attractor).toBe(dense.rho < 1);
      expect(item.top).toHaveLength(5);
    });
    expect(json.totals.attractors).toBe(json.items.filter((i: { attractor: boolean }) => i.attractor).length);
    for (const f of ['rho-hist.png', 'top-eig-hist.png']) expect(isPng(join(dir, f))).toBe(true);
    // the result is in the event log too, so plots can be rebuilt from it
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'attractor-monitor').map((e) => e.phase)).toEqual(['inspect']);
    m.dispose();
  });

  it('cycle: one certificate around the sequence; auto and arnoldi agree with the dense ρ', () => {
    const m = model();
    const dir = join(tmp, 'cyc');
    makeRun(dir, 'cycle', m, xs);
    const dense = certifyCycle(m, xs, 5, 'full');
    for (const method of ['auto', 'arnoldi']) {
      const r = cli(['inspect', dir, '--eig-method', method, '--quiet']);
      expect(r.status).toBe(0);
      const json = JSON.parse(readFileSync(join(dir, 'attractors.json'), 'utf8'));
      expect(json.items).toHaveLength(1);
      expect(json.items[0].period).toBe(5);
      expect(Math.abs(json.items[0].rho - dense.rho)).toBeLessThan(1e-4 * dense.rho);
    }
    m.dispose();
  });

  it('lines mode: the backend banner goes to stderr, stdout holds the results only', () => {
    const m = model();
    const dir = join(tmp, 'banner');
    makeRun(dir, 'cycle', m, xs);
    m.dispose();
    const r = cli(['inspect', dir, '--no-tui']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^backend \S+ \(tfjs '[^']+'\) on .*thread\(s\)$/m);
    expect(r.stdout).not.toMatch(/^backend /m);
    expect(r.stdout).toMatch(/^inspect .*banner \(step 42, /m);
  });

  it('refuses a directory that is not a run, naming it', () => {
    const dir = join(tmp, 'not-a-run');
    mkdirSync(dir);
    const r = cli(['inspect', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${dir} is not an engram run directory`);
    expect(existsSync(join(dir, 'attractors.json'))).toBe(false);
    const bad = cli(['inspect', dir, '--eig-method', 'qr']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--eig-method must be auto, full, reduced or arnoldi');
  });
});
