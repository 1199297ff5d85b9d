/**
 * The view state of a run as a pure fold over its events: the live dashboard, `engram watch` over
 * events.jsonl and the CLI summary all read a run through this one reducer. Every event kind is one
 * `case`; everything the panes show that is derived (steps/s, ETA, parameter count) is a selector
 * below, so the state stays small and the reducer cheap enough to run on every training step.
 */
import {
  assertNever, type AttractorEvent, type BasinsEvent, type ControlCommand, type EngramEvent, type ExperimentEvent, type IdentityEvent, type LiveConfig, type LiveEvent, type LiveProbeEvent, type PreviewEvent,
  type ProgressEvent, type RecallEvent, type RunConfig,
} from '../events.ts';
import { rhoShort, sci } from './units.ts';

/** One column's worth of training steps of the loss chart: the range and last loss over `count` steps. */
export interface LossPoint {
  readonly step: number;
  readonly lo: number;
  readonly hi: number;
  readonly last: number;
  readonly count: number;
}

export interface SpikeView {
  readonly onsetStep: number;
  readonly peakStep: number;
  readonly height: number;
  /** Steps from onset to end; null while the spike lasts. */
  readonly duration: number | null;
  readonly nonfinite: boolean;
}

/**
 * What the margin pane shows (engram assoc: per-token margins of the correct token over the best
 * other one). The `margins` event of issue 4 maps onto this with one reducer case.
 */
export interface MarginView {
  readonly step: number;
  readonly min: number;
  readonly median: number;
  /** Fraction of tokens with a positive margin, in [0, 1]. */
  readonly fractionPositive: number;
  /** Per-token margin over time (most recent last), for sparklines. */
  readonly tokens: readonly { readonly label: string; readonly series: readonly number[] }[];
}

/** A live run's stream and memory (memorize --live): its config, the newest `live` event and short histories for sparklines. */
export interface LiveView {
  /** From run-start (null when the run-start had none, e.g. a log read from its middle). */
  readonly config: LiveConfig | null;
  /** The newest `live` event; null until the first (the stream is connecting). */
  readonly last: LiveEvent | null;
  /** Per `live` event, oldest first, at most LIVE_HISTORY long. */
  readonly arrivalFps: readonly number[];
  readonly admitFps: readonly number[];
  readonly dropRate: readonly number[];
}

/** Recallable now: the newest `live-probe` and, per probe, the share of the memory that came back and whether it was recallable. */
export interface ProbeView {
  readonly last: LiveProbeEvent;
  /** coverage / of per probe (0 for an empty memory), oldest first, at most LIVE_HISTORY long. */
  readonly coverage: readonly number[];
  readonly recallable: readonly boolean[];
  /** Probes so far, and how many were recallable. */
  readonly probes: number;
  readonly recallableProbes: number;
}

