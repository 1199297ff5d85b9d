/**
 * Issue 10: runs that can never fit are refused up front with E_RESOURCE (the estimate, the machine's
 * memory and what to lower); lavfi graphs without an end are recognized; an input of unknown length
 * is decoded only up to its cap, and ffmpeg is stopped there.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { loadInput } from '../../pipelines/inputs.ts';
import type { BackendInfo } from '../../engine/backend.ts';
import { checkMemorizeMemory, memorize } from '../../pipelines/memorize.ts';
import { demoConfig } from '../tui/fixtures.ts';
import {
  MAX_INPUT_FRAMES, WASM_HEAP_BYTES, assocEstimate, basinsEstimate, checkMemory, fcMemorizeEstimate, inputSampleCap, lavfiHasEnd, type Machine,
} from '../../pipelines/resources.ts';

const GiB = 2 ** 30;
const laptop: Machine = { total: 16 * GiB, free: 8 * GiB };
const huge: Machine = { total: 1024 * GiB, free: 1024 * GiB };

function refusal(f: () => void): EngramError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngramError);
    return e as EngramError;
  }
  throw new Error('expected a refusal');
}

describe('lavfiHasEnd', () => {
  it.each([
    ['testsrc2=s=8x8', false], ['testsrc2', false], ['life=s=32x32:ratio=0.5', false], ['sine=frequency=440', false],
    ['color=c=red:s=8x8', false], ['testsrc2=s=8x8,format=gray', false], ['mandelbrot', false], ['movie=a.mp4:loop=0', false],
    // sd= is not d=, nor is a value that mentions d=
    ['testsrc2=s=8x8:sd=1', false],
    ['testsrc2=s=8x8:d=1', true], ['testsrc2=d=1', true], ['testsrc2=s=64x64:duration=2.5', true], ['sine=f=440:d=2', true],
    ['life=s=8x8,trim=end_frame=48', true], ['testsrc2=s=8x8,trim=duration=1', true], ['life=s=8x8,trim=end=2', true],
    ['movie=clip.mp4', true],
  ])('%s → %s', (graph, ends) => {
    expect(lavfiHasEnd(graph)).toBe(ends);
  });
});

describe('fcMemorizeEstimate', () => {
  it('counts parameters, optimizer slots, activations and the dataset', () => {
    const e = fcMemorizeEstimate({ dim: 1024, width: 512, depth: 2, bias: false, fit: 'gradient', optimizer: 'adam', n: 10, input: 'x' });
    const params = 512 * 1024 * 2 + 512 * 512; // 1,310,720
    expect(e.parts.map((p) => p.bytes)).toEqual([params * 8, 10 * 1024 * 12, params * 12 + 10 * (2 * 512 * 2 + 2 * 1024) * 4]);
    expect(e.bytes).toBe(26_501_120);
    expect(e.largest.elements).toBe(512 * 1024);
  });

  it('solve counts the float64 Gram and work matrices; auto the larger of solve and gradient', () => {
    const base = { dim: 64, width: 4096, depth: 1, bias: true, optimizer: 'adam', n: 100, input: 'x' } as const;
    const solve = fcMemorizeEstimate({ ...base, fit: 'solve' });
    expect(solve.parts[2].bytes).toBe((4097 ** 2 * 3 + 100 * 4097 * 2) * 8);
    const auto = fcMemorizeEstimate({ ...base, fit: 'auto' });
    const gradient = fcMemorizeEstimate({ ...base, fit: 'gradient' });
    expect(auto.bytes).toBe(Math.max(solve.bytes, gradient.bytes));
  });
});

describe('checkMemory', () => {
  it('a 32x32 run of 96 frames at width 1024 fits a laptop', () => {
    expect(() => checkMemory(fcMemorizeEstimate({ dim: 1024, width: 1024, depth: 2, bias: true, fit: 'auto', optimizer: 'adam', n: 96, input: 'x' }), { machine: laptop })).not.toThrow();
  });

  it('--size 4096x4096 is refused with the estimate, the machine and what to lower', () => {
    const e = refusal(() => checkMemory(fcMemorizeEstimate({ dim: 4096 * 4096, width: 1024, depth: 2, bias: true, fit: 'auto', optimizer: 'adam', input: 'clip.mp4 at 4096x4096 gray' }), { machine: laptop }));
    expect(e.code).toBe('E_RESOURCE');
    expect(e.message).toMatch(/needs about \d+(\.\d+)? GiB/);
    expect(e.message).toContain('16.0 GiB of memory, 8.00 GiB free');
    expect(e.message).toMatch(/2\^32/);
    expect(e.message).toMatch(/lower --size, --width or --depth/);
  });

  it('the wasm backends refuse more than their 4 GiB heap even on a big machine; tensorflow does not', () => {
    // 256x256 RGB at width 2048: ~1.6 G parameters of 4 bytes, several times
    const e = fcMemorizeEstimate({ dim: 256 * 256 * 3, width: 2048, depth: 2, bias: true, fit: 'gradient', optimizer: 'adam', n: 8, input: 'x' });
    expect(e.bytes).toBeGreaterThan(WASM_HEAP_BYTES);
    expect(refusal(() => checkMemory(e, { backend: 'wasm-blas', machine: huge })).message).toMatch(/wasm heap of at most 4 GiB/);
    expect(() => checkMemory(e, { backend: 'tensorflow', machine: huge })).not.toThrow();
  });

  it('basins --grid 100000 and assoc --n 100000 are refused; their defaults fit in 1 GiB', () => {
    const small: Machine = { total: GiB, free: GiB };
    expect(refusal(() => checkMemory(basinsEstimate({ grid: 100_000, width: 64, depth: 2 }), { machine: huge })).message).toMatch(/--grid/);
    expect(() => checkMemory(basinsEstimate({ grid: 100, width: 64, depth: 2 }), { machine: small })).not.toThrow();
    expect(refusal(() => checkMemory(assocEstimate({ n: 100_000, m: 100_000, d: 100_000, lanczos: 30 }), { machine: huge })).message).toMatch(/--n/);
    expect(() => checkMemory(assocEstimate({ n: 64, m: 64, d: 64, lanczos: 30 }), { machine: small })).not.toThrow();
  });

  it('checkMemorizeMemory uses --frames and the input kind', () => {
    const cfg = {
      input: { kind: 'audio' as const, path: 'a.wav', rate: 22050, chunkSeconds: 1, partial: 'drop' as const, maxChunks: 1_000_000 },
      model: { width: 512, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 }, fit: 'gradient' as const, optimizer: { name: 'adam' as const, lr: 1e-4 },
    };
    const e = refusal(() => checkMemorizeMemory(cfg, { machine: laptop }));
    expect(e.message).toMatch(/1000000 samples/);
    expect(e.message).toMatch(/--chunk-seconds or --rate, --width or --depth, or pass a smaller --frames/);
  });
});

describe('an input of unknown length', () => {
  it('the cap is 1/4 of the free memory, at most 100,000 frames', () => {
    expect(inputSampleCap(1024, { total: 8 * GiB, free: 4 * GiB })).toBe(Math.floor(GiB / (1024 * 12)));
    expect(inputSampleCap(64, laptop)).toBe(MAX_INPUT_FRAMES);
  });

  it('an endless source stops with E_RESOURCE at the cap (ffmpeg stopped), naming --frames', async () => {
    const t0 = Date.now();
    const err = await lastValueFrom(loadInput({ kind: 'video', path: 'lavfi:testsrc2=s=8x8', width: 8, height: 8, gray: true }, { maxSamples: 30 })).then(
      () => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_RESOURCE');
    expect((err as EngramError).message).toMatch(/after 30 frames.*--frames N/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('--frames bounds it instead', async () => {
    const input = await lastValueFrom(loadInput({ kind: 'video', path: 'lavfi:testsrc2=s=8x8', width: 8, height: 8, gray: true, frames: 40 }, { maxSamples: 30 }));
    expect(input.vectors).toHaveLength(40);
  });
});

describe('memorize checks again once the dataset is decoded', () => {
  it('a run too big for its decoded frames fails with E_RESOURCE before the model is built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-resources-'));
    try {
      const outDir = join(dir, 'run');
      const backend: BackendInfo = { name: 'cpu', tfBackend: 'cpu', device: 'cpu', blas: null, threads: 1, skipped: [] };
      // frames unknown up front (no --frames); the width alone makes the net impossible once d is known
      const cfg = { ...demoConfig, command: 'engram memorize', outDir, input: { kind: 'video' as const, path: 'lavfi:testsrc2=s=16x16:d=1', width: 8, height: 8, gray: true },
        model: { ...demoConfig.model, width: 100_000_000 }, fit: 'gradient' as const, recovery: false as const };
      const t0 = Date.now();
      const err = await lastValueFrom(memorize(cfg, backend).pipe(toArray())).then(() => null, (e: unknown) => e);
      expect((err as EngramError).code).toBe('E_RESOURCE');
      expect((err as EngramError).message).toMatch(/\d+ samples.*cannot run/);
      expect(Date.now() - t0).toBeLessThan(20_000);
      const run = JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8'));
      expect([run.status, run.errorCode]).toEqual(['failed', 'E_RESOURCE']);
      expect(existsSync(join(outDir, 'model.ckpt'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
