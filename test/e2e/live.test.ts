/**
 * memorize --live end to end, on natural footage (issue 12): ffmpeg serves a real clip over HTTP on
 * 127.0.0.1, engram memorizes it in window mode while it arrives, the server is killed and started
 * again mid-run (engram reconnects and goes on), and a recording taken while live replays frames of
 * the stream in order. A pipe from ffmpeg into `engram memorize -` works the same way, and a slow
 * trainer drops frames (counted) instead of letting memory grow.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../engine/checkpoint.ts';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { readAudioSeconds } from '../../sources/audio.ts';
import { readVideoFrames } from '../../sources/video.ts';
import { freePort } from '../fixtures/processes.ts';
import { nativeAvailable } from '../native.ts';
import { errorLines } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const clip = join(root, '../shared/media/astronaut-orbit.mp4');
const tmp = mkdtempSync(join(tmpdir(), 'engram-live-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const started: ChildProcess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

const events = (run: string) => readFileSync(join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The camera of `npm run bench:live` (the issue's target): the clip looped at half speed, 10
 * frames/s, turning 0.005 rad a frame, so a pass of the loop never repeats an earlier one (a stream
 * that returns to the same picture within one window gives nearly equal frames with different
 * successors, which no map replays robustly). Frame n of the stream is frame n of `reference()`.
 */
const CAMERA = 'setpts=2*N/24/TB,fps=10,rotate=0.005*n';
/** A camera three times as fast (full speed, 0.015 rad a frame), for the pipe: `-re` paces its input. */
const FAST_CAMERA = 'fps=10,rotate=0.015*n';

/** ffmpeg serving the camera as MPEG-TS over HTTP (one client, then it exits), paced by the realtime filter. */
function serve(port: number): ChildProcess {
  const p = spawn(resolveFfmpeg().path, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `movie=${clip}:loop=0,${CAMERA},realtime`,
    '-c:v', 'mpeg2video', '-q:v', '2', '-g', '5', '-f', 'mpegts', '-listen', '1', `http://127.0.0.1:${port}`,
  ], { stdio: 'ignore' });
  started.push(p);
  return p;
}

function engram(args: string[], o: { stdin?: 'pipe' } = {}): { child: ChildProcess; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { cwd: tmp, stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stdout = '', stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}

const psnr = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(1 / Math.max(s / a.length, 1e-12));
};

/** The camera's first `n` frames at 32×32 gray, decoded from the same filter graph as the stream. */
async function reference(n: number): Promise<Float32Array[]> {
  const frames = await readVideoFrames(`lavfi:movie=${clip}:loop=0,${CAMERA}`, { width: 32, height: 32, gray: true, frames: n });
  return frames.map((f) => f.data);
}

/** For each frame, the index of the reference frame it is closest to and at what PSNR. */
function placeInClip(frames: Float32Array[], ref: Float32Array[]): { at: number; db: number }[] {
  return frames.map((f) => ref.reduce((best, r, i) => {
    const db = psnr(f, r);
    return db > best.db ? { at: i, db } : best;
  }, { at: -1, db: -Infinity }));
}

