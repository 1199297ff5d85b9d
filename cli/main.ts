/**
 * engram's command line: parse and validate everything → select the backend once → run a pipeline
 * → print progress and a summary. Nothing is created before the options are known to be good, and
 * every failure ends here as a message naming the input and the fix, with a non-zero exit.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngramError } from '../errors.ts';
import type { ArtifactEvent, AttractorEvent, EngramEvent, LiveConfig, RecallEvent } from '../events.ts';
import { checkBackendOption, startBackend as selectBackendOnce, type BackendInfo } from '../pipelines/backend-start.ts';
import { checkFcOptions } from '../pipelines/config-checks.ts';
import { demoClipPath, renderDemoClip } from '../pipelines/demo.ts';
import { checkImageGlob, detectKind, isImageGlob, isStreamSpec, requireFfmpeg, type InputSpec, type MediaKind } from '../pipelines/inputs.ts';
import { checkMemorizeMemory, checkSequencesOption, memorize, type MemorizeConfig, type MemorizeOptions } from '../pipelines/memorize.ts';
import { liveMemoryFrames, liveWidth, memorizeLive, NETWORK_SCHEMES, type LiveMemorizeConfig } from '../pipelines/live.ts';
import { endlessInputError, lavfiHasEnd } from '../pipelines/resources.ts';
import { checkRecall, recallJob, type RecallRunConfig } from '../pipelines/recall-run.ts';
import { checkRunDir, newRunId, readRunJson } from '../pipelines/run-dir.ts';
import { nothingToResume, resumePoint, runHasCheckpoint } from '../pipelines/saved-run.ts';
import { commandHelp, eigMethodOf, globalHelp, isCommand, monitorOf, nearestName, num, parse, parseSize, type Parsed } from './args.ts';
import { assocCommand } from './assoc.ts';
import { basinsCommand } from './basins.ts';
import { doctorCommand } from './doctor.ts';
import { EXIT, execute, exitCodeOf, presenterOf, releaseEarlySignals, reportError } from './execute.ts';
import { identityCommand } from './identity.ts';
import { inspectCommand } from './inspect.ts';
import { COMMAND_NAMES, COMMON, optionsOf } from './options.ts';
import { plotCommand } from './plot.ts';
import { describeRecall, formatSummary } from './progress.ts';
import { recoveryFromArgs } from './recovery-options.ts';
import { reproduceCommand } from './reproduce.ts';
import { watchCommand } from './watch.ts';
import { rho } from '../tui/units.ts';

const root = join(fileURLToPath(import.meta.url), '../..');

export async function main(argv: string[]): Promise<number> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (!first || !isCommand(first)) {
    if (argv.includes('--version') || argv.includes('-v')) {
      console.log(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
      return 0;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(globalHelp());
      return 0;
    }
    if (argv.length === 0) console.log(globalHelp()); // then the usage error below, with its code
    const near = first ? nearestName(first, COMMAND_NAMES) : null;
    throw new EngramError('E_BAD_ARGUMENT', first
      ? `unknown command '${first}'${near ? ` (did you mean ${near}?)` : ''}; the commands are ${COMMAND_NAMES.join(', ')} (see engram --help)`
      : `no command given; the commands are ${COMMAND_NAMES.join(', ')} (see engram --help)`);
  }
  const args = parse(first, argv);
  if (args.flags.help) {
    console.log(commandHelp(args.command));
    return 0;
  }
  checkBackendOption(args.values.backend);
  const rest = args.positionals;
  switch (args.command) {
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
      return assocCommand(args, argv, startBackend);
    case 'identity':
      return identityCommand(args, argv, startBackend);
    case 'plot':
      return plotCommand(args);
    case 'basins':
      if (rest.length) throw new EngramError('E_BAD_ARGUMENT', 'basins takes no input; give the points with --points "x,y;x,y;…"');
      return basinsCommand(args, argv, startBackend);
    case 'watch':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'watch takes one run directory: engram watch <run-dir>');
      return watchCommand(rest[0], { presenter: presenterOf(args) });
    case 'doctor':
      return doctorCommand(args);
    case 'reproduce':
      return reproduceCommand(args, argv, startBackend);
    case 'inspect':
      if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'inspect takes one run directory: engram inspect <run-dir> [options]');
      return inspectCommand(args, rest[0], startBackend);
  }
}

export type StartBackend = (args: Parsed) => Promise<BackendInfo>;

/**
 * Select the backend once. Its description is for people (not json, not quiet) and goes to stderr,
 * beside the warnings: stdout holds the command's results only.
 */
