/**
 * npm run bench:live — a live stream memorized for minutes on end (issue 12): ffmpeg serves natural
 * footage over HTTP on 127.0.0.1 at 10 frames/s, `engram memorize <url> --live` runs as a user
 * would run it (its own process, --json), and this script reads its events and samples its memory.
 *
 * Reports: frames arrived / admitted / dropped / repeated, the engram process's RSS when the window
 * first filled and at the end (growth in %), recallable-now per minute (share of probes that found
 * the window back from noise, ≥ 90% of its frames in order at ≥ 30 dB) and the targets:
 *   - after the first minute, the window stays recallable (≥ 90% of the probes);
 *   - RSS grows ≤ 10% from the window's filling to the end.
 *
 *   npm run bench:live                      # 10 minutes, window 48, 32×32 gray
 *   npm run bench:live -- --minutes 60      # the one-hour soak
 *   npm run bench:live -- --minutes 2 --json
 *
 * The camera (--camera, an ffmpeg filter graph after `movie=<clip>:loop=0`, played in real time):
 * astronaut-orbit.mp4 looped at half speed, 10 frames/s (80 frames a pass, more than a window), each pass turned a little further (0.005 rad a
 * frame), so no pass repeats an earlier one. A stream that returns to the same picture within one
 * window gives nearly equal frames with different successors, which no map replays robustly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { freePort } from '../media/net.ts';
import { footagePath } from './footage.ts';

const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' }, window: { type: 'string', default: '48' },
    size: { type: 'string', default: '32x32' }, camera: { type: 'string', default: 'setpts=2*N/24/TB,fps=10,rotate=0.005*n' }, 'probe-every': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    /** More engram options, as one argument: --extra='--width 384 --depth 3'. */
    extra: { type: 'string', default: '' },
  },
});
const minutes = Number(a.minutes);
const say = (s: string) => (a.json ? process.stderr.write(`${s}\n`) : console.log(s));

