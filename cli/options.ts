/**
 * The option table of every command, in one place: parsing (strict, per command, with defaults of
 * that command), `engram <command> --help` and the generated reference docs/cli.md all read these
 * tables, so none of them can drift from the others.
 */
import type { ErrorCode } from '../errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's name in help, e.g. WxH. */
  arg?: string;
  default?: string;
  short?: string;
  help: string;
}
export type OptionTable = Record<string, OptionSpec>;

const s = (arg: string, help: string, dflt?: string): OptionSpec => ({ type: 'string', arg, help, ...(dflt !== undefined ? { default: dflt } : {}) });
const b = (help: string): OptionSpec => ({ type: 'boolean', help });

/** Every command takes these. */
export const COMMON: OptionTable = {
  backend: s('B', 'tensorflow-gpu, tensorflow, wasm-blas, wasm or cpu (default: the fastest that loads; also ENGRAM_BACKEND)'),
  quiet: b('only the final summary'),
  json: b('print the event stream as JSON lines on stdout (one event per line; an error ends it with {"kind":"error",…})'),
  'no-tui': b('plain progress lines instead of the terminal dashboard (also when stdout is not a terminal, or CI=true)'),
  help: { type: 'boolean', short: 'h', help: 'this help' },
};

const OUTPUT: OptionTable = {
  out: s('PATH', 'the run directory (default runs/<id>)'),
  force: b('write into a non-empty --out (files of the same name are replaced)'),
};

const IMAGE: OptionTable = {
  size: s('WxH', 'frame/image size', '32x32'),
  gray: b('grayscale (the default)'),
  rgb: b('RGB'),
};

const INPUT: OptionTable = {
  kind: s('K', 'video, audio or images (default: from the input: a directory or glob is images, .wav/.mp3/.ogg/.flac/… audio, else video)'),
  ...IMAGE,
  frames: s('N', 'use the first N frames (audio: N chunks) (default: all; a lavfi source with no end needs --frames or --duration (else exit 2), and an input of unknown length stops with E_RESOURCE past 100,000 frames or 1/4 of the free memory)'),
  fps: s('F', 'resample video to F frames/s first'),
  start: s('S', 'seconds of video to skip'),
  duration: s('S', 'seconds of video to read'),
  rate: s('HZ', 'audio sample rate', '22050'),
  'chunk-seconds': s('S', 'audio chunk length, one vector each', '1'),
  partial: s('drop|pad', 'the last, shorter audio chunk: dropped or zero-padded', 'drop'),
  watch: b('images: keep watching the directory and memorize new images as they appear'),
  strict: b('refuse a partial input (a video or audio file that decodes to fewer frames or seconds than its container says) with E_INPUT_PARTIAL (exit 1); default: a warning, and the part that decodes is memorized'),
};

const LIVE: OptionTable = {
  live: b('memorize a stream that never ends while it arrives: a network URL (udp://, tcp://, http://, rtsp://, …; reconnected when it drops), - (standard input) or lavfi:GRAPH (in real time). Memory: --window (default), --segments or --grow; q, Ctrl-C or the end of the stream finishes the run (final checkpoint, recall, recordings). --frames N / --duration S stop it after N frames or S seconds. --width auto when solving: a power of two ≥ 8× the frames in memory, at least 384 (512 for a window of 48)'),
  window: s('N', 'live: the last N frames are one cycle; the oldest leaves as a new one arrives (the default mode, N 48)'),
  segments: s('N', 'live: every N frames become one more stored cycle, at most --capacity of them'),
  capacity: s('K', 'live --segments: stored cycles at most; then the oldest is dropped (reported)', '4'),
  grow: b('live: one cycle that lengthens as frames arrive, up to --grow-max frames (then it keeps the last ones)'),
  'grow-max': s('N', 'live --grow: the longest cycle', '192'),
  'min-steps': s('S', 'live: trainer steps each memory gets before the next frame is taken in; frames arriving meanwhile are dropped and counted (default: 1 when solving, 50 with --fit gradient)'),
  'probe-every': s('S', 'live: seconds between recallable-now probes (recall from noise on a copy of the net, and its certificate; 0: off; r probes now)', '5'),
  'record-every': s('S', 'live: record the current memory, recalled from noise, into recordings/<time>-frames-<a>-<b>.mp4 every S seconds (w records now)'),
  reconnects: s('N', 'live: a network stream that drops is reconnected with backoff; give up after N failed attempts in a row (default: never)'),
};

const NETWORK = (width = '512'): OptionTable => ({
  width: s('W', width === 'auto' ? 'hidden width (auto: 1024 when solving, 512 with --fit gradient)' : 'hidden width', width),
  depth: s('D', 'number of hidden layers', '2'),
  activation: s('A', 'relu, leaky_relu, selu, swish, cosid, sinusoidal, sigmoid, tanh, exp2, pow:M', 'relu'),
  'no-bias': b('no bias terms'),
  init: s('I', 'torch, uniform:A, rank1:U0,V0', 'torch'),
});

