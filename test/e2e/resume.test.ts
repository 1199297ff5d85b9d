/**
 * Checkpoints the hard way: kill -9 a training run at random moments, resume it each time, and check
 * that no checkpoint is ever corrupt, that at most one checkpoint interval of work is lost, and that
 * the loss curve in events.jsonl continues without a gap, a repeat or a jump.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../engine/checkpoint.ts';
import { Rng } from '../../engine/random.ts';
import { writeVideo } from '../../sinks/video.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-resume-'));
const clip = join(dir, 'clip.mkv');
const EVERY = 40;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const rng = new Rng(9);
  const frames = Array.from({ length: 10 }, () => rng.uniformArray(256, 0, 1).map((v) => (v > 0.5 ? 1 : 0)));
  await writeVideo(clip, frames, { width: 16, height: 16, channels: 1, scale: 1 });
});

const bin = join(root, 'bin/engram.mjs');
// an unreachable loss target keeps it training until the step cap
const TRAIN = ['--size', '16x16', '--width', '256', '--lr', '1e-4', '--loss-target', '1e-30', '--max-steps', '1500', '--checkpoint-every', String(EVERY), '--quiet'];
/** A resume keeps the run's own settings and refuses the others (--size, --width, --checkpoint-every). */
const RESUME = ['--lr', '1e-4', '--loss-target', '1e-30', '--max-steps', '1500', '--quiet'];

/**
 * Run the CLI and kill -9 it once its event log shows training past `killAt` (unless it ends first).
 * Killing on progress rather than on a timer keeps the test independent of the machine's speed.
 * Resolves with whether it was killed.
 */
function runAndKill(args: string[], log: string, killAt: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
    const poll = setInterval(() => {
      if (lastStep(log) >= killAt) child.kill('SIGKILL');
    }, 20);
    const stuck = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      clearTimeout(stuck);
      resolve(signal === 'SIGKILL');
    });
  });
}

interface Line { kind: string; step: number; loss?: number }
const lines = (path: string): Line[] =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return []; // a line cut short by kill -9
    }
  }) : [];

const lastStep = (log: string): number =>
  Math.max(0, ...lines(log).filter((l) => l.kind === 'train-step').map((l) => l.step));

function checkpointsLoad(run: string): number[] {
  const ck = join(run, 'checkpoints');
  const files = existsSync(ck) ? readdirSync(ck).filter((f) => f.endsWith('.ckpt')) : [];
  return files.map((f) => loadCheckpoint(join(ck, f)).step);
}

describe('kill -9 and resume', () => {
  it('never corrupts a checkpoint, loses at most one interval, and continues the loss curve', async () => {
    const run = join(dir, 'run');
    const rng = new Rng(2026);
    let kills = 0;
    let started = false;
    for (let attempt = 0; attempt < 8 && kills < 3; attempt++) {
      const args = started ? ['memorize', '--resume', run, ...RESUME] : ['memorize', clip, '--out', run, ...TRAIN];
      const log = join(run, 'events.jsonl');
      const killed = await runAndKill(args, log, lastStep(log) + 60 + Math.floor(rng.next() * 240));
      if (!existsSync(join(run, 'run.json'))) continue; // killed before it started: try again
      started = true;
      if (!killed) break;
      kills++;
      const steps = checkpointsLoad(run); // every checkpoint on disk loads
      const newest = Math.max(0, ...steps);
      expect(lastStep(log) - newest, `work lost after kill ${kills}`).toBeLessThanOrEqual(EVERY);
    }
    expect(kills, 'the run was killed mid-training at least twice').toBeGreaterThanOrEqual(2);

    // finish it
    const done = spawnSync(process.execPath, [bin, 'memorize', '--resume', run, ...RESUME], { encoding: 'utf8' });
    expect(done.stderr).not.toMatch(/internal error/);
    expect(done.status).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status).toBe('complete');
    checkpointsLoad(run);
    expect(loadCheckpoint(join(run, 'model.ckpt')).step).toBe(1500);

    // the curve: every step once, in order, from 1 to the cap
    const curve = lines(join(run, 'events.jsonl')).filter((l) => l.kind === 'train-step');
    expect(curve.map((l) => l.step)).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
    // no jump at a resume: steps recomputed after a resume repeat the losses the killed run logged
    const discarded = new Map(lines(join(run, 'events.discarded.jsonl')).filter((l) => l.kind === 'train-step').map((l) => [l.step, l.loss!]));
    expect(discarded.size).toBeGreaterThan(0);
    for (const l of curve) {
      const before = discarded.get(l.step);
      if (before !== undefined) expect(Math.abs(l.loss! - before) / before, `loss at step ${l.step}`).toBeLessThan(1e-3);
    }
    const metrics = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(metrics.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
  });

  it('a checkpoint killed mid-write leaves the previous one loadable', async () => {
    const path = join(dir, 'big.ckpt');
    const script = `
      import { saveCheckpoint } from ${JSON.stringify(join(root, 'sinks/checkpoints.ts'))};
      const w = new Float32Array(8_000_000);
      for (let step = 1; ; step++) {
        w.fill(step);
        saveCheckpoint(${JSON.stringify(path)}, { spec: { kind: 'fc', dim: 4, width: 2, depth: 1, activation: 'relu', bias: false, init: 'torch', seed: 1 }, step, weights: [{ name: 'W0', shape: [8_000_000], data: w }] });
        process.stdout.write(step + '\\n');
      }`;
    // saveCheckpoint writes here first, then renames: while this file exists a save is under way
    const partial = join(dir, '.big.ckpt.partial');
    const rng = new Rng(7);
    let sawCheckpoint = 0;
    for (let i = 0; i < 5; i++) {
      rmSync(partial, { force: true }); // left by the previous kill
      await new Promise<void>((resolve) => {
        // after 1-3 saves have finished (random), kill in the middle of the next one: the moment its
        // partial file appears, not after some milliseconds
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'], cwd: root });
        const after = 1 + Math.floor(rng.next() * 3);
        let saved = 0;
        let armed = false;
        const killMidWrite = () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          if (existsSync(partial)) child.kill('SIGKILL');
          else setImmediate(killMidWrite);
        };
        child.stdout.on('data', (b: Buffer) => {
          saved += b.toString().split('\n').filter((l) => l.trim()).length;
          if (armed || saved < after) return;
          armed = true;
          killMidWrite();
        });
        child.on('exit', () => resolve());
      });
      if (!existsSync(path)) continue;
      const c = loadCheckpoint(path); // complete, never torn
      expect(c.weights[0].data[0]).toBe(c.step);
      expect(c.weights[0].data[7_999_999]).toBe(c.step);
      sawCheckpoint++;
    }
    expect(sawCheckpoint).toBe(5);
  });

  it('SIGTERM saves a checkpoint at the current step, marks the run cancelled and exits 130', async () => {
    const run = join(dir, 'term');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [bin, 'memorize', clip, '--out', run, ...TRAIN], { stdio: 'ignore' });
      const poll = setInterval(() => {
        // wait until it is training, past the first interval checkpoint
        if (lines(join(run, 'events.jsonl')).some((l) => l.kind === 'train-step' && l.step > EVERY + 5)) {
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 50);
      child.on('exit', (c) => {
        clearInterval(poll);
        resolve(c);
      });
    });
    expect(code).toBe(130);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status).toBe('cancelled');
    const lastLogged = Math.max(...lines(join(run, 'events.jsonl')).filter((l) => l.kind === 'train-step').map((l) => l.step));
    expect(Math.max(...checkpointsLoad(run))).toBe(lastLogged); // nothing lost
  });
});