async function startBackend(args: Parsed): Promise<BackendInfo> {
  const { backend, warning, description } = await selectBackendOnce(args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined));
  if (warning) console.error(warning);
  const p = presenterOf(args);
  if (p === 'lines' || p === 'dashboard') console.error(description);
  return backend;
}

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/**
 * `-` (stdin), URLs and `lavfi:` specs are not files; a glob is checked by its directory. Standard
 * input on a terminal is refused: nothing is piped in, so reading it would wait for typed bytes.
 */
export function assertInputExists(path: string, stdin: { isTTY?: boolean } = process.stdin): void {
  if (path === '-') {
    if (stdin.isTTY) {
      throw bad('standard input is a terminal; pipe media into it, e.g. ffmpeg -i clip.mov -f nut - | engram memorize - or cat clip.mp4 | engram memorize - (or pass the file itself: engram memorize clip.mp4)');
    }
    return;
  }
  if (isStreamSpec(path)) return;
  const glob = isImageGlob(path);
  const local = glob ? dirname(path) : path;
  if (!existsSync(local)) {
    throw new EngramError('E_INPUT_MISSING', glob ? `input ${path}: its directory ${local} does not exist; check the path` : `input ${path} does not exist; check the path`);
  }
  if (glob) checkImageGlob(path);
  if (statSync(local).isFile() && statSync(local).size === 0) {
    throw new EngramError('E_INPUT_EMPTY', `input ${path} is empty (0 bytes); pass a complete media file`);
  }
}

function inputSpec(args: Parsed, path: string, o: { live?: boolean } = {}): InputSpec {
  const v = args.values, f = args.flags;
  assertInputExists(path);
  const kind = (v.kind ?? detectKind(path)) as MediaKind;
  if (kind !== 'video' && kind !== 'audio' && kind !== 'images') throw bad(`--kind must be video, audio or images (got '${v.kind}')`);
  if (path === '-' && kind !== 'video' && !(o.live && kind === 'audio')) {
    throw bad(`standard input (-) is read as video only; ${kind === 'audio' ? 'audio is read from a file: save it and pass its path (e.g. engram memorize clip.wav)'
      : 'images are read from a directory or glob (e.g. engram memorize shots/ or \'shots/*.png\')'}`);
  }
  if (f.gray && f.rgb) throw bad('--gray and --rgb exclude each other; pick one');
  const opt = (name: string, o: { int?: boolean; min?: number }) =>
    v[name] === undefined ? undefined : num(name, v[name], o);
  if (kind === 'audio') {
    if (v.partial !== 'drop' && v.partial !== 'pad') throw bad(`--partial must be drop or pad (got '${v.partial}')`);
    return {
      kind, path, rate: num('rate', v.rate, { int: true, min: 1000 }), chunkSeconds: num('chunk-seconds', v['chunk-seconds'], { min: 0.001 }),
      partial: v.partial, maxChunks: opt('frames', { int: true, min: 1 }),
    };
  }
  if (f.watch && kind !== 'images') throw bad('--watch is for a directory of images (--kind images)');
  const size = parseSize(v.size!);
  if (kind === 'images') return { kind, path, ...size, gray: !f.rgb, watch: f.watch };
  const video = {
    kind, path, ...size, gray: !f.rgb, frames: opt('frames', { int: true, min: 1 }), fps: opt('fps', { min: 0.001 }),
    start: opt('start', { min: 0 }), duration: opt('duration', { min: 0.001 }),
  };
  if (path.startsWith('lavfi:') && !path.slice(6).trim()) throw bad(`'${path}' names no filter graph; give one after lavfi:, e.g. lavfi:testsrc2=s=64x64:d=2`);
  // an endless source would be read forever, its frames piling up in memory
  if (path.startsWith('lavfi:') && !o.live && video.frames === undefined && video.duration === undefined && !lavfiHasEnd(path.slice(6))) throw endlessInputError(path);
  return video;
}

/** The backend asked for (--backend, else ENGRAM_BACKEND), if any, before it is started. */
function requestedBackend(args: Parsed): string | undefined {
  return args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined);
}

/**
 * --preset paper: the networks and optimizer the research used, by kind of input (docs/math.md §3.6).
 * The research gives no separate table for audio; speech used the footage setting.
 */
