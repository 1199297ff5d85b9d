/**
 * train: Dataset… → TrainStep… TrainEnd. The one training loop: it drives any `Trainer` (the FC and
 * U-Net nets, the associative memory, a one-example identity probe) one step at a time until the
 * loss target, the step cap or a non-finite loss, and unsubscribing stops it and frees the
 * trainer's tensors.
 *
 * - Datasets: the first one makes the trainer; each later one replaces the data at the next step
 *   boundary (`trainer.setData`), the loop, weights and optimizer going on. Datasets after the end
 *   are not trained on; an input that completes before its first dataset completes the operator.
 * - Yielding: to the event loop whenever `yieldMs` (16 ms) have passed since the last yield, so
 *   tiny steps do not each pay for a macrotask and the UI still gets a turn at frame rate.
 * - Observations: a trainer with `observe` is asked before every step, and its answer is emitted
 *   (`kind: 'observation'`, at the step count before the update) ahead of the step, so a consumer
 *   sees the weights it describes.
 * - Learning rate: with `schedule`, step t runs at `lrAt(schedule, t)` (engine/schedule.ts).
 * - Steps: a trainer's step may return a promise (the solver yields while it works); each step's
 *   `notes` become info `log` events, and a step with `retry` does not end training at the loss
 *   target (the solver's recall check failed and it tries another seed).
 * - Checkpoints: with `checkpoint`, the state is saved every `every` steps (an artifact event
 *   follows the step) and once more when the run is cancelled, so at most one interval of work is
 *   lost; `restore` continues from such a state. No checkpoint is written while a weight is NaN/Inf.
 *   The states handed out carry the loss of the last step (`loss`), so a restored state already at
 *   the step cap ends at once, with no step taken, reporting that loss (NaN only for a state saved
 *   without one).
 * - Non-finite stop: with `stopOnNonfinite`, a non-finite loss or gradient rolls the trainer back
 *   to the last finite state (weights, optimizer, sampler), saves it with
 *   `checkpoint.saveLastFinite` and ends with reason 'diverged' and `lastFinite` set.
 * - At the loss target: training ends (`atTarget: 'end'`, the default), or (`'wait'`, for live
 *   inputs whose data keeps changing) the loop idles until the next dataset arrives and trains on
 *   it, calling `onIdle` each time it starts to wait; it ends at the target only once the input has
 *   completed. The step cap, checkpoints on request and cancellation work while it waits.
 * - Control: `pause` holds the loop at the next step boundary until `resume` (it waits on the
 *   control stream: no timer runs while paused), `checkpoint` saves at the next step boundary or at
 *   once while paused; a control event acknowledges pause and resume; other commands are ignored.
 *
 *   dataset:  --d-------d'------|
 *   train:    --s-s-s-…-s-s-a-s-…-s-E|      (s = train-step, a = artifact (checkpoint), E = train-end;
 *                                            d' is trained on from the step after it arrives)
 *   NaN stop: --s-s-s-n-l-E|                (n = the non-finite step, l = artifact (last finite state))
 *
 * @example
 *   of(dataset).pipe(train({ runId, trainer: netTrainer(model, { name: 'adam', lr: 1e-4 }), maxSteps: 1e4 }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { ArtifactEvent, ControlCommand, ControlEvent, LogEvent, TrainEndEvent, TrainStepEvent } from '../events.ts';
import type { Dataset } from '../engine/objectives.ts';
import { checkLrSchedule, lrAt, type LrSchedule } from '../engine/schedule.ts';
import type { Trainer, TrainerFactory, TrainerState } from '../engine/trainer.ts';

export type { TrainerState } from '../engine/trainer.ts';

export interface TrainOptions<D = Dataset, O = never> {
  runId: string;
  /** Makes the trainer from the first dataset (e.g. `netTrainer(model, optimizer)`). */
  trainer: TrainerFactory<D, O>;
  /** Stop when the loss is at or below this (default 1e-8; -Infinity: never). */
  lossTarget?: number;
  /** Step cap, counted from the start of the run (not of this resumption). */
  maxSteps: number;
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
  /** Learning rate as a function of the step (the trainer needs `setLr`); default: the trainer's own, fixed. */
  schedule?: LrSchedule;
  /** Operator commands (dashboard keys): pause, resume, checkpoint now. */
  control?: Observable<ControlCommand>;
  /** At the loss target: end (default), or wait for the next dataset (live inputs). */
  atTarget?: 'end' | 'wait';
  /** With atTarget 'wait': called with the step count each time the loop starts to wait for data. */
  onIdle?: (step: number) => void;
  /**
   * Once the input has completed, end after at most this many more steps (reason 'step-cap') if the
   * loss target is not met first (default: train on to maxSteps). A live run's gradient fit uses it.
   */
  stepsAfterInput?: number;
  /** Yield to the event loop once this many ms have passed since the last yield (default 16). */
  yieldMs?: number;
  /** Clock in ms for the yield rule and step timings (default performance.now); injectable for tests. */
  now?: () => number;
}

