/**
 * memorize says how far its input has decoded (issue 10): decode progress events come before the dataset,
 * go to events.jsonl like every event (the codec reads them back), and the plain-line presenter
 * prints them at most once a second.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProgressPrinter } from '../../cli/progress.ts';
import { selectBackend, type BackendInfo } from '../../engine/backend.ts';
import { parseEvent } from '../../event-codec.ts';
import type { EngramEvent, ProgressEvent } from '../../events.ts';
import { memorize, type MemorizeConfig } from '../../pipelines/memorize.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-decode-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend();
}, 60_000);

const config = (outDir: string): MemorizeConfig => ({
  runId: 'decode', command: 'test', outDir,
  input: { kind: 'video', path: 'lavfi:life=s=8x8:ratio=0.5:seed=3', width: 8, height: 8, gray: true, frames: 6 },
  checkpointEvery: 1000, objective: 'cycle', fit: 'solve',
  model: { width: 64, depth: 1, activation: 'relu', bias: true, init: 'torch', seed: 1 },
  optimizer: { name: 'adam', lr: 1e-3 }, lossTarget: 1e-8, maxSteps: 2,
  recall: { from: 'gaussian', sigma: 1, maxIterations: 200, seed: 5 }, recovery: false,
  monitor: { every: 0, examples: 1 }, stabilityEvery: 0, force: false,
});

describe('memorize: decode progress', () => {
  it('emits decode events before the dataset, counting up to what --frames promises, and logs them', async () => {
    const outDir = join(dir, 'run');
    const events = await lastValueFrom(memorize(config(outDir), backend, { decodeProgressMs: 0 }).pipe(toArray()));
    const kinds = events.map((e) => (e.kind === 'progress' ? `progress:${e.what}` : e.kind));
    const decodes = events.filter((e): e is ProgressEvent => e.kind === 'progress' && e.what === 'decode');
    expect(decodes.map((e) => [e.done, e.total, e.unit, e.source])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, 6, 'frames', 'lavfi:life=s=8x8:ratio=0.5:seed=3']));
    expect(kinds.lastIndexOf('progress:decode')).toBeLessThan(kinds.indexOf('dataset'));
    expect(kinds.indexOf('run-start')).toBeLessThan(kinds.indexOf('progress:decode'));
    expect(kinds.at(-1)).toBe('run-end');
    const logged = readFileSync(join(outDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => parseEvent(l));
    expect(logged.filter((d) => d.ok && d.event.kind === 'progress' && d.event.what === 'decode')).toHaveLength(6);
    expect(logged.every((d) => d.ok)).toBe(true);
  }, 120_000);

  it('plain lines: one decoding line a second at most, naming the input and how far it has come', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const out: string[] = [];
      const p = createProgressPrinter({ quiet: false, maxSteps: 10, lossTarget: 0 }, (l) => out.push(l));
      const ev = (done: number, elapsedMs: number): EngramEvent => ({ kind: 'progress', what: 'decode', runId: 'r', step: 0, time: Date.now(), source: 'clip.mp4', unit: 'frames', done, total: 400, elapsedMs });
      vi.setSystemTime(10_000);
      p(ev(40, 1000));
      vi.setSystemTime(10_500);
      p(ev(60, 1500)); // within the second: not printed
      vi.setSystemTime(11_000);
      p(ev(80, 2000));
      p({ kind: 'progress', what: 'decode', runId: 'r', step: 0, time: 0, source: '-', unit: 'frames', done: 7, total: null, elapsedMs: 9000 });
      vi.setSystemTime(12_500);
      p({ kind: 'progress', what: 'decode', runId: 'r', step: 0, time: 0, source: '-', unit: 'frames', done: 7, total: null, elapsedMs: 9000 });
      expect(out).toEqual([
        'decoding clip.mp4: 40/400 frames (10%), 1.0 s',
        'decoding clip.mp4: 80/400 frames (20%), 2.0 s',
        'decoding standard input: 7 frames, 9.0 s',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
