/**
 * Every command through the one executor: Ctrl-C exits 130 (the run is marked cancelled), a coded
 * error exits 1, a bad argument 2. Ctrl-C is delivered in-process as soon as the executor has taken
 * the signal (checked between microtasks, so before any of the command's I/O can finish): whether
 * it arrives in time does not depend on how fast this machine is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../cli/execute.ts';
import { main } from '../../cli/main.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-exit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SMALL = ['--size', '8x8', '--frames', '6', '--width', '32', '--lr', '1e-3', '--no-recovery', '--monitor-every', '0', '--quiet'];
const run = join(tmp, 'done');

/** A run that is still going, as its log says: its run-start and nothing after it (watch follows it until stopped). */
function liveRun(): string {
  const dir = join(tmp, 'live');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'events.jsonl'), readFileSync(join(run, 'events.jsonl'), 'utf8').split('\n')[0] + '\n');
  return dir;
}

/** main() as the CLI would exit: its code, or the code of the error it threw. */
const codeOf = (argv: string[]) => main(argv).then((c) => c, (e: unknown) => exitCodeOf(e));

/** Run main() and send SIGINT the moment the executor listens for it. */
async function interrupted(argv: string[]): Promise<number> {
  const before = process.listenerCount('SIGINT');
  let settled = false;
  const p = codeOf(argv).finally(() => (settled = true));
  await new Promise<void>((resolve) => {
    const poll = () => {
      if (settled) return resolve();
      if (process.listenerCount('SIGINT') > before) {
        process.emit('SIGINT', 'SIGINT');
        return resolve();
      }
      queueMicrotask(poll);
    };
    // the backend and ffmpeg start asynchronously: check again after each macrotask too
    const tick = () => (settled || process.listenerCount('SIGINT') > before ? poll() : setImmediate(tick));
    tick();
  });
  return p;
}

beforeAll(async () => {
  expect(await codeOf(['demo', ...SMALL, '--max-steps', '400', '--out', run])).toBe(0);
}, 120_000);