/** What a trainer's `observe` said about the state after `step` steps, before the next one. */
export interface TrainObservation<O> {
  kind: 'observation';
  step: number;
  value: O;
}

/** Train events; `log` carries what a step noted (the solver's attempts). */
export type TrainEvent = TrainStepEvent | TrainEndEvent | ArtifactEvent | ControlEvent | LogEvent;
/** The operator's output: train events, and observations for trainers that make them. */
export type TrainOutput<O = never> = TrainEvent | ([O] extends [never] ? never : TrainObservation<O>);

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export function train<D = Dataset, O = never>(opts: TrainOptions<D, O>): OperatorFunction<D, TrainOutput<O>> {
  const lossTarget = opts.lossTarget ?? 1e-8;
  const yieldMs = opts.yieldMs ?? 16;
  const now = opts.now ?? (() => performance.now());
  if (opts.schedule) checkLrSchedule(opts.schedule);
  return (source) =>
    new Observable<TrainOutput<O>>((sub) => {
      const emit = (e: TrainEvent | TrainObservation<O>) => sub.next(e as TrainOutput<O>);
      let trainer: Trainer<D, O> | null = null;
      /** Unsubscribed or ended; also true when unsubscribed from inside subscribe, before the teardown is in place. */
      const halted = () => sub.closed;
      let finished = false;
      /** A dataset that arrived while training, for the next step boundary. */
      let nextData: { data: D } | null = null;
      /** The input completed: no dataset will come after `nextData`. */
      let inputDone = false;
      let done = opts.restore?.step ?? 0;
      /** The step count when the input completed. */
      let doneAtInputEnd = Infinity;
      /** The loss of the last step taken (of the restored state before the first one). */
      let lastLoss = opts.restore?.loss ?? Number.NaN;
      /** The trainer's state, with the last step's loss when it is finite. */
      const stateOf = (t: Trainer<D, O>): TrainerState => {
        const st = t.state();
        return Number.isFinite(lastLoss) ? { ...st, loss: lastLoss } : st;
      };
      let savedAt = done;
      let paused = false;
      let checkpointNow = false;
      /** Resolves the paused loop's wait: set while paused, called by resume, checkpoint and teardown. */
      let wake: (() => void) | null = null;
      const wakeUp = () => {
        const w = wake;
        wake = null;
        w?.();
      };
      const started = now();

      const finiteWeights = (t: Trainer<D, O>) => t.weightsFinite?.() ?? true;
      const saveNow = (t: Trainer<D, O>) => {
        checkpointNow = false;
        if (!opts.checkpoint || !finiteWeights(t)) return;
        const path = opts.checkpoint.save(stateOf(t));
        savedAt = done;
        emit({ kind: 'artifact', runId: opts.runId, step: done, time: Date.now(), what: 'checkpoint', path });
      };
      const end = (t: Trainer<D, O>, reason: TrainEndEvent['reason'], loss: number, lastFinite?: TrainEndEvent['lastFinite']) => {
        finished = true;
        control?.unsubscribe();
        opts.checkpoint?.atEnd?.(stateOf(t));
        emit({
          kind: 'train-end', runId: opts.runId, step: done, time: Date.now(), reason, loss, lossTarget,
          wallMs: now() - started, ...(lastFinite !== undefined ? { lastFinite } : {}),
        });
        sub.complete();
      };
      /** Roll back to the last finite state and save it; null when there is none in this session. */
      const saveLastFinite = (t: Trainer<D, O>): TrainEndEvent['lastFinite'] => {
        if (t.rollback?.() == null) return null;
        const st = t.state();
        const path = opts.checkpoint?.saveLastFinite?.(st) ?? null;
        if (path) emit({ kind: 'artifact', runId: opts.runId, step: done, time: Date.now(), what: 'checkpoint', path });
        return { step: st.step, path };
      };

      const loop = async (t: Trainer<D, O>) => {
        // a restored state with nothing left to train: no step, and the loss it was saved with
        if (done >= opts.maxSteps) return end(t, 'step-cap', lastLoss);
        let lastYield = now();
        for (;;) {
          if (nextData) {
            if (!t.setData) throw new Error('this trainer cannot change its data between steps');
            t.setData(nextData.data);
            nextData = null;
          }
          if (opts.schedule) t.setLr!(lrAt(opts.schedule, done));
          const t0 = now();
          if (t.observe) {
            emit({ kind: 'observation', step: done, value: t.observe() });
            if (halted()) return;
          }
          const pending = t.step();
          const r = pending instanceof Promise ? await pending : pending;
          if (halted()) return;
          const stepMs = now() - t0;
          done++;
          lastLoss = r.loss;
          emit({
            kind: 'train-step', runId: opts.runId, step: done, time: Date.now(), loss: r.loss, lr: r.lr,
            gradNorm: r.gradNorm, stepMs, samplesPerSec: (r.batchSize * 1000) / Math.max(stepMs, 1e-6),
          });
          for (const message of r.notes ?? []) emit({ kind: 'log', runId: opts.runId, step: done, time: Date.now(), level: 'info', message });
          if (r.retry) emit({ kind: 'log', runId: opts.runId, step: done, time: Date.now(), level: 'info', message: `${r.retry}; trying again` });
          if (halted()) return;
          if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
            return end(t, 'diverged', r.loss, opts.stopOnNonfinite ? (saveLastFinite(t) ?? null) : undefined);
          }
          const atTarget = r.loss <= lossTarget && !r.retry;
          if (atTarget && (opts.atTarget !== 'wait' || (inputDone && !nextData))) return end(t, 'loss-target', r.loss);
          if (done >= opts.maxSteps) return end(t, 'step-cap', r.loss);
          if (opts.stepsAfterInput !== undefined && !nextData && done - doneAtInputEnd >= opts.stepsAfterInput) return end(t, 'step-cap', r.loss);
          if (checkpointNow || (opts.checkpoint && done % opts.checkpoint.every === 0)) saveNow(t);
          if (atTarget && !nextData) {
            // live: nothing left to learn until the data changes
            opts.onIdle?.(done);
            while (!nextData) {
              if (inputDone) return end(t, 'loss-target', r.loss);
              await new Promise<void>((res) => (wake = res));
              if (halted()) return;
              if (checkpointNow) done > savedAt ? saveNow(t) : (checkpointNow = false);
            }
            lastYield = now();
          }
          if (now() - lastYield >= yieldMs) {
            await yieldToLoop();
            if (halted()) return;
            lastYield = now();
          }
          while (paused) {
            // nothing trained since the newest checkpoint: it already is this state
            if (checkpointNow) done > savedAt ? saveNow(t) : (checkpointNow = false);
            await new Promise<void>((r) => (wake = r));
            if (halted()) return;
            lastYield = now();
          }
        }
      };

      const control = opts.control?.subscribe((c) => {
        if (c === 'checkpoint') {
          checkpointNow = true;
          wakeUp();
        } else if ((c === 'pause' || c === 'resume') && paused !== (c === 'pause')) {
          paused = c === 'pause';
          emit({ kind: 'control', runId: opts.runId, step: done, time: Date.now(), command: c });
          if (!paused) wakeUp();
        }
      });
      const input = source.subscribe({
        next: (data) => {
          if (finished || halted()) return;
          if (trainer) {
            nextData = { data };
            wakeUp(); // a loop waiting at the target (a paused one goes back to waiting)
            return;
          }
          try {
            trainer = opts.trainer(data, { keepLastFinite: opts.stopOnNonfinite === true });
            if (opts.restore) trainer.restore(opts.restore);
            if (opts.schedule && !trainer.setLr) throw new Error('a learning-rate schedule needs a trainer that can set its learning rate');
          } catch (e) {
            sub.error(e);
            return;
          }
          loop(trainer).catch((e) => sub.error(e));
        },
        error: (e) => sub.error(e),
        complete: () => {
          inputDone = true;
          doneAtInputEnd = done;
          if (!trainer) sub.complete();
          else wakeUp();
        },
      });
      return () => {
        control?.unsubscribe();
        input.unsubscribe();
        if (trainer) {
          if (!finished) trainer.abortStep?.(); // a step under way is not saved half-made
          // cancelled mid-run: keep the steps taken since the last checkpoint
          if (!finished && opts.checkpoint && done > savedAt && finiteWeights(trainer)) opts.checkpoint.save(stateOf(trainer));
          trainer.dispose();
        }
        wakeUp();
      };
    });
}
