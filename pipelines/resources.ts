/**
 * What a run will hold in memory, estimated from its options before anything starts, and the
 * refusal (E_RESOURCE, exit 1) when that cannot fit: more than the machine has free, a single array
 * past what a JavaScript typed array can hold (2^32 elements), or (wasm backends) past the 4 GiB a
 * 32-bit wasm heap can address. The estimates count the big arrays only (weights, optimizer slots,
 * gradients, datasets, batch activations, the solver's float64 matrices); they are meant to catch the
 * runs that can never work, not to budget a tight one.
 *
 * Also: which inputs have no end (an ffmpeg lavfi graph without a duration) and the cap on how much
 * of an input whose length nothing states (standard input, a URL) is decoded into memory.
 */
import { freemem, totalmem } from 'node:os';
import { EngramError } from '../errors.ts';

const GiB = 2 ** 30;
/** Bytes a 32-bit wasm heap (the tfjs wasm backends) can address. */
export const WASM_HEAP_BYTES = 4 * GiB;
/** Elements a JavaScript typed array can hold (V8). */
export const MAX_TYPED_ARRAY = 2 ** 32;
/** Frames (or chunks) decoded from an input of unknown length before engram stops reading it. */
export const MAX_INPUT_FRAMES = 100_000;
/** Share of the free memory the decoded frames of an input of unknown length may take. */
export const INPUT_MEMORY_SHARE = 1 / 4;

export interface Machine {
  total: number;
  free: number;
}

export const thisMachine = (): Machine => ({ total: totalmem(), free: freemem() });

export interface MemoryEstimate {
  /** What runs, e.g. "memorize at 4096x4096 gray (d = 16777216), width 1024, depth 2, 2 frames". */
  what: string;
  /** The parts that add up to `bytes`. */
  parts: { name: string; bytes: number }[];
  bytes: number;
  /** The largest single array or tensor. */
  largest: { name: string; elements: number; bytes: number };
  /** The options that shrink it, said as the fix. */
  lower: string;
}

export function formatBytes(b: number): string {
  if (b >= 1024 * GiB) return `${(b / (1024 * GiB)).toPrecision(3)} TiB`;
  if (b >= GiB) return `${(b / GiB).toPrecision(3)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toPrecision(3)} MiB`;
  return `${Math.ceil(b / 1024)} KiB`;
}

const count = (x: number) => (x >= 1e6 ? x.toExponential(2) : String(Math.round(x)));

function estimate(what: string, parts: MemoryEstimate['parts'], largest: MemoryEstimate['largest'], lower: string): MemoryEstimate {
  const kept = parts.filter((p) => p.bytes > 0);
  return { what, parts: kept, bytes: kept.reduce((a, p) => a + p.bytes, 0), largest, lower };
}

/** Adam keeps 2 slots per weight, momentum and rmsprop 1, gd none. */
const OPTIMIZER_SLOTS: Record<string, number> = { adam: 2, rmsprop: 1, momentum: 1, 'momentum-wd': 1, gd: 0 };

export interface FcRun {
  /** Input dimension (pixels × channels, or samples per audio chunk). */
  dim: number;
  width: number;
  depth: number;
  bias: boolean;
  fit: 'auto' | 'solve' | 'gradient';
  optimizer: string;
  /** Samples (frames, chunks, images); undefined when not known before decoding (then 2, the least a cycle needs). */
  n?: number;
  batchSize?: number;
  /** How the input is described in the message. */
  input: string;
  kind?: 'video' | 'audio' | 'images';
}

/**
 * An FC memorize run: the net's parameters P = W·d·2 + W²·(D−1) (+ biases) as float32, held twice
 * (the model, a checkpoint's copy); gradient fit: gradients and the optimizer's slots (Adam: 2) per
 * parameter, plus the batch's activations b·(2·W·D + 2·d); the dataset: n·d floats three times (the
 * decoded frames, inputs, targets); solve: the (W+1)² float64 Gram and two W×W float64 work matrices,
 * plus n·(W+1) float64 features twice. `auto` counts the larger of the gradient and solve parts.
 */
