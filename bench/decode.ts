/**
 * Video decoding benchmark (not a test), two measurements:
 *
 * 1. Throughput: a 20 s 720p30 H.264 clip (600 frames, lavfi testsrc2, libx264 veryfast, rendered
 *    into a temp dir at run time and deleted afterwards) decoded to 64×64 gray through
 *    `videoFrames` (consume and discard), best of 3 → frames/s; the same for ffmpeg alone (stdout to
 *    /dev/null) and for ffmpeg piped into Node (bytes read and dropped), so engram/ffmpeg shows what
 *    our framing and Float32 conversion cost.
 * 2. Memory while streaming a long input: `lavfi:testsrc2=s=1280x720:r=30:d=600` (10 minutes,
 *    18,000 frames, no file) decoded to 64×64 gray in a fresh child process, consumed one frame at a
 *    time — the first part with a yield to the event loop per frame, plus a 2 s stall in the middle
 *    during which ffmpeg's CPU time is read from /proc to show the pipe's backpressure stops it.
 *    RSS and heapUsed are sampled every 1000 frames.
 *
 *   npm run bench:decode
 *   npm run bench:decode -- --seconds 120     shorter long input (default 600 s)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { videoFrames } from '../sources/video.ts';

const SIZE = 64;
const CLIP_SECONDS = 20;
const FPS = 30;
const REPS = 3;
const SLOW_FRAMES = 3000; // frames consumed with one event-loop turn each
const STALL_AT = 6000; // frame index at which the consumer stops for STALL_MS
const STALL_MS = 2000;
const SAMPLE_EVERY = 1000;
const MB = 1024 * 1024;

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MiB`;

function run(bin: string, args: string[], stdout: 'ignore' | number | 'pipe'): Promise<{ code: number | null; stderr: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    let bytes = 0;
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout?.on('data', (d: Buffer) => (bytes += d.length));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr, bytes }));
  });
}

async function ffmpegOrThrow(args: string[], stdout: 'ignore' | number | 'pipe', what: string) {
  const r = await run(resolveFfmpeg().path, args, stdout);
  if (r.code !== 0) throw new Error(`ffmpeg failed while ${what} (exit ${r.code}):\n${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return r;
}

async function bestOf(reps: number, f: () => Promise<number>): Promise<{ ms: number; frames: number }> {
  let best = Infinity;
  let frames = 0;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    frames = await f();
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, frames };
}

// ---------------------------------------------------------------------------------------------
// Memory child: its own process so start RSS and the kernel's max-RSS cover only the streaming.

type Sample = { frame: number; rss: number; heapUsed: number; ffmpegRss: number | null };
type MemoryResult = {
  seconds: number;
  frames: number;
  ms: number;
  startRss: number;
  startHeap: number;
  endRss: number;
  endHeap: number;
  peakRss: number;
  peakHeap: number;
  maxRssKernel: number;
  samples: Sample[];
  /** ffmpeg's CPU time during the stall, and over the 1000 frames just before it (while frames flowed). */
  stall: { ms: number; ffmpegCpuMs: number | null; flowingMs: number; flowingCpuMs: number | null } | null;
};

const CLK_TCK = 100; // USER_HZ on Linux

/** The ffmpeg child of this process, from /proc (Linux only; null elsewhere). */
function ffmpegChildPid(): number | null {
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      for (const pid of readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg') return Number(pid);
      }
    }
  } catch {
    // not Linux, or the process just exited
  }
  return null;
}

/** utime + stime of `pid` in ms. */
function cpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

