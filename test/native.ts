/**
 * Whether the OpenBLAS addon can be used in this test run. Without it (a machine with no compiler
 * or OpenBLAS, or ENGRAM_NATIVE=off) the wasm-blas tests are skipped — unless ENGRAM_REQUIRE_NATIVE=1,
 * as in CI, where a missing addon must fail loudly instead.
 */
import { loadBlasAddon } from '../engine/native-blas.ts';

export const nativeAvailable = loadBlasAddon() !== null;
export const requireNative = process.env.ENGRAM_REQUIRE_NATIVE === '1';
/** Run native-only tests: when the addon loads, or when CI demands it (they then fail with the reason). */
export const runNative = nativeAvailable || requireNative;
/** The backends a test file should cover: wasm-blas only where the addon is. */
export const withNative = <T extends string>(others: T[]): ('wasm-blas' | T)[] => (runNative ? ['wasm-blas', ...others] : others);
