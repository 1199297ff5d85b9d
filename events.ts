/**
 * The one event vocabulary. Monitors emit these, `events.jsonl` is exactly this stream (one JSON
 * object per line, written and read by event-codec.ts) and the terminal UI is a reducer over it.
 * This file imports nothing of engram's, so the unions below restate closed sets that engine/ and
 * pipelines/ also name; the compiler checks that what they emit fits.
 */

/**
 * Version of the event protocol, written in every run-start. Raise it when a change would make an
 * older engram misread a log (a field removed, renamed or given another meaning); adding an optional
 * field does not need it. Logs whose run-start has no schemaVersion are version 1.
 */
export const EVENT_SCHEMA_VERSION = 1;

export type Objective = 'autoencode' | 'cycle' | 'multi-cycle';
export type OptimizerName = 'gd' | 'momentum' | 'momentum-wd' | 'rmsprop' | 'adam';
export type EigMethod = 'reduced' | 'full' | 'arnoldi';
export type EigSolver = 'lapack' | 'ml-matrix';
/** How the tangent kernel's J·w is formed: forward-mode JVP, or finite differences. */
export type JvpMethod = 'forward' | 'fd';

export interface EventBase {
  runId: string;
  /** Training step the event refers to (0 before training). */
  step: number;
  /** Wall-clock time, ms since the epoch. */
  time: number;
}

/** An optimizer as configured (engine/optimizers.ts); unset coefficients take their defaults. */
export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** momentum coefficient (momentum, momentum-wd); default 0.9 */
  momentum?: number;
  /** L2 weight decay added to the gradient (momentum-wd; also honoured by adam/rmsprop); default 5e-4 for momentum-wd */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  /** rmsprop smoothing; default 0.99 */
  rho?: number;
  eps?: number;
}

/** What memorize reads (pipelines/inputs.ts). */
export type InputConfig =
  | { kind: 'video'; path: string; width: number; height: number; gray: boolean; frames?: number; fps?: number; start?: number; duration?: number }
  | { kind: 'audio'; path: string; rate: number; chunkSeconds: number; partial: 'drop' | 'pad'; maxChunks?: number }
  | { kind: 'images'; path: string; width: number; height: number; gray: boolean; watch?: boolean };

/** An FC network without its dimension (that comes from the data). */
export interface FcConfig {
  width: number;
  /** Number of hidden layers D. */
  depth: number;
  activation: string;
  bias: boolean;
  init: string;
  seed: number;
}

/** The corruption sweep and spurious-attractor search after recall (operators/recovery.ts); unset: defaults. */
export interface RecoveryConfig {
  seed?: number;
  /** Trials per corruption level (default 4). */
  trials?: number;
  /** Additive uniform noise half-widths (default 0.1, 0.3, 0.5). */
  noise?: number[];
  /** Numbers of coloured squares (default 1, 4, 8). */
  squares?: number[];
  /** Side of a square in pixels (default max(1, round(min(width, height) / 8))). */
  squareSide?: number;
  /** Masked fractions (default 0.1, 0.3, 0.5). */
  mask?: number[];
  /** Masked elements become 0 (default) or U[0,1] noise. */
  maskFill?: 'zero' | 'noise';
  /** Pure-noise probes per source: U[0,1], N(0, σ²), N(0, spuriousSigma²) (default 4). */
  probes?: number;
  sigma?: number;
  /** σ of the second Gaussian probe set (docs/math.md §6: N(0, 4), σ = 2). */
  spuriousSigma?: number;
  maxIterations?: number;
  /** Iterations per batched `iterate` call between checks (default 64). */
  block?: number;
  tolStep?: number;
  tolCycle?: number;
  /** Match: ‖x − x*_j‖ ≤ tol·max(‖x*_j‖, 1), as in recall. */
  tolMatch?: number;
  maxPeriod?: number;
  /** Two spurious limits are one when they are this close (relative, default 1e-2). */
  tolDedupe?: number;
  /** Certify at most this many spurious limits (the most visited first; default 4: a long cycle costs as much as certifying the stored one). */
  maxCertified?: number;
}

/**
 * The run configurations, one per pipeline that writes a run-start, told apart by `command` (the
 * command line itself is RunStartEvent.command). Every field is what the pipeline was given.
 */
