/**
 * Natural footage with the defaults (issue 9): the whole camera orbit (96 frames of a real
 * photograph, H.264, 16×16 gray) is memorized by the solver (docs/math.md §3.5) to far below the
 * loss target in a few attempts at most, replayed from noise as an exact cycle through all 96
 * frames in order, and certified as an attractor.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLines, withoutEnvironment } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const clip = join(root, '../shared/media/astronaut-orbit.mp4');
const tmp = mkdtempSync(join(tmpdir(), 'engram-solve-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// without the OpenBLAS addon (plain wasm, JavaScript float64 products) the solve takes minutes on a busy 2-core machine
const LIMIT = 600_000;

function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: tmp, timeout: LIMIT });
}

const events = (run: string) => readFileSync(join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const absent = !existsSync(clip);
describe.skipIf(absent)(`natural footage with the defaults is solved, replayed from noise in order and certified${absent ? ` (skipped: ${clip} is absent)` : ''}`, () => {
  it('memorize astronaut-orbit.mp4 --size 16x16 --gray: 96/96 frames, exact cycle in order, ρ < 1, loss ≤ 1e-8', () => {
    const run = join(tmp, 'orbit');
    const r = cli(['memorize', clip, '--size', '16x16', '--gray', '--no-recovery', '--out', run, '--quiet']);
    expect(errorLines(r.stderr)).toEqual([]);
    expect(withoutEnvironment(r.stderr)).not.toMatch(/warning/);
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    const dataset = ev.find((e) => e.kind === 'dataset');
    expect(dataset.n).toBe(96);
    expect(dataset.fit).toEqual({ method: 'solve', maxSteps: 3 + 20000 }); // 3 attempts, then gradient steps if none replays
    const end = ev.find((e) => e.kind === 'train-end');
    expect(end.reason).toBe('loss-target');
    expect(end.loss).toBeLessThanOrEqual(1e-8);
    const recall = ev.find((e) => e.kind === 'recall');
    expect(recall.outcome.kind).toBe('exact');
    expect(recall.framesMatched).toBe(96);
    expect(recall.orderCorrect).toBe(true);
    expect(recall.meanPsnr).toBeGreaterThan(60);
    const cert = ev.find((e) => e.kind === 'attractors');
    expect(cert.items[0].rho).toBeLessThan(1);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).summary.recalled).toBe(true);
  }, LIMIT);

  it('--fit solve on a net too narrow for the clip is a coded error naming the fix; optimizer options with --fit solve are refused', () => {
    const narrow = cli(['memorize', clip, '--size', '16x16', '--gray', '--fit', 'solve', '--width', '32', '--no-recovery', '--out', join(tmp, 'narrow'), '--quiet']);
    expect(narrow.status).toBe(2); // a bad argument, found once the clip's length is known
    expect(narrow.stderr).toMatch(/--fit solve cannot fit this run: the solver needs --width ≥ 95 for 96 points \(was 32\); raise --width or use --fit gradient/);
    expect(narrow.stderr).not.toMatch(/internal error/);
    const lr = cli(['memorize', clip, '--fit', 'solve', '--lr', '1e-3', '--out', join(tmp, 'lr'), '--quiet']);
    expect(lr.status).toBe(2);
    expect(lr.stderr).toMatch(/--lr apply to --fit gradient/);
    expect(existsSync(join(tmp, 'lr'))).toBe(false);
  }, LIMIT);
});
