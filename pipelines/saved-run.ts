/**
 * A finished (or stopped) run read back for the jobs that work on it (recall, inspect, resume):
 * its run.json, its newest loadable checkpoint and the training data inside it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointContents } from '../engine/checkpoint.ts';
import { splitByLengths, type Dataset } from '../engine/objectives.ts';
import { EngramError } from '../errors.ts';
import type { EngramEvent, TrainEndEvent } from '../events.ts';
import { checkpointStore, hasCheckpoint } from '../sinks/checkpoints.ts';
import { readRunJson, type RunJson } from '../sinks/run-dir.ts';
import { readEventLog } from '../sources/event-log.ts';
import { datasetFromCheckpoint, fitOf, splitRows, type MemorizeConfig } from './memorize.ts';

export interface SavedRun {
  run: RunJson;
  checkpoint: { path: string; contents: CheckpointContents };
  data: Dataset;
  /** The training samples, and the same grouped into their sequences. */
  frames: Float32Array[];
  sequences: Float32Array[][];
  /** Checkpoint files passed over because they are damaged (said as warnings: the run is used at an older state). */
  warnings: string[];
}

/**
 * The newest loadable checkpoint of `runDir`. When none loads but some exist, the newest damaged
 * one's error (E_CHECKPOINT, "… is corrupt (why) …") is thrown, naming the others; when none
 * exists, E_INPUT_MISSING with `missing`.
 */
function newestLoadable(runDir: string, missing: string): { newest: { path: string; contents: CheckpointContents }; warnings: string[] } {
  const { newest, damaged } = checkpointStore(runDir).scan();
  if (!newest && damaged.length) {
    const others = damaged.length > 1 ? `, and ${damaged.length - 1} more of its checkpoint files do not load either` : '';
    // its own code: corrupt is E_CHECKPOINT, a file that cannot be read at all E_INPUT_UNREADABLE
    throw new EngramError(damaged[0].code, `${damaged[0].why}${others}; ${runDir} has no other checkpoint: ${missing}`);
  }
  if (!newest) throw new EngramError('E_INPUT_MISSING', `${runDir} has no loadable checkpoint; ${missing}`);
  const warnings = damaged.map((d) => `skipped a damaged checkpoint: ${d.why}; using ${newest.path} (step ${newest.contents.step}) instead`);
  return { newest, warnings };
}

/** The run in `runDir` at its newest loadable checkpoint (see `newestLoadable`); `missing` says what to do when it has none. */
export function openSavedRun(runDir: string, missing = 'memorize again to make one'): SavedRun {
  const run = readRunJson(runDir);
  const { newest: checkpoint, warnings } = newestLoadable(runDir, missing);
  const data = datasetFromCheckpoint(checkpoint.contents);
  const frames = splitRows(data.inputs, data.n, data.dim);
  return { run, checkpoint, data, frames, sequences: sequencesOf(frames, data.sequenceLengths), warnings };
}

/** Where `memorize --resume` continues `runDir`: its run.json, newest loadable checkpoint, and the training it finished there, if it did. */
export interface ResumePoint {
  run: RunJson;
  newest: { path: string; contents: CheckpointContents };
  /** Training that had ended at the newest checkpoint (see `trainingDone`); null when there is more to do as far as the run knows. */
  done: TrainingDone | null;
  /** Damaged checkpoint files passed over. */
  warnings: string[];
}

export interface TrainingDone {
  step: number;
  /** The loss training ended at (NaN when nothing the run kept says). */
  loss: number;
  reason: 'loss-target' | 'step-cap';
}

/**
 * The newest loadable checkpoint of `runDir` to resume from. A checkpoint that does not record its
 * loss (an older engram's) gets it from the log, so a resume that has nothing left to train still
 * reports the real loss.
 */