interface RunConfigBase {
  runId: string;
  outDir: string;
}

/** memorize and demo (demo memorizes a built-in clip). */
export interface MemorizeRunConfig extends RunConfigBase {
  command: 'memorize';
  input: InputConfig;
  objective: 'cycle' | 'autoencode';
  /**
   * cycle only: the input's samples split into this many consecutive sequences of (near-)equal length,
   * each stored as its own cycle (the multi-cycle objective, docs/math.md §3.1). Absent: 1.
   */
  sequences?: number;
  model: FcConfig;
  optimizer: OptimizerConfig;
  /**
   * How the net is fitted (docs/math.md §3.5): solve (sampled first layer, contractive output layer in
   * closed form, each step one attempt), gradient (the optimizer), or auto (solve when the net can
   * interpolate the data, else gradient). Absent (runs before it existed): gradient.
   */
  fit?: 'auto' | 'solve' | 'gradient';
  lossTarget: number;
  /** Step cap; a solve makes at most min(maxSteps, SOLVE_TRIES) attempts. */
  maxSteps: number;
  batchSize?: number;
  /** Save the trainer every this many steps (and on cancellation). */
  checkpointEvery: number;
  /** Refuse a video or audio file that decodes to fewer frames (seconds) than its container promises: E_INPUT_PARTIAL (default false: a warning). */
  strict?: boolean;
  /** At the first NaN/Inf loss, save the last finite state (checkpoints/last-finite.ckpt) and stop with E_NONFINITE (default false). */
  stopOnNonfinite?: boolean;
  /** Tangent-kernel stability ratio every this many steps (and at the start and around spikes); 0 turns it off. */
  stabilityEvery?: number;
  recall: { from: 'gaussian' | 'uniform'; sigma: number; maxIterations: number; seed: number };
  /** Corruption sweep, 1-NN baseline and spurious attractors after recall (docs/math.md §6); off when absent or false. */
  recovery?: RecoveryConfig | false;
  /** Overwrite files of the same name inside outDir. */
  force: boolean;
  /** Eigen method of the attractor certificates (default auto; rule in engine/certify.ts). */
  eigMethod?: EigMethod | 'auto';
  /** Attractor monitor during training: every N steps or 'auto' (≤ 15% of training time); every 0: off. */
  monitor?: { every: number | 'auto'; examples: number };
  /** The certificate after recall certifies at most this many stored memories (the first ones; default 32). */
  certifyMax?: number;
  /** A live input (--live): memorized continually as it arrives (pipelines/live.ts); absent: read to its end first. */
  live?: LiveConfig;
}

/** How a live run keeps its memory of a stream that never ends (operators/live-memory.ts). */
export interface LiveConfig {
  /** window: the last `size` frames are one cycle; segments: every closed window of `size` frames is one more cycle (at most `capacity`); grow: one cycle of up to `size` frames. */
  mode: 'window' | 'segments' | 'grow';
  size: number;
  /** segments: stored cycles at most. */
  capacity?: number;
  /** Trainer steps a memory gets before the next frame is admitted (frames arriving meanwhile are dropped, counted). */
  minSteps: number;
  /** The recallable-now probe every this many seconds (0: off). */
  probeSeconds: number;
  /** Record the current memory, recalled from noise, every this many seconds (absent: only on the record key and at the end). */
  recordSeconds?: number;
  /** A source that drops is reconnected at most this many times in a row; then the stream counts as ended (the run finishes with a warning, or fails with E_INPUT_UNREADABLE when it memorized nothing). Absent: forever. */
  reconnects?: number;
  /** Stop after this many samples (frames, chunks, images) have arrived (--frames), or this many seconds (--duration); absent: run until stopped. */
  frames?: number;
  seconds?: number;
}

