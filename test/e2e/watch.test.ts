import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const image = (path: string, seed: number) =>
  execFileSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `life=s=12x12:seed=${seed}:ratio=0.4`, '-frames:v', '1', path]);

const events = (run: string) =>
  existsSync(join(run, 'events.jsonl'))
    ? readFileSync(join(run, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
    : [];

/**
 * Waits for a condition of the run's output (a line in events.jsonl, re-read every 100 ms), for as
 * long as engram runs: no duration decides the outcome, and an engram that exits first fails at once.
 */
const until = async (what: () => boolean, child: ChildProcess) => {
  while (!what()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`engram exited (${child.exitCode ?? child.signalCode}) before the run got there`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('memorize --watch', () => {
  it('memorizes the images there, then new ones as they appear, and ends complete on Ctrl-C', async () => {
    const imgs = join(dir, 'imgs');
    mkdirSync(imgs);
    for (let i = 1; i <= 3; i++) image(join(imgs, `img${i}.png`), i);
    const run = join(dir, 'run');
    const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), 'memorize', imgs, '--watch', '--objective', 'autoencode',
      '--size', '12x12', '--width', '128', '--lr', '1e-3', '--out', run, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const memorized = (n: number) => () => events(run).some((e) => e.kind === 'log' && e.message.startsWith(`memorized ${n} images`));

    await until(memorized(3), child);
    // two more arrive; written under a dot name and renamed, as a camera or a sync tool would
    for (const i of [4, 5]) {
      image(join(imgs, `.tmp${i}.png`), i);
      renameSync(join(imgs, `.tmp${i}.png`), join(imgs, `img${i}.png`));
    }
    await until(memorized(5), child);
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    const ev = events(run);
    const recalls = ev.filter((e) => e.kind === 'recall');
    // the two new images may arrive in one burst or two: 3, then (4,) then 5
    const totals = recalls.map((r) => r.framesTotal);
    expect(totals[0]).toBe(3);
    expect(totals.at(-1)).toBe(5);
    expect([...totals].sort((a, b) => a - b)).toEqual(totals);
    expect(recalls.at(-1).framesStored).toBe(5);
    const steps = ev.filter((e) => e.kind === 'train-step').map((e) => e.step);
    expect(steps).toEqual(steps.map((_: number, i: number) => i + 1)); // one curve across both memories
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status).toBe('complete');
    expect(stdout).toMatch(/frames recalled/);
  });
});
