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
  | 'E_NONFINITE';

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
