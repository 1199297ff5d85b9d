/**
 * The one event vocabulary. Monitors emit these, `events.jsonl` is exactly this stream (one JSON
 * object per line) and the terminal UI is a reducer over it.
 */
export interface EventBase {
  runId: string;
  /** Training step the event refers to (0 before training). */
  step: number;
  /** Wall-clock time, ms since the epoch. */
  time: number;
}

export interface RunStartEvent extends EventBase {
  kind: 'run-start';
  command: string;
  backend: { name: string; tfBackend: string; device: string; blas: string | null; threads: number };
  config: Record<string, unknown>;
  /** Present when this run continues an earlier one from a checkpoint. */
  resume?: { fromStep: number; checkpoint: string };
}

export interface DatasetEvent extends EventBase {
  kind: 'dataset';
  objective: string;
  n: number;
  dim: number;
  source: string;
  frame: { width: number; height: number; channels: number };
}

export interface TrainStepEvent extends EventBase {
  kind: 'train-step';
  loss: number;
  lr: number;
  gradNorm: number;
  /** Duration of this step, ms. */
  stepMs: number;
  samplesPerSec: number;
}

export interface TrainEndEvent extends EventBase {
  kind: 'train-end';
  reason: 'loss-target' | 'step-cap' | 'diverged' | 'cancelled';
  loss: number;
  lossTarget: number;
  wallMs: number;
}

export interface RecallFrame {
  index: number;
  matched: boolean;
  /** Whether the network's own limit from this sample (x*_i) is close enough to stand for it. */
  stored: boolean;
  /** Index into the recalled states of the state compared with this sample (matched, else nearest). */
  state: number;
  /** Distance of the recalled state to the training frame x_i. */
  l2: number;
  /** Distance to the stored pattern x*_i (the limit reached from x_i itself); NaN when there is none. */
  l2Stored: number;
  psnr: number;
}

export interface RecallEvent extends EventBase {
  kind: 'recall';
  from: string;
  /** Which stopping rule fired. */
  rule: 'fixed-point' | 'cycle' | 'diverged' | 'step-cap';
  iterations: number;
  /** Detected period (1 for a fixed point, 0 when none was found). */
  period: number;
  framesMatched: number;
  framesTotal: number;
  /** Samples whose stored pattern x*_i exists and stands for x_i (matches are only possible for these). */
  framesStored: number;
  /** Whether the recalled cycle visits its sequence in order; null for autoencoders (no order). */
  orderCorrect: boolean | null;
  meanPsnr: number;
  /** Training-frame index of each recalled cycle state, in cycle order (-1 when unmatched). */
  cycle: number[];
  frames: RecallFrame[];
  tolerances: { step: number; cycle: number; match: number; storedMinPsnr: number };
}

export interface AttractorItem {
  /** What was certified: the recalled limit, a stored sequence cycle, or one stored sample. */
  what: string;
  period: number;
  /** Spectral radius of J_f (fixed point) or of the product around the cycle. */
  rho: number;
  /** Largest eigenvalues by modulus (complex in general). */
  top: { re: number; im: number; abs: number }[];
  attractor: boolean;
}

export interface AttractorEvent extends EventBase {
  kind: 'attractors';
  /** 'reduced' (the W×W matrix M·A, exact for FC nets) or 'full' (the d×d Jacobian). */
  method: 'reduced' | 'full';
  solver: 'lapack' | 'ml-matrix';
  items: AttractorItem[];
  /** Stored memories (not counting the recalled limit) certified as attractors, of those stored. */
  attractors: number;
  stored: number;
  ms: number;
  /** Why nothing was certified, when the eigenproblem was too large for the solver at hand. */
  skipped?: string;
}

export interface SpikeEvent extends EventBase {
  kind: 'spike';
  /** onset: loss rose to κ× its running baseline; end: back within (1+δ) of the pre-spike level; nonfinite: NaN/Inf. */
  phase: 'onset' | 'end' | 'nonfinite';
  onsetStep: number;
  /** The running baseline (minimum over the window) just before the onset. */
  preLoss: number;
  peakLoss: number;
  peakStep: number;
  /** peakLoss / preLoss. */
  height: number;
  /** Steps from onset to end (end only). */
  duration?: number;
}

export interface ArtifactEvent extends EventBase {
  kind: 'artifact';
  what: 'checkpoint' | 'video' | 'audio' | 'contact-sheet' | 'metrics';
  path: string;
}

export interface LogEvent extends EventBase {
  kind: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface RunEndEvent extends EventBase {
  kind: 'run-end';
  status: 'complete' | 'failed' | 'cancelled';
  wallMs: number;
}

/** A command the operator sent into a running pipeline (dashboard keys); `c`/`q` are not events of their own. */
export type ControlCommand = 'pause' | 'resume' | 'checkpoint' | 'recall';

/** The pipeline acted on a control command (so `engram watch` sees pauses too). */
export interface ControlEvent extends EventBase {
  kind: 'control';
  command: ControlCommand;
}

/**
 * A small downsampled picture of a recalled state for the dashboard (≤ 64×64, 8-bit), or for audio a
 * waveform strip and its correlation with the original; emitted after each recall, kept small for events.jsonl.
 */
export interface PreviewEvent extends EventBase {
  kind: 'preview';
  media: 'image' | 'audio';
  /** Training sample the previewed state was compared with (-1 when none). */
  frame: number;
  /** image: pixel grid of `pixels`; audio: number of waveform buckets and 1. */
  width: number;
  height: number;
  channels: 1 | 3;
  /** image: base64 of width·height·channels bytes (0–255), row-major, channels interleaved. */
  pixels?: string;
  /** audio: per bucket [min, max] of the recalled chunk in [−1, 1], 3 decimals. */
  waveform?: [number, number][];
  /** audio: Pearson correlation of the recalled chunk with the original sample. */
  correlation?: number;
  psnr?: number;
}

export type EngramEvent =
  | RunStartEvent
  | DatasetEvent
  | TrainStepEvent
  | TrainEndEvent
  | RecallEvent
  | AttractorEvent
  | SpikeEvent
  | ArtifactEvent
  | LogEvent
  | RunEndEvent
  | ControlEvent
  | PreviewEvent;

export type EventKind = EngramEvent['kind'];

/** Distributes Omit over the union so each member keeps its own fields. */
export type EventBody<E = EngramEvent> = E extends EngramEvent ? Omit<E, keyof EventBase> : never;
