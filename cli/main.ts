/**
 * engram's command line: parse and validate everything → select the backend once → run a pipeline
 * → print progress and a summary. Nothing is created before the options are known to be good, and
 * every failure ends here as a message naming the input and the fix, with a non-zero exit.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackend, fallbackWarning, isBackendName, BACKEND_ORDER, selectBackend } from '../engine/backend.ts';
import { parseInit } from '../engine/initializers.ts';
import { validateSpec } from '../engine/model.ts';
import { withDefaults } from '../engine/optimizers.ts';
import { EngramError, isEngramError } from '../errors.ts';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { detectKind, type InputSpec, type MediaKind } from '../pipelines/inputs.ts';
import { memorize, type MemorizeConfig, type ResumeFrom } from '../pipelines/memorize.ts';
import { recallRun } from '../pipelines/recall-run.ts';
import { checkpointStore } from '../sinks/checkpoints.ts';
import { rewindMetricsCsv } from '../sinks/csv.ts';
import { rewindEventLog } from '../sinks/events-jsonl.ts';
import { newRunId, prepareRunDir, readRunJson } from '../sinks/run-dir.ts';
import { makeLavfiClip } from '../sources/video.ts';
import { initialViewState, reduceEvent, type ViewState } from '../tui/view-state.ts';
import { eigMethodOf, HELP, monitorOf, num, parse, parseSize, type Parsed } from './args.ts';
import { assocCommand } from './assoc.ts';
import { basinsCommand } from './basins.ts';
import { recoveryFromArgs } from './recovery-options.ts';
import { inspectCommand } from './inspect.ts';
import { createProgressPrinter, describeRecall, formatSummary } from './progress.ts';
import { identityCommand } from './identity.ts';
import { plotCommand } from './plot.ts';
import { Interrupted } from './interrupted.ts';
import { dashboardWanted, memorizeWithDashboard } from './live.ts';
import { watchCommand, watchWanted } from './watch.ts';

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
  if (args.values.backend !== undefined && !isBackendName(args.values.backend)) {
    throw new EngramError('E_BAD_ARGUMENT', `--backend must be one of ${BACKEND_ORDER.join(', ')} (got '${args.values.backend}')`);
  }
  switch (command) {
    case 'demo':
      if (rest.length) throw new EngramError('E_BAD_ARGUMENT', 'demo takes no input; use engram memorize <input> for your own media');
      return demo(args);
    case 'memorize':
      if (args.values.resume !== undefined) {
        if (rest.length) throw new EngramError('E_BAD_ARGUMENT', '--resume continues a run with its own input; drop the input argument');
        return resumeCmd(args, args.values.resume);
      }
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'memorize takes one input: engram memorize <video|audio|image-dir> [options]');
      return memorizeCmd(args, rest[0]);
    case 'recall':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'recall takes one run directory: engram recall <run-dir> [options]');
      return recallCmd(args, rest[0]);
    case 'assoc':
      return assocCommand(args, argv);
    case 'identity':
      return identityCommand(args, argv, rest);
    case 'plot':
      return plotCommand(args, rest);
    case 'basins':
      if (rest.length) throw new EngramError('E_BAD_ARGUMENT', 'basins takes no input; give the points with --points "x,y;x,y;…"');
      return basinsCommand(args, argv);
    case 'watch':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'watch takes one run directory: engram watch <run-dir>');
      return watchCommand(rest[0], { tui: watchWanted(args.values), quiet: args.values.quiet });
    case 'inspect':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'inspect takes one run directory: engram inspect <run-dir> [options]');
      return inspectCommand(args, rest[0], startBackend);
    default:
      throw new EngramError('E_BAD_ARGUMENT', `unknown command '${command}'; use demo, memorize, recall, watch, inspect, assoc, identity, basins or plot (see engram --help)`);
  }
}

async function startBackend(args: Parsed) {
  const backend = await selectBackend(args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined));
  const warn = fallbackWarning(backend);
  if (warn) console.error(warn);
  if (!args.values.quiet) console.log(describeBackend(backend));
  return backend;
}

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/** `-` (stdin), URLs and `lavfi:` specs are not files; a glob is checked by its directory. */
function assertInputExists(path: string): void {
  if (path === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path.startsWith('lavfi:')) return;
  const local = /[*?]/.test(path) ? dirname(path) : path;
  if (!existsSync(local)) throw new EngramError('E_INPUT_MISSING', `input ${path} does not exist; check the path`);
  if (statSync(local).isFile() && statSync(local).size === 0) {
    throw new EngramError('E_INPUT_EMPTY', `input ${path} is empty (0 bytes); pass a complete media file`);
  }
}