export interface LogLine {
  readonly step: number;
  readonly time: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface ViewState {
  readonly runId: string | null;
  readonly status: 'idle' | 'running' | 'complete' | 'failed' | 'cancelled';
  readonly backend: string | null;
  readonly device: string | null;
  readonly threads: number | null;
  readonly command: string | null;
  readonly input: string | null;
  readonly objective: string | null;
  readonly model: { readonly width: number; readonly depth: number; readonly bias: boolean; readonly activation: string } | null;
  readonly dataset: { readonly n: number; readonly dim: number; readonly width: number; readonly height: number; readonly channels: number } | null;
  readonly lossTarget: number | null;
  readonly maxSteps: number | null;
  /** Wall time of run-start and of the newest event, ms since the epoch. */
  readonly startTime: number | null;
  readonly lastTime: number | null;
  readonly paused: boolean;
  readonly step: number;
  readonly loss: number | null;
  readonly bestLoss: number | null;
  /** Most recent losses, oldest first, at most HISTORY long. */
  readonly lossHistory: readonly number[];
  /** The whole run's losses, decimated to at most SERIES points (each covers `stride` steps). */
  readonly series: readonly LossPoint[];
  readonly stride: number;
  /** (step, time) samples at least RATE_SPACING_MS apart, newest last, for steps/s. */
  readonly rate: readonly { readonly step: number; readonly time: number }[];
  readonly stepMs: number | null;
  readonly train: { reason: string; step: number; loss: number; wallMs: number } | null;
  readonly recall: RecallEvent | null;
  readonly preview: PreviewEvent | null;
  readonly attractors: AttractorEvent | null;
  readonly margins: MarginView | null;
  /** Loss spikes detected (onsets and non-finite losses). */
  readonly spikes: number;
  readonly spikeList: readonly SpikeView[];
  /** The newest LOG_LINES artifacts and log messages (a live run writes without end). */
  readonly artifacts: readonly { what: string; path: string }[];
  readonly messages: readonly { level: string; message: string }[];
  /** The event log pane: one line per notable event, the newest LOG_LINES. */
  readonly log: readonly LogLine[];
  readonly wallMs: number | null;
  /** A long stage without training steps (decoding the input, iterating recall), while it runs; cleared when it ends. */
  readonly progress: ProgressEvent | null;
  /** A live run's stream (null: not a live run). */
  readonly live: LiveView | null;
  /** A live run's newest recallable-now probe (null until the first). */
  readonly probe: ProbeView | null;
}

export const HISTORY = 256;
export const SERIES = 512;
export const LOG_LINES = 200;
export const SPIKE_LIST = 50;
export const RATE_SPACING_MS = 100;
export const RATE_SAMPLES = 30;
/** Tokens with a sparkline in the margin pane (the event lists the most frequent first). */
export const MARGIN_TOKENS = 6;
/** Values kept per live-run series (about two minutes of `live` events). */
export const LIVE_HISTORY = 120;

export const initialViewState: ViewState = {
  runId: null, status: 'idle', backend: null, device: null, threads: null, command: null, input: null, objective: null,
  model: null, dataset: null, lossTarget: null, maxSteps: null, startTime: null, lastTime: null, paused: false,
  step: 0, loss: null, bestLoss: null, lossHistory: [], series: [], stride: 1, rate: [], stepMs: null, train: null,
  recall: null, preview: null, attractors: null, margins: null, spikes: 0, spikeList: [], artifacts: [], messages: [], log: [],
  wallMs: null, progress: null, live: null, probe: null,
};

const emptyLive = (config: LiveConfig | null): LiveView => ({ config, last: null, arrivalFps: [], admitFps: [], dropRate: [] });

const bounded = <T>(xs: readonly T[], x: T, max: number): T[] => [...(xs.length >= max ? xs.slice(xs.length - max + 1) : xs), x];

const line = (e: EngramEvent, text: string, level: LogLine['level'] = 'info'): LogLine => ({ step: e.step, time: e.time, level, text });

const exp = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

/** Adds one step's loss to the decimated series; pairs of points merge when it is full. */
export function addLoss(series: readonly LossPoint[], stride: number, step: number, loss: number): { series: LossPoint[]; stride: number } {
  const l = Number.isFinite(loss) ? loss : Number.NaN;
  const last = series[series.length - 1];
  if (last && last.count < stride) {
    const merged: LossPoint = {
      step, lo: Number.isNaN(l) ? last.lo : Math.min(last.lo, l), hi: Number.isNaN(l) ? last.hi : Math.max(last.hi, l), last: l, count: last.count + 1,
    };
    return { series: [...series.slice(0, -1), merged], stride };
  }
  const next = [...series, { step, lo: l, hi: l, last: l, count: 1 }];
  if (next.length <= SERIES) return { series: next, stride };
  const halved: LossPoint[] = [];
  for (let i = 0; i < next.length; i += 2) {
    const a = next[i], b = next[i + 1];
    halved.push(b ? { step: b.step, lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi), last: b.last, count: a.count + b.count } : a);
  }
  return { series: halved, stride: stride * 2 };
}

