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
  resume: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  backend: { type: 'string' },
  quiet: { type: 'boolean', default: false },
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
  engram memorize <video> [options]          memorize the frames of a video as a limit cycle
  engram recall <run-dir> [options]          replay a saved run from noise into a video

Input (memorize):
  --size WxH            frame size (default 32x32)
  --gray | --rgb        grayscale (default) or RGB frames
  --frames N            use the first N frames (default: all; demo: 48)
  --fps F               resample the video to F frames/s before taking frames
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

Recall:
  --from F              noise|gaussian (N(0, sigma²), default), uniform (U[0,1]), frame:I (start at training frame I)
  --sigma S             standard deviation of the Gaussian start (default 1)
  --recall-steps K      iteration cap (default 20000)

Output and engine:
  --out PATH            run directory (memorize, demo; default runs/<id>) or video file (recall; default recalled.mp4 in the run)
  --force               write into a non-empty --out / replace an existing video
  --backend B           tensorflow-gpu, tensorflow, wasm-blas, wasm, cpu (default: the fastest that loads; also ENGRAM_BACKEND)
  --quiet               only the final summary
  -h, --help            this help
  --version             print the version

Exit codes: 0 success, 1 failure (bad input, ffmpeg, backend), 2 usage error, 130 interrupted.
`;
