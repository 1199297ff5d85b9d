/**
 * Input honesty (issue 9): a file that decodes only in part is memorized with a warning that says
 * frames decoded against the container's count, recorded in run.json; `--strict` refuses it with
 * E_INPUT_PARTIAL (exit 1) and no output posing as complete. Intact lossy media (H.264, MP3) are the
 * normal case and get no warning. The real CLI runs in its own process; the media are made here.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { withoutEnvironment } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-partial-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args]);
const encoders = execFileSync(resolveFfmpeg().path, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
const hasEncoder = (name: string) => new RegExp(`^\\s*[VA]\\S*\\s+${name}\\s`, 'm').test(encoders);

/** Small and quick: every memorize here uses these. */
const TINY = ['--size', '8x8', '--width', '32', '--max-steps', '30', '--no-recovery', '--monitor-every', '0', '--stability-every', '0', '--quiet'];

function cli(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ...env }, timeout: 120_000 });
}
const runJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));

describe.skipIf(!hasEncoder('libx264'))('a truncated H.264 MP4', () => {
  let cut: string;
  beforeAll(() => {
    // 12 frames, every one a keyframe, moov at the front: cut at 60% of its bytes, it still decodes about half
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=12:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', '-pix_fmt', 'yuv420p',
      '-movflags', '+faststart', at('whole.mp4'));
    const bytes = readFileSync(at('whole.mp4'));
    cut = at('cut.mp4');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  });

  it('is memorized with a warning on stderr naming frames decoded vs expected and the fix; run.json records it', () => {
    const out = at('run-warn');
    const r = cli(['memorize', cut, ...TINY, '--out', out]);
    expect(r.status, r.stderr).not.toBe(1);
    const m = /engram: warning: (\S+) is partial: (\d+) of 12 frames decoded \(expected from the container's duration 1 s × 12 fps\)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(m![1]).toBe(cut);
    const decoded = Number(m![2]);
    expect(decoded).toBeGreaterThanOrEqual(2);
    expect(decoded).toBeLessThan(11);
    expect(r.stderr).toMatch(/re-export or repair the file/);
    expect(r.stderr).toMatch(/pass --strict to refuse partial inputs/);
    const run = runJson(out);
    expect(run.status).toBe('complete');
    expect(run.inputDecode).toMatchObject({ framesDecoded: decoded, framesExpected: 12, partial: true, expectedFrom: "the container's duration 1 s × 12 fps" });
    expect(run.summary.frames).toBe(decoded);
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.kind === 'log' && e.level === 'warn' && e.message.includes(`${decoded} of 12 frames decoded`))).toBe(true);
  });

  it('with --strict is refused: E_INPUT_PARTIAL, exit 1, run.json failed, no checkpoint or recording', () => {
    const out = at('run-strict');
    const r = cli(['memorize', cut, ...TINY, '--strict', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^engram: E_INPUT_PARTIAL: \S+cut\.mp4 is partial: \d+ of 12 frames decoded .*\(--strict refuses a partial input\); re-export or repair the file/m);
    expect(r.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ kind: 'error', code: 'E_INPUT_PARTIAL' });
    const run = runJson(out);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'E_INPUT_PARTIAL', config: { strict: true }, inputDecode: { framesExpected: 12, partial: true } });
    expect(existsSync(join(out, 'model.ckpt'))).toBe(false);
    expect(existsSync(join(out, 'recalled.mp4'))).toBe(false);
  });

  const bundled = (() => {
    try {
      return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    } catch {
      return '';
    }
  })();
  it.skipIf(!existsSync(bundled))('is found partial with only the bundled ffmpeg (FFMPEG_PATH; no ffprobe involved)', () => {
    const r = cli(['memorize', cut, ...TINY, '--strict', '--out', at('run-bundled')], { FFMPEG_PATH: bundled });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/is partial: \d+ of 12 frames decoded/);
    expect(runJson(at('run-bundled')).errorCode).toBe('E_INPUT_PARTIAL');
  });
});

describe('intact lossy input is the normal case: no warning', () => {
  it.skipIf(!hasEncoder('libx264'))('an H.264 MP4 (yuv420p, default quality), even with --strict', () => {
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=12:d=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', at('lossy.mp4'));
    const out = at('run-lossy');
    const r = cli(['memorize', at('lossy.mp4'), ...TINY, '--strict', '--out', out]);
    expect(r.status, r.stderr).not.toBe(1);
    expect(withoutEnvironment(r.stderr)).not.toMatch(/warning|partial/);
    expect(runJson(out).inputDecode).toEqual({ framesDecoded: 12, framesExpected: 12, expectedFrom: "the container's duration 1 s × 12 fps", partial: false });
  });

  it.skipIf(!hasEncoder('libmp3lame'))('an MP3, even with --strict', () => {
    ffmpeg('-f', 'lavfi', '-i', 'sine=f=440:r=44100:d=2', '-c:a', 'libmp3lame', at('tone.mp3'));
    const out = at('run-mp3');
    const r = cli(['memorize', at('tone.mp3'), ...TINY, '--chunk-seconds', '0.25', '--rate', '8000', '--strict', '--out', out]);
    expect(r.status, r.stderr).not.toBe(1);
    expect(withoutEnvironment(r.stderr)).not.toMatch(/warning|partial/);
    expect(runJson(out).inputDecode).toMatchObject({ partial: false, expectedFrom: expect.stringMatching(/^the container's duration 2\.0\d* s$/) });
  });

  it.skipIf(!hasEncoder('libmp3lame'))('an MP3 cut at 60% is partial in seconds, and refused with --strict', () => {
    const bytes = readFileSync(at('tone.mp3'));
    writeFileSync(at('tone-cut.mp3'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = cli(['memorize', at('tone-cut.mp3'), ...TINY, '--chunk-seconds', '0.25', '--rate', '8000', '--strict', '--out', at('run-mp3-cut')]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/tone-cut\.mp3 is partial: 1\.\d+ s of 2\.0\d* s decoded \(expected from the container's duration/);
    expect(runJson(at('run-mp3-cut'))).toMatchObject({ errorCode: 'E_INPUT_PARTIAL', inputDecode: { partial: true } });
  });
});
