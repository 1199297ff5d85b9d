/**
 * train: Dataset → TrainStep… TrainEnd. Runs one optimiser step at a time, yielding to the event
 * loop between steps so the UI and key handling stay responsive; unsubscribing stops it and frees
 * the trainer's tensors. With `checkpoint`, the trainer's state is saved every `every` steps (an
 * artifact event follows the step) and once more when the run is cancelled, so at most one
 * interval of work is ever lost; `restore` continues from such a state. A checkpoint is never
 * written while a weight is NaN/Inf. With `stopOnNonfinite`, a non-finite loss or gradient rolls
 * the trainer back to the last finite state (weights, optimizer, sampler), saves it with
 * `checkpoint.saveLastFinite` and ends with reason 'diverged' and `lastFinite` set. `control` is the
 * operator's input stream: `pause`/`resume` hold and continue the loop (a control event acknowledges
 * each), `checkpoint` saves at the next step boundary (or at once while paused); other commands are
 * ignored.
 *
 *   dataset:  --d|
 *   train:    --s-s-s-…-s-a-s-…-s-E|      (s = train-step, a = artifact (checkpoint), E = train-end)
 *   NaN stop: --s-s-s-n-l-E|              (n = the non-finite step, l = artifact (last finite state))
 *
 * @example
 *   of(dataset).pipe(train({ runId, model, optimizer: { name: 'adam', lr: 1e-4 }, maxSteps: 1e4 }))
 */
import { Observable, type OperatorFunction, mergeMap } from 'rxjs';
import type { ArtifactEvent, ControlCommand, ControlEvent, TrainEndEvent, TrainStepEvent } from '../events.ts';
import type { Dataset } from '../engine/objectives.ts';
import type { Model } from '../engine/model.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';
import { createTrainer, type Trainer } from '../engine/trainer.ts';

/** Everything besides the weights that a resumed run needs to continue exactly. */
export interface TrainerState {
  /** Number of optimiser steps taken. */
  step: number;
  optimizer: { name: string; data: Float32Array }[];
  rng: number[];
}

export interface TrainOptions {
  runId: string;
  model: Model;
  optimizer: OptimizerSpec;
  /** Stop when the MSE is at or below this (default 1e-8, SPEC §2). */
  lossTarget?: number;
  /** Step cap, counted from the start of the run (not of this resumption). */
  maxSteps: number;
  batchSize?: number;
  seed?: number;
  /** Continue from a saved state (weights are the model's own). */
  restore?: TrainerState;
  /**
   * Save every `every` steps and on cancellation (`save` returns the path written); `atEnd`
   * receives the final state when training stops on its own, for the caller's last checkpoint.
   */
  checkpoint?: {
    every: number;
    save: (state: TrainerState) => string;
    atEnd?: (state: TrainerState) => void;
    /** With `stopOnNonfinite`: save the last finite state (returns the path written). */
    saveLastFinite?: (state: TrainerState) => string;
  };
  /** Keep the last finite state in memory and stop at the first non-finite loss (default false). */
  stopOnNonfinite?: boolean;
  /** Makes the trainer; injectable so operator tests need no tensors. */
  makeTrainer?: (model: Model, data: Dataset, opt: OptimizerSpec, o: { batchSize?: number; seed?: number; keepLastFinite?: boolean }) => Trainer;
  /** Operator commands (dashboard keys): pause, resume, checkpoint now. */
  control?: Observable<ControlCommand>;
}