export const PAPER_PRESET: Record<MediaKind, Record<'width' | 'depth' | 'activation' | 'optimizer' | 'lr' | 'fit', string>> = {
  video: { width: '1024', depth: '16', activation: 'selu', optimizer: 'adam', lr: '1e-4', fit: 'gradient' },
  audio: { width: '1024', depth: '16', activation: 'selu', optimizer: 'adam', lr: '1e-4', fit: 'gradient' },
  images: { width: '512', depth: '31', activation: 'selu', optimizer: 'adam', lr: '1e-4', fit: 'gradient' },
};

/** The values with a preset's entries filled in where the option was not given. */
function withPreset(args: Parsed, kind: MediaKind): Parsed['values'] {
  const p = args.values.preset;
  if (p === undefined) return args.values;
  if (p !== 'paper') throw bad(`--preset must be paper (got '${p}')`);
  const filled = Object.entries(PAPER_PRESET[kind]).filter(([k]) => !args.given(k));
  return { ...args.values, ...Object.fromEntries(filled) };
}

/** Every option checked, nothing created yet. */
function buildConfig(args: Parsed, input: InputSpec, id: string, outDir: string, o: { liveFrames?: number } = {}): MemorizeConfig {
  const v = withPreset(args, input.kind), f = args.flags;
  if (v.objective !== 'cycle' && v.objective !== 'autoencode') throw bad(`--objective must be cycle or autoencode (got '${v.objective}')`);
  const from = v.from === 'noise' ? 'gaussian' : v.from;
  if (from !== 'gaussian' && from !== 'uniform') throw bad(`--from for memorize/demo must be noise, gaussian or uniform (got '${v.from}')`);
  const gradientOptions = ['optimizer', 'lr', 'batch-size', 'weight-decay'].filter((k) => args.given(k));
  if (v.fit !== 'auto' && v.fit !== 'solve' && v.fit !== 'gradient') throw bad(`--fit must be auto, solve or gradient (got '${v.fit}')`);
  if (v.fit === 'solve' && gradientOptions.length) throw bad(`${gradientOptions.map((k) => `--${k}`).join(', ')} apply to --fit gradient; --fit solve fits without an optimizer`);
  const fit = v.fit === 'auto' && gradientOptions.length ? 'gradient' : v.fit as 'auto' | 'solve' | 'gradient';
  const model = {
    width: v.width !== 'auto' ? num('width', v.width, { int: true, min: 1 }) : fit === 'gradient' ? 512
      : o.liveFrames !== undefined ? liveWidth(o.liveFrames) : 1024, depth: num('depth', v.depth, { int: true, min: 1 }),
    activation: v.activation!, bias: !f['no-bias'], init: v.init!, seed: num('seed', v.seed, { int: true, min: 0 }),
  };
  const optimizer = {
    name: v.optimizer as MemorizeConfig['optimizer']['name'], lr: num('lr', v.lr, { min: 0 }),
    weightDecay: v['weight-decay'] === undefined ? undefined : num('weight-decay', v['weight-decay'], { min: 0 }),
  };
  checkFcOptions(1, model, optimizer);
  const sequences = v.sequences === undefined ? 1 : num('sequences', v.sequences, { int: true, min: 1 });
  checkSequencesOption({ objective: v.objective, sequences });
  const frames = input.kind === 'video' ? input.frames : input.kind === 'audio' ? input.maxChunks : undefined;
  if (sequences > 1 && frames !== undefined && frames < 2 * sequences) {
    throw bad(`--sequences ${sequences} with --frames ${frames} gives sequences shorter than 2, and a cycle needs 2; use --sequences ${Math.max(1, Math.floor(frames / 2))} or fewer, or --frames ${2 * sequences} or more`);
  }
  return {
    runId: id, command: ['engram', ...process.argv.slice(2)].join(' '), input, outDir, objective: v.objective, ...(sequences > 1 ? { sequences } : {}), model, optimizer, fit,
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', v['max-steps'], { int: true, min: 1 }),
    batchSize: v['batch-size'] === undefined ? undefined : num('batch-size', v['batch-size'], { int: true, min: 1 }),
    checkpointEvery: num('checkpoint-every', v['checkpoint-every'], { int: true, min: 1 }),
    ...(f.strict ? { strict: true } : {}),
    stopOnNonfinite: f['stop-on-nonfinite'], stabilityEvery: num('stability-every', v['stability-every'], { int: true, min: 0 }),
    recall: {
      from, sigma: num('sigma', v.sigma, { min: 0 }), maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
      seed: num('seed', v.seed, { int: true, min: 0 }),
    },
    recovery: recoveryFromArgs(args, num('seed', v.seed, { int: true, min: 0 }), num('sigma', v.sigma, { min: 0 })),
    force: f.force,
    eigMethod: eigMethodOf(v), monitor: monitorOf(v),
    ...(v.certify !== undefined ? { certifyMax: num('certify', v.certify, { int: true, min: 1 }) } : {}),
  };
}

