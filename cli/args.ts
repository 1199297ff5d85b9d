/** Command-line parsing for every engram command: one option table, typed values, clear errors. */
import { parseArgs } from 'node:util';
import { EngramError } from '../errors.ts';

export const OPTIONS = {
  size: { type: 'string', default: '32x32' },
  gray: { type: 'boolean', default: false },
  rgb: { type: 'boolean', default: false },
  frames: { type: 'string' },
  fps: { type: 'string' },
  start: { type: 'string' },
  duration: { type: 'string' },
  kind: { type: 'string' },
  rate: { type: 'string', default: '22050' },
  'chunk-seconds': { type: 'string', default: '1' },
  partial: { type: 'string', default: 'drop' },
  watch: { type: 'boolean', default: false },
  objective: { type: 'string', default: 'cycle' },
  width: { type: 'string', default: '512' },
  depth: { type: 'string', default: '2' },
  activation: { type: 'string', default: 'relu' },
  'no-bias': { type: 'boolean', default: false },
  init: { type: 'string', default: 'torch' },
  optimizer: { type: 'string', default: 'adam' },
  lr: { type: 'string', default: '1e-4' },
  'weight-decay': { type: 'string' },
  'loss-target': { type: 'string', default: '1e-8' },
  'max-steps': { type: 'string', default: '20000' },
  'batch-size': { type: 'string' },
  seed: { type: 'string', default: '1' },
  from: { type: 'string', default: 'noise' },
  sigma: { type: 'string', default: '1' },
  'recall-steps': { type: 'string', default: '20000' },
  'checkpoint-every': { type: 'string', default: '1000' },
  'stop-on-nonfinite': { type: 'boolean', default: false },
  'stability-every': { type: 'string', default: '1000' },
  'no-recovery': { type: 'boolean', default: false },
  'recovery-trials': { type: 'string', default: '4' },
  'recovery-steps': { type: 'string', default: '1000' },
  'noise-levels': { type: 'string' },
  'square-levels': { type: 'string' },
  'mask-levels': { type: 'string' },
  points: { type: 'string' },
  grid: { type: 'string', default: '100' },
  resume: { type: 'string' },
  'eig-method': { type: 'string' },
  'monitor-every': { type: 'string', default: 'auto' },
  'monitor-examples': { type: 'string', default: '8' },
  out: { type: 'string' },
  arch: { type: 'string', default: 'fc' },
  channels: { type: 'string', default: '16' },
  rhos: { type: 'string', default: '11' },
  probes: { type: 'string', default: '8' },
  input: { type: 'string' },
  force: { type: 'boolean', default: false },
  backend: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  n: { type: 'string' },
  m: { type: 'string' },
  d: { type: 'string' },
  embeddings: { type: 'string' },
  frequencies: { type: 'string' },
  w0: { type: 'string' },
  steps: { type: 'string' },
  'margins-every': { type: 'string' },
  lanczos: { type: 'string' },
  'no-tui': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

export type Parsed = ReturnType<typeof parse>;

export function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new EngramError('E_BAD_ARGUMENT', `${(e as Error).message}; see 'engram --help'`);
  }
}

export function num(name: string, v: string | undefined, o: { int?: boolean; min?: number } = {}): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || (o.int && !Number.isInteger(n)) || (o.min !== undefined && n < o.min)) {
    const kind = o.int ? 'an integer' : 'a number';
    throw new EngramError('E_BAD_ARGUMENT', `--${name} must be ${kind}${o.min !== undefined ? ` ≥ ${o.min}` : ''} (got '${v}')`);
  }
  return n;
}

export function parseSize(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new EngramError('E_BAD_ARGUMENT', `--size must look like WxH, e.g. 32x32 (got '${v}')`);
  }
  return { width: Number(m[1]), height: Number(m[2]) };
}

