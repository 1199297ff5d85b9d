/**
 * Backend selection, resolved once per process: the first of BACKEND_ORDER that loads, unless the
 * user names one with --backend or ENGRAM_BACKEND (then that one or a clear error).
 */
import os from 'node:os';
import { EngramError } from '../errors.ts';
import { tf } from './tf.ts';
import { FAST_PATH_HINT, WASM_BLAS, blasLoadError, loadBlasAddon, registerWasmBlas } from './native-blas.ts';

export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'wasm-blas', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend name it runs on. */
  tfBackend: string;
  device: string;
  blas: string | null;
  threads: number;
  /** Backends earlier in the order that could not be loaded, and why. */
  skipped: { name: BackendName; reason: string }[];
}

/** Each loader makes its backend available to tfjs or throws saying why it cannot. */
export type BackendLoader = () => Promise<Omit<BackendInfo, 'name' | 'skipped'>>;

const cpuModel = () => os.cpus()[0]?.model?.trim() ?? 'unknown CPU';

async function loadTfjsNode(pkg: string, device: string): Promise<Omit<BackendInfo, 'name' | 'skipped'>> {
  try {
    await import(pkg);
  } catch (e) {
    throw new Error(`${pkg} is not installed or its native library is missing (${String(e).split('\n')[0]})`);
  }
  if (!tf.findBackendFactory('tensorflow')) throw new Error(`${pkg} loaded but registered no backend`);
  return { tfBackend: 'tensorflow', device, blas: 'libtensorflow (Eigen)', threads: os.cpus().length };
}

export const DEFAULT_LOADERS: Record<BackendName, BackendLoader> = {
  'tensorflow-gpu': () => loadTfjsNode('@tensorflow/tfjs-node-gpu', 'CUDA GPU'),
  tensorflow: () => loadTfjsNode('@tensorflow/tfjs-node', cpuModel()),
  'wasm-blas': async () => {
    if (!registerWasmBlas()) {
      throw new Error(`the OpenBLAS addon is not available (${blasLoadError() || "not built"}); to get it, ${FAST_PATH_HINT}`);
    }
    const info = loadBlasAddon()!.info();
    return { tfBackend: WASM_BLAS, device: cpuModel(), blas: info.config.trim(), threads: info.threads };
  },
  wasm: async () => ({ tfBackend: 'wasm', device: cpuModel(), blas: null, threads: 1 }),
  cpu: async () => ({ tfBackend: 'cpu', device: cpuModel(), blas: null, threads: 1 }),
};

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

/**
 * Try backends in order and activate the first that loads and initializes. `preferred` (from
 * --backend, else ENGRAM_BACKEND) restricts the choice to that one backend.
 */
export async function selectBackend(
  preferred: string | undefined = process.env.ENGRAM_BACKEND || undefined,
  loaders: Record<BackendName, BackendLoader> = DEFAULT_LOADERS,
): Promise<BackendInfo> {
  if (preferred !== undefined && !isBackendName(preferred)) {
    throw new EngramError('E_BAD_ARGUMENT', `unknown backend '${preferred}'; choose one of: ${BACKEND_ORDER.join(', ')}`);
  }
  const candidates = preferred ? [preferred] : BACKEND_ORDER;
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    try {
      const info = await loaders[name]();
      if (!(await tf.setBackend(info.tfBackend))) throw new Error(`tfjs could not initialize '${info.tfBackend}'`);
      await tf.ready();
      return { name, ...info, skipped };
    } catch (e) {
      skipped.push({ name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new EngramError('E_BACKEND', preferred
    ? `backend '${preferred}' is not available here (${why}). Leave --backend/ENGRAM_BACKEND unset to pick the fastest available.`
    : `no tensor backend could be loaded (${why})`);
}

/** One line for logs: which backend, what device, which BLAS, how many threads. */
export function describeBackend(b: BackendInfo): string {
  return `backend ${b.name} (tfjs '${b.tfBackend}') on ${b.device}; BLAS ${b.blas ?? 'none'}; ${b.threads} thread(s)`;
}

/** The warning to print when the fast CPU path was skipped in favour of a slower one. */
export function fallbackWarning(b: BackendInfo): string | null {
  const blas = b.skipped.find((s) => s.name === 'wasm-blas');
  if (!blas || b.name === 'tensorflow' || b.name === 'tensorflow-gpu') return null;
  const hint = blas.reason.includes(FAST_PATH_HINT) ? '' : `; to get it, ${FAST_PATH_HINT}`;
  return `warning: fast CPU path unavailable, using ${b.name}: ${blas.reason}${hint}`;
}