async function demo(args: Parsed): Promise<number> {
  const v = args.values;
  const id = newRunId('demo');
  const outDir = v.out ?? join('runs', id);
  const clip = demoClipPath(outDir);
  const { width, height } = parseSize(v.size!);
  const frames = num('frames', v.frames, { int: true, min: 2 });
  const cfg = buildConfig(args, { kind: 'video', path: clip, width, height, gray: !args.flags.rgb, frames }, id, outDir);
  checkMemorizeMemory(cfg, { backend: requestedBackend(args) });
  requireFfmpeg();
  checkRunDir(outDir, args.flags.force);
  return runMemorize(args, cfg, renderDemoClip(clip, { width, height, frames, seed: cfg.model.seed }));
}

async function memorizeCmd(args: Parsed, path: string): Promise<number> {
  if (args.flags.live) return liveCmd(args, path);
  const liveOnly = LIVE_OPTIONS.filter((k) => args.given(k));
  if (liveOnly.length) throw bad(`${liveOnly.map((k) => `--${k}`).join(', ')} ${liveOnly.length > 1 ? 'apply' : 'applies'} to a live input; add --live (e.g. engram memorize udp://127.0.0.1:5000 --live --window 48)`);
  const id = newRunId('memorize');
  const cfg = buildConfig(args, inputSpec(args, path), id, args.values.out ?? join('runs', id));
  checkMemorizeMemory(cfg, { backend: requestedBackend(args) }); // a run that cannot fit is refused before the backend starts
  requireFfmpeg(); // a missing ffmpeg is reported before anything is created
  checkRunDir(cfg.outDir, args.flags.force);
  return runMemorize(args, cfg);
}

/** The longest wait a Node timer keeps (2^31 − 1 ms, about 24.8 days), in seconds. */
const MAX_TIMER_S = Math.floor((2 ** 31 - 1) / 1000);

/** Options that only a live run takes. */
const LIVE_OPTIONS = ['window', 'segments', 'capacity', 'grow', 'grow-max', 'min-steps', 'probe-every', 'record-every', 'reconnects'];

/**
 * `memorize <stream> --live`: checked like any memorize (the same options), then the live part. A
 * file is refused (it has an end: memorize it whole); the net is sized for the most frames the
 * memory holds (--width auto when solving: a power of two ≥ 4× those frames, at least 256); there is
 * no step cap unless --max-steps is given.
 */