export const HELP = `engram — memorize media as attractors and limit cycles of a neural network, and replay it from noise

Usage:
  engram demo [options]                      memorize a built-in clip (ffmpeg's life source, 32x32 gray) and recall it
  engram memorize <input> [options]          memorize a video, an audio file or a directory/glob of images
  engram memorize --resume <run-dir>         continue a run from its newest checkpoint
  engram recall <run-dir> [options]          replay a saved run into a video, GIF, PNG frames or WAV
  engram assoc [options]                     train the associative memory W (SPEC §8) and stream its margins
  engram identity --arch fc|cnn --depth L    train on one image, probe: identity or constant map? (SPEC §9)
  engram plot <run-dir>                      (re)draw every plot the run's events.jsonl has data for
  engram basins [options]                    train a small net on a few 2-D points and plot its basins of attraction
  engram watch <run-dir>                     the dashboard of a run from its events.jsonl, following it while it runs
  engram inspect <run-dir> [options]         certify every stored memory of a saved run: attractors.json + histograms

Input (memorize):
  --kind K              video, audio or images (default: from the input: a directory or glob is images,
                        .wav/.mp3/.ogg/.flac/… is audio, anything else video)
  <input>               a file, '-' (standard input), a URL, or lavfi:GRAPH (an ffmpeg filter source)
  --size WxH            frame/image size (default 32x32)
  --gray | --rgb        grayscale (default) or RGB
  --frames N            use the first N frames (audio: N chunks) (default: all; demo: 48)
  --fps F               resample video to F frames/s first
  --start S, --duration S   seconds to skip / to read (video)
  --rate HZ             audio sample rate (default 22050)
  --chunk-seconds S     audio chunk length, one vector each (default 1)
  --partial drop|pad    the last, shorter audio chunk: dropped (default) or zero-padded
  --watch               images: keep watching the directory and memorize new images as they appear
  --objective O         cycle (default) or autoencode

Network and training:
  --width W             hidden width (default 512)
  --depth D             number of hidden layers (default 2)
  --activation A        relu, leaky_relu, selu, swish, cosid, sinusoidal, sigmoid, tanh, exp2, pow:M (default relu)
  --no-bias             no bias terms
  --init I              torch (default), uniform:A, rank1:U0,V0
  --optimizer O         gd, momentum, momentum-wd, rmsprop, adam (default adam)
  --lr X                learning rate (default 1e-4)
  --weight-decay X      L2 weight decay (momentum-wd default 5e-4)
  --loss-target X       stop when the MSE reaches X (default 1e-8)
  --max-steps S         stop after S steps (default 20000)
  --batch-size B        minibatch size (default: full batch)
  --seed N              seed for initialization and noise (default 1)
  --checkpoint-every N  save a checkpoint every N steps (default 1000; also on Ctrl-C / SIGTERM)
  --resume DIR          continue DIR from its newest checkpoint (--max-steps / --loss-target / --lr may be changed)
  --stop-on-nonfinite   at the first NaN/Inf loss, save the last finite state to checkpoints/last-finite.ckpt
                        and stop (exit 3); default off: the run ends with E_DIVERGED (exit 1) and keeps its
                        interval checkpoints
  --stability-every N   tangent-kernel stability ratio r = a·η·λ_max(K)/2 at the start, every N steps and
                        around loss spikes (gd/momentum; adam/rmsprop: once at the start) (default 1000; 0: off)

Attractors (SPEC §5):
  --eig-method M        auto (default), full (d×d Jacobian), reduced (W×W, FC nets), arnoldi (top-k on VJPs);
                        auto: reduced if W < d and W ≤ 2048, else full if d ≤ 2048, else arnoldi
                        (limits 256 without LAPACK); memorize/demo/inspect; recall certifies the limit it
                        reached only when --eig-method is given; the training monitor's auto is arnoldi
  --monitor-every N     memorize/demo: certify training examples every N steps and at the end; auto (default):
                        spaced so the monitor takes ≤ 15% of training time; 0: off
  --monitor-examples K  examples (autoencode) or cycles the monitor certifies (default 8)

Recall:
  --from F              noise|gaussian (N(0, sigma²), default), uniform (U[0,1]), frame:I (training sample I),
                        or a file of the run's kind (e.g. a corrupted copy of an image)
  --sigma S             standard deviation of the Gaussian start (default 1)
  --recall-steps K      iteration cap (default 20000)

Associative memory (assoc):
  --n N                 tokens (default 64; 2 with --frequencies two:P1)
  --m M                 output classes (default max(N, 2)); targets f* are a fixed random map from --seed
  --d D                 embedding dimension (default max(N, M), N+1 for correlated with N > 2)
  --embeddings E        orthonormal (default; N, M ≤ d), correlated:ALPHA (e_xᵀe_x' = ALPHA), sphere
  --frequencies F       zipf:ALPHA (p ∝ x^−ALPHA, default zipf:1) or two:P1 (two tokens, p = (P1, 1−P1))
  --w0 zero|randn       initial W: zero (default) or N(0, 1/d) entries
  --optimizer gd|sgd|adam   full-batch GD (default), SGD on batches drawn from p, or Adam (full batch)
  --lr X                step size (default 10; adam 0.01)
  --batch-size B        SGD batch (default 16; with adam: Adam on batches)
  --steps S             updates (default 1000)
  --margins-every K     margins event every K steps, plus 10 log-spaced per decade (default 100)
  --lanczos K           Lanczos steps for the Hessian's λ_max per margins event (default 30; 0: off)

Recovery (memorize/demo, after recall; SPEC §6):
  --no-recovery         skip the corruption sweep and the spurious-attractor search
  --recovery-trials N   corrupted samples per level, and pure-noise probes per source (default 4)
  --recovery-steps K    iteration cap per probe (default 1000)
  --noise-levels L,…    additive uniform noise ±L (default 0.1,0.3,0.5; '' for none)
  --square-levels K,…   numbers of random coloured squares, side min(W,H)/8 (default 1,4,8)
  --mask-levels F,…     fractions of elements set to 0 (default 0.1,0.3,0.5)

Basins (engram basins; --width, --depth, --activation, --lr, --max-steps, --loss-target, --seed apply):
  --points "x,y;x,y;…"  the 2-D training points (default "0.2,0.2;0.8,0.3;0.5,0.8")
  --objective O         autoencode (default here) or cycle (the points in the order given)
  --grid N              N×N grid cells (default 100); small-net defaults: --width 64 --lr 1e-3 --max-steps 5000

Output and engine:
  --out PATH            memorize/demo: the run directory (default runs/<id>);
                        recall: file.mp4 | file.gif | file.mkv | dir/ (PNG frames) | file.wav (audio runs)
                        (default: a new recall-<time>.mp4/.wav in the run directory)
  --force               write into a non-empty --out / replace an existing recording
  --backend B           tensorflow-gpu, tensorflow, wasm-blas, wasm, cpu (default: the fastest that loads; also ENGRAM_BACKEND)
  --quiet               only the final summary
  --no-tui              plain progress lines instead of the terminal dashboard (also when stdout is not a
                        terminal or CI=true); dashboard keys: p pause/resume, c checkpoint, r recall, q quit, ? help
  -h, --help            this help
  --version             print the version

Identity probe (identity):
  --arch A              fc, cnn (a U-Net) or fc,cnn (default fc)
  --depth L             depths to sweep: 2, 1,2,4 or 1-4 (FC: hidden layers; CNN: down/up levels)
  --input FILE          the example x̂: an image, a video's first frame or lavfi:GRAPH (default ffmpeg's testsrc2)
  --size WxH            default 16x16 here; --width W for FC (default 512), --channels C for the U-Net (default 16)
  --rhos N              ρ grid of N points from 0 to 1 (default 11); --probes K random directions per ρ (default 8)
  defaults here: --lr 1e-3, --max-steps 1500, --loss-target 1e-6, U-Net activation leaky_relu

Exit codes: 0 success, 1 failure (bad input, ffmpeg, backend, checkpoint, divergence), 2 usage error,
3 stopped at a NaN/Inf loss (--stop-on-nonfinite), 130 interrupted.
`;

/** --eig-method: auto, full, reduced or arnoldi. */
export function eigMethodOf(v: { 'eig-method'?: string }): 'auto' | 'full' | 'reduced' | 'arnoldi' {
  const m = v['eig-method'] ?? 'auto';
  if (m !== 'auto' && m !== 'full' && m !== 'reduced' && m !== 'arnoldi') {
    throw new EngramError('E_BAD_ARGUMENT', `--eig-method must be auto, full, reduced or arnoldi (got '${m}')`);
  }
  return m;
}

/** --monitor-every (auto | N ≥ 0, 0 = off) and --monitor-examples K ≥ 1. */
export function monitorOf(v: { 'monitor-every'?: string; 'monitor-examples'?: string }): { every: number | 'auto'; examples: number } {
  const every = v['monitor-every'] ?? 'auto';
  return {
    every: every === 'auto' ? 'auto' : num('monitor-every', every, { int: true, min: 0 }),
    examples: num('monitor-examples', v['monitor-examples'] ?? '8', { int: true, min: 1 }),
  };
}
