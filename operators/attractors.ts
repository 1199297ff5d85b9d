/**
 * attractors: certify what recall found (docs/math.md §5). For each stored memory — the cycle through a
 * sequence's stored patterns in order, or each stored fixed point of an autoencoder — and for the
 * limit recall reached, the spectral radius ρ of the Jacobian (of its product around the cycle),
 * the top-k eigenvalues and attractor yes/no. Bounded cost: at most `maxItems` memories.
 *
 *   recalled:  --R|
 *   certify:   ----A|       (A = attractors event)
 *
 * @example
 *   of({ model, sequences, objective: 'cycle', recall: out }).pipe(attractors({ runId }))
 */
import { Observable, type OperatorFunction, mergeMap } from 'rxjs';
import { certifyCycle, chooseEigMethod, JS_SOLVER_LIMIT, type EigMethodChoice } from '../engine/certify.ts';
import { FAST_PATH_HINT, loadBlasAddon } from '../engine/native-blas.ts';
import type { Model } from '../engine/model.ts';
import type { AttractorEvent, AttractorItem } from '../events.ts';
import type { RecallOutput } from './recall.ts';

export interface AttractorInput {
  model: Model;
  sequences: Float32Array[][];
  objective: 'autoencode' | 'cycle' | 'multi-cycle';
  recall: RecallOutput;
}

export interface AttractorOptions {
  runId: string;
  step?: number;
  topK?: number;
  /** At most this many stored memories are certified (the first ones), to bound the cost. */
  maxItems?: number;
  /** full, reduced, arnoldi or auto (default; the rule is in engine/certify.ts). */
  method?: EigMethodChoice;
}

export function attractors(opts: AttractorOptions): OperatorFunction<AttractorInput, AttractorEvent> {
  return mergeMap((input) => new Observable<AttractorEvent>((sub) => {
    // one synchronous computation; deferred a tick so a subscriber can still unsubscribe first
    const t = setImmediate(() => {
      try {
        sub.next(certifyMemories(input, opts));
        sub.complete();
      } catch (e) {
        sub.error(e);
      }
    });
    return () => clearImmediate(t);
  }));
}

export { JS_SOLVER_LIMIT };

export function certifyMemories(input: AttractorInput, opts: AttractorOptions): AttractorEvent {
  const t0 = performance.now();
  const topK = opts.topK ?? 5, maxItems = opts.maxItems ?? 32;
  const memories: { what: string; points: Float32Array[] }[] = [];
  let base = 0;
  input.sequences.forEach((seq, s) => {
    const stored = input.recall.stored.slice(base, base + seq.length);
    if (input.objective === 'autoencode') {
      stored.forEach((x, j) => x && memories.push({ what: `sample ${base + j}`, points: [x] }));
    } else if (stored.every((x) => x !== null)) {
      memories.push({ what: `sequence ${s} (${seq.length} samples)`, points: stored as Float32Array[] });
    }
    base += seq.length;
  });
  const chosen = memories.slice(0, maxItems);
  const { dim: d, width: w } = input.model.spec;
  const picked = chooseEigMethod(input.model, opts.method);
  const n = picked === 'full' ? d : picked === 'reduced' ? w : 0;
  if (!loadBlasAddon() && n > JS_SOLVER_LIMIT) {
    // a JS dense eigen-solver takes minutes at this size (docs/math.md §5): say so instead of stalling
    return {
      kind: 'attractors', runId: opts.runId, step: opts.step ?? 0, time: Date.now(), method: picked,
      solver: 'ml-matrix', items: [], attractors: 0, stored: 0, ms: performance.now() - t0,
      skipped: `a ${n}×${n} eigenproblem needs LAPACK through the OpenBLAS addon (${FAST_PATH_HINT}); without it engram certifies up to ${JS_SOLVER_LIMIT}×${JS_SOLVER_LIMIT} densely (--eig-method arnoldi or auto works at any size)`,
    };
  }
  let method: AttractorEvent['method'] = 'reduced', solver: AttractorEvent['solver'] = 'lapack';
  const item = (what: string, points: Float32Array[]): AttractorItem => {
    const c = certifyCycle(input.model, points, topK, opts.method);
    [method, solver] = [c.method, c.solver];
    return { what, period: points.length, rho: c.rho, top: c.top, attractor: c.attractor };
  };
  const items = chosen.map((m) => item(m.what, m.points));
  // the recalled limit needs its own certificate only when it is not one of the stored memories
  const e = input.recall.event;
  const isStored = input.objective === 'autoencode' ? e.framesMatched === 1 && e.period === 1 : e.orderCorrect === true;
  if ((e.rule === 'cycle' || e.rule === 'fixed-point') && !isStored) {
    items.push(item(`recalled limit (from ${e.from}; not a stored memory)`, input.recall.states));
  }
  return {
    kind: 'attractors', runId: opts.runId, step: opts.step ?? 0, time: Date.now(), method, solver, items,
    attractors: items.slice(0, chosen.length).filter((i) => i.attractor).length, stored: chosen.length,
    ms: performance.now() - t0,
  };
}