export interface AssocRunConfig extends RunConfigBase {
  command: 'assoc';
  n: number;
  m: number;
  d: number;
  /** As on the command line, e.g. 'orthonormal', 'correlated:0.5'. */
  embeddings: string;
  /** As on the command line, e.g. 'zipf:1', 'two:0.9'. */
  frequencies: string;
  init: 'zero' | 'randn';
  optimizer: 'gd' | 'sgd' | 'adam';
  lr: number;
  /** SGD (and Adam, when given) batch size; gd and adam without it use the full p-weighted loss. */
  batch?: number;
  steps: number;
  seed: number;
  /** Margins events every this many steps (plus log-spaced early steps and the last). */
  marginsEvery: number;
  /** Lanczos steps for λ_max at each margins event (0: do not compute). */
  lanczos: number;
  spikes?: { window?: number; kappa?: number; delta?: number };
  /** Draw margins.png at the end. */
  plot: boolean;
}

export interface IdentityRunConfig extends RunConfigBase {
  command: 'identity';
  archs: ('fc' | 'cnn')[];
  depths: number[];
  input: string;
  image: { width: number; height: number; gray: boolean };
  fc: { width: number; activation: string };
  cnn: { channels: number; activation: string };
  bias: boolean;
  init: string;
  optimizer: OptimizerConfig;
  lossTarget: number;
  maxSteps: number;
  rhos: number[];
  perRho: number;
  seed: number;
}

export interface BasinsRunConfig extends RunConfigBase {
  command: 'basins';
  points: [number, number][];
  objective: 'autoencode' | 'cycle';
  /** cycle: the points are these many consecutive sequences of these lengths, each its own cycle (absent: one sequence of all the points). */
  sequences?: number[];
  model: FcConfig;
  optimizer: OptimizerConfig;
  lossTarget: number;
  maxSteps: number;
  grid: number;
  steps: number;
}

export type RunConfig = MemorizeRunConfig | AssocRunConfig | IdentityRunConfig | BasinsRunConfig;

export interface RunStartEvent extends EventBase {
  kind: 'run-start';
  /** EVENT_SCHEMA_VERSION of the engram that wrote this run (read as 1 from logs that predate it). */
  schemaVersion: number;
  /** The command line. */
  command: string;
  backend: { name: string; tfBackend: string; device: string; blas: string | null; threads: number };
  config: RunConfig;
  /** Present when this run continues an earlier one from a checkpoint. */
  resume?: { fromStep: number; checkpoint: string };
}

export interface DatasetEvent extends EventBase {
  kind: 'dataset';
  objective: Objective;
  n: number;
  dim: number;
  source: string;
  frame: { width: number; height: number; channels: number };
  /** How memorize fits this dataset (config `fit` resolved) and its step cap (a solve: its attempts). */
  fit?: { method: 'solve' | 'gradient'; maxSteps: number };
  /** multi-cycle: the lengths of the sequences, in sample order (absent for one sequence). */
  sequenceLengths?: number[];
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
  /**
   * --stop-on-nonfinite only: the last finite state the trainer rolled back to and saved (its step
   * and checkpoint path), or null when no step of this session was finite.
   */
  lastFinite?: { step: number; path: string | null } | null;
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
  /** Where the iteration started: noise of either kind, or a given input (a training sample or a file). */
  from: 'gaussian' | 'uniform' | 'input';
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
  /** What the trajectory did, classified (docs/math.md §4); absent in logs written before it existed. */
  outcome?: RecallOutcome;
}

/**
 * A recall's trajectory, classified after the burn-in (docs/math.md §4):
 *   exact              a fixed point or cycle whose every state matches a stored pattern
 *   approximate-orbit  no exact repeat (or a repeat matching no stored pattern) whose states shadow a
 *                      stored sequence: nearly every state within minPsnr of a training frame
 *   spurious           a fixed point or cycle that matches no stored pattern and shadows no sequence
 *   diverged           the trajectory left every bound (or became non-finite)
 *   undecided          the step cap came first and the states shadow no sequence
 */