function inputSpec(v: Parsed['values'], path: string): InputSpec {
  assertInputExists(path);
  const kind = (v.kind ?? detectKind(path)) as MediaKind;
  if (kind !== 'video' && kind !== 'audio' && kind !== 'images') throw bad(`--kind must be video, audio or images (got '${v.kind}')`);
  if (v.gray && v.rgb) throw bad('--gray and --rgb exclude each other; pick one');
  const opt = (name: keyof Parsed['values'], o: { int?: boolean; min?: number }) =>
    v[name] === undefined ? undefined : num(name, v[name] as string, o);
  if (kind === 'audio') {
    if (v.partial !== 'drop' && v.partial !== 'pad') throw bad(`--partial must be drop or pad (got '${v.partial}')`);
    return {
      kind, path, rate: num('rate', v.rate, { int: true, min: 1000 }), chunkSeconds: num('chunk-seconds', v['chunk-seconds'], { min: 0.001 }),
      partial: v.partial, maxChunks: opt('frames', { int: true, min: 1 }),
    };
  }
  if (v.watch && kind !== 'images') throw bad('--watch is for a directory of images (--kind images)');
  const size = parseSize(v.size);
  if (kind === 'images') return { kind, path, ...size, gray: !v.rgb, watch: v.watch };
  return {
    kind, path, ...size, gray: !v.rgb, frames: opt('frames', { int: true, min: 1 }), fps: opt('fps', { min: 0.001 }),
    start: opt('start', { min: 0 }), duration: opt('duration', { min: 0.001 }),
  };
}

/** Every option checked, nothing created yet. */
function buildConfig(args: Parsed, input: InputSpec, id: string, outDir: string): MemorizeConfig {
  const v = args.values;
  if (v.objective !== 'cycle' && v.objective !== 'autoencode') throw bad(`--objective must be cycle or autoencode (got '${v.objective}')`);
  const from = v.from === 'noise' ? 'gaussian' : v.from;
  if (from !== 'gaussian' && from !== 'uniform') throw bad(`--from for memorize/demo must be noise, gaussian or uniform (got '${v.from}')`);
  const model = {
    width: num('width', v.width, { int: true, min: 1 }), depth: num('depth', v.depth, { int: true, min: 1 }),
    activation: v.activation, bias: !v['no-bias'], init: v.init, seed: num('seed', v.seed, { int: true, min: 0 }),
  };
  const optimizer = {
    name: v.optimizer as MemorizeConfig['optimizer']['name'], lr: num('lr', v.lr, { min: 0 }),
    weightDecay: v['weight-decay'] === undefined ? undefined : num('weight-decay', v['weight-decay'], { min: 0 }),
  };
  try {
    validateSpec({ kind: 'fc', dim: 1, ...model });
    if (parseInit(model.init).kind === 'rank1' && model.depth !== 1) throw new Error('--init rank1 needs --depth 1 (a single hidden layer)');
    withDefaults(optimizer);
  } catch (e) {
    throw isEngramError(e) ? e : bad((e as Error).message);
  }
  return {
    runId: id, command: ['engram', ...process.argv.slice(2)].join(' '), input, outDir, objective: v.objective, model, optimizer,
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', v['max-steps'], { int: true, min: 1 }),
    batchSize: v['batch-size'] === undefined ? undefined : num('batch-size', v['batch-size'], { int: true, min: 1 }),
    checkpointEvery: num('checkpoint-every', v['checkpoint-every'], { int: true, min: 1 }),
    stopOnNonfinite: v['stop-on-nonfinite'], stabilityEvery: num('stability-every', v['stability-every'], { int: true, min: 0 }),
    recall: {
      from, sigma: num('sigma', v.sigma, { min: 0 }), maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
      seed: num('seed', v.seed, { int: true, min: 0 }),
    },
    recovery: recoveryFromArgs(v, num('seed', v.seed, { int: true, min: 0 }), num('sigma', v.sigma, { min: 0 })),
    force: v.force,
    eigMethod: eigMethodOf(v), monitor: monitorOf(v),
  };
}

async function demo(args: Parsed): Promise<number> {
  const v = { ...args.values, frames: args.values.frames ?? '48' };
  const a = { ...args, values: v };
  const id = newRunId('demo');
  const outDir = v.out ?? join('runs', id);
  const clip = join(outDir, 'source.mkv');
  const { width, height } = parseSize(v.size);
  const frames = num('frames', v.frames, { int: true, min: 2 });
  const cfg = buildConfig(a, { kind: 'video', path: clip, width, height, gray: !v.rgb, frames }, id, outDir);
  resolveFfmpeg();
  prepareRunDir(outDir, v.force);
  // Conway's life: every frame differs from every other (testsrc2 barely moves at 32x32), seeded.
  const source = `life=s=${width}x${height}:r=12:ratio=0.5:mold=10:seed=${cfg.model.seed}:death_color=#000000:life_color=#ffffff`;
  await makeLavfiClip(clip, { source, width, height, frames, fps: 12 });
  if (!v.quiet) console.log(`made ${clip}: ${frames} frames of ffmpeg's life source at ${width}x${height}`);
  return runMemorize(a, cfg);
}