export function fcMemorizeEstimate(r: FcRun): MemoryEstimate {
  const { dim: d, width: W, depth: D } = r;
  const n = r.n ?? 2;
  const params = W * d * 2 + W * W * (D - 1) + (r.bias ? W * D + d : 0);
  const weights = params * 4 * 2;
  const dataset = n * d * 4 * 3;
  const slots = OPTIMIZER_SLOTS[r.optimizer] ?? 2;
  const batch = Math.min(r.batchSize ?? n, n);
  const gradient = params * 4 * (1 + slots) + batch * (2 * W * D + 2 * d) * 4;
  const solve = ((W + 1) ** 2 * 3 + n * (W + 1) * 2) * 8;
  const extra = r.fit === 'gradient' ? { name: `gradient training (gradients + ${slots} optimizer slot(s) per weight, activations)`, bytes: gradient }
    : r.fit === 'solve' ? { name: 'the solver (float64 Gram and work matrices)', bytes: solve }
    : gradient >= solve ? { name: `gradient training (gradients + ${slots} optimizer slot(s) per weight, activations; --fit auto may fall back to it)`, bytes: gradient }
    : { name: 'the solver (float64 Gram and work matrices)', bytes: solve };
  const layer = W * d, data = n * d, gram = (W + 1) ** 2;
  const largest = [
    { name: `a ${W}×${d} first/last layer`, elements: layer, bytes: layer * 4 },
    { name: `the dataset (${count(n)}×${d})`, elements: data, bytes: data * 4 },
    ...(r.fit !== 'gradient' ? [{ name: `the solver's ${W + 1}×${W + 1} Gram matrix`, elements: gram, bytes: gram * 8 }] : []),
  ].reduce((a, b) => (b.elements > a.elements ? b : a));
  return estimate(
    `memorize ${r.input} (d = ${d}) with an FC net of width ${W}, depth ${D}, ${r.n === undefined ? 'at least 2 samples' : `${n} samples`}`,
    [
      { name: `the net's ${count(params)} float32 parameters (model and checkpoint copy)`, bytes: weights },
      { name: 'the dataset', bytes: dataset },
      extra,
    ],
    largest,
    `lower ${r.kind === 'audio' ? '--chunk-seconds or --rate' : '--size'}, --width or --depth${r.n === undefined || r.kind === 'images' ? '' : ', or pass a smaller --frames'}`,
  );
}

/** Per sample of a memorize run (to bound an input whose length is unknown): the dataset's 3·d floats. */
export function bytesPerSample(dim: number): number {
  return dim * 4 * 3;
}

/**
 * engram basins: the grid² cells go through the net as one batch: per cell the trajectory block of
 * 100 steps × 2 floats, the activations of every layer (2·W·(D+1) floats) and ~400 bytes of JS
 * bookkeeping (views, limits), plus 4 bytes of the picture.
 */
export function basinsEstimate(r: { grid: number; width: number; depth: number }): MemoryEstimate {
  const cells = r.grid * r.grid;
  const perCell = 100 * 2 * 4 + 2 * r.width * (r.depth + 1) * 4 + 400 + 4;
  const act = cells * r.width;
  return estimate(
    `basins on a ${r.grid}×${r.grid} grid (${count(cells)} cells) with an FC net of width ${r.width}, depth ${r.depth}`,
    [{ name: `${count(cells)} cells × ${perCell} bytes (trajectories, activations, bookkeeping, picture)`, bytes: cells * perCell }],
    { name: `the ${count(cells)}×${r.width} activations of a layer`, elements: act, bytes: act * 4 },
    'lower --grid (the default 100 is 10,000 cells) or --width',
  );
}

/**
 * engram assoc: embeddings E (n×d) and unembeddings U (m×d) in float64 and float32; the one-hot
 * targets, scores, softmax and residual (4 × n×m float32); W (d×d float32) with its gradient, Adam's
 * two slots and a copy; the Lanczos basis (K vectors of d² float64).
 */
export function assocEstimate(r: { n: number; m: number; d: number; lanczos: number }): MemoryEstimate {
  const { n, m, d } = r;
  const nm = n * m, dd = d * d;
  const largest = [
    { name: `the ${n}×${m} scores`, elements: nm, bytes: nm * 4 },
    { name: `W (${d}×${d})`, elements: dd, bytes: dd * 8 },
    { name: `the ${n}×${d} embeddings`, elements: n * d, bytes: n * d * 8 },
  ].reduce((a, b) => (b.elements > a.elements ? b : a));
  return estimate(
    `assoc with n = ${n}, m = ${m}, d = ${d}`,
    [
      { name: 'embeddings and unembeddings', bytes: (n + m) * d * 12 },
      { name: 'targets, scores, softmax, residual', bytes: nm * 4 * 4 },
      { name: 'W, its gradient, optimizer slots and a copy', bytes: dd * 4 * 5 },
      { name: `the Lanczos basis (${r.lanczos} vectors)`, bytes: r.lanczos * dd * 8 },
    ],
    largest,
    'lower --n, --m or --d (and --lanczos)',
  );
}