const TRAINING = (d: { lr: string; lossTarget: string; maxSteps: string }): OptionTable => ({
  optimizer: s('O', 'gd, momentum, momentum-wd, rmsprop, adam', 'adam'),
  lr: s('X', 'learning rate', d.lr),
  'weight-decay': s('X', 'L2 weight decay (momentum-wd default 5e-4)'),
  'loss-target': s('X', 'stop when the MSE reaches X', d.lossTarget),
  'max-steps': s('S', 'stop after S steps', d.maxSteps),
  seed: s('N', 'seed for initialization and noise', '1'),
});

const MEMORIZE_TRAINING: OptionTable = {
  preset: s('P', "paper: the research's network and optimizer for the input's kind (video and audio: FC width 1024, depth 16, selu, adam 1e-4; images: width 512, depth 31, selu, adam 1e-4), trained by gradient; options given explicitly win"),
  fit: s('M', 'auto, solve or gradient. solve: first layer sampled from the data, output layer solved in closed form for small Jacobians, checked by recall from noise (each step one attempt, at most 3); gradient: the optimizer below; auto: solve when the net can interpolate the data (width ≥ samples − 1) and no optimizer option is given, and fall back to gradient training from fresh weights when no solve attempt replays from noise; else gradient', 'auto'),
  ...TRAINING({ lr: '1e-4', lossTarget: '1e-8', maxSteps: '20000' }),
  'batch-size': s('B', 'minibatch size (default: full batch)'),
  'checkpoint-every': s('N', 'save a checkpoint every N steps (also on Ctrl-C / SIGTERM / SIGHUP)', '1000'),
  'stop-on-nonfinite': b('at the first NaN/Inf loss, save the last finite state to checkpoints/last-finite.ckpt and stop (exit 3); default: the run ends with E_DIVERGED (exit 1) and keeps its interval checkpoints'),
  'stability-every': s('N', 'tangent-kernel stability ratio at the start, every N steps and around loss spikes (0: off)', '1000'),
  objective: s('O', 'cycle or autoencode', 'cycle'),
};

const EIG_METHOD = s('M', 'auto, full (d×d Jacobian), reduced (W×W, FC nets) or arnoldi (top-k on VJPs); auto: reduced if W < d and W ≤ 2048, else full if d ≤ 2048, else arnoldi');

const MONITORS: OptionTable = {
  'eig-method': { ...EIG_METHOD, default: 'auto' },
  'monitor-every': s('N', 'certify training examples every N steps and at the end; auto: spaced so the monitor takes ≤ 15% of training time; 0: off', 'auto'),
  'monitor-examples': s('K', 'examples (autoencode) or cycles the monitor certifies', '8'),
  certify: s('N', 'after recall, certify at most N stored memories (autoencoded samples or cycles, the first ones) with the eigen test', '32'),
};

const RECALL_FROM: OptionTable = {
  sigma: s('S', 'standard deviation of the Gaussian start', '1'),
  'recall-steps': s('K', 'iteration cap of recall', '20000'),
};

const RECOVERY: OptionTable = {
  'no-recovery': b('skip the corruption sweep and the spurious-attractor search'),
  'recovery-trials': s('N', 'corrupted samples per level, and pure-noise probes per source', '4'),
  'recovery-steps': s('K', 'iteration cap per probe', '1000'),
  'noise-levels': s('L,…', "additive uniform noise ±L (default 0.1,0.3,0.5; '' for none)"),
  'square-levels': s('K,…', 'numbers of random coloured squares, side min(W,H)/8 (default 1,4,8)'),
  'mask-levels': s('F,…', 'fractions of elements set to 0 (default 0.1,0.3,0.5)'),
};

export interface CommandSpec {
  usage: string;
  /** One line for `engram --help`. */
  summary: string;
  /** What follows the summary in the command's own help and in docs/cli.md. */
  details?: string;
  options: OptionTable;
  /** Names of the positional arguments (for help). */
  positionals?: string;
}

