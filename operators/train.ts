/**
 * train: Dataset → TrainStep… TrainEnd. Runs one optimiser step at a time, yielding to the event
 * loop between steps so the UI and key handling stay responsive; unsubscribing stops it and frees
 * the trainer's tensors.
 *
 *   dataset:  --d|
 *   train:    --s-s-s-s-…-s-E|      (s = train-step, E = train-end)
 *
 * @example
 *   of(dataset).pipe(train({ runId, model, optimizer: { name: 'adam', lr: 1e-4 } })).subscribe(log)
 */
import { Observable, type OperatorFunction, mergeMap } from 'rxjs';
import type { TrainEndEvent, TrainStepEvent } from '../events.ts';
import type { Dataset } from '../engine/objectives.ts';
import type { Model } from '../engine/model.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';
import { createTrainer, type Trainer } from '../engine/trainer.ts';

export interface TrainOptions {
  runId: string;
  model: Model;
  optimizer: OptimizerSpec;
  /** Stop when the MSE is at or below this (default 1e-8, SPEC §2). */
  lossTarget?: number;
  maxSteps: number;
  batchSize?: number;
  seed?: number;
  /** Makes the trainer; injectable so marble tests need no tensors. */
  makeTrainer?: (model: Model, data: Dataset, opt: OptimizerSpec, o: { batchSize?: number; seed?: number }) => Trainer;
}

export type TrainEvent = TrainStepEvent | TrainEndEvent;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export function train(opts: TrainOptions): OperatorFunction<Dataset, TrainEvent> {
  const lossTarget = opts.lossTarget ?? 1e-8;
  const make = opts.makeTrainer ?? createTrainer;
  return mergeMap(
    (data) =>
      new Observable<TrainEvent>((sub) => {
        let stopped = false;
        const trainer = make(opts.model, data, opts.optimizer, { batchSize: opts.batchSize, seed: opts.seed });
        const started = performance.now();
        const end = (reason: TrainEndEvent['reason'], step: number, loss: number) => {
          sub.next({
            kind: 'train-end', runId: opts.runId, step, time: Date.now(), reason, loss, lossTarget,
            wallMs: performance.now() - started,
          });
          sub.complete();
        };
        (async () => {
          let loss = Number.NaN;
          for (let step = 1; ; step++) {
            if (stopped) return;
            const t0 = performance.now();
            const r = trainer.step();
            const stepMs = performance.now() - t0;
            loss = r.loss;
            sub.next({
              kind: 'train-step', runId: opts.runId, step, time: Date.now(), loss: r.loss, lr: r.lr,
              gradNorm: r.gradNorm, stepMs, samplesPerSec: (r.batchSize * 1000) / Math.max(stepMs, 1e-6),
            });
            if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) return end('diverged', step, loss);
            if (r.loss <= lossTarget) return end('loss-target', step, loss);
            if (step >= opts.maxSteps) return end('step-cap', step, loss);
            await yieldToLoop();
          }
        })().catch((e) => sub.error(e));
        return () => {
          stopped = true;
          trainer.dispose();
        };
      }),
  );
}
