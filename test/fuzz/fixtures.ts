/**
 * The fuzz's pristine inputs, made once per session in a temporary directory (nothing binary is
 * committed): a small video, a WAV, a PNG and a directory of PNGs, made with the bundled ffmpeg, and
 * two real tiny runs made by the CLI itself (one the solver stores, one trained by gradient with
 * interval checkpoints). Each fuzz case copies what it uses into its own directory and damages the
 * copy there (cli-contract.ts), so these files are never touched.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/engram.mjs');

/** The flags of the one tiny real run the damaged run directories are copied from. */
export const TINY_RUN = ['--size', '8x8', '--frames', '4', '--max-steps', '20', '--width', '32', '--no-recovery', '--monitor-every', '0', '--quiet'];

export interface Fixtures {
  dir: string;
  /** 8x8 random noise, 8 frames, H.264 in MP4. */
  video: string;
  /** 2.5 s of a 437.5 Hz sine, 8 kHz mono 16-bit PCM (not a whole number of periods per second, so the 1 s chunks differ). */
  wav: string;
  /** One 8x8 noise PNG. */
  png: string;
  /** Four 8x8 noise PNGs. */
  pngDir: string;
  /** A complete run the solver stored (model.ckpt, recalled.mp4, no checkpoints/). */
  solvedRun: string;
  /** A complete run trained by gradient for 20 steps with a checkpoint every 10 (model.ckpt and checkpoints/). */
  trainedRun: string;
  /** A pid no process has (a child that has exited), for run.json files that claim a live writer. */
  deadPid: number;
}

const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

function cli(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.resume();
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fuzz fixture: engram ${args.join(' ')} exited ${code}\n${err}`))));
  });
}

/** Make every fixture in a new temporary directory (two CLI runs in parallel: about 10 s). */
export async function buildFixtures(): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-fuzz-fixtures-'));
  const f = (name: string) => join(dir, name);
  const noise = (seed: number, s = '8x8', d = '1') => `nullsrc=s=${s}:r=8:d=${d},geq=lum='random(${seed})*255':cb=128:cr=128`;
  ffmpeg('-f', 'lavfi', '-i', noise(1), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', f('video.mp4'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=437.5:sample_rate=8000:duration=2.5', '-ac', '1', '-c:a', 'pcm_s16le', f('sine.wav'));
  ffmpeg('-f', 'lavfi', '-i', noise(7), '-frames:v', '1', f('one.png'));
  mkdirSync(f('pngs'));
  for (let i = 1; i <= 4; i++) ffmpeg('-f', 'lavfi', '-i', noise(10 + i), '-frames:v', '1', f(`pngs/img${i}.png`));
  // --recall-steps 200: the trained run does not converge in 20 steps, and its recall from noise would otherwise iterate 20,000 times
  await Promise.all([
    cli(['memorize', f('video.mp4'), ...TINY_RUN, '--recall-steps', '200', '--out', f('run-solved')], dir),
    cli(['memorize', f('video.mp4'), ...TINY_RUN, '--recall-steps', '200', '--fit', 'gradient', '--checkpoint-every', '10', '--out', f('run-trained')], dir),
  ]);
  const deadPid = spawnSync('true').pid ?? 999_999;
  writeFileSync(f('README.txt'), 'fixtures of the engram CLI fuzz (test/fuzz); safe to delete\n');
  return {
    dir, video: f('video.mp4'), wav: f('sine.wav'), png: f('one.png'), pngDir: f('pngs'),
    solvedRun: f('run-solved'), trainedRun: f('run-trained'), deadPid,
  };
}
