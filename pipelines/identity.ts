/**
 * identity: read one example x̂ → for each (arch, depth): train a fresh network to reproduce x̂
 * (MSE, autoencode) → probe it with x_ρ (operators/identity-probe) → identity event; then the
 * table (identity.txt, identity.csv) and the heatmap (identity.png). One event stream, written to
 * events.jsonl of the run directory like every run.
 *
 *   x̂ ─▶ dataset ─▶ [fc|cnn × depth: train ─▶ probe ─▶ identity]… ─▶ tables, identity.png ─▶ run-end
 */
import { join } from 'node:path';
import { type Observable, concat, concatMap, defer, finalize, from, last, map, of, tap } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { createFcModel, type Model, type NetSpec } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { datasetLoss, netTrainer } from '../engine/trainer.ts';
import { createUnetModel } from '../engine/unet.ts';
import { unitVector } from '../engine/vectors.ts';
import type { EngramEvent, IdentityEvent, IdentityRunConfig, TrainEndEvent } from '../events.ts';
import { identityProbe } from '../operators/identity-probe.ts';
import { train } from '../operators/train.ts';
import { writeIdentityCsv, writeIdentityText } from '../sinks/identity-table.ts';
import { writePng } from '../sinks/png.ts';
import { identityPlot } from '../sinks/plots/identity.ts';
import { PLOT_BUILDERS } from '../sinks/plots/index.ts';
import { readOneSample } from './inputs.ts';
import { runJob } from './job.ts';

export type IdentityArch = IdentityEvent['arch'];

// What the CLI needs of the probe: its ρ grid, and the tables it prints (the same text as identity.txt).
export { rhoGrid } from '../operators/identity-probe.ts';
export { formatIdentitySummary, formatIdentityTable } from '../sinks/identity-table.ts';

/** What an identity job is given: the run config its run-start records (events.ts), with the command line itself. */
export type IdentityConfig = Omit<IdentityRunConfig, 'command'> & { command: string; force: boolean };

const IDENTITY_PLOTS = PLOT_BUILDERS.filter((b) => b.name === identityPlot.name);

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
  return runJob({
    runId: cfg.runId, command: cfg.command, outDir: cfg.outDir, mode: { kind: 'new', force: cfg.force },
    start: {
      backend, config: { ...cfg, command: 'identity' },
      runJson: { kind: 'identity', input: cfg.input, reduction: 'mean squared error over all elements', corr: 'cosine similarity' },
    },
    plots: IDENTITY_PLOTS,
  }, (job) => {
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

    const tables = () => defer(() => {
      writeIdentityCsv(join(cfg.outDir, 'identity.csv'), results);
      writeIdentityText(join(cfg.outDir, 'identity.txt'), results);
      job.saveRunJson({ summary: results.map((e) => ({ arch: e.arch, depth: e.depth, label: e.label, distance: e.distance, train: e.train })) });
      return of<EngramEvent>();
    });

    return from(readOneSample(cfg.input, { kind: 'images', width, height, channels, fps: 1 })).pipe(
      concatMap((xhat) => {
        writePng(join(cfg.outDir, 'input.png'), {
          pixels: Uint8Array.from(xhat, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)), width, height, channels,
        });
        const pairs = cfg.archs.flatMap((arch) => cfg.depths.map((depth) => [arch, depth] as const));
        return concat(
          of(job.ev({ kind: 'dataset', objective: 'autoencode', n: 1, dim: xhat.length, source: cfg.input, frame: { width, height, channels } })),
          from(pairs).pipe(concatMap(([arch, depth]) => probeOne(xhat, arch, depth)), tap((e) => results.push(e))),
          tables(),
        );
      }),
    );
  });
}