export const COMMANDS = {
  demo: {
    usage: 'engram demo [options]',
    summary: "memorize a built-in clip (ffmpeg's life source, 32x32 gray, 48 frames) and recall it from noise",
    options: {
      ...IMAGE, frames: s('N', 'frames of the built-in clip', '48'),
      ...NETWORK('auto'), ...MEMORIZE_TRAINING, ...MONITORS,
      // the life clip is random binary frames, which the solver does not store with basins (docs/math.md §3.5), and the demo is there to watch training
      fit: { ...MEMORIZE_TRAINING.fit, default: 'gradient' },
      from: s('F', 'recall from noise|gaussian (N(0, sigma²)) or uniform (U[0,1])', 'noise'), ...RECALL_FROM, ...RECOVERY, ...OUTPUT,
    },
  },
  memorize: {
    usage: 'engram memorize <input> [options] | engram memorize --resume <run-dir> [--max-steps S] [--loss-target X] [--lr X]',
    summary: 'memorize a video, an audio file or a directory/glob of images (a file, - for stdin, a URL or lavfi:GRAPH)',
    positionals: '<input>',
    options: {
      ...INPUT, ...NETWORK('auto'), ...MEMORIZE_TRAINING,
      sequences: s('K', '--objective cycle: split the samples into K consecutive sequences of (near-)equal length, each stored as its own cycle (each needs at least 2 samples); recall reports which one came back and every cycle is certified', '1'),
      resume: s('DIR', 'continue DIR from its newest checkpoint with its own settings: --max-steps, --loss-target, --lr and --stop-on-nonfinite may be changed; any other setting given must equal the run\'s (a different one is refused, exit 2)'),
      ...LIVE,
      ...MONITORS,
      from: s('F', 'recall from noise|gaussian (N(0, sigma²)) or uniform (U[0,1])', 'noise'), ...RECALL_FROM, ...RECOVERY, ...OUTPUT,
    },
  },
  recall: {
    usage: 'engram recall <run-dir> [options]',
    summary: 'replay a saved run into a video, GIF, PNG frames or WAV',
    positionals: '<run-dir>',
    options: {
      from: s('F', 'noise|gaussian (N(0, sigma²)), uniform (U[0,1]), frame:I (training sample I), or a file of the run\'s kind (e.g. a corrupted image)', 'noise'),
      ...RECALL_FROM,
      seed: s('N', 'seed of the noise start', '1'),
      tries: s('K', 'noise starts (seeds seed, seed+1, …); the best trajectory is reported and recorded', '1'),
      'eig-method': { ...EIG_METHOD, help: `certify the limit reached with this method: ${EIG_METHOD.help}` },
      out: s('PATH', 'file.mp4 | file.gif | file.mkv | dir/ (PNG frames) | file.wav (audio runs) (default: a new recall-<time>.mp4/.wav in the run directory)'),
      force: b('replace an existing recording'),
    },
  },
  watch: {
    usage: 'engram watch <run-dir>',
    summary: 'the dashboard of a run from its events.jsonl, following it while it runs',
    details: 'A run whose process is gone ends the watch with E_RUN_ABANDONED, exit 1',
    positionals: '<run-dir>',
    options: {},
  },
  inspect: {
    usage: 'engram inspect <run-dir> [options]',
    summary: 'certify every stored memory of a saved run: attractors.json and ρ histograms',
    positionals: '<run-dir>',
    options: { 'eig-method': { ...EIG_METHOD, default: 'auto' } },
  },
  assoc: {
    usage: 'engram assoc [options]',
    summary: 'train the associative memory W on token pairs and stream its margins',
    options: {
      n: s('N', 'tokens (default 64; 2 with --frequencies two:P1)'),
      m: s('M', 'output classes (default max(N, 2)); targets are a fixed random map from --seed'),
      d: s('D', 'embedding dimension (default max(N, M), N+1 for correlated with N > 2)'),
      embeddings: s('E', 'orthonormal (N, M ≤ d), correlated:ALPHA (e_xᵀe_x\' = ALPHA) or sphere', 'orthonormal'),
      frequencies: s('F', 'zipf:ALPHA (p ∝ x^−ALPHA) or two:P1 (two tokens, p = (P1, 1−P1))', 'zipf:1'),
      w0: s('zero|randn', 'initial W: zero or N(0, 1/d) entries', 'zero'),
      optimizer: s('gd|sgd|adam', 'full-batch GD, SGD on batches drawn from p, or Adam (full batch)', 'gd'),
      lr: s('X', 'step size (default 10; adam 0.01)'),
      'batch-size': s('B', 'SGD batch (default 16; with adam: Adam on batches)'),
      steps: s('S', 'updates', '1000'),
      seed: s('N', 'seed of the task and W0', '1'),
      'margins-every': s('K', 'margins event every K steps, plus 10 log-spaced per decade', '100'),
      lanczos: s('K', "Lanczos steps for the Hessian's λ_max per margins event (0: off)", '30'),
      ...OUTPUT,
    },
  },
  identity: {
    usage: 'engram identity --arch fc|cnn --depth L [options]',
    summary: 'train on one image, then probe: did the network learn the identity or the constant map?',
    options: {
      arch: s('A', 'fc, cnn (a U-Net) or fc,cnn', 'fc'),
      depth: s('L', 'depths to sweep: 2, 1,2,4 or 1-4 (FC: hidden layers; CNN: down/up levels)', '2'),
      input: s('FILE', 'the example: an image, a video\'s first frame or lavfi:GRAPH', 'lavfi:testsrc2=s=320x240:d=1'),
      ...IMAGE, size: s('WxH', 'image size', '16x16'),
      width: s('W', 'FC hidden width', '512'),
      channels: s('C', 'U-Net feature maps per level', '16'),
      activation: s('A', 'activation (default relu for FC, leaky_relu for the U-Net)'),
      'no-bias': b('no bias terms'),
      init: s('I', 'torch, uniform:A, rank1:U0,V0', 'torch'),
      ...TRAINING({ lr: '1e-3', lossTarget: '1e-6', maxSteps: '1500' }),
      rhos: s('N', 'ρ grid of N points from 0 to 1', '11'),
      probes: s('K', 'random directions per ρ', '8'),
      ...OUTPUT,
    },
  },
  basins: {
    usage: 'engram basins [options]',
    summary: 'train a small net on a few 2-D points and plot its basins of attraction',
    options: {
      points: s('"x,y;x,y;…"', 'the 2-D training points; with --objective cycle, | separates sequences, each its own cycle ("0,0;1,0;1,1|3,3;4,3;4,4")', '0.2,0.2;0.8,0.3;0.5,0.8'),
      objective: s('O', 'autoencode or cycle (the points in the order given)', 'autoencode'),
      grid: s('N', 'N×N grid cells', '100'),
      ...NETWORK('64'),
      ...TRAINING({ lr: '1e-3', lossTarget: '1e-8', maxSteps: '5000' }),
      'recall-steps': s('K', 'iterations per grid cell', '1000'),
      ...OUTPUT,
    },
  },
  reproduce: {
    usage: 'engram reproduce <experiment|all> [options]',
    summary: 'run the research\'s experiments through engram\'s pipelines; a report of each beside the published result',
    details: 'Experiments: digit-cycles, digit-capacity, basins-2d, cycles-2d, footage, speech, single-example, assoc-spikes, assoc-margins, catapult, identity. Each writes <out>/<experiment>/report.md and report.html (plots, the sub-runs\' commands, commit, machine, and an "as published / measured / agrees?" table) and result.json; <out>/index.md lists every verdict. A failed experiment is reported and the others go on (exit 1 at the end); a skipped one (a missing tool or input) is not a failure',
    positionals: '<experiment|all>',
    options: {
      quick: b('sizes for a 2-core CPU: each experiment ≤ 5 min, all ≤ 45 min (the default)'),
      full: b('the published sizes (hours on a CPU; for a bigger host)'),
      toy: b('seconds-long sizes that exercise every code path (the tests use them); their numbers mean nothing'),
      media: s('DIR', 'natural footage for the footage and identity experiments (default: ../shared/media beside engram, when there; else those experiments use MNIST digits or are skipped, as their reports say)'),
      seed: s('N', 'seed of every experiment', '1'),
      out: s('PATH', 'the reports\' directory', 'reports'),
      force: b('replace the reports of the experiments asked for (other reports in --out are kept)'),
    },
  },
  doctor: {
    usage: 'engram doctor [options]',
    summary: 'what this machine gives engram, and the command that adds each missing piece',
    details: 'It checks the backend, BLAS and threads, ffmpeg and its encoders, fonts for plots, free memory and disk, espeak-ng; for each missing piece the command that adds it (exit 1 when a piece engram needs is missing; --json: the report as one JSON line)',
    options: {},
  },
  plot: {
    usage: 'engram plot <run-dir>',
    summary: "(re)draw every plot the run's events.jsonl has data for",
    positionals: '<run-dir>',
    options: {},
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** A command's whole table: its own options and the common ones. */
export function optionsOf(command: CommandName): OptionTable {
  return { ...COMMANDS[command].options, ...COMMON };
}

/** The exit code of a coded error: usage errors 2, the non-finite stop 3, every other 1 (an uncoded, internal error is 1 too). */
export function exitCodeOfCode(code: ErrorCode): 1 | 2 | 3 {
  return code === 'E_BAD_ARGUMENT' ? 2 : code === 'E_NONFINITE' ? 3 : 1;
}

export const EXIT_CODES: [number, string][] = [
  [0, 'done'],
  [1, 'failed with a coded error (bad input, an output that cannot be written, a partial input with --strict, ffmpeg, backend, checkpoint, divergence; E_RESOURCE: the run cannot fit in memory, estimated before it starts, or an input of unknown length past 100,000 frames or 1/4 of the free memory; engram watch: a run whose writer is gone)'],
  [2, 'bad arguments'],
  [3, 'stopped at a non-finite loss (--stop-on-nonfinite)'],
  [4, 'engram recall: no stored memory came back (neither an exact stored limit nor an approximate orbit passing every frame in order)'],
  [130, 'interrupted (Ctrl-C, SIGTERM, SIGHUP)'],
];