const isWasm = (backend: string | undefined) => backend === 'wasm' || backend === 'wasm-blas';

/**
 * Refuse a run that cannot fit (E_RESOURCE): the estimate above the free memory, one array past
 * MAX_TYPED_ARRAY elements, or (on a wasm backend) the whole estimate past the 4 GiB wasm heap.
 */
export function checkMemory(e: MemoryEstimate, o: { backend?: string; machine?: Machine } = {}): void {
  const m = o.machine ?? thisMachine();
  const problems: string[] = [];
  if (e.bytes > m.free) {
    problems.push(`it needs about ${formatBytes(e.bytes)} (${e.parts.map((p) => `${p.name}: ${formatBytes(p.bytes)}`).join('; ')}), ` +
      `but this machine has ${formatBytes(m.total)} of memory, ${formatBytes(m.free)} free`);
  }
  if (e.largest.elements > MAX_TYPED_ARRAY) {
    problems.push(`${e.largest.name} would be one array of ${count(e.largest.elements)} elements, and a JavaScript typed array holds at most 2^32`);
  }
  if (isWasm(o.backend) && e.bytes > WASM_HEAP_BYTES) {
    problems.push(`the ${o.backend} backend keeps every tensor in a 32-bit wasm heap of at most 4 GiB, and this run needs about ${formatBytes(e.bytes)}` +
      (e.largest.bytes > WASM_HEAP_BYTES ? ` (${e.largest.name} alone is ${formatBytes(e.largest.bytes)}, which can never fit there)` : '') +
      '; the tensorflow backends have no such limit');
  }
  if (!problems.length) return;
  throw new EngramError('E_RESOURCE', `${e.what} cannot run: ${problems.join('; and ')}; ${e.lower}`);
}

/**
 * Whether an ffmpeg lavfi graph ends by itself: some filter has a duration (`d=`/`duration=`), a
 * trim/atrim with an end (`end=`, `end_frame=`, `duration=`…), or it reads a file (`movie=`/`amovie=`
 * without `loop=0`). Sources such as testsrc2, life, color, mandelbrot or sine without one run forever.
 */
export function lavfiHasEnd(graph: string): boolean {
  const filters = graph.split(/[,;]/).map((f) => f.trim());
  return filters.some((f) => {
    const eq = f.indexOf('=');
    const name = (eq < 0 ? f : f.slice(0, eq)).replace(/^\[[^\]]*\]\s*/, '').trim();
    const opts = eq < 0 ? [] : f.slice(eq + 1).split(':').map((o) => o.trim());
    const keys = opts.map((o) => (o.includes('=') ? o.slice(0, o.indexOf('=')).trim() : ''));
    if (keys.includes('d') || keys.includes('duration')) return true;
    if ((name === 'trim' || name === 'atrim') && keys.some((k) => /^(end|end_frame|end_pts|end_sample)$/.test(k))) return true;
    if (name === 'movie' || name === 'amovie') return !opts.some((o) => /^loop\s*=\s*0$/.test(o));
    return false;
  });
}

/** E_BAD_ARGUMENT for a lavfi input with no end and no --frames/--duration. */
export function endlessInputError(path: string): EngramError {
  return new EngramError('E_BAD_ARGUMENT',
    `${path} has no end; pass --frames N or --duration S (a live mode is planned), or give the graph an end (d=S on sources that take it, such as testsrc2 or sine; trim=end_frame=N on any, such as life)`);
}

/** Decoded samples an input of unknown length may grow to: 1/4 of the free memory, at most MAX_INPUT_FRAMES. */
export function inputSampleCap(dim: number, machine: Machine = thisMachine()): number {
  return Math.max(2, Math.min(MAX_INPUT_FRAMES, Math.floor((machine.free * INPUT_MEMORY_SHARE) / bytesPerSample(dim))));
}

/** E_RESOURCE: an input of unknown length went past `cap` decoded samples. */
export function inputCapError(label: string, cap: number, dim: number): EngramError {
  return new EngramError('E_RESOURCE',
    `stopped reading ${label} after ${cap} frames (${formatBytes(cap * bytesPerSample(dim))} with the dataset built from them): ` +
    `engram holds every frame in memory to memorize it and this input has not ended (the cap is ${MAX_INPUT_FRAMES} frames or 1/4 of the free memory); ` +
    'pass --frames N or --duration S to memorize a part of it');
}