export interface RecallOutcome {
  kind: 'exact' | 'approximate-orbit' | 'spurious' | 'diverged' | 'undecided';
  /** A stored memory came back: exact (in order for a sequence), or an approximate orbit passing every frame of its sequence in order. */
  recalled: boolean;
  /** Frames the trajectory passed at ≥ minPsnr, of the `of` frames of the sequence it shadows most. */
  coverage: number;
  of: number;
  /** At least 90% of the steps between close states go forward by ≤ 2 frames and at least half advance exactly one (docs/math.md §4.4); null for autoencoders. */
  inOrder: boolean | null;
  /** Worst and median over the `of` frames of the best PSNR at which the trajectory passed each. */
  worstPsnr: number;
  medianPsnr: number;
  /** Shadowing threshold (dB). */
  minPsnr: number;
  /** States classified (the period, or the trajectory's last states) and how many were within minPsnr of a frame. */
  window: number;
  close: number;
  /** Noise starts tried (seeds seed, seed+1, …) and the seed of the one reported (the best). */
  tries: number;
  seed: number;
  /**
   * Several stored sequences (multi-cycle) only: the one the trajectory came back to (0-based, in
   * sample order; for an exact limit the sequence its states match, else the one it shadows most),
   * of `sequences`.
   */
  sequence?: number;
  sequences?: number;
  /** The reason in words, and what to try when nothing stored came back. */
  why: string;
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
  method: EigMethod;
  solver: EigSolver;
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
  what: 'checkpoint' | 'video' | 'audio' | 'contact-sheet' | 'metrics' | 'plot' | 'report';
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

/**
 * The tangent-kernel stability ratio of docs/math.md §7: r = a·η·λ_max(K)/2 for full-batch GD on
 * L = (a/2)·Σ‖f − y‖², K = J_θ J_θᵀ on the training set (a = 2/(n·d) for engram's mean MSE).
 * Momentum μ and weight decay ω generalize it to r = η·(a·λ_max + ω)/(2(1 + μ)).
 */
export interface StabilityEvent extends EventBase {
  kind: 'stability';
  /** Why it was measured now. */
  trigger: 'start' | 'cadence' | 'spike-onset' | 'spike-end';
  /** λ_max(K), the largest eigenvalue of the tangent kernel on the whole training set. */
  lambdaMax: number;
  lr: number;
  /** Loss normalization: L = (a/2)·Σ‖f − y‖². */
  a: number;
  /** Stability ratio r (null when not applicable): < 1 stable, 1…~2 catapult, larger diverges. */
  ratio: number | null;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  /** false for adaptive optimizers (adam, rmsprop): the GD threshold does not apply to them. */
  applicable: boolean;
  reason?: string;
  /** How λ_max was found: Lanczos on K·v = J(Jᵀv), J·w by the stated JVP. */
  method: `lanczos, jvp ${JvpMethod}`;
  iterations: number;
  converged: boolean;
  ms: number;
}

export interface MarginToken {
  /** Token index (0-based). */
  token: number;
  /** Its frequency (weight) p(x). */
  p: number;
  margin: number;
  /** Sign changes of its margin since the previous margins event. */
  flips: number;
}

export interface MarginsEvent extends EventBase {
  kind: 'margins';
  /** Tokens (rows of the scores) and classes. */
  n: number;
  m: number;
  min: number;
  median: number;
  /** Fraction of tokens (unweighted) with m_x > 0. */
  fractionPositive: number;
  /** Frequency-weighted cross-entropy and 0-1 loss (a token counts as wrong unless m_x > 0). */
  loss: number;
  loss01: number;
  /** Sign changes of all tokens' margins since the previous margins event. */
  flips: number;
  /** Top eigenvalue of the loss Hessian, and η·λ_max/2 (> 1: GD is unstable there); null when not computed. */
  lambdaMax: number | null;
  stability: number | null;
  /** All tokens when n ≤ the monitor's limit, else the most frequent and the worst. */
  tokens: MarginToken[];
}

/** One ρ of the identity probe (docs/math.md §9): means over the probes x_ρ at that ρ. */
export interface IdentityRow {
  rho: number;
  /** corr(f(x_ρ), x_ρ): the trained map acts like the identity. */
  corrI: number;
  /** corr(f(x_ρ), x̂): the trained map acts like the constant map to the training example. */
  corrC: number;
  /** Standard deviations over the probes at this ρ. */
  corrIStd: number;
  corrCStd: number;
  /** The same scores of the exact identity map x ↦ x and the constant map x ↦ x̂ on the same probes. */
  identity: { corrI: number; corrC: number };
  constant: { corrI: number; corrC: number };
}

export interface IdentityEvent extends EventBase {
  kind: 'identity';
  arch: 'fc' | 'cnn';
  /** FC: hidden layers; CNN: U-Net down/up levels. */
  depth: number;
  params: number;
  /** How training on the single example x̂ ended. */
  train: { steps: number; loss: number; reason: 'loss-target' | 'step-cap' | 'diverged'; wallMs: number };
  /** 'cosine': corr(a, b) = a·b / (‖a‖‖b‖), so corr(x_ρ, x̂) = ρ exactly. */
  corr: 'cosine';
  probesPerRho: number;
  rows: IdentityRow[];
  /**
   * Mean over ρ of the L1 distance of (corrI, corrC) to the identity row, resp. the constant row,
   * divided by the mean distance between those two rows (0 = that baseline, 1 = the other one).
   */
  distance: { identity: number; constant: number };
  /** identity if distance.identity ≤ threshold, constant if distance.constant ≤ threshold, else neither. */
  label: 'identity' | 'constant' | 'neither';
  threshold: number;
}

export interface RecoveryLevel {
  /** noise: additive U[−level, level]; squares: `level` coloured squares; mask: this fraction of elements replaced. */
  corruption: 'noise' | 'squares' | 'mask';
  level: number;
  trials: number;
  /** Fraction of trials whose limit is the right stored pattern (autoencode: x*_i; cycle: the stored cycle of i's sequence). */
  model: number;
  /** Cycles: fraction that also lands at the right phase (x*_{i+k} after k steps); null for autoencoders. */
  phase: number | null;
  /** Fraction of the same corrupted inputs whose nearest training example (1-NN) is the right one. */
  nn: number;
  /** Fraction of trials not recovered (another stored pattern, a spurious limit, diverged, step cap). */
  wrong: number;
  /** Trials (counts) that ended at a limit matching no stored pattern, diverged, or hit the step cap. */
  spurious: number;
  diverged: number;
  unresolved: number;
  /** Recovered, or still undecided at the step cap but nearest to the right stored pattern (a slowly contracting net). */
  heading: number;
}

export interface RecoveryNoise {
  from: 'uniform' | 'gaussian';
  sigma: number | null;
  probes: number;
  /** Fraction of probes that end at a stored memory. */
  stored: number;
  spurious: number;
  diverged: number;
  unresolved: number;
}

export interface RecoveryEvent extends EventBase {
  kind: 'recovery';
  objective: Objective;
  trials: number;
  maxIterations: number;
  levels: RecoveryLevel[];
  noise: RecoveryNoise[];
  /** Stored patterns the trials were matched against (of n samples). */
  stored: number;
  n: number;
  ms: number;
}

export interface SpuriousItem {
  /** Period of the limit (1: fixed point). */
  period: number;
  /** Probes that ended here, and where they came from (noise kinds, corruption kinds). */
  hits: number;
  from: string[];
  /** Nearest training sample and the distance of the limit to it. */
  nearest: number;
  l2Nearest: number;
  /** Eigen certificate (ρ of J_f, or of the product around the cycle); null when not certified. */
  rho: number | null;
  attractor: boolean | null;
  /** PNG of the limit (image/video runs). */
  path?: string;
}

export interface SpuriousEvent extends EventBase {
  kind: 'spurious';
  /** Probes iterated (corrupted samples, U[0,1] and N(0, σ²) noise). */
  probes: number;
  /** Distinct converged limits that match no stored pattern. */
  count: number;
  /** Of those certified, how many are attractors (ρ < 1). */
  attractors: number;
  certified: number;
  items: SpuriousItem[];
}

export interface BasinsEvent extends EventBase {
  kind: 'basins';
  objective: 'autoencode' | 'cycle';
  /** Training points (d = 2). */
  points: [number, number][];
  /** Grid: `size` × `size` cells over [x0, x1] × [y0, y1], row-major from (x0, y0). */
  grid: { size: number; x0: number; x1: number; y0: number; y1: number };
  /** Per cell: index of the training point reached, −1 none (another limit or not settled), −2 diverged. */
  labels: number[];
  /** f(x) − x on a coarse grid: [x, y, dx, dy]. */
  field: [number, number, number, number][];
  steps: number;
  /** Fraction of cells per label (index i, 'none', 'diverged'). */
  share: Record<string, number>;
  /** cycle: lengths of the consecutive sequences the points form (absent: one sequence of all of them). */
  sequences?: number[];
  /** Distinct fixed points and cycles that grid cells settled on and that match no training point (a cycle is given by one of its states); absent in older logs. */
  spurious?: { limits: [number, number][]; periods: number[]; cells: number };
}

/** A command the operator sent into a running pipeline (dashboard keys); `c`/`q` are not events of their own. */
export type ControlCommand = 'pause' | 'resume' | 'checkpoint' | 'recall' | 'record' | 'stop';

/**
 * Progress of a long stage that has no training steps to show: decoding the input before `dataset`
 * (frames or seconds decoded so far, against what the container or --frames promises), iterating
 * recall from noise (iterations so far, against --recall-steps). Emitted about once a second, never
 * for a stage that ends sooner; `total` is null when it is not known (a stream of unknown length).
 * Added in schema version 1 as a new kind (an older engram skips these lines).
 */
export interface ProgressEvent extends EventBase {
  kind: 'progress';
  what: 'decode' | 'recall' | 'experiment';
  done: number;
  total: number | null;
  /** What is counted: 'frames', 'seconds', 'iterations'. */
  unit: string;
  /** The part of the stage (recall: 'stored memories' while it finds the network's own limits from the samples, 'noise starts' after). */
  stage?: string;
  /** decode: the input, as given (a path, `-`, a URL, `lavfi:…`). */
  source?: string;
  /** Since the stage started, ms. */
  elapsedMs?: number;
}

/** The pipeline acted on a control command (so `engram watch` sees pauses too). */
export interface ControlEvent extends EventBase {
  kind: 'control';
  command: ControlCommand;
}

interface PreviewBase extends EventBase {
  kind: 'preview';
  /** Training sample the previewed state was compared with (-1 when none). */
  frame: number;
  psnr?: number;
}

/** A recalled state as a picture (≤ 64×64, 8-bit); 0×0 with no pixels when recall reached no state. */
export interface ImagePreviewEvent extends PreviewBase {
  media: 'image';
  width: number;
  height: number;
  channels: 1 | 3;
  /** base64 of width·height·channels bytes (0–255), row-major, channels interleaved. */
  pixels: string;
}

/** A recalled audio chunk as a waveform strip; empty when recall reached no state. */
export interface AudioPreviewEvent extends PreviewBase {
  media: 'audio';
  /** Number of waveform buckets. */
  width: number;
  height: 1;
  channels: 1;
  /** Per bucket [min, max] of the recalled chunk in [−1, 1], 3 decimals. */
  waveform: [number, number][];
  /** Pearson correlation of the recalled chunk with the original sample. */
  correlation?: number;
}

/**
 * The dashboard's view of a recall, emitted after each one and kept small for events.jsonl.
 */
export type PreviewEvent = ImagePreviewEvent | AudioPreviewEvent;

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
  /**
   * engram inspect: whether the network holds this example/sequence as a stored memory (its own
   * limit from the samples comes back to them, as recall decides). When it does not, the certificate
   * is of the training points, not of a memory.
   */
  stored?: boolean;
}

