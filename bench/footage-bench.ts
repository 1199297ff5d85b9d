/**
 * Natural footage and speech against the targets of issue 9 (not a test). Each run is the real CLI
 * in a child process, `node bin/engram.mjs memorize <input> … --json --out <tmp> --no-recovery`,
 * its JSON event stream parsed as it arrives. Two methods per input:
 *
 *   solve     the defaults (`--fit auto`, which solves these inputs): the row the targets are judged on
 *   gradient  `--fit gradient` (Adam, lr 1e-4, width 512: the old default), capped by --max-steps so
 *             a run takes about 3–4 min; its recall is capped by --recall-steps too (below)
 *
 * Inputs (the clip from bench/footage.ts `footagePath`, ENGRAM_MEDIA overrides the folder):
 *   32   astronaut-orbit.mp4, 32×32 gray, all 96 frames   target: MSE ≤ 1e-8, 96/96 recalled from noise in order, ρ < 1, ≤ 3 min wall
 *   64   the same clip at 64×64 gray, --frames 64          target: the same, ≤ 15 min wall
 *   speech  8 s of espeak-ng speech (generated here), --rate 16000 --chunk-seconds 1 --frames 8
 *           target: every stored second comes back with correlation ≥ 0.99
 *
 * For speech the bench reads the run's recalled.wav (the recalled cycle, one state per second, in
 * cycle order) and, for each training second (decoded with the engine's own source, same options),
 * takes the best Pearson correlation over the recording's whole seconds.
 *
 * Printed: progress per event milestone, the loss at fixed wall times (seconds since the run-start
 * event) per run, a Markdown table of final figures, and the targets (met yes/no) for the solve
 * rows. The full results (loss-vs-time points included) are written as JSON to
 * scratch/footage-bench-<date>.json (not tracked) or --json-out. Exit 1 when a run fails.
 *
 *   npm run bench:footage
 *   npm run bench:footage -- --only solve           skip the gradient runs
 *   npm run bench:footage -- --inputs 32,speech     a subset (32, 64, speech)
 *   npm run bench:footage -- --quick                gradient caps divided by 10
 *   npm run bench:footage -- --gradient-steps N     one gradient step cap for every input
 *   npm run bench:footage -- --gradient-recall-steps K   recall cap of the gradient runs (default 5000)
 *   npm run bench:footage -- --keep                 keep the run directories (path printed)
 *   npm run bench:footage -- --json-out PATH
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decode as decodeWav } from 'wav-decoder';
import type { AttractorEvent, AttractorMonitorEvent, DatasetEvent, RecallEvent, RunStartEvent, TrainEndEvent } from '../events.ts';
import { correlation } from '../pipelines/preview.ts';
import { readAudioSeconds } from '../sources/audio.ts';
import { footagePath } from './footage.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'engram.mjs');

const SENTENCE =
  'Memory is the treasury and guardian of all things. A network that has learned a clip by heart can play it back from noise, ' +
  'one second after another, until the whole sentence has been spoken again.';
const SPEECH_RATE = 16000;
const SPEECH_SECONDS = 8;
const CORR_TARGET = 0.99;
/** Wall times (s since run-start) at which the loss is printed. */
const MARKS = [1, 2, 5, 10, 20, 30, 60, 120, 180, 240, 300, 600, 900];

type InputName = '32' | '64' | 'speech';
type Method = 'solve' | 'gradient';

interface InputDef {
  name: InputName;
  label: string;
  args: (paths: { clip: string; speech: string }) => string[];
  /** Gradient step cap: about 2.5–3 min of training on the 2-core machine, so the whole run stays under ~4 min with a busy host. */
  gradientSteps: number;
  target: { maxWallS?: number; n: number; corr?: number };
}

