import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runNative } from '../native.ts';
import { tf } from '../../engine/tf.ts';
import {
  BACKEND_ORDER, DEFAULT_LOADERS, describeBackend, fallbackWarning, isBackendName, selectBackend,
  type BackendLoader, type BackendName,
} from '../../engine/backend.ts';
import { EngramError } from '../../errors.ts';

const failing = (why: string): BackendLoader => async () => {
  throw new Error(why);
};

/** Real loaders, with the named ones replaced by loaders that fail saying why. */
function loadersWith(fail: Partial<Record<BackendName, string>>, base = DEFAULT_LOADERS): Record<BackendName, BackendLoader> {
  const out = { ...base };
  for (const [name, why] of Object.entries(fail) as [BackendName, string][]) out[name] = failing(why);
  return out;
}

async function engramError(p: Promise<unknown>): Promise<EngramError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngramError);
    return e as EngramError;
  }
  throw new Error('expected an EngramError, got success');
}

const NO_GPU = 'no CUDA here', NO_TF = 'tfjs-node missing';

// These tests are about the order itself: ENGRAM_BACKEND set in the environment (a user's, or a
// developer's shell) would otherwise pin every default choice.
const envBackend = process.env.ENGRAM_BACKEND;
beforeAll(() => {
  delete process.env.ENGRAM_BACKEND;
});
afterAll(() => {
  if (envBackend !== undefined) process.env.ENGRAM_BACKEND = envBackend;
});

afterEach(() => {
  vi.doUnmock('../../engine/native-blas.ts');
  vi.resetModules();
});

