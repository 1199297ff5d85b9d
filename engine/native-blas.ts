/**
 * The `wasm-blas` backend: the tfjs wasm backend with its matmul kernels replaced by OpenBLAS sgemm
 * running directly on the wasm heap (engine/native/blas.c). Every other kernel is the wasm one.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from './tf.ts';

export interface BlasAddon {
  gemm(
    heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    aOff: number, aStride: number, bOff: number, bStride: number, cOff: number,
    biasOff: number, biasStride: number, biasMode: number, act: number, alpha: number,
  ): void;
  adam(
    heap: ArrayBuffer, n: number, pOff: number, gOff: number, mOff: number, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, t: number, weightDecay: number,
  ): void;
  sumsq(heap: ArrayBuffer, off: number, n: number): number;
  geev(a: Float64Array, n: number): { re: Float64Array; im: Float64Array };
  dgemm(x: Float64Array, y: Float64Array, r: number, k: number, c: number): Float64Array;
  /** X with A X = B for A (n×n) symmetric positive definite, B n×m (row-major); null when A is not. Absent from addons built before it. */
  posv?(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array | null;
  /** L⁻¹B with G = L Lᵀ (G r×r positive definite, B r×w); null when G is not. Absent from addons built before it. */
  cholL?(g: Float64Array, b: Float64Array, r: number, w: number): Float64Array | null;
  /**
   * Σ_i Q_iᵀ Q_i (w×w), Q_i = bp·D_0(i)·W_1·D_1(i)⋯ (derivs: depth blocks of n×w; ws: the depth − 1
   * hidden-to-hidden matrices, w×w each). Absent from addons built before it.
   */
  jacgram?(bp: Float64Array, derivs: Float32Array, ws: Float64Array, r: number, w: number, n: number, depth: number): Float64Array;
  info(): { config: string; corename: string; threads: number };
}

export const ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), 'native/build/Release/engram_blas.node');
export const FAST_PATH_HINT =
  'install a C compiler and OpenBLAS (Debian/Ubuntu: sudo apt-get install build-essential libopenblas-dev), then run `npm run build:native`; `npx engram doctor` gives the command for this machine';

let addon: BlasAddon | null | undefined;
let loadError = '';