const INPUTS: InputDef[] = [
  {
    name: '32', label: 'astronaut-orbit 32×32 gray, 96 frames',
    args: ({ clip }) => [clip, '--size', '32x32', '--gray'],
    gradientSteps: 7000, target: { maxWallS: 180, n: 96 },
  },
  {
    name: '64', label: 'astronaut-orbit 64×64 gray, first 64 frames',
    args: ({ clip }) => [clip, '--size', '64x64', '--gray', '--frames', '64'],
    gradientSteps: 2500, target: { maxWallS: 900, n: 64 },
  },
  {
    name: 'speech', label: `espeak-ng speech, ${SPEECH_SECONDS} × 1 s at ${SPEECH_RATE / 1000} kHz`,
    args: ({ speech }) => [speech, '--rate', String(SPEECH_RATE), '--chunk-seconds', '1', '--frames', String(SPEECH_SECONDS)],
    gradientSteps: 3000, target: { n: SPEECH_SECONDS, corr: CORR_TARGET },
  },
];

// ---------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2);
const arg = (k: string): string | undefined => {
  const i = argv.indexOf(`--${k}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${k} needs a value`);
  return v;
};
const flag = (k: string) => argv.includes(`--${k}`);
const KNOWN = new Set(['--only', '--inputs', '--quick', '--gradient-steps', '--gradient-recall-steps', '--keep', '--json-out']);
for (const a of argv) if (a.startsWith('--') && !KNOWN.has(a)) throw new Error(`unknown option ${a}; known: ${[...KNOWN].join(' ')}`);

