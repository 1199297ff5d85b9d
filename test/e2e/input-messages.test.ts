/**
 * Inputs that cannot work say why, by their cause (issue 10's weak messages): a --start past the
 * end, an empty or garbage standard input, standard input on a terminal, a file of the wrong kind
 * (memorize --kind, recall --from), globs with [...] classes and globs that match nothing.
 *
 * Every case drives the real CLI (bin/engram.mjs) in its own process and checks the exit code, the
 * error code leading stderr, that stderr names the input, the cause and the fix, that there is no
 * stack trace, and that nothing poses as complete or was modified. Media are made here.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/engram.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'engram-input-messages-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
const ffmpegPath = resolveFfmpeg().path;
const ffmpeg = (...args: string[]) => execFileSync(ffmpegPath, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args]);

/** Small and quick: every memorize here uses these. */
const S = ['--size', '8x8', '--frames', '4', '--max-steps', '50', '--no-recovery', '--monitor-every', '0', '--width', '32', '--quiet'];
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

function cli(args: string[], o: { input?: string | Buffer } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000, input: o.input ?? '' });
}

/** The run directory a failing memorize may leave: none, or one whose run.json says failed, with no model or recording. */
function expectNothingComplete(out: string, what: string): void {
  if (!existsSync(out)) return;
  expect(statSync(out).isDirectory(), what).toBe(true);
  expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status, what).toBe('failed');
  expect(readdirSync(out).filter((f) => f === 'model.ckpt' || f.startsWith('recalled.')), what).toEqual([]);
}

/** A refused command: its exit code, the code leading stderr, every expected phrase, no stack trace, nothing posing as complete. */
function expectRefused(args: string[], e: { exit: 1 | 2; code: string; says: (string | RegExp)[]; out?: string; input?: string | Buffer }): SpawnSyncReturns<string> {
  const r = cli(args, { input: e.input });
  const what = `engram ${args.join(' ')}\nexit ${r.status}\nstderr:\n${r.stderr}`;
  expect(r.status, what).toBe(e.exit);
  expect(r.stderr, what).toMatch(new RegExp(`^engram: ${e.code}: `, 'm'));
  for (const s of e.says) {
    if (typeof s === 'string') expect(r.stderr, what).toContain(s);
    else expect(r.stderr, what).toMatch(s);
  }
  expect(r.stderr, what).not.toMatch(/internal error/i);
  expect(r.stderr, what).not.toMatch(STACK);
  if (e.out) expectNothingComplete(e.out, what);
  return r;
}

const clip = at('n.mp4'); // 8 frames of noise, 0.32 s at 25 fps
const wav = at('six.wav'); // 1.5 s of a tone, 16-bit PCM
const png = at('still.png');
const run = at('R'); // a tiny video run, for recall --from