/** The addon, or null when it was not built (see FAST_PATH_HINT). Loaded once. */
export function loadBlasAddon(): BlasAddon | null {
  if (addon !== undefined) return addon;
  if (process.env.ENGRAM_NATIVE === 'off') {
    loadError = 'disabled by ENGRAM_NATIVE=off';
    return (addon = null);
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as BlasAddon;
  } catch (e) {
    addon = null;
    loadError = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  return addon;
}

export function blasLoadError(): string {
  return loadError;
}

/** Minimal view of the wasm backend internals the kernels need. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };
const ACTIVATION_KERNELS: Record<string, string | undefined> = {
  linear: undefined, relu: tf.Relu, relu6: tf.Relu6, leakyrelu: tf.LeakyRelu, sigmoid: tf.Sigmoid, elu: tf.Elu, prelu: tf.Prelu,
};
export const WASM_BLAS = 'wasm-blas';

function offsetOf(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

interface MatmulPlan {
  outShape: number[];
  batch: number;
  m: number;
  n: number;
  k: number;
  aStride: number;
  bStride: number;
}

/** Shapes of op(A)·op(B) for rank ≥ 2 inputs whose batch dims are equal or one of them is 1. */
function planMatmul(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): MatmulPlan | null {
  const ar = a.shape.length, br = b.shape.length;
  const m = ta ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = ta ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = tb ? b.shape[br - 1] : b.shape[br - 2];
  const n = tb ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${ta} and transposeB=${tb} must match.`,
    );
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outer);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return {
    outShape: [...outer, m, n], batch, m, n, k,
    aStride: batchA === 1 ? 0 : m * k, bStride: batchB === 1 ? 0 : k * n,
  };
}

/**
 * How the native pass can add a bias of this shape to the [batch, m, n] product: 1 scalar, 2 one
 * row of n, 3 a full [m, n] matrix (stride 0) or one per batch (stride m·n); null otherwise.
 */
export function nativeBiasMode(shape: number[], plan: { batch: number; m: number; n: number }): { mode: number; stride: number } | null {
  const size = tf.util.sizeFromShape(shape);
  const r = shape.length;
  const lead = shape.slice(0, Math.max(r - 2, 0));
  if (size === 1) return { mode: 1, stride: 0 };
  if (shape[r - 1] === plan.n && size === plan.n) return { mode: 2, stride: 0 };
  if (r >= 2 && shape[r - 2] === plan.m && shape[r - 1] === plan.n) {
    if (lead.every((d) => d === 1)) return { mode: 3, stride: 0 };
    if (tf.util.sizeFromShape(lead) === plan.batch && plan.batch > 1) return { mode: 3, stride: plan.m * plan.n };
  }
  return null;
}

/** Registers the `wasm-blas` backend once. Returns false when the addon or wasm is unavailable. */
export function registerWasmBlas(): boolean {
  if (tf.findBackendFactory(WASM_BLAS)) return true;
  const blas = loadBlasAddon();
  const wasmFactory = tf.findBackendFactory('wasm');
  if (!blas || !wasmFactory) return false;
  tf.registerBackend(WASM_BLAS, wasmFactory, 0);

  const wasmKernels = tf.getKernelsForBackend('wasm');
  const original = (name: string) => wasmKernels.find((k) => k.kernelName === name);
  for (const k of wasmKernels) {
    if (k.kernelName !== tf.BatchMatMul && k.kernelName !== tf._FusedMatMul) {
      tf.registerKernel({ ...k, backendName: WASM_BLAS });
    }
  }

  const wasmMatMul = original(tf.BatchMatMul)!;
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName: WASM_BLAS,
    setupFunc: wasmMatMul.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatmul(a, b, transposeA, transposeB) : null;
      if (!plan) return wasmMatMul.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const out = backend.makeOutput(plan.outShape, 'float32');
      if (plan.batch === 0) return out;
      // makeOutput may grow the heap: read the buffer only after allocating.
      blas.gemm(
        backend.wasm.HEAPU8.buffer as ArrayBuffer, plan.batch, plan.m, plan.n, plan.k, +transposeA, +transposeB,
        offsetOf(backend, a), plan.aStride, offsetOf(backend, b), plan.bStride, offsetOf(backend, out), 0, 0, 0, 0, 0,
      );
      return out;
    },
  });

  const wasmFused = original(tf._FusedMatMul)!;
  const kernel = (name: string) => tf.getKernel(name, WASM_BLAS)!.kernelFunc;
  tf.registerKernel({
    kernelName: tf._FusedMatMul,
    backendName: WASM_BLAS,
    setupFunc: wasmFused.setupFunc,
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as {
        a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo;
      };
      const attrs = args.attrs as unknown as {
        transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number;
      };
      const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatmul(a, b, attrs.transposeA, attrs.transposeB) : null;
      if (!plan) return wasmFused.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const out = backend.makeOutput(plan.outShape, 'float32');
      if (plan.batch === 0) return out;
      const bm = bias ? nativeBiasMode(bias.shape, plan) : { mode: 0, stride: 0 };
      const act = ACTIVATIONS[attrs.activation ?? 'linear'];
      const fuseAll = bm !== null && act !== undefined;
      blas.gemm(
        backend.wasm.HEAPU8.buffer as ArrayBuffer, plan.batch, plan.m, plan.n, plan.k, +attrs.transposeA, +attrs.transposeB,
        offsetOf(backend, a), plan.aStride, offsetOf(backend, b), plan.bStride, offsetOf(backend, out),
        fuseAll && bias ? offsetOf(backend, bias) : 0, fuseAll ? bm.stride : 0, fuseAll ? bm.mode : 0,
        fuseAll ? act : 0, attrs.leakyreluAlpha ?? 0.2,
      );
      if (fuseAll) return out;
      // Bias shapes or activations the native pass does not cover: finish with the backend's own
      // broadcasting Add and activation kernels on the native product.
      const backendArg = args.backend;
      let y: tf.TensorInfo = out;
      const step = (next: tf.TensorInfo) => {
        (backendArg as unknown as { disposeData(id: object): void }).disposeData(y.dataId);
        y = next;
      };
      if (bias) step(kernel(tf.Add)({ inputs: { a: y, b: bias }, backend: backendArg, attrs: {} }) as tf.TensorInfo);
      const activationKernel = ACTIVATION_KERNELS[attrs.activation ?? 'linear'];
      if (activationKernel) {
        const inputs = attrs.activation === 'prelu' ? { x: y, alpha: preluActivationWeights! } : { x: y };
        const kAttrs: tf.NamedAttrMap = attrs.activation === 'leakyrelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {};
        step(kernel(activationKernel)({ inputs, backend: backendArg, attrs: kAttrs }) as tf.TensorInfo);
      }
      return y;
    },
  });
  return true;
}

/**
 * In-place Adam on wasm-blas: one native pass over p, g, m, v instead of ~10 wasm ops per tensor.
 * Returns false (caller uses tensor ops) when the active backend is not wasm-blas or a buffer is
 * shared with another tensor, since in-place writes would then change that tensor too.
 */
export function nativeAdamStep(
  p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable,
  hp: { lr: number; beta1: number; beta2: number; eps: number; t: number; weightDecay: number },
): boolean {
  if (tf.getBackend() !== WASM_BLAS || !addon) return false;
  const backend = tf.backend() as unknown as WasmBackendLike;
  for (const t of [p, m, v]) if (backend.dataIdMap.get(t.dataId)?.refCount !== 1) return false;
  if (!backend.dataIdMap.get(g.dataId)) return false;
  addon.adam(
    backend.wasm.HEAPU8.buffer as ArrayBuffer, p.size, offsetOf(backend, p), offsetOf(backend, g),
    offsetOf(backend, m), offsetOf(backend, v), hp.lr, hp.beta1, hp.beta2, hp.eps, hp.t, hp.weightDecay,
  );
  return true;
}

/** Σ over tensors of Σ x², natively on wasm-blas; null elsewhere (caller uses tensor ops). */
export function nativeSumSquares(ts: tf.Tensor[]): number | null {
  if (tf.getBackend() !== WASM_BLAS || !addon) return null;
  const backend = tf.backend() as unknown as WasmBackendLike;
  if (ts.some((t) => t.dtype !== 'float32' || !backend.dataIdMap.get(t.dataId))) return null;
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  return ts.reduce((acc, t) => acc + addon!.sumsq(heap, offsetOf(backend, t), t.size), 0);
}