async function liveCmd(args: Parsed, path: string): Promise<number> {
  const v = args.values, f = args.flags;
  if (args.given('resume')) throw bad('--resume continues a run read to its end; a live run is not resumed (start it again: its newest checkpoint holds the net and the stream\'s position)');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1].toLowerCase();
  if (scheme && !NETWORK_SCHEMES.includes(scheme)) throw bad(`--live reads network streams (${NETWORK_SCHEMES.map((x) => `${x}://`).join(', ')}); ${scheme}:// is not one (a file: drop --live)`);
  const stream = path === '-' || scheme !== undefined || path.startsWith('lavfi:');
  const dir = !stream && existsSync(path) && statSync(path).isDirectory();
  if (!stream && !dir) {
    throw existsSync(path)
      ? bad(`--live reads a stream (a network URL such as udp://127.0.0.1:5000, - for standard input, lavfi:GRAPH, or a directory that images are added to); ${path} is a file, which has an end — drop --live to memorize it whole`)
      : new EngramError('E_INPUT_MISSING', `input ${path} does not exist; --live reads a network URL, -, lavfi:GRAPH or an existing directory`);
  }
  if (dir && v.kind !== undefined && v.kind !== 'images') throw bad(`--live on a directory reads the images added to it (got --kind ${v.kind})`);
  if (stream && v.kind === 'images') throw bad('--kind images with --live reads a directory that images are added to; give the directory');
  if (f.watch) throw bad('--watch is for memorizing a directory whole and then more; with --live, new images are read as they come anyway (drop --watch)');
  if (args.given('sequences')) throw bad('--sequences splits an input read to its end; a live run stores several cycles with --segments N (every N frames one more cycle)');
  const modes = (['window', 'segments', 'grow'] as const).filter((k) => args.given(k));
  if (modes.length > 1) throw bad(`--window, --segments and --grow exclude each other (got ${modes.map((k) => `--${k}`).join(' and ')}); pick one`);
  const mode = modes[0] ?? 'window';
  if (args.given('capacity') && mode !== 'segments') throw bad('--capacity applies to --segments');
  if (args.given('grow-max') && mode !== 'grow') throw bad('--grow-max applies to --grow');
  const size = mode === 'grow' ? num('grow-max', v['grow-max'], { int: true, min: 2 }) : num(mode, v[mode] ?? '48', { int: true, min: 2 });
  const live: LiveConfig = {
    mode, size, ...(mode === 'segments' ? { capacity: num('capacity', v.capacity, { int: true, min: 1 }) } : {}),
    minSteps: 1, probeSeconds: num('probe-every', v['probe-every'], { min: 0, max: MAX_TIMER_S }),
    ...(v['record-every'] !== undefined ? { recordSeconds: num('record-every', v['record-every'], { min: 0.1, max: MAX_TIMER_S }) } : {}),
    ...(v.reconnects !== undefined ? { reconnects: num('reconnects', v.reconnects, { int: true, min: 1 }) } : {}),
    ...(v.frames !== undefined ? { frames: num('frames', v.frames, { int: true, min: 2 }) } : {}),
    ...(v.duration !== undefined ? { seconds: num('duration', v.duration, { min: 0.001, max: MAX_TIMER_S }) } : {}),
  };
  if (args.given('start')) throw bad('--start skips into a file; a live stream starts where it is');
  const frames = liveMemoryFrames(live);
  const id = newRunId('memorize');
  const input = inputSpec(args, path, { live: true });
  const base = buildConfig(args, input, id, v.out ?? join('runs', id), { liveFrames: frames });
  const fit = base.fit === 'auto' ? (base.model.width + (base.model.bias ? 1 : 0) >= frames ? 'solve' : 'gradient') : base.fit;
  if (fit === 'solve' && base.model.width + (base.model.bias ? 1 : 0) < frames) throw bad(`--fit solve needs --width ≥ ${frames - 1} for a live memory of ${frames} frames (was ${base.model.width})`);
  live.minSteps = v['min-steps'] !== undefined ? num('min-steps', v['min-steps'], { int: true, min: 1 }) : fit === 'solve' ? 1 : 50;
  const cfg: LiveMemorizeConfig = { ...base, fit, maxSteps: args.given('max-steps') ? base.maxSteps : Infinity, live };
  checkMemorizeMemory(cfg, { n: frames, backend: requestedBackend(args) });
  requireFfmpeg();
  checkRunDir(cfg.outDir, f.force);
  const backend = await startBackend(args);
  return execute({
    presenter: presenterOf(args),
    start: (control) => memorizeLive(cfg, backend, { control }),
    progress: { maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget },
    summary: (view) => formatSummary(view, cfg.outDir),
    commands: ['pause', 'resume', 'checkpoint', 'recall', 'record'],
    finishOnStop: true,
    // the summary reads the view; the per-second and per-probe events would pile up for as long as the stream runs
    keep: (e) => e.kind !== 'live' && e.kind !== 'live-probe' && e.kind !== 'preview' && e.kind !== 'recall' && e.kind !== 'log',
    stopped: (view) => runHasCheckpoint(cfg.outDir)
      ? `stopped at step ${view.step}; the run in ${cfg.outDir} is marked cancelled and its newest checkpoint is kept`
      : `stopped at step ${view.step}; no checkpoint was written (the run in ${cfg.outDir} is marked cancelled)`,
  });
}

/**
 * `memorize --resume DIR`: the run's own config, from its newest checkpoint; --max-steps, --loss-target and --lr may be changed.
 * A run whose training finished, resumed with settings that ask for no more, is left untouched (exit 0).
 */
