/**
 * The one error type of engram. `code` is stable and machine-readable; `message` names the input
 * that was wrong and says how to fix it. The CLI maps any EngramError to a non-zero exit code.
 */
export type ErrorCode =
  | 'E_INPUT_MISSING'
  | 'E_INPUT_UNREADABLE'
  | 'E_INPUT_EMPTY'
  | 'E_INPUT_INVALID'
  /** --strict: fewer frames (or seconds) decoded than the input's container promised. */
  | 'E_INPUT_PARTIAL'
  | 'E_BAD_ARGUMENT'
  | 'E_FFMPEG'
  | 'E_BACKEND'
  | 'E_CHECKPOINT'
  | 'E_OUTPUT_EXISTS'
  | 'E_OUTPUT_UNWRITABLE'
  | 'E_DIVERGED'
  /** The run cannot fit in memory (estimated before it starts, or an input of unknown length past its cap). */
  | 'E_RESOURCE'
  /** --stop-on-nonfinite: a NaN/Inf loss stopped training after the last finite state was saved. */
  | 'E_NONFINITE'
  /** engram watch: the process writing a `running` run is gone (its pid dead, or its heartbeat stale); the run will never finish. */
  | 'E_RUN_ABANDONED';

/** What each code means, for people (the error-code table of docs/cli.md is generated from this). */
export const ERROR_CODES: Record<ErrorCode, string> = {
  E_INPUT_MISSING: 'an input (media file, run directory, checkpoint) does not exist, or a run has no checkpoint at all',
  E_INPUT_UNREADABLE: 'an input exists but cannot be read (permissions, or a damaged run.json)',
  E_INPUT_EMPTY: 'there is nothing to work on: an empty input (0 bytes, no frames or samples decoded), too few samples for the objective, or nothing to write',
  E_INPUT_INVALID: 'an input was read but cannot be used (e.g. a file of another kind than asked for, such as a WAV given as video, samples identical at this size, an event log of a newer engram)',
  E_INPUT_PARTIAL: '--strict: fewer frames (or seconds) were decoded than the input\'s container promised',
  E_BAD_ARGUMENT: 'a command, option or option value is wrong; the message names it and what it must be',
  E_FFMPEG: 'ffmpeg is missing or failed to decode or encode',
  E_BACKEND: 'no TensorFlow.js backend (or not the one asked for with --backend) could be started',
  E_CHECKPOINT: 'a checkpoint is corrupt (truncated, or damaged: its data checksum does not match), is not an engram checkpoint, holds NaN/Inf weights, or could not be written',
  E_OUTPUT_EXISTS: 'an output is already there; --force overwrites it, or choose another --out',
  E_OUTPUT_UNWRITABLE: 'an output (run directory, recording, plot, image) cannot be written: its directory is missing, read-only or a file; every command checks its --out before the backend starts',
  E_DIVERGED: 'training diverged (the loss became NaN/Inf); the interval checkpoints are kept',
  E_NONFINITE: '--stop-on-nonfinite: a NaN/Inf loss stopped training after the last finite state was saved',
  E_RESOURCE: 'the run cannot fit in memory (estimated before it starts, or an input of unknown length read past 100,000 frames or 1/4 of the free memory); the message gives the estimate and what to lower',
  E_RUN_ABANDONED: 'engram watch: the process writing a running run is gone (its pid is dead, or its heartbeat stale); the run will never finish',
};

export class EngramError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'EngramError';
  }
}

export function isEngramError(e: unknown): e is EngramError {
  return e instanceof EngramError;
}