async function memorizeCmd(args: Parsed, path: string): Promise<number> {
  const id = newRunId('memorize');
  const cfg = buildConfig(args, inputSpec(args.values, path), id, args.values.out ?? join('runs', id));
  resolveFfmpeg(); // a missing ffmpeg is reported before anything is created
  prepareRunDir(cfg.outDir, args.values.force);
  return runMemorize(args, cfg);
}

/** `memorize --resume DIR`: the run's own config, from its newest checkpoint; --max-steps and --loss-target may be raised. */
async function resumeCmd(args: Parsed, runDir: string): Promise<number> {
  const run = readRunJson(runDir);
  const newest = checkpointStore(runDir).newest();
  if (!newest) {
    throw new EngramError('E_INPUT_MISSING', `${runDir} has no loadable checkpoint to resume from; start a new run with engram memorize <input>`);
  }
  const saved = run.config as Omit<MemorizeConfig, 'command' | 'runId' | 'outDir'>;
  const given = (flag: string) => process.argv.some((x) => x === `--${flag}` || x.startsWith(`--${flag}=`));
  const cfg: MemorizeConfig = {
    ...saved, runId: run.id, outDir: runDir, command: ['engram', ...process.argv.slice(2)].join(' '),
    maxSteps: given('max-steps') ? num('max-steps', args.values['max-steps'], { int: true, min: 1 }) : saved.maxSteps,
    lossTarget: given('loss-target') ? num('loss-target', args.values['loss-target'], { min: 0 }) : saved.lossTarget,
    optimizer: given('lr') ? { ...saved.optimizer, lr: positiveLr(args.values.lr) } : saved.optimizer,
    stopOnNonfinite: given('stop-on-nonfinite') || saved.stopOnNonfinite,
    force: true,
  };
  const moved = rewindEventLog(join(runDir, 'events.jsonl'), newest.contents.step);
  rewindMetricsCsv(join(runDir, 'metrics.csv'), newest.contents.step);
  if (!args.values.quiet) {
    console.log(`resuming ${runDir} from ${newest.path} (step ${newest.contents.step})` +
      (moved ? `; ${moved} events after that step moved to events.discarded.jsonl` : ''));
  }
  return runMemorize(args, cfg, newest);
}

function positiveLr(v: string | undefined): number {
  const lr = num('lr', v, { min: 0 });
  if (!(lr > 0)) throw bad(`--lr must be > 0 (got '${v}')`);
  return lr;
}

async function runMemorize(args: Parsed, cfg: MemorizeConfig, resume?: ResumeFrom): Promise<number> {
  const backend = await startBackend(args);
  if (dashboardWanted({ noTui: args.values['no-tui'], quiet: args.values.quiet })) return memorizeWithDashboard(cfg, backend, resume, (s) => new Interrupted(cfg.outDir, s));
  const printer = createProgressPrinter({ quiet: args.values.quiet, maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget });
  const watching = cfg.input.kind === 'images' && cfg.input.watch === true;
  const view = await new Promise<ViewState>((resolve, reject) => {
    let state = initialViewState;
    let waiting = false; // watch mode: a memory is complete and no new images are being learned
    const sub = memorize(cfg, backend, resume).subscribe({
      next: (e) => {
        printer(e);
        state = reduceEvent(state, e);
        if (e.kind === 'dataset') waiting = false;
        if (e.kind === 'log' && e.message.startsWith('memorized ')) waiting = true;
      },
      error: reject,
      complete: () => resolve(state),
    });
    const stop = (signal: NodeJS.Signals) => {
      sub.unsubscribe();
      // watching and idle: stopping is how a watch run ends, with everything memorized so far
      if (watching && waiting) resolve(state);
      else reject(new Interrupted(cfg.outDir, signal));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log(formatSummary(view, cfg.outDir));
  return 0;
}

async function recallCmd(args: Parsed, runDir: string): Promise<number> {
  const v = args.values;
  const opts = {
    runDir, from: v.from, sigma: num('sigma', v.sigma, { min: 0 }),
    maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
    seed: num('seed', v.seed, { int: true, min: 0 }), out: v.out, force: v.force,
    eigMethod: v['eig-method'] === undefined ? undefined : eigMethodOf(v),
  };
  await startBackend(args);
  const r = await recallRun(opts);
  for (const n of r.notes) console.error(n);
  console.log(`${describeRecall(r.event)} → ${r.out}`);
  const c = r.certificate?.items[0];
  if (c) console.log(`recalled limit: ρ = ${c.rho.toFixed(4)} (${c.attractor ? 'attractor' : 'NOT an attractor'}; ${r.certificate!.method}, ${r.certificate!.ms.toFixed(0)} ms)`);
  return 0;
}

export { Interrupted };

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
      code = e.code === 'E_BAD_ARGUMENT' ? 2 : e.code === 'E_NONFINITE' ? 3 : 1;
    } else {
      console.error(`engram: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      code = 1;
    }
  }
  process.exit(code);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void run(process.argv.slice(2));
