/**
 * A finished (or stopped) run read back for the jobs that work on it (recall, inspect, resume):
 * its run.json, its newest loadable checkpoint and the training data inside it.
 */
import type { CheckpointContents } from '../engine/checkpoint.ts';
import type { Dataset } from '../engine/objectives.ts';
import { EngramError } from '../errors.ts';
import { checkpointStore, hasCheckpoint } from '../sinks/checkpoints.ts';
import { readRunJson, type RunJson } from '../sinks/run-dir.ts';
import { datasetFromCheckpoint, splitRows } from './memorize.ts';

export interface SavedRun {
  run: RunJson;
  checkpoint: { path: string; contents: CheckpointContents };
  data: Dataset;
  /** The training samples, and the same grouped into their sequences. */
  frames: Float32Array[];
  sequences: Float32Array[][];
}

/** The run in `runDir` at its newest checkpoint; a directory without one is E_INPUT_MISSING naming what to do. */
export function openSavedRun(runDir: string, missing = 'memorize again to make one'): SavedRun {
  const run = readRunJson(runDir);
  const checkpoint = checkpointStore(runDir).newest();
  if (!checkpoint) throw new EngramError('E_INPUT_MISSING', `${runDir} has no loadable checkpoint (run status: ${run.status}); ${missing}`);
  const data = datasetFromCheckpoint(checkpoint.contents);
  const frames = splitRows(data.inputs, data.n, data.dim);
  return { run, checkpoint, data, frames, sequences: sequencesOf(frames, data.sequenceLengths) };
}

/** Where `memorize --resume` continues `runDir`: its run.json and newest loadable checkpoint. */
export function resumePoint(runDir: string): { run: RunJson; newest: { path: string; contents: CheckpointContents } } {
  const run = readRunJson(runDir);
  const newest = checkpointStore(runDir).newest();
  if (!newest) {
    throw new EngramError('E_INPUT_MISSING', `${runDir} has no loadable checkpoint to resume from; start a new run with engram memorize <input>`);
  }
  return { run, newest };
}

/** Whether a checkpoint of `runDir` exists (what a stopped run can be resumed from). */
export const runHasCheckpoint = (runDir: string): boolean => hasCheckpoint(runDir);

/** The training sequences back from the packed rows and their lengths. */
export function sequencesOf(frames: Float32Array[], lengths: number[]): Float32Array[][] {
  const sequences: Float32Array[][] = [];
  let at = 0;
  for (const len of lengths) {
    sequences.push(frames.slice(at, at + len));
    at += len;
  }
  return sequences;
}
