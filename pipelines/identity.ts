/**
 * identity: read one example x̂ → for each (arch, depth): train a fresh network to reproduce x̂
 * (MSE, autoencode) → probe it with x_ρ (operators/identity-probe) → identity event; then the
 * table (identity.txt, identity.csv) and the heatmap (identity.png). One event stream, written to
 * events.jsonl of the run directory like every run.
 *
 *   x̂ ─▶ dataset ─▶ [fc|cnn × depth: train ─▶ probe ─▶ identity]… ─▶ tables, identity.png ─▶ run-end
 */
import { join } from 'node:path';
import { Observable, concat, concatMap, defer, finalize, from, last, map, of, tap } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { createFcModel, type Model, type NetSpec } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';
import { datasetLoss, netTrainer } from '../engine/trainer.ts';
import { createUnetModel } from '../engine/unet.ts';
import { unitVector } from '../engine/vectors.ts';
import { EVENT_SCHEMA_VERSION, type EngramEvent, type EventBody, type IdentityEvent, type TrainEndEvent } from '../events.ts';
import { identityProbe } from '../operators/identity-probe.ts';
import { train } from '../operators/train.ts';
import { openEventLog } from '../sinks/events-jsonl.ts';
import { writeIdentityCsv, writeIdentityText } from '../sinks/identity-table.ts';
import { writePng } from '../sinks/png.ts';
import { identityPlot } from '../sinks/plots/identity.ts';
import { writePlot } from '../sinks/plot.ts';
import { writeJsonAtomic } from '../sinks/run-dir.ts';
import { readOneSample } from './inputs.ts';
import { backendJson } from './memorize.ts';

export type IdentityArch = IdentityEvent['arch'];

export interface IdentityConfig {
  runId: string;
  command: string;
  outDir: string;
  archs: IdentityArch[];
  depths: number[];
  /** An image or video file (its first frame), or lavfi:GRAPH. */
  input: string;
  image: { width: number; height: number; gray: boolean };
  fc: { width: number; activation: string };
  cnn: { channels: number; activation: string };
  bias: boolean;
  init: string;
  optimizer: OptimizerSpec;
  lossTarget: number;
  maxSteps: number;
  rhos: number[];
  perRho: number;
  seed: number;
}

/** The network for one (arch, depth) on an image of the configured shape. */
export function identitySpec(cfg: Pick<IdentityConfig, 'image' | 'fc' | 'cnn' | 'bias' | 'init' | 'seed'>, arch: IdentityArch, depth: number): NetSpec {
  const { width, height, gray } = cfg.image;
  const channels = gray ? 1 : 3;
  const dim = width * height * channels;
  const common = { dim, depth, bias: cfg.bias, init: cfg.init, seed: cfg.seed };
  return arch === 'fc'
    ? { kind: 'fc', ...common, width: cfg.fc.width, activation: cfg.fc.activation }
    : { kind: 'unet', ...common, image: { height, width, channels }, channels: cfg.cnn.channels, activation: cfg.cnn.activation };
}

/**
 * Train on x̂ alone until the MSE reaches the target, the step cap, or a non-finite loss. `steps`
 * counts the updates before the one whose starting loss met the target (or diverged); `loss` is
 * the MSE of the trained net (that of the diverging step when it diverged).
 */
export function fitExample(model: Model<NetSpec>, xhat: Float32Array, cfg: Pick<IdentityConfig, 'runId' | 'optimizer' | 'seed' | 'lossTarget' | 'maxSteps'>): Observable<IdentityEvent['train']> {
  const data = makeDataset('autoencode', [[xhat]]);
  return of(data).pipe(
    train({ runId: cfg.runId, trainer: netTrainer(model, cfg.optimizer, { seed: cfg.seed }), lossTarget: cfg.lossTarget, maxSteps: cfg.maxSteps }),
    last((e): e is TrainEndEvent => e.kind === 'train-end'),
    map((end) => ({
      steps: end.reason === 'step-cap' ? end.step : end.step - 1,
      loss: end.reason === 'diverged' ? end.loss : datasetLoss(model, data),
      reason: end.reason === 'cancelled' ? 'step-cap' : end.reason,
      wallMs: end.wallMs,
    })),
  );
}

