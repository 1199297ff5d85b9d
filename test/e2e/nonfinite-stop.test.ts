/**
 * `engram memorize --optimizer gd --lr <huge> --stop-on-nonfinite` on a tiny clip: the stability
 * ratio says r > 1 before the first step, the NaN/Inf is a spike event, the last finite state is
 * saved and loads with finite weights, the exit code is 3 and run.json says why; then
 * `memorize --resume` with a smaller --lr continues from exactly that state.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, modelFromCheckpoint } from '../../engine/checkpoint.ts';
import { selectBackend } from '../../engine/backend.ts';
import { Rng } from '../../engine/random.ts';
import type { EngramEvent, SpikeEvent, StabilityEvent, TrainEndEvent, TrainStepEvent } from '../../events.ts';
import { writeVideo } from '../../sinks/video.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/engram.mjs');
const dir = mkdtempSync(join(tmpdir(), 'engram-nonfinite-'));
const clip = join(dir, 'four.mkv');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  const rng = new Rng(11);
  const frames = Array.from({ length: 4 }, () => rng.uniformArray(64, 0, 1).map((v) => (v > 0.5 ? 1 : 0)));
  await writeVideo(clip, frames, { width: 8, height: 8, channels: 1, scale: 1 });
});

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
const events = (path: string): EngramEvent[] =>
  readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EngramEvent);

describe('--stop-on-nonfinite', () => {
  it('stops at a NaN/Inf with the last finite state saved, exit 3, and resumes from it', async () => {
    const run = join(dir, 'run');
    const TRAIN = ['--size', '8x8', '--width', '32', '--optimizer', 'gd', '--checkpoint-every', '2', '--quiet'];
    const r = cli('memorize', clip, '--out', run, ...TRAIN, '--lr', '1000', '--max-steps', '500', '--stop-on-nonfinite');
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/the loss or its gradient became non-finite .*last finite state \(step \d+\) is saved in .*last-finite\.ckpt/);

    const ev = events(join(run, 'events.jsonl'));
    // the ratio, before the first step, already says this lr is far past the edge of stability
    const start = ev.find((e): e is StabilityEvent => e.kind === 'stability' && e.trigger === 'start')!;
    expect(start).toMatchObject({ step: 0, optimizer: 'gd', lr: 1000, applicable: true, a: 2 / (4 * 64) });
    expect(start.ratio!).toBeGreaterThan(1);
    expect(start.ratio!).toBeCloseTo((start.a * start.lr * start.lambdaMax) / 2, 10);

    const bad = ev.find((e): e is SpikeEvent => e.kind === 'spike' && e.phase === 'nonfinite')!;
    expect(bad).toBeDefined();
    const badStep = ev.find((e): e is TrainStepEvent => e.kind === 'train-step' && (!Number.isFinite(e.loss) || !Number.isFinite(e.gradNorm)));
    expect(bad.step).toBe(badStep!.step);
    // the spike event comes right after the step, before the checkpoint and the end
    const kinds = ev.map((e) => e.kind);
    const at = ev.indexOf(bad);
    expect(kinds.slice(at - 1, at + 3)).toEqual(['train-step', 'spike', 'artifact', 'train-end']);
    const end = ev.find((e): e is TrainEndEvent => e.kind === 'train-end')!;
    const lastPath = join(run, 'checkpoints', 'last-finite.ckpt');
    expect(end).toMatchObject({ reason: 'diverged', lastFinite: { step: bad.step - 2, path: lastPath } });
    expect(ev.find((e) => e.kind === 'artifact' && e.path === lastPath)).toBeDefined();
    expect(ev.at(-1)).toMatchObject({ kind: 'run-end', status: 'failed' });

    const runJson = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(runJson).toMatchObject({
      status: 'failed', errorCode: 'E_NONFINITE',
      stoppedBy: { reason: 'nonfinite', step: bad.step, lastFinite: { step: bad.step - 2, checkpoint: lastPath } },
    });

    // the last finite state loads, with finite weights; no checkpoint on disk holds NaN/Inf or comes after it
    await selectBackend();
    const last = loadCheckpoint(lastPath);
    expect(last.step).toBe(bad.step - 2);
    expect(last.weights.every((w) => w.data.every(Number.isFinite))).toBe(true);
    modelFromCheckpoint(lastPath, last).dispose();
    for (const f of readdirSync(join(run, 'checkpoints'))) {
      const c = loadCheckpoint(join(run, 'checkpoints', f));
      expect(c.weights.every((w) => w.data.every(Number.isFinite)), f).toBe(true);
      expect(c.step, f).toBeLessThanOrEqual(last.step);
    }
    expect(existsSync(join(run, 'model.ckpt'))).toBe(false);

    // resume from it with a smaller lr: the first step re-evaluates the last finite weights
    const first = ev.find((e): e is TrainStepEvent => e.kind === 'train-step' && e.step === last.step + 1)!;
    const res = cli('memorize', '--resume', run, '--lr', '1e-3', '--max-steps', String(last.step + 20), '--quiet');
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.status).toBe(0);
    const after = events(join(run, 'events.jsonl'));
    expect(after.find((e) => e.kind === 'run-start' && e.resume)).toMatchObject({ resume: { fromStep: last.step, checkpoint: lastPath } });
    const steps = after.filter((e): e is TrainStepEvent => e.kind === 'train-step');
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: last.step + 20 }, (_, i) => i + 1));
    const again = steps.find((e) => e.step === last.step + 1)!;
    expect(again.lr).toBe(1e-3);
    expect(Math.abs(again.loss - first.loss) / first.loss).toBeLessThan(1e-5);
    expect(steps.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status).toBe('complete');
  });
});
