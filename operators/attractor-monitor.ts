/**
 * attractorMonitor: the attractor certificate of docs/math.md §5 while the memory forms. Between training
 * steps (synchronously, inside the train-step notification, so it sees the weights of exactly that
 * step) it certifies a subset of at most `maxExamples` training examples on the training model:
 * autoencode — ρ of J_f at the example's stored point (x_i iterated `settle` steps towards its fixed
 * point, fewer when engine/limits.ts finds it sooner); cycle — ρ of J_f(x_n)⋯J_f(x_1) around each
 * training sequence. Per example: ρ, the top-k eigenvalues (complex), attractor yes/no; over
 * examples: x of n, a histogram of ρ and a histogram of the top 1% of |λ| pooled over the examples.
 * Once more after the last step (train-end).
 *
 * Cadence: `every: N` runs every N steps; `every: 'auto'` (the default) keeps the monitor within
 * `budget` (default 0.15) of the training time (Σ stepMs), the end run included: after the first
 * run (once training has taken `firstAfterMs`, default 5000 ms) it runs when the monitor's total so
 * far plus two more runs at the last run's cost (this one and the end's) fit in budget · training
 * ms, and budget · (training ms since the last run) covers one run (no bursts). Each event records
 * its own ms, the monitor's total and the training time, so the overhead is visible.
 *
 *   train:    -s-s-s-s-s-s-s-s-E|
 *   monitor:  -----m-------m---m|     (m = attractor-monitor; the last one is phase 'end')
 *
 * @example
 *   trainEvents$.pipe(attractorMonitor({ runId, model, sequences, objective: 'cycle' }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { certifyByArnoldi, certifyCycle, chooseEigMethod, type Certificate, type EigMethodChoice } from '../engine/certify.ts';
import { findLimitsSync, lastState } from '../engine/limits.ts';
import type { Model } from '../engine/model.ts';
import type { AttractorMonitorEvent, AttractorMonitorItem, Histogram } from '../events.ts';
import type { TrainEvent } from './train.ts';

export interface MonitorOptions {
  runId: string;
  model: Model;
  sequences: Float32Array[][];
  objective: 'autoencode' | 'cycle' | 'multi-cycle';
  /** Every N steps, or 'auto' (default): within `budget` of the training time. */
  every?: number | 'auto';
  /** Fraction of training time the monitor may take with every: 'auto' (default 0.15). */
  budget?: number;
  /** Training time before the first 'auto' run, ms (default 5000). */
  firstAfterMs?: number;
  /** At most this many examples (autoencode) or cycles are certified, the first ones (default 8). */
  maxExamples?: number;
  topK?: number;
  /** auto (default) means arnoldi here: the monitor reports top-k and must stay cheap. */
  method?: EigMethodChoice;
  /** Autoencode: at most this many iterations from x_i towards its fixed point before certifying (default 3). */
  settle?: number;
}

/** Bins of the two histograms. */
export const HIST_BINS = 20;
/** Arnoldi computes at most this many |λ| per example for the pooled histogram. */
const ARNOLDI_POOL_CAP = 16;

export function attractorMonitor(opts: MonitorOptions): OperatorFunction<TrainEvent, AttractorMonitorEvent> {
  const every = opts.every ?? 'auto', budget = opts.budget ?? 0.15, firstAfter = opts.firstAfterMs ?? 5000;
  return (source) =>
    new Observable<AttractorMonitorEvent>((sub) => {
      let trainMs = 0, totalMs = 0, lastCost = 0, lastAt = 0, runs = 0;
      let last: { step: number; snap: MonitorSnapshot } | null = null;
      const run = (step: number, phase: 'cadence' | 'end') => {
        // the last step may have had a cadence run already: same weights, so the end reuses it
        const reuse = phase === 'end' && last?.step === step;
        const snap = reuse ? { ...last!.snap, ms: 0 } : monitorSnapshot(opts.model, opts.sequences, opts.objective, opts);
        last = { step, snap };
        totalMs += snap.ms;
        if (!reuse) lastCost = snap.ms;
        lastAt = trainMs;
        runs++;
        sub.next({ ...snap, kind: 'attractor-monitor', runId: opts.runId, step, time: Date.now(), phase, totalMs, trainMs });
      };
      return source.subscribe({
        next: (e) => {
          try {
            if (e.kind === 'train-step') {
              trainMs += e.stepMs;
              if (!Number.isFinite(e.loss)) return;
              const due = every === 'auto'
                ? (runs === 0 ? trainMs >= firstAfter
                  : totalMs + 2 * lastCost <= budget * trainMs && budget * (trainMs - lastAt) >= lastCost)
                : e.step % every === 0;
              if (due) run(e.step, 'cadence');
            } else if (e.kind === 'train-end' && e.reason !== 'diverged') {
              run(e.step, 'end');
            }
          } catch (err) {
            sub.error(err);
          }
        },
        error: (err) => sub.error(err),
        complete: () => sub.complete(),
      });
    });
}