export function reduceEvent(s: ViewState, e: EngramEvent): ViewState {
  const t = { lastTime: Math.max(s.lastTime ?? 0, e.time) };
  switch (e.kind) {
    case 'run-start': {
      return {
        ...initialViewState, ...t, runId: e.runId, status: 'running', backend: e.backend.name, device: e.backend.device, threads: e.backend.threads,
        command: e.command, ...fromConfig(e.config), startTime: e.time, step: e.step,
        log: [line(e, e.resume ? `resumed from step ${e.resume.fromStep} (${e.resume.checkpoint})` : `started: ${e.command}`)],
      };
    }
    case 'dataset':
      return {
        ...s, ...t, progress: null, objective: e.objective, input: e.source, train: null, maxSteps: e.fit?.maxSteps ?? s.maxSteps, // a new memory (a watched directory grew): training again
        dataset: { n: e.n, dim: e.dim, width: e.frame.width, height: e.frame.height, channels: e.frame.channels },
        log: bounded(s.log, line(e, `dataset: ${e.n} samples, d=${e.dim}, ${e.objective}`), LOG_LINES),
      };
    case 'train-step': {
      const { series, stride } = addLoss(s.series, s.stride, e.step, e.loss);
      const lastRate = s.rate[s.rate.length - 1];
      const rate = !lastRate || e.time - lastRate.time >= RATE_SPACING_MS ? bounded(s.rate, { step: e.step, time: e.time }, RATE_SAMPLES) : s.rate;
      return {
        ...s, ...t, step: e.step, loss: e.loss, stepMs: e.stepMs, series, stride, rate,
        bestLoss: s.bestLoss === null || e.loss < s.bestLoss ? e.loss : s.bestLoss,
        lossHistory: bounded(s.lossHistory, e.loss, HISTORY),
        // a step after a pause means training continues (e.g. a resumed run)
        paused: false,
      };
    }
    case 'train-end':
      return {
        ...s, ...t, step: e.step, paused: false, train: { reason: e.reason, step: e.step, loss: e.loss, wallMs: e.wallMs },
        log: bounded(s.log, line(e, `training stopped (${e.reason}), loss ${exp(e.loss)}`, e.reason === 'diverged' ? 'error' : 'info'), LOG_LINES),
      };
    case 'recall':
      return {
        ...s, ...t, recall: e, progress: null,
        log: bounded(s.log, line(e, `recall: ${e.rule} after ${e.iterations} it (period ${e.period}), ${e.framesMatched}/${e.framesTotal} matched, ${e.meanPsnr.toFixed(1)} dB`), LOG_LINES),
      };
    case 'preview':
      // drawn in the recall pane
      return { ...s, ...t, preview: e };
    case 'attractors':
      return {
        ...s, ...t, attractors: e,
        log: bounded(s.log, line(e, e.skipped ? `attractors: not certified (${e.skipped})` : `attractors: ${e.attractors}/${e.stored} certified`,
          e.skipped || e.attractors < e.stored ? 'warn' : 'info'), LOG_LINES),
      };
    case 'attractor-monitor': {
      // live during training: the pane shows the monitor's certificate until the post-training one
      const a: AttractorEvent = {
        kind: 'attractors', runId: e.runId, step: e.step, time: e.time, method: e.method, solver: e.solver,
        items: e.items.map((i) => ({ what: i.what, period: i.period, rho: i.rho, top: i.top, attractor: i.attractor })),
        attractors: e.attractors, stored: e.n, ms: e.ms,
      };
      return {
        ...s, ...t, attractors: a,
        log: bounded(s.log, line(e, `attractor monitor (${e.phase}): ${e.attractors}/${e.n} attractors` + (e.items.length ? `, max ρ ${Math.max(...e.items.map((i) => i.rho)).toFixed(3)}` : ''),
          e.attractors < e.n ? 'warn' : 'info'), LOG_LINES),
      };
    }
    case 'margins': {
      const old = new Map((s.margins?.tokens ?? []).map((x) => [x.label, x.series]));
      const tokens = e.tokens.slice(0, MARGIN_TOKENS).map((x) => {
        const label = `x${x.token}`;
        return { label, series: bounded(old.get(label) ?? [], x.margin, HISTORY) };
      });
      const margins: MarginView = { step: e.step, min: e.min, median: e.median, fractionPositive: e.fractionPositive, tokens };
      const crossed = s.margins !== null && (s.margins.min > 0) !== (e.min > 0);
      return {
        ...s, ...t, margins,
        log: crossed ? bounded(s.log, line(e, e.min > 0 ? 'all margins positive' : `a margin turned negative (min ${e.min.toPrecision(3)})`, e.min > 0 ? 'info' : 'warn'), LOG_LINES) : s.log,
      };
    }
    case 'stability':
      return {
        ...s, ...t,
        log: bounded(s.log, line(e, e.ratio === null ? `λ_max(K) ${exp(e.lambdaMax)}; ratio n/a (${e.optimizer})` : `stability r = ${e.ratio.toPrecision(3)} (λ_max(K) ${exp(e.lambdaMax)})`,
          e.ratio !== null && e.ratio > 1 ? 'warn' : 'info'), LOG_LINES),
      };
    case 'recovery': {
      const worst = e.levels.length ? e.levels.reduce((a, b) => (b.model < a.model ? b : a)) : null;
      return {
        ...s, ...t,
        log: bounded(s.log, line(e, worst ? `recovery: worst ${worst.corruption} ${worst.level} → ${(worst.model * 100).toFixed(0)}% (1-NN ${(worst.nn * 100).toFixed(0)}%)` : 'recovery: no levels'), LOG_LINES),
      };
    }
    case 'spurious':
      return { ...s, ...t, log: bounded(s.log, line(e, `spurious attractors: ${e.count} (${e.attractors}/${e.certified} certified)`, e.count ? 'warn' : 'info'), LOG_LINES) };
    case 'spike': {
      if (e.phase === 'end') {
        const spikeList = s.spikeList.map((x) => (x.onsetStep === e.onsetStep && x.duration === null
          ? { ...x, duration: e.duration ?? e.step - e.onsetStep, height: e.height, peakStep: e.peakStep } : x));
        return { ...s, ...t, spikeList, log: bounded(s.log, line(e, `spike over: ×${e.height.toFixed(1)}, ${e.duration ?? e.step - e.onsetStep} steps`), LOG_LINES) };
      }
      const nonfinite = e.phase === 'nonfinite';
      return {
        ...s, ...t, spikes: s.spikes + 1,
        spikeList: bounded(s.spikeList, { onsetStep: e.onsetStep, peakStep: e.peakStep, height: e.height, duration: nonfinite ? 0 : null, nonfinite }, SPIKE_LIST),
        log: bounded(s.log, line(e, nonfinite ? 'non-finite loss' : `loss spike ×${e.height.toFixed(1)} (${exp(e.peakLoss)})`, nonfinite ? 'error' : 'warn'), LOG_LINES),
      };
    }
    case 'control':
      return {
        ...s, ...t, paused: e.command === 'pause' ? true : e.command === 'resume' ? false : s.paused,
        log: bounded(s.log, line(e, CONTROL_LINE[e.command]), LOG_LINES),
      };
    case 'artifact':
      return {
        ...s, ...t, artifacts: bounded(s.artifacts, { what: e.what, path: e.path }, LOG_LINES),
        log: bounded(s.log, line(e, `wrote ${e.what}: ${e.path}`), LOG_LINES),
      };
    case 'log':
      return {
        ...s, ...t, messages: bounded(s.messages, { level: e.level, message: e.message }, LOG_LINES),
        log: bounded(s.log, line(e, e.message, e.level), LOG_LINES),
      };
    case 'run-end':
      return {
        ...s, ...t, status: e.status, wallMs: e.wallMs, paused: false, progress: null,
        log: bounded(s.log, line(e, `run ${e.status} in ${(e.wallMs / 1000).toFixed(1)} s`, e.status === 'failed' ? 'error' : 'info'), LOG_LINES),
      };
    case 'basins':
      return { ...s, ...t, log: bounded(s.log, line(e, basinsLine(e), e.share.diverged > 0 ? 'warn' : 'info'), LOG_LINES) };
    case 'identity':
      return {
        ...s, ...t,
        log: bounded(s.log, line(e, identityLine(e), e.train.reason === 'diverged' ? 'error' : e.label === 'neither' ? 'warn' : 'info'), LOG_LINES),
      };
    case 'progress':
      return { ...s, ...t, progress: e };
    case 'live': {
      const was = s.live ?? emptyLive(null);
      const live: LiveView = {
        config: was.config, last: e,
        arrivalFps: bounded(was.arrivalFps, e.arrivalFps, LIVE_HISTORY), admitFps: bounded(was.admitFps, e.admitFps, LIVE_HISTORY),
        dropRate: bounded(was.dropRate, e.dropRate, LIVE_HISTORY),
      };
      // the log gets the stream's changes of state, not the once-a-second reports
      const changed = (was.last?.state ?? 'connecting') !== e.state;
      return { ...s, ...t, live, log: changed ? bounded(s.log, line(e, liveStateLine(e), e.state === 'reconnecting' ? 'warn' : 'info'), LOG_LINES) : s.log };
    }
    case 'live-probe': {
      const was = s.probe;
      const probe: ProbeView = {
        last: e, coverage: bounded(was?.coverage ?? [], e.of > 0 ? e.coverage / e.of : 0, LIVE_HISTORY),
        recallable: bounded(was?.recallable ?? [], e.recallable, LIVE_HISTORY),
        probes: (was?.probes ?? 0) + 1, recallableProbes: (was?.recallableProbes ?? 0) + (e.recallable ? 1 : 0),
      };
      // the log gets the first probe and every change of verdict
      const changed = !was || was.last.recallable !== e.recallable;
      return { ...s, ...t, probe, live: s.live ?? emptyLive(null), log: changed ? bounded(s.log, line(e, describeProbe(e), e.recallable ? 'info' : 'warn'), LOG_LINES) : s.log };
    }
    case 'experiment':
      return {
        ...s, ...t, progress: e.phase === 'end' ? null : s.progress,
        log: bounded(s.log, line(e, describeExperiment(e), e.status === 'failed' ? 'error' : e.status === 'disagrees' || e.status === 'skipped' ? 'warn' : 'info'), LOG_LINES),
      };
    default:
      // a kind without a case is a compile error here; at run time unreachable, as the codec lets no unknown kind in
      return assertNever(e, 'event kind');
  }
}