beforeAll(() => {
  ffmpeg('-f', 'lavfi', '-i', 'nullsrc=s=8x8:d=0.32:r=25,geq=random(1)*255:128:128', '-pix_fmt', 'yuv420p', '-c:v', 'mpeg4', '-q:v', '2', clip);
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=437.5:sample_rate=8000:duration=1.5', '-c:a', 'pcm_s16le', wav);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=8x8', '-frames:v', '1', png);
  const r = cli(['memorize', clip, ...S, '--out', run]);
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

describe('memorize --start past the end says so, with the input\'s duration and what to pass instead', () => {
  it('--start 100 on a 0.32 s clip', () => {
    const out = at('out-start');
    expectRefused(['memorize', clip, ...S, '--start', '100', '--out', out], {
      exit: 1, code: 'E_INPUT_EMPTY', out,
      says: [`--start 100 s is past the end of ${clip}, which is 0.32 s long`, 'pass a --start below 0.32 s', 'drop --start'],
    });
  });

  it('--start inside the clip with a --duration shorter than a frame selects no frame', () => {
    const out = at('out-window');
    expectRefused(['memorize', clip, ...S, '--start', '0.3', '--duration', '0.001', '--out', out], {
      exit: 1, code: 'E_INPUT_EMPTY', out,
      says: [`--start 0.3 s with --duration 0.001 s selects no frame of ${clip} (0.32 s long, 25 fps: a frame every 0.04 s)`, 'pass a longer --duration (at least 0.04 s)'],
    });
  });

  it('--start past the end of standard input (whose length nobody knows)', () => {
    expectRefused(['memorize', '-', ...S, '--start', '100', '--out', at('out-stdin-start')], {
      exit: 1, code: 'E_INPUT_EMPTY', input: readFileSync(clip), out: at('out-stdin-start'),
      says: ['no frames decoded from standard input after --start 100 s', 'lower --start'],
    });
  });
});

describe('standard input', () => {
  it('empty (0 bytes) says so and how to pipe media in', () => {
    const out = at('out-empty-stdin');
    expectRefused(['memorize', '-', ...S, '--out', out], {
      exit: 1, code: 'E_INPUT_EMPTY', out, input: '',
      says: ['standard input was empty (0 bytes)', 'pipe a video into it', 'cat clip.mp4 | engram memorize -'],
    });
  });

  it('holding garbage says it could not be decoded, naming standard input and the bytes read', () => {
    const out = at('out-garbage-stdin');
    expectRefused(['memorize', '-', ...S, '--out', out], {
      exit: 1, code: 'E_FFMPEG', out, input: Buffer.alloc(1000, 7),
      says: ['could not decode standard input (1000 bytes read)', 'Check that what is piped in is a video'],
    });
  });

  it('holding audio says it holds no video stream, and that audio is read from files', () => {
    expectRefused(['memorize', '-', ...S, '--out', at('out-wav-stdin')], {
      exit: 1, code: 'E_INPUT_INVALID', input: readFileSync(wav), out: at('out-wav-stdin'),
      says: ['standard input holds no video stream', 'save it to a file and memorize that with --kind audio'],
    });
  });

  it('as audio is refused up front: audio is read from a file', () => {
    const out = at('out-stdin-audio');
    expectRefused(['memorize', '-', '--kind', 'audio', '--quiet', '--out', out], {
      exit: 2, code: 'E_BAD_ARGUMENT', says: ['standard input (-) is read as video only', 'save it and pass its path'],
    });
    expect(existsSync(out)).toBe(false);
  });

  // a pseudo-terminal from util-linux's script(1): stdin is a TTY, as when someone types `engram memorize -`
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('on a terminal is refused at once (E_BAD_ARGUMENT, exit 2), saying how to pipe media in; nothing is created', () => {
    const out = at('out-tty');
    const command = `"${process.execPath}" "${bin}" memorize - --size 8x8 --out "${out}"`;
    // -e: script exits with the command's code; a check that failed would wait for typed bytes until the timeout
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: tmp, timeout: 60_000, input: '' });
    const what = `exit ${r.status}\noutput:\n${r.stdout}${r.stderr}`;
    expect(r.status, what).toBe(2);
    expect(r.stdout, what).toMatch(/engram: E_BAD_ARGUMENT: standard input is a terminal; pipe media into it, e\.g\. ffmpeg .*\| engram memorize - or cat clip\.mp4 \| engram memorize -/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a file of the wrong kind says what it holds and the fix (E_INPUT_INVALID, exit 1)', () => {
  it('a WAV with --kind video: an audio stream but no video stream; --kind audio', () => {
    const out = at('out-wav-video');
    const r = expectRefused(['memorize', wav, ...S, '--kind', 'video', '--out', out], {
      exit: 1, code: 'E_INPUT_INVALID', out, says: [`${wav} has an audio stream (pcm_s16le) but no video stream; memorize it as audio with --kind audio`],
    });
    expect(r.stderr).not.toMatch(/Output file #0|readable video/);
  });

  it('a video with --kind audio: a video stream but no audio stream; --kind video', () => {
    const out = at('out-video-audio');
    expectRefused(['memorize', clip, '--kind', 'audio', '--max-steps', '50', '--width', '32', '--quiet', '--out', out], {
      exit: 1, code: 'E_INPUT_INVALID', out, says: [`${clip} has a video stream (mpeg4) but no audio stream; memorize it as video with --kind video`],
    });
  });

  it('an image with --kind audio: an image, --kind images', () => {
    const out = at('out-png-audio');
    expectRefused(['memorize', png, '--kind', 'audio', '--max-steps', '50', '--width', '32', '--quiet', '--out', out], {
      exit: 1, code: 'E_INPUT_INVALID', out, says: [`${png} is an image (png), with no audio stream`, '--kind images'],
    });
  });

  it('recall --from a WAV on a video run: a start state must be a file of the run\'s kind; the run is untouched', () => {
    const before = new Map(readdirSync(run).map((f) => [f, statSync(join(run, f)).isFile() ? readFileSync(join(run, f), 'latin1') : 'dir']));
    expectRefused(['recall', run, '--from', wav, '--quiet'], {
      exit: 1, code: 'E_INPUT_INVALID',
      says: [`${wav} has an audio stream (pcm_s16le) but no video stream`, "must be a file of the run's kind: a video or an image for this video run", '--from noise'],
    });
    const after = new Map(readdirSync(run).map((f) => [f, statSync(join(run, f)).isFile() ? readFileSync(join(run, f), 'latin1') : 'dir']));
    expect(after).toEqual(before);
  });
});

describe('image globs', () => {
  beforeAll(() => {
    mkdirSync(at('shots'));
    for (const [i, name] of ['a', 'b', 'c'].entries()) ffmpeg('-f', 'lavfi', '-i', `life=s=8x8:seed=${i + 1}:ratio=0.5`, '-frames:v', '1', at(`shots/${name}.png`));
    writeFileSync(at('shots/notes.txt'), 'not a picture\n');
  });

  it('[ab].png memorizes the two images it names', () => {
    const out = at('out-glob');
    const r = cli(['memorize', at('shots/[ab].png'), '--objective', 'autoencode', '--size', '8x8', '--max-steps', '50', '--width', '32', '--no-recovery', '--quiet', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const dataset = readFileSync(join(out, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.kind === 'dataset');
    expect(dataset.n).toBe(2);
  });

  it('a glob that matches nothing says "no files match" and the syntax', () => {
    const glob = at('shots/[x-z].png');
    expectRefused(['memorize', glob, '--objective', 'autoencode', '--size', '8x8', '--quiet', '--out', at('out-nomatch')], {
      exit: 1, code: 'E_INPUT_EMPTY', out: at('out-nomatch'), says: [`no files match ${glob}`, '[abc] or [a-z]', 'check the pattern'],
    });
  });

  it('a class that is not valid is a usage error before anything is created', () => {
    const out = at('out-badclass');
    expectRefused(['memorize', at('shots/[z-a].png'), '--size', '8x8', '--quiet', '--out', out], {
      exit: 2, code: 'E_BAD_ARGUMENT', says: [at('shots/[z-a].png'), 'a range must go up'],
    });
    expect(existsSync(out)).toBe(false);
  });
});
