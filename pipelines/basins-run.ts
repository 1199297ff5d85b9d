/**
 * `engram basins`: train a small FC net on a few 2-D points (autoencode: each point a fixed point;
 * cycle: the points visited in order), recall its stored patterns, then colour a grid around the
 * points by the limit each cell reaches and write basins.png — one event stream, also written to
 * events.jsonl, with run.json, like memorize.
 *
 *   points ─▶ dataset ─▶ train… train-end ─▶ recall ─▶ basins ─▶ (basins.png) ─▶ run-end
 */
import { join } from 'node:path';
import { Observable, concat, defer, from, map, mergeMap, of, tap } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { createFcModel, type Model, type ModelSpec } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';
import { netTrainer } from '../engine/trainer.ts';
import { unitVector } from '../engine/vectors.ts';
import { EngramError } from '../errors.ts';
import { EVENT_SCHEMA_VERSION, type EngramEvent, type EventBody } from '../events.ts';
import { recordRun } from './record-run.ts';
import { basins } from '../operators/basins.ts';
import { runRecall } from '../operators/recall.ts';
import { train } from '../operators/train.ts';
import { openEventLog } from '../sinks/events-jsonl.ts';
import { writePlot } from '../sinks/plot.ts';
import { basinsPlotSpec } from '../sinks/plots/basins.ts';
import { writeJsonAtomic } from '../sinks/run-dir.ts';
import { backendJson } from './memorize.ts';

export interface BasinsRunConfig {
  runId: string;
  command: string;
  outDir: string;
  points: [number, number][];
  objective: 'autoencode' | 'cycle';
  model: Omit<ModelSpec, 'kind' | 'dim'>;
  optimizer: OptimizerSpec;
  lossTarget: number;
  maxSteps: number;
  /** Grid cells per side and iterations per cell. */
  grid: number;
  steps: number;
}

export const DEFAULT_POINTS: [number, number][] = [[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]];

/** "x,y;x,y;…" → points; errors name the offending piece. */
export function parsePoints(v: string): [number, number][] {
  const pts = v.split(';').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const xy = s.split(',').map((t) => Number(t.trim()));
    if (xy.length !== 2 || !xy.every((t) => Number.isFinite(t))) {
      throw new EngramError('E_BAD_ARGUMENT', `--points: '${s}' is not a point x,y; pass points like "0.2,0.2;0.8,0.3"`);
    }
    return [xy[0], xy[1]] as [number, number];
  });
  if (pts.length < 2) throw new EngramError('E_BAD_ARGUMENT', `--points needs at least 2 points (got ${pts.length}); pass points like "0.2,0.2;0.8,0.3"`);
  const key = (p: [number, number]) => `${p[0]},${p[1]}`;
  if (new Set(pts.map(key)).size !== pts.length) throw new EngramError('E_BAD_ARGUMENT', '--points has a repeated point; every point must differ');
  return pts;
}

export function basinsRun(cfg: BasinsRunConfig, backend: BackendInfo): Observable<EngramEvent> {
  const started = Date.now();
  let step = 0;
  let model: Model | undefined;
  const ev = (body: EventBody): EngramEvent => ({ ...body, runId: cfg.runId, step, time: Date.now() });
  const runJson: Record<string, unknown> = {
    id: cfg.runId, command: cfg.command, status: 'running', created: new Date(started).toISOString(), kind: 'points',
    config: { ...cfg, command: undefined }, backend: backendJson(backend),
  };
  const saveRunJson = (extra: Record<string, unknown> = {}) =>
    writeJsonAtomic(join(cfg.outDir, 'run.json'), Object.assign(runJson, extra, { updated: new Date().toISOString() }));
  const points = cfg.points.map((p) => Float32Array.from(p));
  const data = makeDataset(cfg.objective, [points]);
  const xs = cfg.points.flat();
  const peak = Math.max(Math.max(...xs) - Math.min(...xs), 1e-3);

  const run$ = defer(() => {
    saveRunJson();
    model = createFcModel({ kind: 'fc', dim: 2, ...cfg.model }, unitVector(points[0]));
    return concat(
      of(ev({ kind: 'run-start', command: cfg.command, backend: backendJson(backend), schemaVersion: EVENT_SCHEMA_VERSION, config: { ...cfg, command: 'basins' } })),
      of(ev({ kind: 'dataset', objective: cfg.objective, n: points.length, dim: 2, source: 'points', frame: { width: 2, height: 1, channels: 1 } })),
      of(data).pipe(
        train({ runId: cfg.runId, trainer: netTrainer(model, cfg.optimizer, { seed: cfg.model.seed }), lossTarget: cfg.lossTarget, maxSteps: cfg.maxSteps }),
        tap((e) => (step = e.step)),
      ),
      defer(() => from(runRecall({ map: model!, sequences: [points], objective: cfg.objective }, { runId: cfg.runId, step, from: 'gaussian', seed: cfg.model.seed, peak }))).pipe(
        mergeMap((out) => concat(
          of(ev(out.event)),
          of({ map: model!, points, objective: cfg.objective, stored: out.stored }).pipe(
            basins({ runId: cfg.runId, step, size: cfg.grid, steps: cfg.steps }),
            mergeMap((b) => {
              const e = ev(b);
              return concat(of(e), from(writePlot(join(cfg.outDir, 'basins.png'), basinsPlotSpec([e])!)).pipe(
                map((p) => ev({ kind: 'artifact', what: 'plot', path: p }))));
            }),
          ),
        )),
      ),
      defer(() => {
        saveRunJson({ status: 'complete' });
        return of(ev({ kind: 'run-end', status: 'complete', wallMs: Date.now() - started }));
      }),
    );
  });

  return defer(() => {
    const log = openEventLog(join(cfg.outDir, 'events.jsonl'), 'new');
    return recordRun(run$, {
      write: (e) => log.write(e), ev, saveRunJson, started,
      release: () => {
        log.close();
        model?.dispose();
      },
    });
  });
}
