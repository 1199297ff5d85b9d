/**
 * engram's command line: parse → select the backend once → run a pipeline → print progress and a
 * summary. Every failure ends here as a message naming the input and the fix, and a non-zero exit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackend, fallbackWarning, selectBackend } from '../engine/backend.ts';
import { ACTIVATION_NAMES } from '../engine/activations.ts';
import { isOptimizerName, OPTIMIZER_NAMES } from '../engine/optimizers.ts';
import { EngramError, isEngramError } from '../errors.ts';
import { memorizeVideo, type MemorizeVideoConfig } from '../pipelines/memorize-video.ts';
import { recallRun } from '../pipelines/recall-run.ts';
import { newRunId, prepareRunDir } from '../sinks/run-dir.ts';
import { makeLavfiClip } from '../sources/video.ts';
import { HELP, num, parse, parseSize, type Parsed } from './args.ts';
import { createProgressPrinter, formatSummary } from './progress.ts';
import { initialViewState, reduceEvent, type ViewState } from '../tui/view-state.ts';

const root = join(fileURLToPath(import.meta.url), '../..');

export async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  const [command, ...rest] = args.positionals;
  if (args.values.version) {
    console.log(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    return 0;
  }
  if (args.values.help || !command) {
    console.log(HELP);
    return command || args.values.help ? 0 : 2;
  }
  switch (command) {
    case 'demo':
      return demo(args);
    case 'memorize':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', "memorize takes one video file: engram memorize <video> [options]");
      return memorize(args, rest[0], 'memorize');
    case 'recall':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'recall takes one run directory: engram recall <run-dir> [options]');
      return recallCmd(args, rest[0]);
    default:
      throw new EngramError('E_BAD_ARGUMENT', `unknown command '${command}'; use demo, memorize or recall (see engram --help)`);
  }
}

async function startBackend(args: Parsed) {
  const backend = await selectBackend(args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined));
  const warn = fallbackWarning(backend);
  if (warn) console.error(warn);
  if (!args.values.quiet) console.log(describeBackend(backend));
  return backend;
}

async function demo(args: Parsed): Promise<number> {
  const a = { ...args, values: { ...args.values } };
  if (a.values.frames === undefined) a.values.frames = '48';
  const id = newRunId('demo');
  const outDir = a.values.out ?? join('runs', id);
  prepareRunDir(outDir, a.values.force);
  const { width, height } = parseSize(a.values.size);
  const clip = join(outDir, 'source.mkv');
  // Conway's life: every frame differs from every other (testsrc2 barely moves at 32x32), seeded.
  const source = `life=s=${width}x${height}:r=12:ratio=0.5:mold=10:seed=${num('seed', a.values.seed, { int: true, min: 0 })}:death_color=#000000:life_color=#ffffff`;
  await makeLavfiClip(clip, { source, width, height, frames: num('frames', a.values.frames, { int: true, min: 2 }), fps: 12 });
  if (!a.values.quiet) console.log(`made ${clip}: ${a.values.frames} frames of ffmpeg's life source at ${width}x${height}`);
  return memorize(a, clip, 'demo', { id, outDir, prepared: true });
}

async function memorize(args: Parsed, input: string, label: string, pre?: { id: string; outDir: string; prepared: boolean }): Promise<number> {
  const v = args.values;
  if (!existsSync(input)) throw new EngramError('E_INPUT_MISSING', `input video ${input} does not exist; check the path`);
  if (v.gray && v.rgb) throw new EngramError('E_BAD_ARGUMENT', '--gray and --rgb exclude each other; pick one');
  if (v.objective !== 'cycle' && v.objective !== 'autoencode') {
    throw new EngramError('E_BAD_ARGUMENT', `--objective must be cycle or autoencode for video (got '${v.objective}')`);
  }
  if (!isOptimizerName(v.optimizer)) {
    throw new EngramError('E_BAD_ARGUMENT', `--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')} (got '${v.optimizer}')`);
  }
  if (!(ACTIVATION_NAMES as readonly string[]).includes(v.activation) && !/^pow:\d+$/.test(v.activation)) {
    throw new EngramError('E_BAD_ARGUMENT', `--activation must be one of ${ACTIVATION_NAMES.join(', ')} (got '${v.activation}')`);
  }
  const from = v.from === 'noise' ? 'gaussian' : v.from;
  if (from !== 'gaussian' && from !== 'uniform') {
    throw new EngramError('E_BAD_ARGUMENT', `--from for memorize/demo must be noise, gaussian or uniform (got '${v.from}')`);
  }
  const id = pre?.id ?? newRunId(label);
  const outDir = pre?.outDir ?? v.out ?? join('runs', id);
  const cfg: MemorizeVideoConfig = {
    runId: id,
    command: ['engram', ...process.argv.slice(2)].join(' '),
    input,
    outDir,
    video: {
      ...parseSize(v.size), gray: !v.rgb,
      frames: v.frames === undefined ? undefined : num('frames', v.frames, { int: true, min: 1 }),
      fps: v.fps === undefined ? undefined : num('fps', v.fps, { min: 0.001 }),
    },
    objective: v.objective,
    model: {
      width: num('width', v.width, { int: true, min: 1 }), depth: num('depth', v.depth, { int: true, min: 1 }),
      activation: v.activation, bias: !v['no-bias'], init: v.init, seed: num('seed', v.seed, { int: true, min: 0 }),
    },
    optimizer: {
      name: v.optimizer, lr: num('lr', v.lr, { min: 0 }),
      weightDecay: v['weight-decay'] === undefined ? undefined : num('weight-decay', v['weight-decay'], { min: 0 }),
    },
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', v['max-steps'], { int: true, min: 1 }),
    batchSize: v['batch-size'] === undefined ? undefined : num('batch-size', v['batch-size'], { int: true, min: 1 }),
    recall: {
      from, sigma: num('sigma', v.sigma, { min: 0 }), maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
      seed: num('seed', v.seed, { int: true, min: 0 }),
    },
    force: v.force,
  };
  if (!pre?.prepared) prepareRunDir(outDir, v.force);
  const backend = await startBackend(args);
  const printer = createProgressPrinter({ quiet: v.quiet, maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget });
  const view = await new Promise<ViewState>((resolve, reject) => {
    let state = initialViewState;
    const sub = memorizeVideo(cfg, backend).subscribe({
      next: (e) => {
        printer(e);
        state = reduceEvent(state, e);
      },
      error: reject,
      complete: () => resolve(state),
    });
    process.once('SIGINT', () => {
      sub.unsubscribe();
      reject(new Interrupted(outDir));
    });
  });
  console.log(formatSummary(view, outDir));
  return 0;
}

async function recallCmd(args: Parsed, runDir: string): Promise<number> {
  const v = args.values;
  await startBackend(args);
  const r = await recallRun({
    runDir, from: v.from, sigma: num('sigma', v.sigma, { min: 0 }),
    maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
    seed: num('seed', v.seed, { int: true, min: 0 }), out: v.out, force: v.force,
  });
  const e = r.event;
  console.log(
    `recalled from ${e.from}: ${e.rule} after ${e.iterations} iterations, period ${e.period}; ` +
      `${e.framesMatched}/${e.framesTotal} frames matched, order ${e.orderCorrect ? 'correct' : 'NOT correct'}, ` +
      `mean PSNR ${e.meanPsnr.toFixed(1)} dB → ${r.out}`,
  );
  return 0;
}

export class Interrupted extends Error {
  constructor(readonly outDir: string) {
    super(`interrupted; the run in ${outDir} is marked cancelled (its checkpoint, if saved, is kept)`);
  }
}

/** Run the CLI and exit with its code. Catches everything: the wasm runtime would otherwise dump its source. */
export async function run(argv: string[]): Promise<never> {
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    if (e instanceof Interrupted) {
      console.error(`engram: ${e.message}`);
      code = 130;
    } else if (isEngramError(e)) {
      console.error(`engram: ${e.message}`);
      code = e.code === 'E_BAD_ARGUMENT' ? 2 : 1;
    } else {
      console.error(`engram: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      code = 1;
    }
  }
  process.exit(code);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void run(process.argv.slice(2));