export function identityRun(cfg: IdentityConfig, backend: BackendInfo): Observable<EngramEvent> {
  const started = Date.now();
  const log = openEventLog(join(cfg.outDir, 'events.jsonl'), 'new');
  const runJson: Record<string, unknown> = {
    id: cfg.runId, command: cfg.command, kind: 'identity', status: 'running', created: new Date(started).toISOString(),
    input: cfg.input, config: { ...cfg, command: undefined }, backend: backendJson(backend),
    reduction: 'mean squared error over all elements', corr: 'cosine similarity',
  };
  const saveRunJson = (extra: Record<string, unknown> = {}) =>
    writeJsonAtomic(join(cfg.outDir, 'run.json'), Object.assign(runJson, extra, { updated: new Date().toISOString() }));
  const ev = (body: EventBody): EngramEvent => ({ ...body, runId: cfg.runId, step: 0, time: Date.now() });
  const results: IdentityEvent[] = [];
  const { width, height, gray } = cfg.image;
  const channels = gray ? 1 : 3;

  const probeOne = (xhat: Float32Array, arch: IdentityArch, depth: number) =>
    defer(() => {
      const spec = identitySpec(cfg, arch, depth);
      const model: Model<NetSpec> = spec.kind === 'fc' ? createFcModel(spec, unitVector(xhat)) : createUnetModel(spec);
      return fitExample(model, xhat, cfg).pipe(
        concatMap((train) => of({ arch, depth, params: model.paramCount, map: model, xhat, train }).pipe(
          identityProbe({ runId: cfg.runId, rhos: cfg.rhos, perRho: cfg.perRho, seed: cfg.seed + 1 }),
        )),
        finalize(() => model.dispose()),
      );
    });

  const finish = () => defer(async () => {
    writeIdentityCsv(join(cfg.outDir, 'identity.csv'), results);
    writeIdentityText(join(cfg.outDir, 'identity.txt'), results);
    const spec = identityPlot.build(results, cfg.outDir);
    if (spec) await writePlot(join(cfg.outDir, identityPlot.file), spec);
    saveRunJson({
      status: 'complete',
      summary: results.map((e) => ({ arch: e.arch, depth: e.depth, label: e.label, distance: e.distance, train: e.train })),
    });
    return ev({ kind: 'run-end', status: 'complete', wallMs: Date.now() - started });
  });

  const run$ = defer(() => {
    saveRunJson();
    return concat(
      of(ev({ kind: 'run-start', command: cfg.command, backend: backendJson(backend), schemaVersion: EVENT_SCHEMA_VERSION, config: { ...cfg, command: 'identity' } })),
      from(readOneSample(cfg.input, { kind: 'images', width, height, channels, fps: 1 })).pipe(
        concatMap((xhat) => {
          writePng(join(cfg.outDir, 'input.png'), {
            pixels: Uint8Array.from(xhat, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)), width, height, channels,
          });
          const pairs = cfg.archs.flatMap((arch) => cfg.depths.map((depth) => [arch, depth] as const));
          return concat(
            of(ev({ kind: 'dataset', objective: 'autoencode', n: 1, dim: xhat.length, source: cfg.input, frame: { width, height, channels } })),
            from(pairs).pipe(concatMap(([arch, depth]) => probeOne(xhat, arch, depth)), tap((e) => results.push(e))),
            finish(),
          );
        }),
      ),
    );
  });

  return new Observable<EngramEvent>((sub) => {
    let done = false;
    const s = run$.pipe(tap((e) => log.write(e))).subscribe({
      next: (e) => sub.next(e),
      error: (err) => {
        done = true;
        const msg = err instanceof Error ? err.message : String(err);
        log.write(ev({ kind: 'log', level: 'error', message: msg }));
        log.write(ev({ kind: 'run-end', status: 'failed', wallMs: Date.now() - started }));
        log.close();
        saveRunJson({ status: 'failed', error: msg });
        sub.error(err);
      },
      complete: () => {
        done = true;
        log.close();
        sub.complete();
      },
    });
    return () => {
      s.unsubscribe();
      if (!done) {
        log.write(ev({ kind: 'run-end', status: 'cancelled', wallMs: Date.now() - started }));
        log.close();
        saveRunJson({ status: 'cancelled' });
      }
    };
  });
}
