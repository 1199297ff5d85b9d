/**
 * Bad input gets a clear error, a non-zero exit, and no partial output (issue 3).
 *
 * Every case drives the real CLI (bin/engram.mjs) in its own process and checks: the exit code (1 for
 * bad input files, ffmpeg and checkpoints, 2 for usage errors), that stderr names the offending input
 * and says what to do, that it carries no "internal error" or stack trace, that no output poses as
 * complete (no run directory, or one whose run.json says "failed" with no model.ckpt / recalled.*),
 * and that nothing that existed before the command was modified. The inputs that must work (an
 * extensible-header WAV, a 96 kHz 6-channel float WAV, images of mixed sizes) are run too.
 * All media are generated here, in a temporary directory.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { withoutEnvironment } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-bad-input-'));
const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-v', 'error', '-y', ...args]);

/** Small and quick: every memorize in this file uses these. */
const TINY = ['--width', '32', '--max-steps', '50', '--quiet'];

function cli(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], {
    encoding: 'utf8', cwd: tmp, env: { ...process.env, ...env }, timeout: 120_000,
  });
}

/** Every file under `dir` (relative path → sha256 of its bytes; directories map to 'dir'). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out.set(relative(tmp, p), 'dir');
        walk(p);
      } else {
        let digest: string;
        try {
          digest = createHash('sha256').update(readFileSync(p)).digest('hex');
        } catch {
          digest = `unreadable:${st.size}:${st.mtimeMs}`;
        }
        out.set(relative(tmp, p), digest);
      }
    }
  };
  walk(dir);
  return out;
}

// A fix is a verb telling the user what to do next.
const FIX = /\b(check|use|pass|choose|fix|create|start|memorize|install|set|unset|drop|pick|give|convert|re-?encode|add|put|remove|make|lower)\b/i;
// A usage error may instead state the accepted values.
const USAGE_FIX = /\bmust be\b|\bone of\b/i;
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

interface Expect {
  /** 1: bad input file / ffmpeg / checkpoint; 2: usage error. */
  code: 1 | 2;
  /** Strings stderr must contain (the offending input, at least). */
  names: string[];
  /** The run directory or output file this command may have created. */
  out?: string;
}

/** Run a failing command and check everything issue 3 asks of it. */
function expectBadInput(label: string, args: string[], e: Expect, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const before = snapshot(tmp);
  const r = cli(args, env);
  const what = `${label}: engram ${args.join(' ')}\nexit ${r.status}\nstderr:\n${r.stderr}`;
  expect(r.stderr, what).not.toMatch(/internal error/i);
  expect(r.stderr, what).not.toMatch(STACK);
  expect(r.status, what).toBe(e.code);
  // the error's code leads its line, as --json and run.json record it
  expect(r.stderr, `${what}\nshould say the error code`).toMatch(e.code === 2 ? /^engram: E_BAD_ARGUMENT: /m : /^engram: E_(?!BAD_ARGUMENT)[A-Z_]+: /m);
  for (const n of e.names) expect(r.stderr, `${what}\nshould name ${n}`).toContain(n);
  const fix = e.code === 2 ? new RegExp(`${FIX.source}|${USAGE_FIX.source}`, 'i') : FIX;
  // the machine's own warnings (e.g. the fallback warning's "install") must not count as the fix
  expect(withoutEnvironment(r.stderr), `${what}\nshould say what to do`).toMatch(fix);
  if (e.out !== undefined) expectNothingPosingAsComplete(e.out, what);

  // nothing pre-existing was modified, and nothing new appeared outside the allowed output
  const after = snapshot(tmp);
  for (const [p, digest] of before) expect(after.get(p), `${what}\n${p} was modified or removed`).toBe(digest);
  const allowed = e.out === undefined ? undefined : relative(tmp, e.out);
  const fresh = [...after.keys()].filter((p) => !before.has(p) && !(allowed !== undefined && (p === allowed || p.startsWith(`${allowed}/`))));
  expect(fresh, `${what}\nnew files outside the output`).toEqual([]);
  return r;
}