export type TrainEvent = TrainStepEvent | TrainEndEvent | ArtifactEvent | ControlEvent;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export function train(opts: TrainOptions): OperatorFunction<Dataset, TrainEvent> {
  const lossTarget = opts.lossTarget ?? 1e-8;
  const make = opts.makeTrainer ?? createTrainer;
  return mergeMap(
    (data) =>
      new Observable<TrainEvent>((sub) => {
        let stopped = false;
        let finished = false;
        const trainer = make(opts.model, data, opts.optimizer, { batchSize: opts.batchSize, seed: opts.seed, keepLastFinite: opts.stopOnNonfinite });
        const finiteWeights = () => trainer.weightsFinite?.() ?? true;
        const first = opts.restore?.step ?? 0;
        if (opts.restore) {
          trainer.optimizer.setState(opts.restore.optimizer);
          trainer.restoreRng(opts.restore.rng);
        }
        let done = first;
        let savedAt = first;
        const state = (): TrainerState => ({ step: done, optimizer: trainer.optimizer.state(), rng: trainer.rngState() });
        const started = performance.now();
        let paused = false;
        let checkpointNow = false;
        const saveNow = () => {
          checkpointNow = false;
          if (!opts.checkpoint || !finiteWeights()) return;
          const path = opts.checkpoint.save(state());
          savedAt = done;
          sub.next({ kind: 'artifact', runId: opts.runId, step: done, time: Date.now(), what: 'checkpoint', path });
        };
        const control = opts.control?.subscribe((c) => {
          if (c === 'checkpoint') checkpointNow = true;
          else if ((c === 'pause' || c === 'resume') && paused !== (c === 'pause')) {
            paused = c === 'pause';
            sub.next({ kind: 'control', runId: opts.runId, step: done, time: Date.now(), command: c });
          }
        });
        const end = (reason: TrainEndEvent['reason'], loss: number, lastFinite?: TrainEndEvent['lastFinite']) => {
          finished = true;
          control?.unsubscribe();
          opts.checkpoint?.atEnd?.(state());
          sub.next({
            kind: 'train-end', runId: opts.runId, step: done, time: Date.now(), reason, loss, lossTarget,
            wallMs: performance.now() - started, ...(lastFinite !== undefined ? { lastFinite } : {}),
          });
          sub.complete();
        };
        /** Roll back to the last finite state and save it; null when there is none in this session. */
        const saveLastFinite = (): TrainEndEvent['lastFinite'] => {
          const back = trainer.rollbackToLastFinite?.() ?? null;
          if (back === null) return null;
          const st: TrainerState = { step: done - back, optimizer: trainer.optimizer.state(), rng: trainer.rngState() };
          const path = opts.checkpoint?.saveLastFinite?.(st) ?? null;
          if (path) sub.next({ kind: 'artifact', runId: opts.runId, step: done, time: Date.now(), what: 'checkpoint', path });
          return { step: st.step, path };
        };
        (async () => {
          if (done >= opts.maxSteps) return end('step-cap', Number.NaN);
          for (;;) {
            if (stopped) return;
            const t0 = performance.now();
            const r = trainer.step();
            const stepMs = performance.now() - t0;
            done++;
            sub.next({
              kind: 'train-step', runId: opts.runId, step: done, time: Date.now(), loss: r.loss, lr: r.lr,
              gradNorm: r.gradNorm, stepMs, samplesPerSec: (r.batchSize * 1000) / Math.max(stepMs, 1e-6),
            });
            if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
              return end('diverged', r.loss, opts.stopOnNonfinite ? (saveLastFinite() ?? null) : undefined);
            }
            if (r.loss <= lossTarget) return end('loss-target', r.loss);
            if (done >= opts.maxSteps) return end('step-cap', r.loss);
            if (checkpointNow || (opts.checkpoint && done % opts.checkpoint.every === 0)) saveNow();
            await yieldToLoop();
            while (paused && !stopped) {
              // nothing trained since the newest checkpoint: it already is this state
              if (checkpointNow) done > savedAt ? saveNow() : (checkpointNow = false);
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        })().catch((e) => sub.error(e));
        return () => {
          stopped = true;
          control?.unsubscribe();
          // cancelled mid-run: keep the steps taken since the last checkpoint
          if (!finished && opts.checkpoint && done > savedAt && finiteWeights()) opts.checkpoint.save(state());
          trainer.dispose();
        };
      }),
  );
}