const only = arg('only');
if (only !== undefined && only !== 'solve' && only !== 'gradient') throw new Error('--only takes solve or gradient');
const methods: Method[] = only ? [only] : ['solve', 'gradient'];
const inputNames = (arg('inputs') ?? '32,64,speech').split(',').filter(Boolean);
for (const n of inputNames) if (!INPUTS.some((i) => i.name === n)) throw new Error(`--inputs: unknown input ${n} (32, 64, speech)`);
const inputs = INPUTS.filter((i) => inputNames.includes(i.name));
const quick = flag('quick');
const positive = (k: string): number | undefined => {
  const v = arg(k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} takes a positive whole number, not ${v}`);
  return n;
};
const gradientStepsAll = positive('gradient-steps');
const gradientRecallSteps = positive('gradient-recall-steps') ?? 5000;
const keep = flag('keep');

const gradientSteps = (i: InputDef) => gradientStepsAll ?? (quick ? Math.max(1, Math.round(i.gradientSteps / 10)) : i.gradientSteps);

// ---------------------------------------------------------------------------------------------
// One run of the CLI

interface LossPoint { t: number; step: number; loss: number }

interface RunResult {
  input: InputName;
  method: Method;
  args: string[];
  exitCode: number | null;
  ok: boolean;
  error?: string;
  /** Wall time of the child process, s. */
  processWallS: number;
  /** run-end wallMs / 1000 (the run as engram times it). */
  runWallS: number | null;
  /** train-end wallMs / 1000. */
  trainWallS: number | null;
  fit: DatasetEvent['fit'] | null;
  n: number | null;
  dim: number | null;
  width: number | null;
  steps: number | null;
  endReason: TrainEndEvent['reason'] | null;
  finalMse: number | null;
  /** Loss against seconds since run-start, thinned to one point per 0.5 s (first and last kept). */
  loss: LossPoint[];
  lossAtMarks: { t: number; loss: number | null }[];
  recall: {
    rule: RecallEvent['rule'];
    iterations: number;
    period: number;
    framesMatched: number;
    framesTotal: number;
    orderCorrect: boolean | null;
    outcome: RecallEvent['outcome'] | null;
    meanPsnr: number;
    medianPsnr: number;
    minPsnr: number;
  } | null;
  rho: number | null;
  rhoWhat: string | null;
  attractorsNote: string | null;
  /** The training monitor's last ρ of the training cycle (gradient runs, where the final certificate may have nothing stored to certify). */
  monitorRho: number | null;
  /** speech only: best correlation of each training second with a second of recalled.wav. */
  corr: number[] | null;
  warnings: string[];
}

const fmtS = (s: number) => `${s.toFixed(1)} s`;
const sci = (x: number | null | undefined, p = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toExponential(p));
/** ρ and the like: fixed below 1e-3 would print as 0.00000400. */
const num = (x: number) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toPrecision(3));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function runCli(input: InputDef, method: Method, paths: { clip: string; speech: string }, outDir: string): Promise<RunResult> {
  const tag = `[${input.name} ${method}]`;
  const args = [...input.args(paths), '--json', '--out', outDir, '--no-recovery'];
  if (method === 'gradient') args.push('--fit', 'gradient', '--max-steps', String(gradientSteps(input)), '--recall-steps', String(gradientRecallSteps));
  const r: RunResult = {
    input: input.name, method, args, exitCode: null, ok: false, processWallS: 0, runWallS: null, trainWallS: null, fit: null,
    n: null, dim: null, width: null, steps: null, endReason: null, finalMse: null, loss: [], lossAtMarks: [], recall: null,
    rho: null, rhoWhat: null, attractorsNote: null, monitorRho: null, corr: null, warnings: [],
  };
  console.log(`${tag} engram memorize ${args.join(' ')}`);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'memorize', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let start = 0;
    let lastPrinted = -Infinity;
    let lastKept = -Infinity;
    let lastPoint: LossPoint | null = null;
    let runEnd: string | null = null;
    const since = (time: number) => (time - start) / 1000;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let e: { kind: string; time: number; step: number } & Record<string, unknown>;
      try {
        e = JSON.parse(line);
      } catch {
        console.log(`${tag} (not JSON) ${line.slice(0, 200)}`);
        return;
      }
      switch (e.kind) {
        case 'run-start': {
          const s = e as unknown as RunStartEvent;
          start = s.time;
          if (s.config.command === 'memorize') r.width = s.config.model.width;
          console.log(`${tag} run-start: backend ${s.backend.name} (${s.backend.threads} threads)`);
          break;
        }
        case 'dataset': {
          const d = e as unknown as DatasetEvent;
          r.fit = d.fit ?? null;
          r.n = d.n;
          r.dim = d.dim;
          console.log(`${tag} ${fmtS(since(d.time))} dataset n = ${d.n}, d = ${d.dim}; fit ${d.fit?.method ?? '?'} (at most ${d.fit?.maxSteps ?? '?'} steps), width ${r.width}`);
          break;
        }
        case 'log': {
          const level = e.level as string;
          const msg = e.message as string;
          if (level !== 'info') r.warnings.push(msg);
          console.log(`${tag} ${fmtS(since(e.time))} ${level}: ${msg}`);
          break;
        }
        case 'train-step': {
          const t = since(e.time);
          const p = { t, step: e.step, loss: e.loss as number };
          lastPoint = p;
          if (t - lastKept >= 0.5 || r.loss.length === 0) {
            r.loss.push(p);
            lastKept = t;
          }
          if (t - lastPrinted >= 15) {
            console.log(`${tag} ${fmtS(t)} step ${e.step} loss ${sci(p.loss)}`);
            lastPrinted = t;
          }
          break;
        }
        case 'train-end': {
          const x = e as unknown as TrainEndEvent;
          if (lastPoint && r.loss.at(-1) !== lastPoint) r.loss.push(lastPoint);
          r.steps = x.step;
          r.endReason = x.reason;
          r.finalMse = x.loss;
          r.trainWallS = x.wallMs / 1000;
          console.log(`${tag} ${fmtS(since(x.time))} train-end: ${x.reason} after ${x.step} steps, MSE ${sci(x.loss)}, training ${fmtS(x.wallMs / 1000)}`);
          break;
        }
        case 'attractor-monitor': {
          const m = e as unknown as AttractorMonitorEvent;
          const rho = m.items?.[0]?.rho;
          if (rho !== undefined) r.monitorRho = rho;
          break;
        }
        case 'recall': {
          const x = e as unknown as RecallEvent;
          const psnr = x.frames.map((f) => f.psnr);
          r.recall = {
            rule: x.rule, iterations: x.iterations, period: x.period, framesMatched: x.framesMatched, framesTotal: x.framesTotal,
            orderCorrect: x.orderCorrect, outcome: x.outcome ?? null, meanPsnr: x.meanPsnr, medianPsnr: median(psnr), minPsnr: Math.min(...psnr),
          };
          console.log(`${tag} ${fmtS(since(x.time))} recall: ${x.rule} after ${x.iterations} iterations, period ${x.period}, ${x.framesMatched}/${x.framesTotal} matched, ` +
            `order ${x.orderCorrect}, outcome ${x.outcome?.kind ?? '?'} (recalled ${x.outcome?.recalled ?? '?'}, ${x.outcome?.coverage ?? '?'}/${x.outcome?.of ?? '?'} at ≥ ${x.outcome?.minPsnr ?? '?'} dB)`);
          break;
        }
        case 'attractors': {
          const a = e as unknown as AttractorEvent;
          const seq = a.items.find((i) => i.what.startsWith('sequence')) ?? null;
          r.rho = seq?.rho ?? null;
          r.rhoWhat = seq?.what ?? null;
          r.attractorsNote = a.skipped ?? (a.items.length === 0 ? `nothing certified (${a.stored} stored)` : null);
          console.log(`${tag} ${fmtS(since(a.time))} attractors (${a.method}, ${(a.ms / 1000).toFixed(1)} s): ` +
            (a.items.length ? a.items.map((i) => `${i.what}: ρ ${num(i.rho)}`).join('; ') : r.attractorsNote));
          break;
        }
        case 'run-end':
          runEnd = e.status as string;
          r.runWallS = (e.wallMs as number) / 1000;
          console.log(`${tag} ${fmtS(since(e.time))} run-end: ${runEnd}`);
          break;
        case 'error':
          r.error = JSON.stringify(e);
          console.log(`${tag} error: ${r.error}`);
          break;
      }
    });
    child.on('error', (err) => {
      r.error = String(err);
    });
    child.on('close', (code) => {
      r.exitCode = code;
      r.processWallS = (performance.now() - t0) / 1000;
      for (const w of stderr.split('\n').filter(Boolean)) if (!r.warnings.includes(w)) r.warnings.push(w);
      r.ok = code === 0 && runEnd === 'complete' && r.recall !== null && r.finalMse !== null;
      if (!r.ok) {
        r.error ??= `exit ${code}, run-end ${runEnd ?? 'missing'}${r.recall ? '' : ', no recall event'}`;
        console.log(`${tag} FAILED: ${r.error}\n${stderr.trim().split('\n').slice(-8).join('\n')}`);
      }
      const end = r.loss.at(-1)?.t ?? 0;
      r.lossAtMarks = MARKS.filter((m) => m < end).map((t) => ({ t, loss: [...r.loss].reverse().find((p) => p.t <= t)?.loss ?? null }));
      resolve(r);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Speech: the recalled seconds against the training seconds

/** For each training second, the best correlation with a whole second of the recording. */
async function speechCorrelations(speechWav: string, recalledWav: string): Promise<number[]> {
  const { chunks } = await readAudioSeconds(speechWav, { rate: SPEECH_RATE, chunkSeconds: 1, maxChunks: SPEECH_SECONDS });
  const rec = await decodeWav(readFileSync(recalledWav));
  if (rec.sampleRate !== SPEECH_RATE) throw new Error(`${recalledWav} is at ${rec.sampleRate} Hz, expected ${SPEECH_RATE}`);
  const samples = rec.channelData[0];
  const seconds: Float32Array[] = [];
  for (let s = 0; s + SPEECH_RATE <= samples.length; s += SPEECH_RATE) seconds.push(samples.subarray(s, s + SPEECH_RATE));
  if (seconds.length === 0) throw new Error(`${recalledWav} holds less than one second`);
  return chunks.map((c) => Math.max(...seconds.map((s) => correlation(c.data, s))));
}

// ---------------------------------------------------------------------------------------------

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function makeSpeech(dir: string): string {
  const path = join(dir, 'speech.wav');
  const r = spawnSync('espeak-ng', ['-w', path, SENTENCE], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`espeak-ng is needed for the speech input and ${r.error ? 'is absent (' + r.error.message + ')' : `failed (exit ${r.status}): ${r.stderr}`}; ` +
      'install it (apt-get install espeak-ng) or run with --inputs 32,64');
  }
  return path;
}

const yes = (b: boolean) => (b ? 'yes' : 'no');
const loadStr = () => loadavg().map((x) => x.toFixed(2)).join(', ');

async function main() {
  const started = new Date();
  const loadStart = loadavg();
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']) || '?';
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']) !== '';
  const cpu = cpus();
  console.log(`footage bench ${started.toISOString()}, commit ${commit}${dirty ? ' (uncommitted changes)' : ''}, ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}`);
  console.log(`load average at start (1, 5, 15 min): ${loadStr()}`);
  console.log(`methods: ${methods.join(', ')}; inputs: ${inputs.map((i) => i.name).join(', ')}` +
    (methods.includes('gradient') ? `; gradient caps ${inputs.map((i) => `${i.name}: ${gradientSteps(i)} steps`).join(', ')}, recall ≤ ${gradientRecallSteps} iterations` : ''));

  const tmp = mkdtempSync(join(tmpdir(), 'engram-bench-footage-'));
  const results: RunResult[] = [];
  try {
    const clip = inputs.some((i) => i.name !== 'speech') ? footagePath('astronaut-orbit.mp4') : '';
    const speech = inputs.some((i) => i.name === 'speech') ? makeSpeech(tmp) : '';
    for (const input of inputs) {
      for (const method of methods) {
        const outDir = join(tmp, `${input.name}-${method}`);
        const r = await runCli(input, method, { clip, speech }, outDir);
        if (input.name === 'speech' && r.ok) {
          try {
            r.corr = await speechCorrelations(speech, join(outDir, 'recalled.wav'));
            console.log(`[speech ${method}] correlation per second (best over the recording): ${r.corr.map((c) => c.toFixed(6)).join(' ')}`);
          } catch (e) {
            r.ok = false;
            r.error = `speech correlation: ${(e as Error).message}`;
            console.log(`[speech ${method}] FAILED: ${r.error}`);
          }
        }
        results.push(r);
      }
    }
  } finally {
    if (keep) console.log(`run directories kept in ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  const loadEnd = loadavg();

  // Loss against wall time
  console.log('\n## Loss against wall time (s since run-start; the last loss reported by then)\n');
  for (const r of results) {
    const marks = r.lossAtMarks.map((m) => `${m.t} s ${sci(m.loss, 1)}`).join(' · ');
    const last = r.loss.at(-1);
    console.log(`- ${r.input} ${r.method}: ${marks ? marks + ' · ' : ''}end (${last ? fmtS(last.t) : '–'}, step ${last?.step ?? '–'}) ${sci(last?.loss, 2)}`);
  }

  // Final figures
  console.log('\n## Final figures\n');
  console.log('| input | method | steps | training wall | run wall | final MSE | recalled (k/n) | order | outcome | median PSNR | min PSNR | ρ of the cycle | speech: min corr |');
  console.log('|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|');
  for (const r of results) {
    const def = INPUTS.find((i) => i.name === r.input)!;
    const rc = r.recall;
    const rho = r.rho !== null ? num(r.rho) : `– (${r.attractorsNote ?? 'none'}${r.monitorRho !== null ? `; training monitor ${num(r.monitorRho)}` : ''})`;
    const cells = [
      def.label, r.method === 'solve' ? 'solve (defaults)' : `gradient (Adam 1e-4, ≤ ${gradientSteps(def)} steps)`,
      r.steps ?? '–', r.trainWallS !== null ? fmtS(r.trainWallS) : '–', fmtS(r.processWallS), sci(r.finalMse),
      rc ? `${rc.framesMatched}/${rc.framesTotal}` : '–', rc ? String(rc.orderCorrect) : '–',
      rc ? `${rc.outcome?.kind ?? '?'} (${rc.rule}, ${rc.iterations} it.)` : (r.error ?? '–'),
      rc ? `${rc.medianPsnr.toFixed(1)} dB` : '–', rc ? `${rc.minPsnr.toFixed(1)} dB` : '–', rho,
      r.corr ? Math.min(...r.corr).toFixed(6) : '–',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('\nrun wall = the whole `engram memorize` child process (decode, fit, recall, certificate, recordings; no recovery); ' +
    'recalled = frames matched by the recall from noise (exact: a stored state within tolerance; approximate-orbit: passed at ≥ 20 dB); ' +
    'PSNR per training frame against the recalled state recall compared it with (audio: peak-to-peak 2).');

  // Targets (solve rows)
  const targets: { input: InputName; target: string; measured: string; met: boolean }[] = [];
  for (const r of results.filter((x) => x.method === 'solve')) {
    const def = INPUTS.find((i) => i.name === r.input)!;
    const rc = r.recall;
    const n = def.target.n;
    if (def.target.corr !== undefined) {
      const min = r.corr ? Math.min(...r.corr) : null;
      targets.push({ input: r.input, target: `every second recalled with correlation ≥ ${def.target.corr}`,
        measured: r.corr ? `${r.corr.filter((c) => c >= def.target.corr!).length}/${r.corr.length} seconds ≥ ${def.target.corr}; min ${min!.toFixed(6)}` : '–',
        met: r.ok && r.corr !== null && r.corr.length === n && min! >= def.target.corr });
      continue;
    }
    targets.push({ input: r.input, target: 'MSE ≤ 1e-8', measured: sci(r.finalMse), met: r.ok && r.finalMse !== null && r.finalMse <= 1e-8 });
    targets.push({ input: r.input, target: `${n}/${n} recalled from noise, in order`,
      measured: rc ? `${rc.framesMatched}/${rc.framesTotal}, order ${rc.orderCorrect}, ${rc.outcome?.kind ?? '?'}` : '–',
      met: r.ok && rc !== null && rc.framesMatched === n && rc.framesTotal === n && rc.orderCorrect === true && rc.outcome?.kind === 'exact' });
    targets.push({ input: r.input, target: 'ρ < 1', measured: r.rho !== null ? num(r.rho) : '–', met: r.rho !== null && r.rho < 1 });
    targets.push({ input: r.input, target: `≤ ${def.target.maxWallS! / 60} min wall`, measured: fmtS(r.processWallS), met: r.ok && r.processWallS <= def.target.maxWallS! });
  }
  if (targets.length) {
    console.log('\n## Targets (solve, the defaults)\n');
    console.log('| input | target | measured | met? |');
    console.log('|---|---|---|---|');
    for (const t of targets) console.log(`| ${INPUTS.find((i) => i.name === t.input)!.label} | ${t.target} | ${t.measured} | ${yes(t.met)} |`);
    for (const input of inputs) {
      const ts = targets.filter((t) => t.input === input.name);
      if (ts.length) console.log(`targets met, ${input.name}: ${yes(ts.every((t) => t.met))}`);
    }
  }
  console.log(`\nload average (1, 5, 15 min): start ${loadStart.map((x) => x.toFixed(2)).join(', ')}; end ${loadEnd.map((x) => x.toFixed(2)).join(', ')}`);

  const date = started.toISOString().slice(0, 10);
  const jsonOut = arg('json-out') ?? join(ROOT, 'scratch', `footage-bench-${date}.json`);
  mkdirSync(join(jsonOut, '..'), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify({
    date: started.toISOString(), commit, dirty, machine: { cpus: cpu.length, model: cpu[0]?.model, node: process.version },
    load: { start: loadStart, end: loadEnd }, gradientRecallSteps, quick, sentence: SENTENCE, results, targets,
  }, null, 1) + '\n');
  console.log(`results: ${jsonOut}`);

  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    console.log(`\n${failed.length} run(s) failed: ${failed.map((r) => `${r.input} ${r.method} (${r.error})`).join('; ')}`);
    process.exitCode = 1;
  }
}

await main();