/** Either no run directory was created, or it says "failed" and holds no final checkpoint or recording. */
function expectNothingPosingAsComplete(out: string, what: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) {
    expect.fail(`${what}\n${out} was created by a failing command`);
  }
  const runJson = join(out, 'run.json');
  if (existsSync(runJson)) expect(JSON.parse(readFileSync(runJson, 'utf8')).status, `${what}\nrun.json status`).toBe('failed');
  else expect(readdirSync(out), `${what}\nrun directory without run.json`).toEqual([]);
  const finals = readdirSync(out).filter((f) => f === 'model.ckpt' || f.startsWith('recalled.'));
  expect(finals, `${what}\nfinal outputs in a failed run`).toEqual([]);
}

function expectSuccess(label: string, args: string[]): SpawnSyncReturns<string> {
  const r = cli(args);
  const what = `${label}: engram ${args.join(' ')}\nexit ${r.status}\nstderr:\n${r.stderr}`;
  expect(r.stderr, what).not.toMatch(/internal error/i);
  expect(r.status, what).toBe(0);
  return r;
}

/** A mono 16-bit PCM WAV in the WAVE_FORMAT_EXTENSIBLE layout (fmt chunk of 40 bytes, tag 0xFFFE). */
function extensibleWav(samples: Int16Array, rate: number): Buffer {
  const fmt = Buffer.alloc(8 + 40);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(40, 4);
  fmt.writeUInt16LE(0xfffe, 8); // WAVE_FORMAT_EXTENSIBLE
  fmt.writeUInt16LE(1, 10); // channels
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * 2, 16); // byte rate
  fmt.writeUInt16LE(2, 20); // block align
  fmt.writeUInt16LE(16, 22); // bits per sample
  fmt.writeUInt16LE(22, 24); // cbSize
  fmt.writeUInt16LE(16, 26); // valid bits per sample
  fmt.writeUInt32LE(0x4, 28); // channel mask: front center
  // KSDATAFORMAT_SUBTYPE_PCM 00000001-0000-0010-8000-00aa00389b71
  Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(fmt, 32);
  const data = Buffer.alloc(8 + samples.length * 2);
  data.write('data', 0, 'ascii');
  data.writeUInt32LE(samples.length * 2, 4);
  Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).copy(data, 8);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(4 + fmt.length + data.length, 4);
  head.write('WAVE', 8, 'ascii');
  return Buffer.concat([head, fmt, data]);
}

/** A canonical 44-byte PCM WAV header whose data chunk holds zero samples. */
function emptyWav(rate: number): Buffer {
  const b = Buffer.alloc(44);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(0, 40);
  return b;
}

const p = (name: string) => join(tmp, name);
const validMp4 = p('valid.mp4');
const tinyRun = p('tiny-run');

// Decided at collection time, so it.skipIf can see it: root (and CAP_DAC_OVERRIDE) reads chmod 000 files.
const unreadable = p('unreadable.mp4');
writeFileSync(unreadable, 'content that cannot be read\n');
chmodSync(unreadable, 0o000);
const unreadableIsReadable = (() => {
  try {
    readFileSync(unreadable);
    return true;
  } catch {
    return false;
  }
})();

