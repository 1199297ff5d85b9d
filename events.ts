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
  /**
   * 'reduced' (the W×W matrix M·A, exact for FC nets), 'full' (the d×d Jacobian) or 'arnoldi' (top-k
   * by Arnoldi on VJPs; `solver` is then the solver of its small Hessenberg matrix).
   */
  method: 'reduced' | 'full' | 'arnoldi';
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

export interface Histogram {
  /** Bin edges, ascending (counts.length + 1 of them). */
  edges: number[];
  counts: number[];
}

export interface AttractorMonitorItem {
  /** Training example index (autoencode) or sequence index (cycle). */
  index: number;
  what: string;
  period: number;
  rho: number;
  top: { re: number; im: number; abs: number }[];
  attractor: boolean;
  /** Arnoldi only: whether the top-k Ritz values converged. */
  converged?: boolean;
}

export interface AttractorMonitorEvent extends EventBase {
  kind: 'attractor-monitor';
  /** 'cadence' during training, 'end' after the last step, 'inspect' from engram inspect. */
  phase: 'cadence' | 'end' | 'inspect';
  method: 'reduced' | 'full' | 'arnoldi';
  solver: 'lapack' | 'ml-matrix';
  items: AttractorMonitorItem[];
  /** Examples/cycles certified as attractors (x of n). */
  attractors: number;
  n: number;
  /** Training examples (or cycles) in all; items are the first `n` of them. */
  total: number;
  rhoHist: Histogram;
  /** Histogram of the top 1% of |λ| pooled over the items (see `pooled`). */
  topEigHist: Histogram;
  /** How the |λ| pool was formed, e.g. 'top 11 |λ| of each example (1% of d = 1024)'. */
  pooled: string;
  /** This monitor run, ms. */
  ms: number;
  /** All monitor runs so far in this training, ms, and the training time they were compared with. */
  totalMs: number;
  trainMs: number;
}

export type EngramEvent =
  | RunStartEvent
  | DatasetEvent
  | TrainStepEvent
  | TrainEndEvent
  | RecallEvent
  | AttractorEvent
  | SpikeEvent
  | AttractorMonitorEvent
  | ArtifactEvent
  | LogEvent
  | RunEndEvent;

export type EventKind = EngramEvent['kind'];

/** Distributes Omit over the union so each member keeps its own fields. */
export type EventBody<E = EngramEvent> = E extends EngramEvent ? Omit<E, keyof EventBase> : never;