/** An experiment of `engram reproduce`, started or ended, in one line. */
export function describeExperiment(e: ExperimentEvent): string {
  if (e.phase === 'start') return `experiment ${e.name}: started`;
  const took = e.wallMs !== undefined ? ` in ${(e.wallMs / 1000).toFixed(1)} s` : '';
  return `experiment ${e.name}: ${e.status ?? 'ended'}${took}${e.summary ? ` — ${e.summary}` : ''}`;
}

/** The log line of a command the pipeline acted on. */
const CONTROL_LINE: { readonly [C in ControlCommand]: string } = {
  pause: 'paused', resume: 'resumed', checkpoint: 'checkpoint', recall: 'recall', record: 'recording from noise', stop: 'stopping: final checkpoint, recall, summary',
};

/** What the header shows of a run's configuration; each pipeline's config has its own fields. */
function fromConfig(c: RunConfig): Pick<ViewState, 'input' | 'objective' | 'model' | 'lossTarget' | 'maxSteps' | 'live'> {
  switch (c.command) {
    case 'memorize':
    case 'basins': {
      const { width, depth, bias, activation } = c.model;
      return {
        input: c.command === 'memorize' ? c.input.path : null, objective: c.objective, model: { width, depth, bias, activation },
        lossTarget: c.lossTarget, maxSteps: c.maxSteps, live: c.command === 'memorize' && c.live ? emptyLive(c.live) : null,
      };
    }
    case 'identity':
      return { input: c.input, objective: 'autoencode', model: null, lossTarget: c.lossTarget, maxSteps: c.maxSteps, live: null };
    case 'assoc':
      return { input: null, objective: null, model: null, lossTarget: null, maxSteps: c.steps, live: null };
    default:
      return assertNever(c, 'run config');
  }
}