beforeAll(() => {
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=64x64:d=1:r=12', '-pix_fmt', 'yuv420p', validMp4);

  writeFileSync(p('empty.mp4'), Buffer.alloc(0));
  const whole = readFileSync(validMp4);
  writeFileSync(p('truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 2)));
  writeFileSync(p('text.mp4'), 'this is a text file, not a video\n'.repeat(20));
  writeFileSync(p('zero.wav'), emptyWav(8000));

  const n = 12000; // 1.5 s at 8 kHz
  const sine = new Int16Array(n);
  for (let i = 0; i < n; i++) sine[i] = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  writeFileSync(p('extensible.wav'), extensibleWav(sine, 8000));

  // 437.5 Hz, not 440: a whole number of periods per second would make both 1 s samples identical,
  // which engram rightly refuses to memorize as a cycle
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=437.5:sample_rate=96000:duration=2', '-ac', '6', '-c:a', 'pcm_f32le', p('96k6ch.wav'));

  mkdirSync(p('mixed'));
  for (let i = 1; i <= 4; i++) ffmpeg('-f', 'lavfi', '-i', `life=s=8x8:seed=${i}:ratio=0.5`, '-frames:v', '1', p(`mixed/life${i}.png`));
  ffmpeg('-f', 'lavfi', '-i', 'life=s=12x10:seed=5:ratio=0.5', '-frames:v', '1', p('mixed/life5.png'));

  mkdirSync(p('no-images'));
  writeFileSync(p('no-images/readme.txt'), 'no pictures here\n');


  mkdirSync(p('not-a-run'));
  writeFileSync(p('not-a-run/notes.txt'), 'just a directory\n');

  // one tiny successful run for the recall and --resume cases
  expectSuccess('tiny memorize', ['memorize', validMp4, '--size', '8x8', '--frames', '4', ...TINY, '--out', tinyRun]);
  // the same run with its checkpoints deleted
  cpSync(tinyRun, p('no-ckpt-run'), { recursive: true });
  rmSync(p('no-ckpt-run/model.ckpt'), { force: true });
  rmSync(p('no-ckpt-run/checkpoints'), { recursive: true, force: true });
  // the same run with its model.ckpt truncated, and with a bit flipped in its weights (checkpoints/ removed: no fallback)
  for (const [name, damage] of [['truncated-ckpt-run', (b: Buffer) => b.subarray(0, b.length >> 1)], ['flipped-ckpt-run', (b: Buffer) => { const c = Buffer.from(b); c[c.length - 5] ^= 0x10; return c; }]] as const) {
    cpSync(tinyRun, p(name), { recursive: true });
    rmSync(p(`${name}/checkpoints`), { recursive: true, force: true });
    writeFileSync(p(`${name}/model.ckpt`), damage(readFileSync(p(`${name}/model.ckpt`))));
  }
  // an otherwise empty directory with a run.json
  mkdirSync(p('only-run-json'));
  cpSync(join(tinyRun, 'run.json'), p('only-run-json/run.json'));
}, 120_000);

afterAll(() => {
  try {
    chmodSync(unreadable, 0o644);
  } catch {
    // already gone
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('memorize: bad input files exit 1, name the input and the fix, and leave no complete-looking output', () => {
  it('a path that does not exist', () => {
    const input = p('does-not-exist.mp4');
    expectBadInput('missing path', ['memorize', input, '--size', '8x8', ...TINY, '--out', p('out-missing')], { code: 1, names: [input], out: p('out-missing') });
  });

  it('an empty (0-byte) .mp4', () => {
    const input = p('empty.mp4');
    expectBadInput('empty file', ['memorize', input, '--size', '8x8', ...TINY, '--out', p('out-empty')], { code: 1, names: [input], out: p('out-empty') });
  });

  it('a truncated MP4 (first half of a valid file)', () => {
    const input = p('truncated.mp4');
    expectBadInput('truncated mp4', ['memorize', input, '--size', '8x8', ...TINY, '--out', p('out-truncated')], { code: 1, names: [input], out: p('out-truncated') });
  });

  it('a text file named .mp4', () => {
    const input = p('text.mp4');
    expectBadInput('text as mp4', ['memorize', input, '--size', '8x8', ...TINY, '--out', p('out-text')], { code: 1, names: [input], out: p('out-text') });
  });

  it('a WAV with zero samples', () => {
    const input = p('zero.wav');
    expectBadInput('zero-sample wav', ['memorize', input, '--rate', '8000', ...TINY, '--out', p('out-zero-wav')], { code: 1, names: [input], out: p('out-zero-wav') });
  });

  it('a directory with no images names the directory and the accepted extensions', () => {
    const input = p('no-images');
    const r = expectBadInput('no images', ['memorize', input, '--size', '8x8', '--objective', 'autoencode', ...TINY, '--out', p('out-no-images')],
      { code: 1, names: [input], out: p('out-no-images') });
    expect(r.stderr).toMatch(/png/i);
    expect(r.stderr).toMatch(/jpe?g/i);
  });

  // skipped when this process can read a chmod 000 file anyway (running as root), so the case cannot be produced
  it.skipIf(unreadableIsReadable)('an unreadable file (chmod 000; skipped as root, where reads of it succeed)', () => {
    const input = unreadable;
    expectBadInput('unreadable', ['memorize', input, '--size', '8x8', ...TINY, '--out', p('out-unreadable')], { code: 1, names: [input], out: p('out-unreadable') });
  });

  it('FFMPEG_PATH pointing nowhere names FFMPEG_PATH and the path, and creates no run directory', () => {
    const out = p('out-no-ffmpeg');
    expectBadInput('FFMPEG_PATH=/nowhere/ffmpeg', ['memorize', validMp4, '--size', '8x8', ...TINY, '--out', out],
      { code: 1, names: ['FFMPEG_PATH', '/nowhere/ffmpeg'], out }, { FFMPEG_PATH: '/nowhere/ffmpeg' });
    expect(existsSync(out)).toBe(false);
  });
});

describe('memorize --resume: a directory with nothing to resume exits 1 and names it', () => {
  it('a run directory whose checkpoints were deleted', () => {
    const dir = p('no-ckpt-run');
    expectBadInput('resume without checkpoints', ['memorize', '--resume', dir, '--quiet'], { code: 1, names: [dir] });
  });

  it('an empty directory with only a run.json', () => {
    const dir = p('only-run-json');
    expectBadInput('resume with only run.json', ['memorize', '--resume', dir, '--quiet'], { code: 1, names: [dir] });
  });

  it('a setting that differs from the run\'s is refused, naming both values; the same value is accepted', () => {
    const r = expectBadInput('resume --width 64', ['memorize', '--resume', tinyRun, '--width', '64', '--activation', 'gelu', '--quiet'], { code: 2, names: [tinyRun, '--width 64 (the run has 32)', '--activation gelu (the run has'] });
    expect(r.stderr).toMatch(/only --max-steps, --loss-target, --lr and --stop-on-nonfinite can change/);
    const same = cli(['memorize', '--resume', tinyRun, '--width', '32', '--size', '8x8', '--frames', '4', '--quiet']);
    expect(same.stderr).not.toMatch(/E_BAD_ARGUMENT/);
    expect(same.status, same.stderr).toBe(0);
  });

  it('a directory that is not a run', () => {
    const dir = p('not-a-run');
    expectBadInput('resume a non-run', ['memorize', '--resume', dir, '--quiet'], { code: 1, names: [dir] });
  });
});

describe('a damaged model.ckpt is named corrupt, with what is wrong with it (exit 1, E_CHECKPOINT)', () => {
  for (const [name, why] of [['truncated-ckpt-run', /truncated: \d+ bytes, its header promises \d+/], ['flipped-ckpt-run', /checksum/]] as const) {
    it(`${name}: recall, inspect and --resume`, () => {
      const ckpt = join(p(name), 'model.ckpt');
      for (const args of [['recall', p(name)], ['inspect', p(name)], ['memorize', '--resume', p(name), '--max-steps', '99']]) {
        const r = expectBadInput(`${name} ${args[0]}`, [...args, '--quiet'], { code: 1, names: [ckpt] });
        expect(r.stderr).toContain(`engram: E_CHECKPOINT: ${ckpt} is corrupt (`);
        expect(r.stderr).toMatch(why);
      }
    });
  }
});

describe('an output that cannot be written is E_OUTPUT_UNWRITABLE (exit 1) for every command, found before the backend starts', () => {
  const BANNER = /^backend /m;
  it('recall --out inside a directory that does not exist names the directory', () => {
    const dir = p('nope');
    const r = expectBadInput('recall --out in missing dir', ['recall', tinyRun, '--out', join(dir, 'r.mp4')], { code: 1, names: [dir] });
    expect(r.stderr).toContain('E_OUTPUT_UNWRITABLE');
    expect(r.stderr).not.toMatch(BANNER);
    expect(existsSync(dir)).toBe(false);
  });

  it('recall --out and memorize --out under /proc (nothing can be created there), or below a file', () => {
    for (const [label, args, name] of [
      ['recall into /proc', ['recall', tinyRun, '--out', '/proc/engram-r.mp4'], '/proc/engram-r.mp4'],
      ['memorize into /proc', ['memorize', validMp4, '--size', '8x8', ...TINY, '--out', '/proc/engram-run'], '/proc/engram-run'],
      ['memorize below a file', ['memorize', validMp4, '--size', '8x8', ...TINY, '--out', join(validMp4, 'run')], join(validMp4, 'run')],
      ['recall below a file', ['recall', tinyRun, '--out', join(validMp4, 'frames/')], join(validMp4, 'frames/')],
    ] as const) {
      const r = expectBadInput(label, [...args], { code: 1, names: [name] });
      expect(r.stderr, label).toContain('engram: E_OUTPUT_UNWRITABLE: ');
      expect(r.stderr, label).not.toMatch(BANNER);
    }
  });
});

describe('a failed run\'s directory does not block running again with the same --out', () => {
  it('a failed run that left no checkpoint is replaced without --force; one with a checkpoint is kept', () => {
    const out = p('rerun-after-failure');
    expectBadInput('first try fails', ['memorize', p('text.mp4'), '--size', '8x8', ...TINY, '--out', out], { code: 1, names: [p('text.mp4')], out });
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('failed');
    const r = expectSuccess('second try, same --out', ['memorize', validMp4, '--size', '8x8', '--frames', '4', ...TINY, '--no-recovery', '--out', out]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('complete');
    expect(readFileSync(join(out, 'events.jsonl'), 'utf8')).toContain('held a failed run with no checkpoint; this run replaces it');
    expect(r.status).toBe(0);
    // a complete run (it has a checkpoint) still needs --force
    const again = cli(['memorize', validMp4, '--size', '8x8', '--frames', '4', ...TINY, '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/E_OUTPUT_EXISTS: output directory .* already has files in it/);
  });
});

describe('recall: bad outputs and starts are usage errors (exit 2) and touch nothing', () => {
  it('--out file.avi lists the accepted outputs', () => {
    const out = p('file.avi');
    const r = expectBadInput('recall --out .avi', ['recall', tinyRun, '--out', out], { code: 2, names: [out] });
    expect(r.stderr).not.toMatch(/^backend /m); // refused before the backend starts
    expect(r.stderr).toMatch(/\.mp4/);
    expect(r.stderr).toMatch(/\.gif|\.mkv/);
    expect(existsSync(out)).toBe(false);
  });

  it('--from frame:999 (beyond the stored frames)', () => {
    const out = p('from-999.mp4');
    expectBadInput('recall --from frame:999', ['recall', tinyRun, '--from', 'frame:999', '--out', out], { code: 2, names: ['frame:999'] });
    expect(existsSync(out)).toBe(false);
  });
});

describe('issue 10: endless inputs and runs too big for the machine are refused up front, with a code and no stack trace', () => {
  it('an endless lavfi source without --frames is a usage error (exit 2) naming --frames and --duration; nothing is created', () => {
    const out = p('out-endless');
    const r = expectBadInput('endless lavfi', ['memorize', 'lavfi:testsrc2=s=8x8', '--size', '8x8', ...TINY, '--out', out],
      { code: 2, names: ['lavfi:testsrc2=s=8x8 has no end; pass --frames N or --duration S (a live mode is planned)'], out });
    expect(existsSync(out)).toBe(false);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('life without a duration is endless too; with --frames, --duration or d= the same graph is accepted', () => {
    expectBadInput('endless life', ['memorize', 'lavfi:life=s=8x8:ratio=0.5', '--size', '8x8', ...TINY, '--out', p('out-life')], { code: 2, names: ['--frames'], out: p('out-life') });
    expect(existsSync(p('out-life'))).toBe(false);
    expectSuccess('life with --frames', ['memorize', 'lavfi:life=s=8x8:ratio=0.5:seed=3', '--size', '8x8', '--frames', '4', ...TINY, '--no-recovery', '--out', p('ok-life-frames')]);
    expectSuccess('life with trim', ['memorize', 'lavfi:life=s=8x8:ratio=0.5:seed=3,trim=end_frame=4', '--size', '8x8', ...TINY, '--no-recovery', '--out', p('ok-life-trim')]);
  });

  it('standard input that never ends stops at 100,000 frames with E_RESOURCE (exit 1) naming --frames, ffmpeg stopped', () => {
    const out = p('out-endless-stdin');
    // ffmpeg writes 8x8 frames without end; engram must stop reading, fail the run and exit (the pipe then ends ffmpeg too:
    // bash returns only once both have exited)
    const r = spawnSync('bash', ['-c', `"${resolveFfmpeg().path}" -v error -f lavfi -i testsrc2=s=8x8:r=1000 -c:v rawvideo -pix_fmt gray -f nut - 2>/dev/null | ` +
      `"${process.execPath}" "${join(root, 'bin/engram.mjs')}" memorize - --size 8x8 --width 32 --quiet --out "${out}"; exit \${PIPESTATUS[1]}`],
    { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
    const what = `exit ${r.status}\nstderr:\n${r.stderr}`;
    expect(r.status, what).toBe(1);
    expect(r.stderr, what).toMatch(/stopped reading standard input after 100000 frames.*pass --frames N/);
    expect(r.stderr, what).not.toMatch(STACK);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.status).toBe('failed');
    expect(run.errorCode, JSON.stringify(run)).toBe('E_RESOURCE');
    expectNothingPosingAsComplete(out, what);
  });

  it('the --json stream ends with the code', () => {
    const r = cli(['memorize', 'lavfi:testsrc2=s=8x8', '--size', '8x8', '--json', '--out', p('out-endless-json')]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ kind: 'error', code: 'E_BAD_ARGUMENT' });
    expect(r.stderr).toMatch(/^engram: E_BAD_ARGUMENT: lavfi:testsrc2=s=8x8 has no end/);
  });

  it.each([
    ['--size 4096x4096', ['memorize', 'lavfi:testsrc2=s=64x64:d=1', '--size', '4096x4096'], ['4096x4096', 'GiB', 'lower --size']],
    ['--width 100000000', ['memorize', 'lavfi:testsrc2=s=64x64:d=1', '--size', '8x8', '--width', '100000000'], ['width 100000000', '--width']],
    ['basins --grid 100000', ['basins', '--grid', '100000'], ['100000×100000', 'lower --grid']],
    ['assoc --n 100000', ['assoc', '--n', '100000'], ['n = 100000', 'lower --n']],
  ])('%s is refused at once with E_RESOURCE (exit 1): the estimate, this machine\'s memory, what to lower', (_label, args, names) => {
    const out = p(`out-huge-${args.join('-').replace(/[^a-z0-9-]/gi, '')}`);
    const t0 = Date.now();
    const r = expectBadInput(args.join(' '), [...args, '--quiet', '--out', out], { code: 1, names: [...names, 'cannot run', 'of memory', 'free'], out });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(existsSync(out)).toBe(false);
    const j = cli([...args, '--json', '--out', out]);
    expect(JSON.parse(j.stdout.trim().split('\n').pop()!)).toMatchObject({ kind: 'error', code: 'E_RESOURCE' });
    expect(r.stderr).not.toMatch(/RangeError|RuntimeError/);
  });

  it('--backend wasm: a net past the 4 GiB wasm heap is refused naming the limit', () => {
    const out = p('out-wasm-heap');
    const r = cli(['memorize', 'lavfi:testsrc2=s=64x64:d=1', '--size', '256x256', '--rgb', '--width', '2048', '--backend', 'wasm', '--quiet', '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/4 GiB/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('awkward but valid inputs work', () => {
  it('an extensible-header WAV (fmt chunk of 40 bytes, tag 0xFFFE, PCM subformat)', () => {
    const out = p('ok-extensible');
    // 1.5 s makes one whole 1 s sample; --partial pad keeps the last half second as a second sample (a cycle needs two)
    expectSuccess('extensible wav', ['memorize', p('extensible.wav'), '--rate', '8000', '--partial', 'pad', '--width', '64', '--max-steps', '50', '--quiet', '--out', out]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('complete');
    expect(existsSync(join(out, 'model.ckpt'))).toBe(true);
  });

  it('a 96 kHz 6-channel float WAV (transcoded)', () => {
    const out = p('ok-96k');
    expectSuccess('96 kHz 6-channel float wav', ['memorize', p('96k6ch.wav'), '--rate', '4000', '--width', '64', '--max-steps', '50', '--quiet', '--out', out]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('complete');
    expect(existsSync(join(out, 'model.ckpt'))).toBe(true);
  });

  it('a directory of images of mixed sizes is resized, with a note in events.jsonl', () => {
    const out = p('ok-mixed');
    expectSuccess('mixed-size images', ['memorize', p('mixed'), '--objective', 'autoencode', '--size', '8x8', ...TINY, '--out', out]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('complete');
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; message?: string });
    const notes = events.filter((e) => e.kind === 'log' && /resized/i.test(e.message ?? ''));
    expect(notes, JSON.stringify(events.filter((e) => e.kind === 'log'))).toHaveLength(1);
    expect(notes[0].message).toMatch(/\b1 of 5\b|\b1 image\b/);
  });
});