function rssOf(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function memoryChild(seconds: number): Promise<MemoryResult> {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const start = process.memoryUsage();
  const samples: Sample[] = [{ frame: 0, rss: start.rss, heapUsed: start.heapUsed, ffmpegRss: null }];
  let peakRss = start.rss;
  let peakHeap = start.heapUsed;
  let stall: MemoryResult['stall'] = null;
  let frames = 0;
  let checksum = 0;
  let flowing: { cpu: number | null; t: number } = { cpu: null, t: 0 };
  const t0 = performance.now();
  for await (const f of videoFrames(`lavfi:testsrc2=s=1280x720:r=${FPS}:d=${seconds}`, { width: SIZE, height: SIZE, gray: true })) {
    checksum += f.data[0];
    frames++;
    if (frames <= SLOW_FRAMES) await new Promise<void>((r) => setImmediate(r));
    if (frames === STALL_AT - 1000) flowing = { cpu: cpuMs(ffmpegChildPid()), t: performance.now() };
    if (frames === STALL_AT) {
      const pid = ffmpegChildPid();
      const c0 = cpuMs(pid);
      const ts = performance.now();
      await sleep(STALL_MS);
      const c1 = cpuMs(pid);
      stall = {
        ms: performance.now() - ts,
        ffmpegCpuMs: c0 !== null && c1 !== null ? c1 - c0 : null,
        flowingMs: ts - flowing.t,
        flowingCpuMs: c0 !== null && flowing.cpu !== null ? c0 - flowing.cpu : null,
      };
    }
    if (frames % SAMPLE_EVERY === 0) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      samples.push({ frame: frames, rss: m.rss, heapUsed: m.heapUsed, ffmpegRss: rssOf(ffmpegChildPid()) });
    }
  }
  const ms = performance.now() - t0;
  const end = process.memoryUsage();
  peakRss = Math.max(peakRss, end.rss);
  peakHeap = Math.max(peakHeap, end.heapUsed);
  if (!Number.isFinite(checksum)) throw new Error('bad checksum');
  return {
    seconds, frames, ms,
    startRss: start.rss, startHeap: start.heapUsed, endRss: end.rss, endHeap: end.heapUsed,
    peakRss, peakHeap, maxRssKernel: process.resourceUsage().maxRSS * 1024, samples, stall,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const secArg = argv.indexOf('--seconds');
  const seconds = secArg >= 0 ? Number(argv[secArg + 1]) : 600;
  if (argv.includes('--memory-child')) {
    process.stdout.write(JSON.stringify(await memoryChild(seconds)) + '\n');
    return;
  }

  const ff = resolveFfmpeg();
  const version = spawnSync(ff.path, ['-hide_banner', '-version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-decode-'));
  try {
    // 1. The clip.
    const clip = join(dir, 'clip720.mp4');
    const tg = performance.now();
    await ffmpegOrThrow(
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=${FPS}:d=${CLIP_SECONDS}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', clip],
      'ignore', 'rendering the 720p clip',
    );
    const genMs = performance.now() - tg;

    // 2. Throughput.
    const rawArgs = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', clip, '-an', '-sn',
      '-vf', `scale=${SIZE}:${SIZE}:flags=area,format=gray`, '-f', 'rawvideo', '-'];
    const frameBytes = SIZE * SIZE;
    const devNull = openSync('/dev/null', 'w');
    let ffNull: { ms: number; frames: number };
    try {
      ffNull = await bestOf(REPS, async () => {
        await ffmpegOrThrow(rawArgs, devNull, 'decoding to /dev/null');
        return CLIP_SECONDS * FPS;
      });
    } finally {
      closeSync(devNull);
    }
    const ffPipe = await bestOf(REPS, async () => (await ffmpegOrThrow(rawArgs, 'pipe', 'decoding into a pipe')).bytes / frameBytes);
    const eng = await bestOf(REPS, async () => {
      let n = 0;
      for await (const f of videoFrames(clip, { width: SIZE, height: SIZE, gray: true })) {
        void f;
        n++;
      }
      return n;
    });

    // 3. Memory, in a fresh process.
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--memory-child', '--seconds', String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    let mem: MemoryResult | null = null;
    try {
      mem = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as MemoryResult;
    } catch {
      console.error(`memory child failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }

    const fps = (x: { ms: number; frames: number }) => (x.frames * 1000) / x.ms;
    console.log(`video decode: ${CLIP_SECONDS} s 1280x720 ${FPS} fps H.264 clip (testsrc2, libx264 veryfast, yuv420p; rendered in ${(genMs / 1000).toFixed(1)} s) → ${SIZE}x${SIZE} gray, best of ${REPS}`);
    console.log(`ffmpeg: ${ff.path} (${ff.source}); ${version}`);
    console.log('');
    console.log('| decode path | frames | best time | frames/s | vs ffmpeg alone |');
    console.log('|---|---:|---:|---:|---:|');
    const row = (name: string, x: { ms: number; frames: number }) =>
      console.log(`| ${name} | ${x.frames} | ${(x.ms / 1000).toFixed(2)} s | ${fps(x).toFixed(0)} | ${(fps(x) / fps(ffNull)).toFixed(2)}× |`);
    row('ffmpeg alone → /dev/null', ffNull);
    row('ffmpeg → pipe → Node (bytes dropped)', ffPipe);
    row('engram `videoFrames` (Float32 frames)', eng);
    console.log('');
    console.log(`throughput: ffmpeg alone ${fps(ffNull).toFixed(0)} frames/s`);
    console.log(`throughput: ffmpeg into a Node pipe ${fps(ffPipe).toFixed(0)} frames/s`);
    console.log(`throughput: engram videoFrames ${fps(eng).toFixed(0)} frames/s = ${(fps(eng) / fps(ffNull)).toFixed(2)}× ffmpeg alone`);

    if (mem) {
      const all = mem.frames * SIZE * SIZE * 4;
      console.log('');
      console.log(`streaming memory: lavfi:testsrc2=s=1280x720:r=${FPS}:d=${mem.seconds} (${mem.seconds / 60} min, no file) → ${SIZE}x${SIZE} gray, fresh process;` +
        ` first ${SLOW_FRAMES} frames with an event-loop turn each, a ${STALL_MS / 1000} s stall at frame ${STALL_AT}, RSS sampled every ${SAMPLE_EVERY} frames`);
      if (mem.seconds !== 600) console.log(`(long input shortened from 600 s to ${mem.seconds} s)`);
      console.log('');
      console.log('| frame | Node RSS | Node heapUsed | ffmpeg RSS |');
      console.log('|---:|---:|---:|---:|');
      for (const s of mem.samples) console.log(`| ${s.frame} | ${mb(s.rss)} | ${mb(s.heapUsed)} | ${s.ffmpegRss === null ? '–' : mb(s.ffmpegRss)} |`);
      console.log('');
      console.log(`memory: frames decoded ${mem.frames} in ${(mem.ms / 1000).toFixed(1)} s (${((mem.frames * 1000) / mem.ms).toFixed(0)} frames/s, stall included)`);
      console.log(`memory: RSS start ${mb(mem.startRss)}, peak ${mb(mem.peakRss)} (sampled; kernel max-RSS ${mb(mem.maxRssKernel)}), end ${mb(mem.endRss)}`);
      console.log(`memory: heapUsed start ${mb(mem.startHeap)}, peak ${mb(mem.peakHeap)}, end ${mb(mem.endHeap)}`);
      console.log(`memory: keeping all ${mem.frames} frames as Float32 would take ${mb(all)} (${mem.frames} × ${SIZE}×${SIZE}×4 bytes)`);
      if (mem.stall) {
        const st = mem.stall;
        const during = st.ffmpegCpuMs === null ? 'n/a (no /proc)' : `${st.ffmpegCpuMs.toFixed(0)} ms of CPU (${((100 * st.ffmpegCpuMs) / st.ms).toFixed(1)}% of one core)`;
        const before = st.flowingCpuMs === null ? 'n/a' : `${((100 * st.flowingCpuMs) / st.flowingMs).toFixed(0)}% of one core`;
        console.log(`backpressure: during the ${(st.ms / 1000).toFixed(1)} s consumer stall ffmpeg used ${during}; over the 1000 frames before it, ${before}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
