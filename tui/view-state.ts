/**
 * The view state of a run as a pure fold over its events: the live dashboard, `engram watch` over
 * events.jsonl and the CLI summary all read a run through this one reducer.
 */
import type { AttractorEvent, EngramEvent, RecallEvent } from '../events.ts';

export interface ViewState {
  readonly runId: string | null;
  readonly status: 'idle' | 'running' | 'complete' | 'failed' | 'cancelled';
  readonly backend: string | null;
  readonly step: number;
  readonly loss: number | null;
  readonly bestLoss: number | null;
  /** Most recent losses, oldest first, at most HISTORY long. */
  readonly lossHistory: readonly number[];
  readonly stepMs: number | null;
  readonly train: { reason: string; step: number; loss: number; wallMs: number } | null;
  readonly recall: RecallEvent | null;
  readonly attractors: AttractorEvent | null;
  /** Loss spikes detected (onsets and non-finite losses). */
  readonly spikes: number;
  readonly artifacts: readonly { what: string; path: string }[];
  readonly messages: readonly { level: string; message: string }[];
  readonly wallMs: number | null;
}

export const HISTORY = 256;

export const initialViewState: ViewState = {
  runId: null, status: 'idle', backend: null, step: 0, loss: null, bestLoss: null, lossHistory: [],
  stepMs: null, train: null, recall: null, attractors: null, spikes: 0, artifacts: [], messages: [], wallMs: null,
};

export function reduceEvent(s: ViewState, e: EngramEvent): ViewState {
  switch (e.kind) {
    case 'run-start':
      return { ...initialViewState, runId: e.runId, status: 'running', backend: e.backend.name };
    case 'train-step':
      return {
        ...s, step: e.step, loss: e.loss, stepMs: e.stepMs,
        bestLoss: s.bestLoss === null || e.loss < s.bestLoss ? e.loss : s.bestLoss,
        lossHistory: [...s.lossHistory.slice(-(HISTORY - 1)), e.loss],
      };
    case 'train-end':
      return { ...s, step: e.step, train: { reason: e.reason, step: e.step, loss: e.loss, wallMs: e.wallMs } };
    case 'recall':
      return { ...s, recall: e };
    case 'attractors':
      return { ...s, attractors: e };
    case 'spike':
      return e.phase === 'end' ? s : { ...s, spikes: s.spikes + 1 };
    case 'artifact':
      return { ...s, artifacts: [...s.artifacts, { what: e.what, path: e.path }] };
    case 'log':
      return { ...s, messages: [...s.messages, { level: e.level, message: e.message }] };
    case 'run-end':
      return { ...s, status: e.status, wallMs: e.wallMs };
    default:
      return s;
  }
}