describe('resuming a finished run (issue 10)', () => {
  const engram = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '' } });
  const files = (run: string) => ['run.json', 'events.jsonl', 'metrics.csv'].map((f) => readFileSync(join(run, f), 'utf8'));
  const SMALL = ['--size', '8x8', '--frames', '4', '--no-recovery', '--monitor-every', '0', '--no-tui'];

  it('leaves a complete run untouched unless asked for more, then continues it and records the real final loss', () => {
    const run = join(dir, 'finished');
    const first = engram('memorize', clip, ...SMALL, '--max-steps', '50', '--width', '32', '--lr', '1e-3', '--fit', 'gradient', '--out', run);
    expect(first.status, first.stderr).toBe(0);
    const before = files(run);
    const loss = JSON.parse(before[0]).summary.finalLoss as number;
    expect(loss).toBeGreaterThan(0);

    const again = engram('memorize', '--resume', run);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${run} is complete (step 50 of 50, loss ${loss.toExponential(3)} > target 1e-8); nothing to resume — pass a higher --max-steps to train further`);
    expect(again.stdout).not.toMatch(/NaN|training stopped/);
    expect(files(run)).toEqual(before); // not a byte written

    const met = engram('memorize', '--resume', run, '--loss-target', '1');
    expect(met.status).toBe(0);
    expect(met.stdout).toContain(`(step 50, loss ${loss.toExponential(3)} ≤ target 1); nothing to resume — pass a lower --loss-target and a higher --max-steps`);
    expect(files(run)).toEqual(before);

    const more = engram('memorize', '--resume', run, '--max-steps', '60');
    expect(more.status, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/training stopped \(step-cap\) at step 60: loss \d/);
    const after = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(after).toMatchObject({ status: 'complete', summary: { steps: 60, trainReason: 'step-cap' } });
    expect(after.summary.finalLoss).toBeGreaterThan(0);
    expect(after.summary.finalLoss).toBeLessThan(loss);
    const log = lines(join(run, 'events.jsonl'));
    expect(log.filter((l) => l.kind === 'train-step').map((l) => l.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(log.filter((l) => l.kind === 'train-end').map((l) => typeof l.loss)).toEqual(['number', 'number']);
    expect(loadCheckpoint(join(run, 'model.ckpt')).step).toBe(60);
  });

  it('a solve run that finished is complete too', () => {
    const run = join(dir, 'solved');
    const first = engram('memorize', clip, ...SMALL, '--fit', 'solve', '--out', run);
    expect(first.status, first.stderr).toBe(0);
    const before = files(run);
    const again = engram('memorize', '--resume', run, '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(''); // --json: nothing but events on stdout, and there are none
    expect(again.stderr).toMatch(new RegExp(`engram: ${run} is complete \\(step \\d+`));
    expect(files(run)).toEqual(before);
  });
});