describe('selectBackend', () => {
  it('BACKEND_ORDER is fastest first', () => {
    expect([...BACKEND_ORDER]).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm-blas', 'wasm', 'cpu']);
    for (const n of BACKEND_ORDER) expect(isBackendName(n)).toBe(true);
    expect(isBackendName('webgl')).toBe(false);
  });

  it.skipIf(!runNative)('picks wasm-blas when the tensorflow loaders fail, listing them in order with reasons', async () => {
    const b = await selectBackend(undefined, loadersWith({ 'tensorflow-gpu': NO_GPU, tensorflow: NO_TF }));
    expect(b.name).toBe('wasm-blas');
    expect(b.tfBackend).toBe('wasm-blas');
    expect(tf.getBackend()).toBe('wasm-blas');
    expect(b.skipped).toEqual([
      { name: 'tensorflow-gpu', reason: NO_GPU },
      { name: 'tensorflow', reason: NO_TF },
    ]);
    expect(b.blas).toBeTruthy();
    expect(b.threads).toBeGreaterThanOrEqual(1);
    expect(fallbackWarning(b)).toBeNull();
    const line = describeBackend(b);
    expect(line).toContain('backend wasm-blas');
    expect(line).toContain(`${b.threads} thread(s)`);
    // the fast path really is active: a matmul runs and is right
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
    expect(Array.from(y)).toEqual([19, 22, 43, 50]);
  });

  it('falls back to wasm when wasm-blas fails too, and warns', async () => {
    const b = await selectBackend(undefined, loadersWith({ 'tensorflow-gpu': NO_GPU, tensorflow: NO_TF, 'wasm-blas': 'addon broke' }));
    expect(b.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(b.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm-blas']);
    const w = fallbackWarning(b);
    expect(w).toContain('using wasm');
    expect(w).toContain('addon broke');
    // whatever broke, the warning says how to get the fast path
    expect(w).toContain('libopenblas-dev');
  });

  it('when the addon is not built, the warning says how to get the fast path', async () => {
    vi.doMock('../../engine/native-blas.ts', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../engine/native-blas.ts')>()),
      registerWasmBlas: () => false,
      blasLoadError: () => 'Cannot find module engram_blas.node',
    }));
    vi.resetModules();
    const fresh = await import('../../engine/backend.ts');
    const b = await fresh.selectBackend(undefined, loadersWith({ 'tensorflow-gpu': NO_GPU, tensorflow: NO_TF }, fresh.DEFAULT_LOADERS));
    expect(b.name).toBe('wasm');
    const blas = b.skipped.find((s) => s.name === 'wasm-blas');
    expect(blas?.reason).toContain('Cannot find module engram_blas.node');
    const w = fresh.fallbackWarning(b)!;
    expect(w).toContain('fast CPU path unavailable');
    expect(w).toContain('libopenblas-dev');
    expect(w).toContain('npm run build:native');
    expect(w).toContain('`npx engram doctor` gives the command for this machine');
  });

  it('goes on to cpu when everything faster fails', async () => {
    const b = await selectBackend(undefined, loadersWith({
      'tensorflow-gpu': NO_GPU, tensorflow: NO_TF, 'wasm-blas': 'x', wasm: 'no wasm',
    }));
    expect(b.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(b.skipped.map((s) => s.reason)).toEqual([NO_GPU, NO_TF, 'x', 'no wasm']);
    expect(fallbackWarning(b)).toContain('using cpu');
  });

  it('skips a backend whose loader succeeds but that tfjs cannot initialize', async () => {
    const loaders = loadersWith({ 'tensorflow-gpu': NO_GPU, tensorflow: NO_TF });
    loaders['wasm-blas'] = async () => ({ tfBackend: 'no-such-tfjs-backend', device: 'x', blas: null, threads: 1 });
    const b = await selectBackend(undefined, loaders);
    expect(b.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(b.skipped).toHaveLength(3);
    expect(b.skipped[2].name).toBe('wasm-blas');
    expect(b.skipped[2].reason).toMatch(/no-such-tfjs-backend/);
  });

  it('an explicit backend is used alone, even when faster ones would load', async () => {
    const b = await selectBackend('cpu');
    expect(b.name).toBe('cpu');
    expect(b.skipped).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
    const w = await selectBackend('wasm');
    expect(w.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an explicit backend that fails is E_BACKEND naming it and the reason', async () => {
    const loaders = loadersWith({ tensorflow: NO_TF });
    const e = await engramError(selectBackend('tensorflow', loaders));
    expect(e.code).toBe('E_BACKEND');
    expect(e.message).toContain("backend 'tensorflow' is not available");
    expect(e.message).toContain(NO_TF);
    // it did not silently fall back to another backend
    const e2 = await engramError(selectBackend('wasm-blas', loadersWith({ 'wasm-blas': 'gone' })));
    expect(e2.code).toBe('E_BACKEND');
  });

  it('reads ENGRAM_BACKEND when no backend is passed', async () => {
    const old = process.env.ENGRAM_BACKEND;
    try {
      process.env.ENGRAM_BACKEND = 'cpu';
      expect((await selectBackend()).name).toBe('cpu');
      process.env.ENGRAM_BACKEND = 'nope';
      expect((await engramError(selectBackend())).code).toBe('E_BAD_ARGUMENT');
    } finally {
      if (old === undefined) delete process.env.ENGRAM_BACKEND;
      else process.env.ENGRAM_BACKEND = old;
    }
  });

  it('an unknown backend name is E_BAD_ARGUMENT listing the choices', async () => {
    const e = await engramError(selectBackend('webgpu'));
    expect(e.code).toBe('E_BAD_ARGUMENT');
    expect(e.message).toContain("'webgpu'");
    expect(e.message).toContain(BACKEND_ORDER.join(', '));
  });

  it('E_BACKEND listing every reason when nothing loads', async () => {
    const all = Object.fromEntries(BACKEND_ORDER.map((n) => [n, `${n} failed`])) as Record<BackendName, string>;
    const e = await engramError(selectBackend(undefined, loadersWith(all)));
    expect(e.code).toBe('E_BACKEND');
    for (const n of BACKEND_ORDER) expect(e.message).toContain(`${n}: ${n} failed`);
  });
});