const absent = !existsSync(clip);
describe.skipIf(absent)(`memorize --live on natural footage${absent ? ` (skipped: ${clip} is absent)` : ''}`, () => {
  it('an HTTP stream on loopback, killed and restarted mid-run: engram reconnects, keeps the window recallable, and a recording taken live replays the stream in order', async () => {
    const port = await freePort();
    let server = serve(port);
    const run = join(tmp, 'http');
    const e = engram(['memorize', `http://127.0.0.1:${port}`, '--live', '--window', '24', '--size', '32x32', '--gray', '--probe-every', '2',
      '--record-every', '6', '--duration', '30', '--no-recovery', '--json', '--out', run]);
    await sleep(11_000);
    server.kill('SIGKILL');
    await sleep(3_000);
    server = serve(port);
    const r = await e.done;
    expect(errorLines(r.stderr)).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    // the drop was a gap, not a crash, and the stream came back
    expect(ev.some((x) => x.kind === 'log' && x.level === 'warn' && x.message.includes(`127.0.0.1:${port}`))).toBe(true);
    expect(ev.some((x) => x.kind === 'log' && /connected again/.test(x.message))).toBe(true);
    const lives = ev.filter((x) => x.kind === 'live');
    const last = lives.at(-1);
    expect(last.gaps).toBeGreaterThanOrEqual(1);
    expect(last.arrived).toBeGreaterThan(150); // ~10 frames/s for 30 s, less the outage
    expect(last.arrived - last.admitted - last.dropped - last.repeated).toBeGreaterThanOrEqual(0);
    expect(last.arrived - last.admitted - last.dropped - last.repeated).toBeLessThanOrEqual(1); // the one frame that may be waiting
    expect(last.stored).toBeLessThanOrEqual(24);
    const frameIndices = lives.filter((x) => x.span).map((x) => x.span[1]);
    expect(frameIndices.at(-1)).toBeGreaterThan(frameIndices[0]);
    const recs = readdirSync(join(run, 'recordings')).filter((f) => f.endsWith('.mp4'));
    expect(recs.length).toBeGreaterThanOrEqual(1);
    expect(ev.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).summary.live.gaps).toBeGreaterThanOrEqual(1);
    // Without the OpenBLAS addon (plain wasm) a solve takes about a second: most frames are dropped,
    // the window's frames lie far apart and it seldom replays (docs/live.md). What follows is the
    // fast path's.
    if (!nativeAvailable) return;
    expect(last.stored).toBe(24);
    expect(recs.length).toBeGreaterThanOrEqual(2);
    // recallable now, while the stream ran: most probes after the window filled found it back from noise
    const probes = ev.filter((x) => x.kind === 'live-probe' && x.of === 24);
    expect(probes.length).toBeGreaterThanOrEqual(5);
    const recallable = probes.filter((p) => p.recallable).length;
    expect(recallable / probes.length, `${recallable}/${probes.length} probes recallable`).toBeGreaterThanOrEqual(0.8);
    // a recording taken while live replays the window's frames in the stream's order (each
    // recording is one recall from noise, best of 3 starts; at least one of them, as probes can miss)
    const ref = await reference(400);
    const checks: string[] = [];
    let replayed = false;
    for (const name of recs) {
      const rec = (await readVideoFrames(join(run, 'recordings', name), { width: 32, height: 32, gray: true })).map((f) => f.data);
      expect(rec.length).toBe(48); // the 24-frame cycle, twice round
      const placed = placeInClip(rec.slice(0, 24), ref);
      // the cycle starts anywhere: turned to start at its earliest frame, it goes forward through the
      // stream (a dropped frame skips some), with one step back at most where the restarted server began again
      const start = placed.reduce((b, p, i) => (p.at < placed[b].at ? i : b), 0);
      const cycle = [...placed.slice(start), ...placed.slice(0, start)].map((p) => p.at);
      const back = cycle.slice(1).filter((at, i) => at <= cycle[i]).length;
      const close = placed.filter((p) => p.db >= 25).length;
      checks.push(`${name}: ${close}/24 at ≥ 25 dB, ${back} step(s) back`);
      if (close >= 22 && back <= 1) replayed = true;
    }
    expect(replayed, checks.join('; ')).toBe(true);
    // the run ends like any run: final checkpoint, recall of the last window, certificate
    const recall = ev.filter((x) => x.kind === 'recall').at(-1);
    expect(recall.framesTotal).toBe(24);
    expect(ev.some((x) => x.kind === 'attractors')).toBe(true);
    expect(ev.some((x) => x.kind === 'artifact' && x.path.endsWith('model.ckpt'))).toBe(true);
  }, 120_000);

  it('a pipe: ffmpeg … | engram memorize - --live; the stream\'s end finishes the run (final checkpoint with the stream position, recall, certificate)', async () => {
    const run = join(tmp, 'pipe');
    const e = engram(['memorize', '-', '--live', '--window', '16', '--size', '32x32', '--gray', '--probe-every', '0', '--checkpoint-every', '20',
      '--no-recovery', '--quiet', '--out', run], { stdin: 'pipe' });
    // the clip three times over (12 s): the first seconds may arrive in a burst while engram starts, and are dropped
    const ff = spawn(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '2', '-i', clip, '-an', '-vf', FAST_CAMERA, '-c:v', 'ffv1', '-f', 'nut', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(ff);
    ff.stdout!.pipe(e.child.stdin!);
    const r = await e.done;
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    const last = ev.filter((x) => x.kind === 'live').at(-1);
    expect(last.state).toBe('ended');
    expect(last.arrived).toBe(120); // 3 × 96 frames at 24 fps are 12 s: 120 frames at 10 fps
    expect(last.arrived - last.admitted - last.dropped - last.repeated).toBe(0);
    const recall = ev.filter((x) => x.kind === 'recall').at(-1);
    expect(recall.framesTotal).toBe(16); // the last window, recalled from noise (whether one window replays is a probe's question: the HTTP test counts them)
    expect(ev.some((x) => x.kind === 'attractors')).toBe(true);
    // checkpoints keep the stream's position: the frames in memory, by stream number, and the counts so far
    const final = loadCheckpoint(join(run, 'model.ckpt'));
    const pos = final.meta!.live as { source: string; arrived: number; frames: number[] };
    expect(pos.source).toBe('-');
    expect(pos.arrived).toBe(120);
    expect(pos.frames).toHaveLength(16);
    expect(pos.frames.at(-1)).toBe(119);
    const interval = readdirSync(join(run, 'checkpoints')).filter((f) => f.endsWith('.ckpt'));
    expect(interval.length).toBeGreaterThan(0);
    const early = loadCheckpoint(join(run, 'checkpoints', interval[0])).meta!.live as { arrived: number; frames: number[] };
    expect(early.arrived).toBeLessThan(120);
    expect(early.frames.at(-1)).toBeLessThan(119);
  }, 60_000);

  it('training that ends by itself (--max-steps) closes the stream and finishes the run; such a run is not resumed; bad live options are exit 2', async () => {
    const run = join(tmp, 'capped');
    const r = await engram(['memorize', 'lavfi:testsrc2=s=32x32:r=10', '--live', '--window', '8', '--size', '32x32', '--gray', '--fit', 'gradient',
      '--width', '64', '--min-steps', '5', '--max-steps', '40', '--probe-every', '1', '--no-recovery', '--quiet', '--out', run]).done;
    expect(r.status, r.stderr).toBe(0); // no --duration: the step cap alone ended it
    const ev = events(run);
    expect(ev.find((x) => x.kind === 'train-end').reason).toBe('step-cap');
    expect(ev.filter((x) => x.kind === 'live').at(-1).state).toBe('ended');
    expect(ev.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
    // frames still arriving after the trainer ended, with probes every 0.1 s: a probe once waited
    // for a step that would never come, and the run ended with Node's bare exit 13 (about 3 runs in
    // 10 on plain wasm); two more runs, each must finish
    for (const k of [1, 2]) {
      const again = join(tmp, `capped-${k}`);
      const q = await engram(['memorize', 'lavfi:testsrc2=s=32x32:r=30', '--live', '--window', '8', '--size', '32x32', '--gray', '--fit', 'gradient',
        '--width', '64', '--min-steps', '5', '--max-steps', '40', '--probe-every', '0.1', '--no-recovery', '--quiet', '--out', again]).done;
      expect(q.status, q.stderr).toBe(0);
      expect(events(again).at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
    }
    const resume = await engram(['memorize', '--resume', run, '--quiet']).done;
    expect(resume.status).toBe(2);
    expect(resume.stderr).toMatch(/is a live run .*not resumed/);
    for (const [args, why] of [
      [[clip, '--live'], /is a file, which has an end — drop --live/],
      [['ftp://127.0.0.1/x', '--live'], /ftp:\/\/ is not one/],
      [['-', '--live', '--reconnects', '0'], /--reconnects must be an integer ≥ 1/],
      [['-', '--live', '--window', '8', '--grow'], /exclude each other/],
      [['-', '--window', '8'], /add --live/],
    ] as [string[], RegExp][]) {
      const bad = await engram(['memorize', ...args, '--out', join(tmp, 'bad'), '--quiet']).done;
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(why);
      expect(existsSync(join(tmp, 'bad'))).toBe(false);
    }
  }, 60_000);

  it('a slow trainer (gradient steps, 400 per frame) drops frames and counts them; memory stays at the window', async () => {
    const run = join(tmp, 'slow');
    const e = engram(['memorize', 'lavfi:testsrc2=s=32x32:r=20', '--live', '--window', '8', '--size', '32x32', '--gray', '--fit', 'gradient', '--lr', '1e-3',
      '--min-steps', '400', '--width', '64', '--probe-every', '0', '--duration', '8', '--no-recovery', '--quiet', '--out', run]);
    const r = await e.done;
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    const lives = ev.filter((x) => x.kind === 'live');
    const last = lives.at(-1);
    expect(last.arrived).toBeGreaterThan(60);
    // 400 steps a frame cannot keep up with 20 frames/s: most new frames are dropped (testsrc2's
    // counter changes once a second, so many frames also repeat one in memory)
    expect(last.dropped).toBeGreaterThan(last.admitted);
    expect(last.arrived - last.admitted - last.dropped - last.repeated).toBe(0);
    expect(Math.max(...lives.map((x) => x.stored))).toBeLessThanOrEqual(8);
  }, 60_000);

  it('segments and grow on natural footage, from a lavfi: graph whose filters hold a * (a stream, not a glob): closed windows become stored cycles up to --capacity (the oldest dropped, and said); one cycle grows to --grow-max', async () => {
    const graph = `lavfi:movie=${clip}:loop=0,${CAMERA}`;
    /** A live run of `graph` in one memory mode for `seconds`: it ends complete, cleanly; its events. */
    const liveRun = async (name: string, mode: string[], seconds: number) => {
      const out = join(tmp, name);
      const r = await engram(['memorize', graph, '--live', ...mode, '--size', '32x32', '--gray', '--probe-every', '2',
        '--duration', String(seconds), '--no-recovery', '--json', '--out', out]).done;
      expect(errorLines(r.stderr)).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
      const e = events(out);
      expect(e.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
      return e;
    };
    const e1 = await liveRun('segments', ['--segments', '8', '--capacity', '2'], 12);
    const l1 = e1.filter((x) => x.kind === 'live').at(-1);
    expect(l1.arrived).toBeGreaterThan(60);
    expect(l1.stored).toBeLessThanOrEqual(8 * 3); // --capacity closed windows, and the one filling
    const e2 = await liveRun('grow', ['--grow', '--grow-max', '16'], 8);
    const l2 = e2.filter((x) => x.kind === 'live').at(-1);
    expect(l2.stored).toBeLessThanOrEqual(16);
    expect(l2.sequences).toBe(1);
    // plain wasm takes in about a frame a second (see the HTTP test): too few to fill the memory in these seconds
    if (!nativeAvailable) return;
    expect(l1.sequences).toBeGreaterThanOrEqual(2);
    expect(e1.some((x) => x.kind === 'log' && x.level === 'warn' && /memory full/.test(x.message))).toBe(true);
    expect(l2.stored).toBe(16);
    // every closed window is a certified attractor (whether noise finds one of several cycles is
    // the final recall's question, and it may not: docs/live.md)
    const cert = e1.filter((x) => x.kind === 'attractors').at(-1);
    expect(cert.items.filter((i: { what: string; attractor: boolean }) => /^sequence/.test(i.what) && i.attractor).length, JSON.stringify(cert.items.map((i: { rho: number }) => i.rho))).toBeGreaterThanOrEqual(2);
    // the final recall is of the whole grown cycle, which is certified (how often one cycle replays from noise is the HTTP test's count)
    const rec2 = e2.filter((x) => x.kind === 'recall').at(-1);
    expect(rec2.framesTotal).toBe(16);
    const cert2 = e2.filter((x) => x.kind === 'attractors').at(-1);
    expect(cert2.items.find((i: { what: string }) => /^sequence/.test(i.what))?.attractor, JSON.stringify(cert2.items.map((i: { rho: number }) => i.rho))).toBe(true);
  }, 90_000);

  it('a stream that never connects, closed by --duration, ends with E_INPUT_EMPTY (exit 1) saying no frame came, and the run is marked failed', async () => {
    const run = join(tmp, 'never');
    const port = await freePort();
    const r = await engram(['memorize', `http://127.0.0.1:${port}/none`, '--live', '--window', '8', '--size', '32x32', '--gray', '--duration', '3', '--quiet', '--out', run]).done;
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/E_INPUT_EMPTY: http:\/\/127\.0\.0\.1:\d+\/none gave no frame in \d+ s before the stream closed/);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'))).toMatchObject({ status: 'failed', errorCode: 'E_INPUT_EMPTY' });
  }, 60_000);
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
describe.skipIf(!hasScript)(`the dashboard of a live run, started outside the repository${hasScript ? '' : ' (skipped: script(1) is absent)'}`, () => {
  it('draws the live pane in a terminal (a pseudo-terminal from script(1)) whatever the working directory, and finishes the run', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'engram-elsewhere-')); // no tsconfig.json here: the bin must bring its own
    try {
      const command = `${process.execPath} ${join(root, 'bin/engram.mjs')} memorize lavfi:testsrc2=s=32x32:r=10 --live --window 8 --size 32x32 --gray --duration 8 --probe-every 2 --no-recovery --out run`;
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', COLUMNS: '100', LINES: '30' };
      delete env.CI; // the dashboard is for terminals outside CI
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd, env, timeout: 90_000, input: '' });
      expect(r.stdout).not.toMatch(/internal error/);
      expect(r.status, r.stdout.slice(-2000)).toBe(0);
      expect(r.stdout).toMatch(/fps in/); // the live pane
      expect(r.stdout).toMatch(/recallable now/);
      expect(existsSync(join(cwd, 'run', 'model.ckpt'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});

const espeak = spawnSync('espeak-ng', ['--version']).status === 0;
describe.skipIf(!espeak)(`memorize --live on real speech${espeak ? '' : ' (skipped: espeak-ng is not installed)'}`, () => {
  it('speech piped in as it is spoken: one-second vectors, the last window recalled from noise, a WAV recorded while live', async () => {
    const wav = join(tmp, 'speech.wav');
    execFileSync('espeak-ng', ['-s', '140', '-w', wav, 'Memories are attractors. Iterating the network from noise replays the stream, one second after another, in the order it was heard.']);
    const ref = (await readAudioSeconds(wav, { rate: 8000, chunkSeconds: 1 })).chunks.map((c) => c.data);
    expect(ref.length).toBeGreaterThanOrEqual(7);
    const run = join(tmp, 'speech');
    const e = engram(['memorize', '-', '--live', '--kind', 'audio', '--rate', '8000', '--window', '5', '--probe-every', '2', '--record-every', '3',
      '--no-recovery', '--json', '--out', run], { stdin: 'pipe' });
    const ff = spawn(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-re', '-i', wav, '-ac', '1', '-ar', '8000', '-c:a', 'pcm_s16le', '-f', 'nut', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(ff);
    ff.stdout!.pipe(e.child.stdin!);
    const r = await e.done;
    expect(errorLines(r.stderr)).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    const last = ev.filter((x) => x.kind === 'live').at(-1);
    expect(last.arrived).toBe(ref.length); // whole seconds only: the cut-off end is no chunk
    const recall = ev.filter((x) => x.kind === 'recall').at(-1);
    expect(recall.framesTotal).toBe(5);
    expect(recall.outcome.recalled, JSON.stringify(recall.outcome)).toBe(true);
    // the recalled cycle is the five seconds in memory at the end (the last ones taken in: slow solves drop some), each at high fidelity
    const memory = (loadCheckpoint(join(run, 'model.ckpt')).meta!.live as { frames: number[] }).frames;
    expect(memory).toHaveLength(5);
    expect(memory.at(-1)).toBe(ref.length - 1);
    const recalled = (await readAudioSeconds(join(run, 'recalled.wav'), { rate: 8000, chunkSeconds: 1 })).chunks.map((c) => c.data);
    const corr = (x: Float32Array, y: Float32Array) => {
      const mx = x.reduce((a, b) => a + b, 0) / x.length, my = y.reduce((a, b) => a + b, 0) / y.length;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < x.length; i++) [sxy, sxx, syy] = [sxy + (x[i] - mx) * (y[i] - my), sxx + (x[i] - mx) ** 2, syy + (y[i] - my) ** 2];
      return sxy / Math.sqrt(sxx * syy);
    };
    const best = recalled.map((c: Float32Array) => Math.max(...memory.map((i) => corr(c, ref[i]))));
    expect(Math.min(...best), JSON.stringify(best)).toBeGreaterThan(0.99);
    const wavs = readdirSync(join(run, 'recordings')).filter((f) => /-chunks-\d+-\d+\.wav$/.test(f));
    expect(wavs.length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe.skipIf(absent)(`memorize --live on a directory that images are added to${absent ? ` (skipped: ${clip} is absent)` : ''}`, () => {
  it('images dropped into a directory one by one are memorized as they come; --frames ends the run', async () => {
    const stage = join(tmp, 'stage'), dir = join(tmp, 'incoming');
    mkdirSync(stage);
    mkdirSync(dir);
    execFileSync(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-i', clip, '-vf', 'fps=8,scale=32:32', '-frames:v', '24', join(stage, 'f%03d.png')]);
    const names = readdirSync(stage).sort();
    expect(names).toHaveLength(24);
    const run = join(tmp, 'images');
    const e = engram(['memorize', dir, '--live', '--window', '12', '--size', '32x32', '--gray', '--frames', '24', '--probe-every', '0',
      '--no-recovery', '--json', '--out', run]);
    for (const n of names) {
      renameSync(join(stage, n), join(dir, n)); // whole files only: an image appears at once
      await sleep(250);
    }
    const r = await e.done;
    expect(r.status, r.stderr).toBe(0);
    const ev = events(run);
    const last = ev.filter((x) => x.kind === 'live').at(-1);
    expect(last.arrived).toBe(24);
    expect(last.admitted + last.dropped + last.repeated).toBe(24); // the last held image is taken in at the end
    const recall = ev.filter((x) => x.kind === 'recall').at(-1);
    expect(recall.framesTotal).toBe(12); // the last 12 images taken in, recalled from noise
  }, 60_000);
});