async function resumeCmd(args: Parsed, runDir: string): Promise<number> {
  const own = ['resume', 'max-steps', 'loss-target', 'lr', 'stop-on-nonfinite', ...Object.keys(COMMON)];
  const other = Object.keys(optionsOf('memorize')).filter((k) => args.given(k) && !own.includes(k));
  const saved0 = readRunJson(runDir).config as Partial<LiveMemorizeConfig> | undefined;
  if (saved0?.live) throw bad(`${runDir} is a live run (${saved0.input?.path ?? 'a stream'}): a live run is not resumed; start it again with engram memorize <stream> --live (its newest checkpoint holds the net and the stream's position)`);
  // the same command line with --resume added must work; a setting that differs from the run's is refused
  const differ = other.flatMap((k) => {
    const was = saved0 ? SAVED_SETTING[k]?.(saved0) : undefined;
    const now = args.values[k] ?? String(args.flags[k]);
    if (k === 'width' && now === 'auto') return []; // resolved when the run started
    return was !== undefined && !sameSetting(now, was) ? [`--${k} ${now} (the run has ${was})`] : [];
  });
  if (differ.length) {
    throw bad(`--resume continues ${runDir} with its own settings, and ${differ.join(', ')} would change them; drop ${differ.length > 1 ? 'them' : 'it'}, or start a new run with another --out (only --max-steps, --loss-target, --lr and --stop-on-nonfinite can change)`);
  }
  const unchecked = other.filter((k) => !(saved0 && SAVED_SETTING[k]?.(saved0) !== undefined));
  if (unchecked.length) {
    console.error(`engram: note: --resume continues ${runDir} with its own settings; ${unchecked.map((k) => `--${k}`).join(', ')} ignored (only --max-steps, --loss-target, --lr and --stop-on-nonfinite can change)`);
  }
  const point = resumePoint(runDir);
  const { run, newest } = point;
  for (const w of point.warnings) console.error(`engram: warning: ${w}`);
  const saved = run.config as Omit<MemorizeConfig, 'command' | 'runId' | 'outDir'>;
  const cfg: MemorizeConfig = {
    ...saved, runId: run.id, outDir: runDir, command: ['engram', ...process.argv.slice(2)].join(' '),
    maxSteps: args.given('max-steps') ? num('max-steps', args.values['max-steps'], { int: true, min: 1 }) : saved.maxSteps,
    lossTarget: args.given('loss-target') ? num('loss-target', args.values['loss-target'], { min: 0 }) : saved.lossTarget,
    optimizer: args.given('lr') ? { ...saved.optimizer, lr: positiveLr(args.values.lr) } : saved.optimizer,
    stopOnNonfinite: args.flags['stop-on-nonfinite'] || saved.stopOnNonfinite,
    force: true,
  };
  // a finished run asked for nothing more: leave it exactly as it is (no backend, no job, no write)
  const nothing = nothingToResume(runDir, point, cfg);
  if (nothing) {
    if (presenterOf(args) === 'json') console.error(`engram: ${nothing}`);
    else console.log(nothing);
    return EXIT.done;
  }
  if (presenterOf(args) === 'lines') console.log(`resuming ${runDir} from ${newest.path} (step ${newest.contents.step})`);
  return runMemorize(args, cfg, { resume: newest });
}

/** A run's setting as the option would spell it, for the options `memorize --resume` checks against the run. */
const SAVED_SETTING: Record<string, (c: Partial<MemorizeConfig>) => string | undefined> = {
  width: (c) => str(c.model?.width), depth: (c) => str(c.model?.depth), activation: (c) => c.model?.activation, init: (c) => c.model?.init,
  seed: (c) => str(c.model?.seed), 'no-bias': (c) => (c.model ? String(!c.model.bias) : undefined), objective: (c) => c.objective,
  sequences: (c) => (c.objective === undefined ? undefined : String(c.sequences ?? 1)), certify: (c) => str(c.certifyMax),
  optimizer: (c) => c.optimizer?.name, 'weight-decay': (c) => str(c.optimizer?.weightDecay), fit: (c) => c.fit, 'batch-size': (c) => str(c.batchSize),
  kind: (c) => c.input?.kind, frames: (c) => str((c.input as { frames?: number } | undefined)?.frames),
  size: (c) => (c.input && 'width' in c.input ? `${c.input.width}x${c.input.height}` : undefined),
  rate: (c) => str((c.input as { rate?: number } | undefined)?.rate), out: () => undefined,
};
const str = (x: number | undefined) => (x === undefined ? undefined : String(x));
const sameSetting = (a: string, b: string) => a === b || (a.trim() !== '' && Number(a) === Number(b));