export type MonitorSnapshot = Omit<AttractorMonitorEvent, 'kind' | 'runId' | 'step' | 'time' | 'phase' | 'totalMs' | 'trainMs'>;

/** Certify up to `maxExamples` examples/cycles of the dataset on the model as it is now. */
export function monitorSnapshot(
  model: Model, sequences: Float32Array[][], objective: MonitorOptions['objective'],
  opts: Pick<MonitorOptions, 'maxExamples' | 'topK' | 'method' | 'settle'> = {},
): MonitorSnapshot {
  const t0 = performance.now();
  const topK = opts.topK ?? 5, maxN = opts.maxExamples ?? 8, settle = opts.settle ?? 3;
  const d = model.spec.dim;
  const chosen: { index: number; what: string; points: Float32Array[] }[] = [];
  let total: number;
  if (objective === 'autoencode') {
    const all = sequences.flat();
    total = all.length;
    const picked = all.slice(0, maxN);
    // the stored point x*_i is the limit of iterating from x_i: a few steps (fewer when it is reached
    // sooner) get close to it
    const limits = findLimitsSync(model, picked, { maxIterations: settle, maxPeriod: 1 });
    picked.forEach((_, i) => chosen.push({ index: i, what: `sample ${i}`, points: [lastState(limits[i])] }));
  } else {
    total = sequences.length;
    sequences.slice(0, maxN).forEach((seq, s) => chosen.push({ index: s, what: `sequence ${s} (${seq.length} samples)`, points: seq }));
  }
  // the monitor reports top-k, so its 'auto' is Arnoldi (factored W×W maps for FC nets with W < d):
  // ~0.5 s for a 48-frame cycle at d = 1024, W = 512, where the dense W×W product takes ~7 s
  const method = !opts.method || opts.method === 'auto' ? 'arnoldi' : chooseEigMethod(model, opts.method);
  const poolSize = Math.max(1, Math.ceil(d / 100));
  let certs: Certificate[];
  if (method === 'arnoldi') {
    // all examples in lockstep: one batched VJP per Arnoldi step
    certs = certifyByArnoldi(model, chosen.map((c) => c.points), Math.max(topK, Math.min(poolSize, ARNOLDI_POOL_CAP)));
  } else {
    certs = chosen.map((c) => certifyCycle(model, c.points, topK, method));
  }
  const items: AttractorMonitorItem[] = chosen.map((c, i) => ({
    index: c.index, what: c.what, period: c.points.length, rho: certs[i].rho, top: certs[i].top.slice(0, topK),
    attractor: certs[i].attractor, ...(certs[i].converged !== undefined ? { converged: certs[i].converged } : {}),
  }));
  const perItem = method === 'arnoldi' ? Math.max(topK, Math.min(poolSize, ARNOLDI_POOL_CAP)) : poolSize;
  const pool = certs.flatMap((c) => Array.from(c.moduli ?? []).sort((a, b) => b - a).slice(0, perItem));
  const unit = objective === 'autoencode' ? 'example' : 'cycle product';
  return {
    method, solver: certs[0]?.solver ?? 'lapack', items, attractors: items.filter((i) => i.attractor).length, n: items.length, total,
    rhoHist: histogram(items.map((i) => i.rho)), topEigHist: histogram(pool),
    pooled: method === 'arnoldi' && perItem < poolSize
      ? `top ${perItem} |λ| of each ${unit} by Arnoldi (1% of d = ${d} would be ${poolSize})`
      : `top ${perItem} |λ| of each ${unit} (1% of d = ${d})`,
    ms: performance.now() - t0,
  };
}

/** HIST_BINS equal bins over [0, max(1, largest value)]: 1 (the attractor threshold) is always in range. */
export function histogram(values: number[], bins = HIST_BINS): Histogram {
  const finite = values.filter(Number.isFinite);
  const hi = Math.max(1, ...finite);
  const edges = Array.from({ length: bins + 1 }, (_, i) => (hi * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.max(0, Math.floor((v / hi) * bins)))]++;
  return { edges, counts };
}
