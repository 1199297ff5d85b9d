/**
 * `engram basins`: train a small FC net on a few 2-D points (autoencode: each point a fixed point;
 * cycle: the points visited in order), recall its stored patterns, then colour a grid around the
 * points by the limit each cell reaches and write basins.png — one event stream, also written to
 * events.jsonl, with run.json, like memorize.
 *
 *   points ─▶ dataset ─▶ train… train-end ─▶ recall ─▶ basins ─▶ (basins.png) ─▶ run-end
 */
import { type Observable, concat, defer, from, mergeMap, of } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset, splitByLengths, type Objective } from '../engine/objectives.ts';
import { netTrainer } from '../engine/trainer.ts';
import { unitVector } from '../engine/vectors.ts';
import { EngramError } from '../errors.ts';
import type { BasinsRunConfig as BasinsConfigOfEvents, EngramEvent } from '../events.ts';
import { runJob } from './job.ts';
import { attractors } from '../operators/attractors.ts';
import { basins } from '../operators/basins.ts';
import { runRecall } from '../operators/recall.ts';
import { train } from '../operators/train.ts';
import { PLOT_BUILDERS } from '../sinks/plots/index.ts';

/** What a basins job is given: the run config its run-start records (events.ts), with the command line itself. */
export type BasinsRunConfig = Omit<BasinsConfigOfEvents, 'command'> & { command: string; force: boolean };

const BASINS_PLOTS = PLOT_BUILDERS.filter((b) => b.name === 'basins');

export const DEFAULT_POINTS: [number, number][] = [[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]];

/**
 * "x,y;x,y;…|x,y;…" → the points and, for several sequences (separated by |), their lengths; errors
 * name the offending piece.
 */
export function parsePointSequences(v: string): { points: [number, number][]; sequences: number[] } {
  const parts = v.split('|');
  const seqs = parts.map((part) => parsePoints(part, parts.length > 1 ? 1 : 2));
  const points = seqs.flat();
  const key = (p: [number, number]) => `${p[0]},${p[1]}`;
  if (new Set(points.map(key)).size !== points.length) throw new EngramError('E_BAD_ARGUMENT', '--points has a repeated point; every point must differ');
  if (points.length < 2) throw new EngramError('E_BAD_ARGUMENT', `--points needs at least 2 points (got ${points.length}); pass points like "0.2,0.2;0.8,0.3"`);
  return { points, sequences: seqs.map((q) => q.length) };
}

/** "x,y;x,y;…" → points (at least `min`); errors name the offending piece. */
export function parsePoints(v: string, min = 2): [number, number][] {
  const pts = v.split(';').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const xy = s.split(',').map((t) => Number(t.trim()));
    if (xy.length !== 2 || !xy.every((t) => Number.isFinite(t))) {
      throw new EngramError('E_BAD_ARGUMENT', `--points: '${s}' is not a point x,y; pass points like "0.2,0.2;0.8,0.3"`);
    }
    return [xy[0], xy[1]] as [number, number];
  });
  if (pts.length < min) throw new EngramError('E_BAD_ARGUMENT', `--points needs at least ${min} point${min > 1 ? 's' : ''}${min === 1 ? ' in every sequence' : ''} (got ${pts.length}); pass points like "0.2,0.2;0.8,0.3"`);
  const key = (p: [number, number]) => `${p[0]},${p[1]}`;
  if (new Set(pts.map(key)).size !== pts.length) throw new EngramError('E_BAD_ARGUMENT', '--points has a repeated point; every point must differ');
  return pts;
}

export function basinsRun(cfg: BasinsRunConfig, backend: BackendInfo): Observable<EngramEvent> {
  return runJob({
    runId: cfg.runId, command: cfg.command, outDir: cfg.outDir, mode: { kind: 'new', force: cfg.force },
    start: { backend, config: { ...cfg, command: 'basins' }, runJson: { kind: 'points' } },
    plots: BASINS_PLOTS,
  }, (job) => {
    const points = cfg.points.map((p) => Float32Array.from(p));
    const lengths = cfg.objective === 'cycle' && cfg.sequences ? cfg.sequences : [points.length];
    const sequences = splitByLengths(points, lengths);
    const objective: Objective = sequences.length > 1 ? 'multi-cycle' : cfg.objective;
    const data = makeDataset(objective, sequences);
    const xs = cfg.points.flat();
    const peak = Math.max(Math.max(...xs) - Math.min(...xs), 1e-3);
    const model = job.hold(createFcModel({ kind: 'fc', dim: 2, ...cfg.model }, unitVector(points[0])));
    return concat(
      of(job.ev({ kind: 'dataset', objective: cfg.objective, n: points.length, dim: 2, source: 'points', frame: { width: 2, height: 1, channels: 1 } })),
      of(data).pipe(train({ runId: cfg.runId, trainer: netTrainer(model, cfg.optimizer, { seed: cfg.model.seed }), lossTarget: cfg.lossTarget, maxSteps: cfg.maxSteps })),
      defer(() => from(runRecall({ map: model, sequences, objective }, { runId: cfg.runId, step: job.step, from: 'gaussian', seed: cfg.model.seed, peak }))).pipe(
        mergeMap((out) => concat(
          of(job.ev(out.event)),
          // every stored point (autoencode) or cycle certified by its Jacobian's eigenvalues
          of({ model, sequences, objective, recall: out }).pipe(attractors({ runId: cfg.runId, step: job.step, method: 'full' })),
          of({ map: model, points, objective: cfg.objective, sequences: cfg.objective === 'cycle' ? lengths : undefined, stored: out.stored }).pipe(
            basins({ runId: cfg.runId, step: job.step, size: cfg.grid, steps: cfg.steps }),
          ),
        )),
      ),
    );
  });
}