const percent = (f: number) => `${(100 * f).toFixed(f > 0 && f < 0.1 ? 1 : 0)}%`;

/** The share of grid cells per training point, then the cells that reached none or diverged. */
export function basinsLine(e: BasinsEvent): string {
  const share = Object.entries(e.share).map(([k, f]) => `${/^\d+$/.test(k) ? `#${k}` : k} ${percent(f)}`).join(', ');
  return `basins (${e.objective}, ${e.points.length} points, grid ${e.grid.size}×${e.grid.size}): ${share || 'no cells'}`;
}

/** One identity probe: its verdict, how far it is from either map, and how training went. */
export function identityLine(e: IdentityEvent): string {
  return `probe ${e.arch} depth ${e.depth} → ${e.label} (distance to identity ${e.distance.identity.toFixed(2)}, ` +
    `to constant ${e.distance.constant.toFixed(2)}), ${e.train.reason} after ${e.train.steps} steps, loss ${sci(e.train.loss)}`;
}

/** The log line of a change of the stream's state. */
function liveStateLine(e: LiveEvent): string {
  switch (e.state) {
    case 'connecting':
      return `stream ${e.source}: connecting`;
    case 'connected':
      return e.gaps > 0 ? `stream ${e.source}: connected again (gap ${e.gaps})` : `stream ${e.source}: connected`;
    case 'reconnecting':
      return `stream ${e.source}: dropped, reconnecting (gap ${e.gaps})`;
    case 'ended':
      return `stream ${e.source}: ended after ${e.arrived} frames`;
    default:
      return assertNever(e.state, 'stream state');
  }
}

/** Stream frame indices as "frames 1203–1250" ("frame 7" for one; "empty" for none). */
export function frameSpan(span: readonly [number, number] | null): string {
  if (!span) return 'empty';
  return span[0] === span[1] ? `frame ${span[0]}` : `frames ${span[0]}–${span[1]}`;
}

/** A probe's first and last stream frame, in cycle order or not. */
export function probeSpan(e: Pick<LiveProbeEvent, 'frames'>): [number, number] | null {
  return e.frames.length ? [Math.min(...e.frames), Math.max(...e.frames)] : null;
}

/** "48/48 in order, 131.2 dB, certified ρ 0.09": what a probe found. */
export function probeDetails(e: LiveProbeEvent): string {
  const order = e.inOrder === null ? '' : e.inOrder ? ' in order' : ' out of order';
  const cert = e.certified === null ? 'ρ not checked' : `${e.certified ? 'certified' : 'NOT certified'}${e.rho !== null ? ` ρ ${rhoShort(e.rho)}` : ''}`;
  return `${e.coverage}/${e.of}${order}, ${e.meanPsnr.toFixed(1)} dB, ${cert}`;
}

/** "recallable now: 48/48 in order, 131.2 dB, certified ρ 0.09" ("not recallable now: …"): a probe's verdict in words. */
export const describeProbe = (e: LiveProbeEvent): string => `${e.recallable ? 'recallable now' : 'not recallable now'}: ${probeDetails(e)}`;

/** "10.0 fps in, 2.1 admitted, 79% dropped · 48 stored (frames 1203–1250) · 4.8 steps/frame · connected" — a live event in words. */
export function describeLive(e: LiveEvent): string {
  const n = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
  const stored = `${e.stored} stored${e.sequences > 1 ? ` in ${e.sequences} cycles` : ''} (${frameSpan(e.span)})`;
  const state = e.state === 'reconnecting' ? `reconnecting (gap ${e.gaps})` : e.gaps > 0 ? `${e.state} (${e.gaps} gap${e.gaps === 1 ? '' : 's'})` : e.state;
  return `${n(e.arrivalFps)} fps in, ${n(e.admitFps)} admitted, ${percent(e.dropRate)} dropped · ${stored}` +
    `${e.stepsPerFrame !== null ? ` · ${n(e.stepsPerFrame)} steps/frame` : ''} · ${state}`;
}

export const reduceEvents = (events: readonly EngramEvent[], from: ViewState = initialViewState): ViewState => events.reduce(reduceEvent, from);

/** Trainable parameters of the FC net d → W (×depth) → d. */
export function parameterCount(s: ViewState): number | null {
  if (!s.model || !s.dataset) return null;
  const dims = [s.dataset.dim, ...Array<number>(s.model.depth).fill(s.model.width), s.dataset.dim];
  let n = 0;
  for (let i = 1; i < dims.length; i++) n += dims[i - 1] * dims[i] + (s.model.bias === false ? 0 : dims[i]);
  return n;
}

/** Training steps per second over the recent samples (null before there are two). */
export function stepsPerSecond(s: ViewState): number | null {
  const a = s.rate[0], b = s.rate[s.rate.length - 1];
  if (!a || !b || b.time <= a.time) return null;
  return ((b.step - a.step) * 1000) / (b.time - a.time);
}

/** Elapsed wall time: the run's own when it ended, else up to `now` (a live run) or the newest event. */
export function elapsedMs(s: ViewState, now: number | null): number | null {
  if (s.wallMs !== null && s.status !== 'running') return s.wallMs;
  if (s.startTime === null) return null;
  return (s.status === 'running' && now !== null ? now : (s.lastTime ?? s.startTime)) - s.startTime;
}

/**
 * Steps and seconds until the loss reaches its target, extrapolating the least-squares slope of
 * log10(loss) over the recent history; null when the loss is not falling (or nothing to go on).
 */
export function etaToTarget(s: ViewState, window = 128): { steps: number; seconds: number | null } | null {
  if (s.lossTarget === null || s.loss === null || s.status !== 'running') return null;
  if (s.loss <= s.lossTarget) return { steps: 0, seconds: 0 };
  const ys = s.lossHistory.slice(-window).filter((x) => x > 0 && Number.isFinite(x)).map(Math.log10);
  if (ys.length < 8) return null;
  const n = ys.length, mx = (n - 1) / 2, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  ys.forEach((y, i) => ((sxy += (i - mx) * (y - my)), (sxx += (i - mx) ** 2)));
  const slope = sxy / sxx;
  if (!(slope < 0)) return null;
  const steps = Math.ceil((Math.log10(s.lossTarget) - Math.log10(s.loss)) / slope);
  const rate = stepsPerSecond(s);
  return { steps, seconds: rate ? steps / rate : null };
}

/** How old the newest recallable-now probe is, ms, against `now` (a live run) or the newest event (a watched log). */
export function probeAgeMs(s: ViewState, now: number | null): number | null {
  if (!s.probe) return null;
  const ref = s.status === 'running' && now !== null ? now : s.lastTime;
  return ref === null ? null : Math.max(0, ref - s.probe.last.time);
}

/** ρ of the stored memories (not the recalled limit) in `bins` equal bins over [0, max(1.5, max ρ)]. */
export function rhoHistogram(a: AttractorEvent, bins: number): { counts: number[]; max: number } {
  const rhos = a.items.slice(0, a.stored || a.items.length).map((i) => i.rho).filter(Number.isFinite);
  const max = Math.max(1.5, ...rhos);
  const counts = Array<number>(bins).fill(0);
  for (const r of rhos) counts[Math.min(bins - 1, Math.floor((r / max) * bins))]++;
  return { counts, max };
}