/** Resident memory of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const port = await freePort();
const clip = footagePath('astronaut-orbit.mp4');
const server: ChildProcess = spawn(resolveFfmpeg().path, [
  // the realtime filter paces the output by its own timestamps (-re would pace the input: at half speed, twice too fast)
  '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `movie=${clip}:loop=0,${a.camera},realtime`,
  '-c:v', 'mpeg2video', '-q:v', '2', '-g', '5', '-f', 'mpegts', '-listen', '1', `http://127.0.0.1:${port}`,
], { stdio: 'ignore' });
const out = mkdtempSync(join(tmpdir(), 'engram-bench-live-'));
const args = ['memorize', `http://127.0.0.1:${port}`, '--live', '--window', a.window, '--size', a.size, '--gray', '--probe-every', a['probe-every'],
  '--duration', String(minutes * 60), '--no-recovery', '--json', '--out', join(out, 'run'), ...a.extra.split(' ').filter(Boolean)];
say(`engram ${args.join(' ')}`);
const t0 = Date.now();
const engram = spawn(process.execPath, [join(import.meta.dirname, '../bin/engram.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
const stop = () => {
  engram.kill('SIGTERM');
  server.kill('SIGKILL');
};
process.on('SIGINT', stop);

interface Probe { t: number; recallable: boolean; coverage: number; of: number; psnr: number; certified: boolean | null }
const probes: Probe[] = [];
const rss: { t: number; mib: number }[] = [];
let last: Record<string, number> | null = null;
let filledAt: number | null = null;
let recall: { framesMatched: number; framesTotal: number; orderCorrect: boolean; meanPsnr: number; outcome?: { kind: string } } | null = null;
let status = 'unknown';
const window = Number(a.window);
const sampler = setInterval(() => {
  const m = rssMiB(engram.pid!);
  if (m !== null) rss.push({ t: (Date.now() - t0) / 1000, mib: m });
}, 5000);
let lastSaid = 0;
createInterface({ input: engram.stdout! }).on('line', (line) => {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line);
  } catch {
    return;
  }
  const t = (Date.now() - t0) / 1000;
  if (e.kind === 'live') {
    last = e as unknown as Record<string, number>;
    if (filledAt === null && (e.stored as number) >= window) {
      filledAt = t;
      const m = rssMiB(engram.pid!);
      if (m !== null) rss.push({ t, mib: m });
    }
    if (t - lastSaid >= 30) {
      lastSaid = t;
      const ok = probes.filter((p) => p.recallable).length;
      say(`${(t / 60).toFixed(1)}/${minutes} min: ${e.arrived} in, ${e.admitted} admitted, ${e.dropped} dropped, ${e.repeated} repeated · ` +
        `RSS ${rss.at(-1)?.mib.toFixed(0) ?? '?'} MiB · recallable ${ok}/${probes.length} probes`);
    }
  } else if (e.kind === 'live-probe') {
    probes.push({ t, recallable: e.recallable as boolean, coverage: e.coverage as number, of: e.of as number, psnr: e.meanPsnr as number, certified: e.certified as boolean | null });
  } else if (e.kind === 'recall') {
    recall = e as unknown as typeof recall;
  } else if (e.kind === 'run-end') {
    status = e.status as string;
  }
});
const code: number = await new Promise((r) => engram.on('close', (c) => r(c ?? 1)));
clearInterval(sampler);
server.kill('SIGKILL');

// (assigned in the callbacks above)
const lastLive = last as Record<string, number> | null;
const finalRecall = recall as { framesMatched: number; framesTotal: number; orderCorrect: boolean; meanPsnr: number; outcome?: { kind: string } } | null;
const full = filledAt as number | null;
const afterFirstMinute = probes.filter((p) => p.t >= 60 && p.of >= window);
const perMinute = Array.from({ length: Math.ceil(minutes) }, (_, m) => {
  const ps = probes.filter((p) => p.t >= m * 60 && p.t < (m + 1) * 60);
  return { minute: m + 1, probes: ps.length, recallable: ps.filter((p) => p.recallable).length, meanCoverage: ps.length ? ps.reduce((s, p) => s + p.coverage / p.of, 0) / ps.length : null };
});
const rssFull = full !== null ? rss.find((r) => r.t >= full) ?? null : null;
const rssEnd = rss.at(-1) ?? null;
const growth = rssFull && rssEnd ? (rssEnd.mib - rssFull.mib) / rssFull.mib : null;
const result = {
  date: new Date().toISOString(), minutes, window, size: a.size, camera: a.camera, exit: code, status,
  stream: lastLive && { arrived: lastLive.arrived, admitted: lastLive.admitted, dropped: lastLive.dropped, repeated: lastLive.repeated, gaps: lastLive.gaps, seconds: lastLive.streamSeconds },
  windowFullAtSeconds: full, rss: { atWindowFull: rssFull?.mib ?? null, end: rssEnd?.mib ?? null, max: Math.max(...rss.map((r) => r.mib)), growth },
  recallableAfterFirstMinute: { probes: afterFirstMinute.length, recallable: afterFirstMinute.filter((p) => p.recallable).length },
  perMinute, finalRecall: finalRecall && { matched: finalRecall.framesMatched, of: finalRecall.framesTotal, inOrder: finalRecall.orderCorrect, psnr: finalRecall.meanPsnr, outcome: finalRecall.outcome?.kind },
  targets: {
    recallable: afterFirstMinute.length > 0 && afterFirstMinute.filter((p) => p.recallable).length >= 0.9 * afterFirstMinute.length,
    rssFlat: growth !== null && growth <= 0.1,
  },
};
rmSync(out, { recursive: true, force: true });
if (a.json) console.log(JSON.stringify(result));
else {
  const s = result.stream;
  say(`\nstream: ${s?.arrived} frames in ${s?.seconds.toFixed(0)} s, ${s?.admitted} admitted, ${s?.dropped} dropped, ${s?.repeated} repeated (engram exit ${code}, run ${status})`);
  say(`RSS: ${result.rss.atWindowFull?.toFixed(0)} MiB when the window filled (${full?.toFixed(0)} s), ${result.rss.end?.toFixed(0)} MiB at the end, max ${result.rss.max.toFixed(0)}; growth ${growth === null ? 'n/a' : `${(100 * growth).toFixed(1)}%`}`);
  say(`recallable now after the first minute: ${result.recallableAfterFirstMinute.recallable}/${result.recallableAfterFirstMinute.probes} probes`);
  for (const m of perMinute) say(`  minute ${m.minute}: ${m.recallable}/${m.probes} recallable, mean coverage ${m.meanCoverage === null ? 'n/a' : `${(100 * m.meanCoverage).toFixed(0)}%`}`);
  const r = finalRecall;
  say(`final recall: ${r ? `${r.framesMatched}/${r.framesTotal}, ${r.orderCorrect ? 'in order' : 'NOT in order'}, ${r.meanPsnr.toFixed(1)} dB (${r.outcome?.kind})` : 'none'}`);
  say(`targets: recallable ≥ 90% after the first minute ${result.targets.recallable ? 'met' : 'NOT met'}; RSS growth ≤ 10% ${result.targets.rssFlat ? 'met' : 'NOT met'}`);
}
process.exit(code === 0 && result.targets.recallable && result.targets.rssFlat ? 0 : 1);