export interface AttractorMonitorEvent extends EventBase {
  kind: 'attractor-monitor';
  /** 'cadence' during training, 'end' after the last step, 'inspect' from engram inspect. */
  phase: 'cadence' | 'end' | 'inspect';
  method: EigMethod;
  solver: EigSolver;
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

/**
 * A live run's stream and memory, about once a second (pipelines/live.ts). Rates are over the
 * interval since the previous live event; counts are since the run started. Added in schema
 * version 1 as a new kind (an older engram skips these lines).
 */
export interface LiveEvent extends EventBase {
  kind: 'live';
  source: string;
  /** connecting (no frame yet), connected, reconnecting (a gap: waiting to try again), ended (the stream completed). */
  state: 'connecting' | 'connected' | 'reconnecting' | 'ended';
  /**
   * Frames received, taken into memory, dropped because training could not keep up, not taken in
   * because they repeat a frame in memory (equal at 8 bits: a still scene, a stream that loops), and
   * in memory now. arrived = admitted + dropped + repeated, give or take the one frame waiting.
   */
  arrived: number;
  admitted: number;
  dropped: number;
  repeated: number;
  stored: number;
  /** Stored cycles (window and grow: 1 once 2 frames are in). */
  sequences: number;
  /** Stream frame indices of the oldest and newest frame in memory (null while empty). */
  span: [number, number] | null;
  /** Frames per second received and admitted, and the share of received frames dropped, over the interval. */
  arrivalFps: number;
  admitFps: number;
  dropRate: number;
  /** Trainer steps per admitted frame over the interval (null when none was admitted). */
  stepsPerFrame: number | null;
  /** Times the source dropped and was reconnected (or is being reconnected). */
  gaps: number;
  /** Seconds since the first frame arrived. */
  streamSeconds: number;
  /** The interval these rates cover, ms. */
  intervalMs: number;
}

/**
 * Recallable now: a live run's probe of its current memory (pipelines/live.ts) — the net, as it
 * was when the probe started, iterated from noise and matched against the frames in memory, and
 * its cycle certified. Added in schema version 1 as a new kind.
 */
export interface LiveProbeEvent extends EventBase {
  kind: 'live-probe';
  /** Stream frame indices of the memory probed, in cycle order (the longest stored cycle). */
  frames: number[];
  /** Frames the trajectory from noise passed at ≥ minPsnr, in order or not, of those in memory. */
  coverage: number;
  of: number;
  inOrder: boolean | null;
  /** Mean PSNR over the memory's frames of the recalled states matched to them (the recall's meanPsnr), dB. */
  meanPsnr: number;
  /** Worst PSNR at which the trajectory passed a frame of the memory, dB. */
  worstPsnr: number;
  /** The recall's outcome (exact, approximate-orbit, …). */
  outcome: string;
  /** ≥ 90% of the memory's frames came back from noise, in order, at ≥ 30 dB. */
  recallable: boolean;
  /** The stored cycle is certified an attractor (ρ < 1 of the Jacobian around it); null when not checked. */
  certified: boolean | null;
  rho: number | null;
  /** The probe's time, ms. */
  ms: number;
}

/**
 * `engram reproduce`: an experiment of the research started or ended (pipelines/reproduce.ts). Its
 * sub-runs are run directories of their own; this says what the experiment concluded and where its
 * report is. Added in schema version 1 as a new kind (an older engram skips these lines).
 */
export interface ExperimentEvent extends EventBase {
  kind: 'experiment';
  name: string;
  phase: 'start' | 'end';
  /** end: the measured result agrees with the published one, partly, or not; failed (an error stopped it); skipped (a tool it needs is missing). */
  status?: 'agrees' | 'partly' | 'disagrees' | 'failed' | 'skipped';
  /** end: the one-line verdict, or the error, or why it was skipped. */
  summary?: string;
  /** end: the report written (report.md; report.html beside it). */
  report?: string;
  wallMs?: number;
  /** end, failed: the error's code (E_INTERNAL for an error without one). */
  errorCode?: string;
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
  | RunEndEvent
  | StabilityEvent
  | MarginsEvent
  | IdentityEvent
  | RecoveryEvent
  | SpuriousEvent
  | BasinsEvent
  | ControlEvent
  | PreviewEvent
  | ProgressEvent
  | LiveEvent
  | LiveProbeEvent
  | ExperimentEvent;

export type EventKind = EngramEvent['kind'];

/** Every kind, in the order of the union (the codec, the dashboard and their tests walk this list). */
export const EVENT_KINDS = [
  'run-start', 'dataset', 'train-step', 'train-end', 'recall', 'attractors', 'spike', 'attractor-monitor', 'artifact', 'log',
  'run-end', 'stability', 'margins', 'identity', 'recovery', 'spurious', 'basins', 'control', 'preview', 'progress', 'live', 'live-probe', 'experiment',
] as const satisfies readonly EventKind[];

/** A kind left out of EVENT_KINDS is a compile error here. */
const _allKinds: Exclude<EventKind, (typeof EVENT_KINDS)[number]> extends never ? true : never = true;
void _allKinds;

/** Stops the compiler when a switch over a union misses a member; at run time, names what slipped through. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/** Distributes Omit over the union so each member keeps its own fields. */
export type EventBody<E = EngramEvent> = E extends EngramEvent ? Omit<E, keyof EventBase> : never;