function positiveLr(v: string | undefined): number {
  const lr = num('lr', v, { min: 0 });
  if (!(lr > 0)) throw bad(`--lr must be > 0 (got '${v}')`);
  return lr;
}

/** Watch mode: a memory is complete and no new images are being learned (the last dataset was memorized). */
const idleWatching = (events: EngramEvent[]) => {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.kind === 'dataset') return false;
    if (e.kind === 'log' && e.message.startsWith('memorized ')) return true;
  }
  return false;
};

async function runMemorize(args: Parsed, cfg: MemorizeConfig, o: Omit<MemorizeOptions, 'control'> = {}): Promise<number> {
  const backend = await startBackend(args);
  if (!o.resume) checkMemorizeMemory(cfg, { backend: backend.name }); // the wasm heap's 4 GiB, now that the backend is known
  const watching = cfg.input.kind === 'images' && cfg.input.watch === true;
  return execute({
    presenter: presenterOf(args),
    start: (control) => memorize(cfg, backend, { ...o, control }),
    progress: { maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget },
    summary: (view) => formatSummary(view, cfg.outDir),
    // said after the stop's own save: a run stopped while its input was still decoding has no checkpoint to resume
    stopped: (view) => runHasCheckpoint(cfg.outDir)
      ? `stopped at step ${view.step}; the run in ${cfg.outDir} is marked cancelled and its newest checkpoint is kept (continue with engram memorize --resume ${cfg.outDir})`
      : `stopped at step ${view.step}; ${view.step === 0 ? 'nothing was trained yet; ' : ''}no checkpoint was written, so there is nothing to resume (the run in ${cfg.outDir} is marked cancelled; start it again with engram memorize)`,
    stopCompletes: (_view, events) => watching && idleWatching(events),
  });
}

async function recallCmd(args: Parsed, runDir: string): Promise<number> {
  const v = args.values;
  const cfg: RecallRunConfig = {
    runDir, from: v.from!, sigma: num('sigma', v.sigma, { min: 0 }),
    maxIterations: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
    seed: num('seed', v.seed, { int: true, min: 0 }), tries: num('tries', v.tries, { int: true, min: 1 }), out: v.out, force: args.flags.force,
    eigMethod: v['eig-method'] === undefined ? undefined : eigMethodOf(v),
    command: ['engram', ...process.argv.slice(2)].join(' '),
  };
  checkRecall(cfg); // a non-run directory, or an --out that cannot be recorded to, is refused before the backend starts
  await startBackend(args);
  return execute({
    presenter: presenterOf(args, { dashboard: false }),
    start: () => recallJob(cfg),
    line: (e) => (e.kind === 'log' ? e.message : e.kind === 'recall' || e.kind === 'attractors' || e.kind === 'artifact' ? null : undefined),
    summary: (_view, events) => {
      const r = events.find((e): e is RecallEvent => e.kind === 'recall');
      const out = events.find((e): e is ArtifactEvent => e.kind === 'artifact');
      const c = events.find((e): e is AttractorEvent => e.kind === 'attractors');
      if (!r) return null;
      const item = c?.items[0];
      return `${describeRecall(r)} → ${out?.path ?? '(not recorded)'}` +
        (item ? `\nrecalled limit: ρ = ${rho(item.rho)} (${item.attractor ? 'attractor' : 'NOT an attractor'}; ${c!.method}, ${c!.ms.toFixed(0)} ms)` : '');
    },
    exitCode: (events) => (events.find((e): e is RecallEvent => e.kind === 'recall')?.outcome?.recalled === false ? EXIT.notRecalled : EXIT.done),
    stopped: () => `recall of ${runDir} stopped; nothing was recorded`,
  });
}


/** Run the CLI and exit with its code. Catches everything: the wasm runtime would otherwise dump its source. */
export async function run(argv: string[]): Promise<never> {
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    releaseEarlySignals(); // a signal from here on must not turn this exit code into 130
    reportError(e, argv.includes('--json'));
    code = exitCodeOf(e);
  }
  // stdout on a pipe may be asynchronous: let what was written (a --json event stream) drain first
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void run(process.argv.slice(2));