export function resumePoint(runDir: string): ResumePoint {
  const run = readRunJson(runDir);
  const { newest, warnings } = newestLoadable(runDir, 'nothing to resume from; start a new run with engram memorize <input>');
  const events = existsSync(join(runDir, 'events.jsonl')) ? readEventLog(join(runDir, 'events.jsonl')).events : [];
  const step = newest.contents.step;
  const logged = lossLogged(events, step);
  if (!finite(newest.contents.meta?.loss) && finite(logged)) newest.contents.meta = { ...newest.contents.meta, loss: logged };
  return { run, newest, warnings, done: trainingDone(run, events, step, finite(newest.contents.meta?.loss) ? newest.contents.meta.loss : Number.NaN) };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The loss of the last train-step at or before `step` (NaN if none). */
function lossLogged(events: EngramEvent[], step: number): number {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.kind === 'train-step' && e.step <= step) return e.loss;
  }
  return Number.NaN;
}

/**
 * Training that ended at `step`, the newest checkpoint's: the log's last train-end is there and
 * reached its loss target, or ended at the step cap of a run that completed; or run.json says the
 * run completed with its summary at that step. The loss is the first finite one of the train-end,
 * the checkpoint, the summary and the last logged step.
 */
export function trainingDone(run: RunJson, events: EngramEvent[], step: number, checkpointLoss: number): TrainingDone | null {
  const end = [...events].reverse().find((e): e is TrainEndEvent => e.kind === 'train-end');
  const summary = run.summary as { steps?: number; finalLoss?: unknown; trainReason?: string } | undefined;
  const complete = run.status === 'complete';
  let reason: TrainingDone['reason'] | null = null;
  if (end && end.step === step && (end.reason === 'loss-target' || (end.reason === 'step-cap' && complete))) reason = end.reason;
  else if (complete && summary?.steps === step && (summary.trainReason === 'loss-target' || summary.trainReason === 'step-cap')) reason = summary.trainReason;
  if (!reason) return null;
  const losses = [end?.step === step ? end.loss : Number.NaN, checkpointLoss, summary?.steps === step ? summary.finalLoss : Number.NaN, lossLogged(events, step)];
  return { step, reason, loss: losses.find(finite) ?? Number.NaN };
}

/**
 * What `memorize --resume` says instead of training when there is nothing to do: the run's training
 * ended and the settings it resumes with ask for no more (its loss is at the target, or its step at
 * the cap: --max-steps, or a solve's attempts). null: resume.
 */
export function nothingToResume(runDir: string, point: ResumePoint, cfg: MemorizeConfig): string | null {
  const d = point.done;
  if (!d) return null;
  const { spec } = point.newest.contents;
  const cap = spec.kind === 'fc' ? fitOf(cfg, { spec }, { n: datasetFromCheckpoint(point.newest.contents).n }).maxSteps : cfg.maxSteps;
  const atTarget = d.loss <= cfg.lossTarget;
  const atCap = d.step >= cap;
  if (!atTarget && !atCap) return null;
  const loss = Number.isFinite(d.loss) ? d.loss.toExponential(3) : 'unknown';
  const what = point.run.status === 'complete' ? `${runDir} is complete` : `training of ${runDir} is complete`;
  const where = atTarget ? `step ${d.step}, loss ${loss} ≤ target ${cfg.lossTarget}` : `step ${d.step} of ${cap}, loss ${loss}${Number.isFinite(d.loss) ? ` > target ${cfg.lossTarget}` : ''}`;
  const more = [atTarget ? 'a lower --loss-target' : null, atCap ? 'a higher --max-steps' : null].filter(Boolean).join(' and ');
  return `${what} (${where}); nothing to resume — pass ${more} to train further` +
    (point.run.status === 'complete' ? '' : `, or replay it with engram recall ${runDir}`);
}

/** Whether a checkpoint of `runDir` exists (what a stopped run can be resumed from). */
export const runHasCheckpoint = (runDir: string): boolean => hasCheckpoint(runDir);

/** The training sequences back from the packed rows and their lengths. */
export const sequencesOf = (frames: Float32Array[], lengths: number[]): Float32Array[][] => splitByLengths(frames, lengths);