describe('exit codes, the same for every command', () => {
  const cases: [string, () => string[], () => string[]][] = [
    ['demo', () => ['demo', ...SMALL, '--out', join(tmp, 'demo-int')], () => ['demo', ...SMALL, '--out', join(run, 'run.json')]],
    ['memorize', () => ['memorize', 'lavfi:life=s=8x8:seed=3', ...SMALL, '--out', join(tmp, 'mem-int')], () => ['memorize', join(tmp, 'nope.mp4'), ...SMALL]],
    ['recall', () => ['recall', run, '--quiet', '--out', join(tmp, 'r.mp4')], () => ['recall', join(tmp, 'not-a-run')]],
    ['inspect', () => ['inspect', run, '--quiet'], () => ['inspect', join(tmp, 'not-a-run')]],
    ['plot', () => ['plot', run, '--quiet'], () => ['plot', join(tmp, 'not-a-run')]],
    ['assoc', () => ['assoc', '--steps', '100000', '--quiet', '--out', join(tmp, 'assoc-int')], () => ['assoc', '--out', run]],
    ['identity', () => ['identity', '--quiet', '--width', '32', '--out', join(tmp, 'id-int')], () => ['identity', '--input', join(tmp, 'nope.png')]],
    ['basins', () => ['basins', '--quiet', '--out', join(tmp, 'basins-int')], () => ['basins', '--out', run]],
    ['watch', () => ['watch', liveRun(), '--quiet'], () => ['watch', join(tmp, 'not-a-run')]],
  ];
  it.each(cases)('%s: Ctrl-C → 130, a coded error → 1', async (_name, ctrlC, failing) => {
    expect(await interrupted(ctrlC())).toBe(130);
    expect(await codeOf(failing())).toBe(1);
  }, 120_000);

  it('a run stopped by Ctrl-C is marked cancelled', () => {
    for (const d of ['demo-int', 'mem-int', 'assoc-int', 'id-int', 'basins-int']) {
      const p = join(tmp, d, 'run.json');
      if (existsSync(p)) expect(JSON.parse(readFileSync(p, 'utf8')).status, d).toBe('cancelled');
    }
  });

  it('--json prints only JSON lines on stdout: the events, as events.jsonl holds them', () => {
    // a copy of its own: the jobs stopped by Ctrl-C above may still be settling in the shared run
    const copy = join(tmp, 'json-copy');
    cpSync(run, copy, { recursive: true });
    const log = readFileSync(join(copy, 'events.jsonl'), 'utf8').trim().split('\n');
    const r = spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'watch', copy, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(log);
    const bad = spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'recall', join(tmp, 'not-a-run'), '--json'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout.trim().split('\n').at(-1)!)).toMatchObject({ kind: 'error', code: 'E_INPUT_MISSING' });
  });

  it('bad arguments → 2, with the command\'s own options named', async () => {
    await expect(main(['plot', run, '--lr', '3'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/plot does not take --lr; it takes only the common options/) });
    await expect(main(['memorize', 'x.mp4', '--widht', '3'])).rejects.toMatchObject({ message: expect.stringMatching(/did you mean --width\?/) });
    expect(await codeOf(['recall', run, '--max-steps', '3'])).toBe(2);
    expect(await codeOf(['bogus'])).toBe(2);
    await expect(main([])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/^no command given; the commands are demo, /) }); // the help is printed too
  });

  it('values the fuzz found crashing: an empty lavfi: graph, a ρ grid of 2^53 points', async () => {
    await expect(main(['memorize', 'lavfi:'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/names no filter graph; give one after lavfi:/) });
    expect(await codeOf(['identity', '--input', 'lavfi: ', '--quiet', '--out', join(tmp, 'id-empty-lavfi')])).toBe(2); // found inside the job: exit 2 all the same
    await expect(main(['identity', '--init', 'rank1:0.1,0.1', '--depth', '2'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: '--init rank1 needs --depth 1 (a single hidden layer)' });
    await expect(main(['identity', '--rhos', '9007199254740993'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--rhos must be an integer from 2 to 1001 (got '9007199254740993')" });
  });

  it('a value that starts with a dash is checked as a value; a missing value is named', async () => {
    await expect(main(['memorize', 'lavfi:testsrc=d=1', '--size', '-8x8'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--size must look like WxH, e.g. 32x32 (got '-8x8')" });
    await expect(main(['memorize', 'lavfi:testsrc=d=1', '--lr', '-1'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--lr must be a number ≥ 0 (got '-1')" });
    for (const argv of [['memorize', 'x.mp4', '--out'], ['memorize', 'x.mp4', '--out', '--quiet']]) {
      await expect(main(argv)).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--out needs a value; give --out PATH (see 'engram memorize --help')" });
    }
    await expect(main(['memorize', 'x.mp4', '--out', '-x.mp4'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--out was given '-x.mp4', which starts with a dash; write --out=-x.mp4 if that is the value; see 'engram memorize --help'" });
    // a one-letter option gets no guess at a long name
    await expect(main(['memorize', 'x.mp4', '-o', 'y'])).rejects.toMatchObject({ message: expect.not.stringMatching(/did you mean/) });
  });
});

describe('signals reach a real process', () => {
  it('a signal while engram is still loading: exit 130, one line saying so, no stack', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), 'demo', '--out', join(tmp, 'term-loading')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    await new Promise((r) => setTimeout(r, 400)); // node is up, the CLI's modules are still loading
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, err).toBe(130);
    expect(err).toMatch(/^engram: SIGTERM: stopped/m);
    expect(err).not.toMatch(/internal error|\n\s+at /);
  });

  it('SIGTERM while the input is still decoding: exit 130, and no promise of a checkpoint to resume', async () => {
    const out = join(tmp, 'term-decoding');
    // stdin that never sends a byte: ffmpeg waits on it, so the run is stopped while decoding
    const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), 'memorize', '-', '--kind', 'video', ...SMALL.filter((a) => a !== '--quiet'),
      '--no-tui', '--out', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        const first = !/^backend /m.test(err);
        err += d.toString();
        // the backend line is said just before the executor takes the signals
        if (first && /^backend /m.test(err)) setTimeout(() => child.kill('SIGTERM'), 300);
      });
      child.on('exit', (c) => resolve(c));
    });
    child.stdin.destroy();
    expect(code, err).toBe(130);
    expect(err).toMatch(/engram: SIGTERM: stopped at step 0; nothing was trained yet; no checkpoint was written/);
    expect(err).not.toMatch(/--resume|checkpoint is kept/);
    expect(existsSync(join(out, 'model.ckpt'))).toBe(false);
    expect(existsSync(join(out, 'checkpoints'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('cancelled');
  }, 120_000);

  it('SIGHUP (the terminal closed) stops a run like SIGTERM: exit 130, run.json cancelled, a checkpoint kept', async () => {
    const out = join(tmp, 'hup');
    const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), 'memorize', 'lavfi:life=s=8x8:seed=5', ...SMALL.filter((a) => a !== '--quiet'),
      '--json', '--max-steps', '1000000', '--loss-target', '0', '--checkpoint-every', '100000', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        // once training is well under way
        if (/"kind":"train-step","runId":"[^"]+","step":50,/.test(buf)) child.kill('SIGHUP');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(runJson.status).toBe('cancelled');
    const lines = buf.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].kind).toBe('run-start');
    expect(readFileSync(join(out, 'events.jsonl'), 'utf8')).toMatch(/"what":"checkpoint"/);
    // a checkpoint exists, so the stop message says how to go on from it
    expect(err).toContain(`engram: SIGHUP: stopped at step`);
    expect(err).toContain(`its newest checkpoint is kept (continue with engram memorize --resume ${out})`);
  }, 120_000);
});
