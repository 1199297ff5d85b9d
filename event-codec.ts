/**
 * The wire format of events.jsonl, in one place: every writer serializes with `serializeEvent` and
 * every reader (plots, `engram watch`, replays) parses with `parseEvent`, so a line means the same
 * thing everywhere. Pure: no files here (sinks/ writes, sources/ reads).
 *
 * JSON has no NaN or ±Infinity, so non-finite numbers are written as the strings "NaN", "Infinity"
 * and "-Infinity" and turned back into numbers only where the schema below has a number: a log
 * message or a path that happens to say "NaN" stays a string.
 *
 * Parsing also validates: an unknown kind, a missing or mistyped field is a rejection with a reason
 * (readers skip and count such lines). Logs written before run-start carried a schemaVersion are
 * version 1 and are brought up to the current shape here; a log from a newer engram is an error.
 */
import { EngramError } from './errors.ts';
import {
  EVENT_SCHEMA_VERSION, type AttractorEvent, type AttractorItem, type AttractorMonitorEvent, type AttractorMonitorItem,
  type ArtifactEvent, type AssocRunConfig, type AudioPreviewEvent, type BasinsEvent, type BasinsRunConfig, type ControlEvent, type ProgressEvent,
  type DatasetEvent, type EngramEvent, type EventBase, type EventKind, type ExperimentEvent, type FcConfig, type Histogram, type IdentityEvent,
  type IdentityRow, type IdentityRunConfig, type ImagePreviewEvent, type LiveConfig, type LiveEvent, type LiveProbeEvent, type LogEvent, type MarginToken, type MarginsEvent,
  type MemorizeRunConfig, type OptimizerConfig, type RecallEvent, type RecallFrame, type RecallOutcome, type RecoveryConfig, type RecoveryEvent,
  type RecoveryLevel, type RecoveryNoise, type RunEndEvent, type RunStartEvent, type SpikeEvent, type SpuriousEvent,
  type SpuriousItem, type StabilityEvent, type TrainEndEvent, type TrainStepEvent,
} from './events.ts';

// ── schema ──────────────────────────────────────────────────────────────────────────────────────
// A small description of every field, precise enough to validate a line and to know which strings
// are numbers in disguise. `obj<T>` makes the compiler check that every field of T is described.

type Field =
  | { t: 'num' }
  | { t: 'str' }
  | { t: 'bool' }
  | { t: 'lit'; values: readonly (string | number | boolean)[] }
  | { t: 'arr'; of: Field }
  | { t: 'tuple'; of: readonly Field[] }
  | { t: 'obj'; fields: Readonly<Record<string, Field>> }
  | { t: 'rec'; of: Field }
  | { t: 'opt'; of: Field }
  | { t: 'nullable'; of: Field }
  | { t: 'union'; of: readonly Field[] }
  | { t: 'tagged'; tag: string; variants: Readonly<Record<string, Field>> };

type Fields<T> = { readonly [K in keyof T]-?: Field };

const num: Field = { t: 'num' };
const str: Field = { t: 'str' };
const bool: Field = { t: 'bool' };
const lit = <const V extends readonly (string | number | boolean)[]>(...values: V): Field => ({ t: 'lit', values });
const arr = (of: Field): Field => ({ t: 'arr', of });
const tuple = (...of: Field[]): Field => ({ t: 'tuple', of });
const rec = (of: Field): Field => ({ t: 'rec', of });
const opt = (of: Field): Field => ({ t: 'opt', of });
const nullable = (of: Field): Field => ({ t: 'nullable', of });
const union = (...of: Field[]): Field => ({ t: 'union', of });
const obj = <T>(fields: Fields<T>): Field => ({ t: 'obj', fields: fields as Record<string, Field> });
/** An event's own fields (the base fields and `kind` are checked for every event). */
const body = <E extends EventBase>(fields: Fields<Omit<E, keyof EventBase | 'kind'>>): Field => ({ t: 'obj', fields: fields as Record<string, Field> });

const objective = lit('autoencode', 'cycle', 'multi-cycle');
const optimizerName = lit('gd', 'momentum', 'momentum-wd', 'rmsprop', 'adam');
const eigMethod = lit('reduced', 'full', 'arnoldi');
const eigSolver = lit('lapack', 'ml-matrix');
const eigenvalue = obj<AttractorItem['top'][number]>({ re: num, im: num, abs: num });
const histogram = obj<Histogram>({ edges: arr(num), counts: arr(num) });
const optimizerConfig = obj<OptimizerConfig>({
  name: optimizerName, lr: num, momentum: opt(num), weightDecay: opt(num), beta1: opt(num), beta2: opt(num), rho: opt(num), eps: opt(num),
});
const fcConfig = obj<FcConfig>({ width: num, depth: num, activation: str, bias: bool, init: str, seed: num });
const runConfigBase = { runId: str, outDir: str } as const;

const recoveryConfig = obj<RecoveryConfig>({
  seed: opt(num), trials: opt(num), noise: opt(arr(num)), squares: opt(arr(num)), squareSide: opt(num), mask: opt(arr(num)),
  maskFill: opt(lit('zero', 'noise')), probes: opt(num), sigma: opt(num), spuriousSigma: opt(num), maxIterations: opt(num),
  block: opt(num), tolStep: opt(num), tolCycle: opt(num), tolMatch: opt(num), maxPeriod: opt(num), tolDedupe: opt(num), maxCertified: opt(num),
});

const runConfig: Field = {
  t: 'tagged', tag: 'command', variants: {
    memorize: obj<MemorizeRunConfig>({
      ...runConfigBase, command: lit('memorize'),
      input: {
        t: 'tagged', tag: 'kind', variants: {
          video: obj<Extract<MemorizeRunConfig['input'], { kind: 'video' }>>({
            kind: lit('video'), path: str, width: num, height: num, gray: bool, frames: opt(num), fps: opt(num), start: opt(num), duration: opt(num),
          }),
          audio: obj<Extract<MemorizeRunConfig['input'], { kind: 'audio' }>>({
            kind: lit('audio'), path: str, rate: num, chunkSeconds: num, partial: lit('drop', 'pad'), maxChunks: opt(num),
          }),
          images: obj<Extract<MemorizeRunConfig['input'], { kind: 'images' }>>({
            kind: lit('images'), path: str, width: num, height: num, gray: bool, watch: opt(bool),
          }),
        },
      },
      objective: lit('cycle', 'autoencode'), sequences: opt(num), model: fcConfig, optimizer: optimizerConfig, fit: opt(lit('auto', 'solve', 'gradient')), lossTarget: num, maxSteps: num,
      batchSize: opt(num), checkpointEvery: num, strict: opt(bool), stopOnNonfinite: opt(bool), stabilityEvery: opt(num),
      recall: obj<MemorizeRunConfig['recall']>({ from: lit('gaussian', 'uniform'), sigma: num, maxIterations: num, seed: num }),
      recovery: opt(union(lit(false), recoveryConfig)), force: bool, eigMethod: opt(lit('auto', 'reduced', 'full', 'arnoldi')),
      monitor: opt(obj<NonNullable<MemorizeRunConfig['monitor']>>({ every: union(lit('auto'), num), examples: num })), certifyMax: opt(num),
      live: opt(obj<LiveConfig>({
        mode: lit('window', 'segments', 'grow'), size: num, capacity: opt(num), minSteps: num, probeSeconds: num, recordSeconds: opt(num), reconnects: opt(num), frames: opt(num), seconds: opt(num),
      })),
    }),
    assoc: obj<AssocRunConfig>({
      ...runConfigBase, command: lit('assoc'), n: num, m: num, d: num, embeddings: str, frequencies: str, init: lit('zero', 'randn'),
      optimizer: lit('gd', 'sgd', 'adam'), lr: num, batch: opt(num), steps: num, seed: num, marginsEvery: num, lanczos: num,
      spikes: opt(obj<NonNullable<AssocRunConfig['spikes']>>({ window: opt(num), kappa: opt(num), delta: opt(num) })), plot: bool,
    }),
    identity: obj<IdentityRunConfig>({
      ...runConfigBase, command: lit('identity'), archs: arr(lit('fc', 'cnn')), depths: arr(num), input: str,
      image: obj<IdentityRunConfig['image']>({ width: num, height: num, gray: bool }),
      fc: obj<IdentityRunConfig['fc']>({ width: num, activation: str }),
      cnn: obj<IdentityRunConfig['cnn']>({ channels: num, activation: str }),
      bias: bool, init: str, optimizer: optimizerConfig, lossTarget: num, maxSteps: num, rhos: arr(num), perRho: num, seed: num,
    }),
    basins: obj<BasinsRunConfig>({
      ...runConfigBase, command: lit('basins'), points: arr(tuple(num, num)), objective: lit('autoencode', 'cycle'), sequences: opt(arr(num)), model: fcConfig,
      optimizer: optimizerConfig, lossTarget: num, maxSteps: num, grid: num, steps: num,
    }),
  },
};

const SCHEMA: { readonly [K in EventKind]: Field } = {
  'run-start': body<RunStartEvent>({
    schemaVersion: num, command: str,
    backend: obj<RunStartEvent['backend']>({ name: str, tfBackend: str, device: str, blas: nullable(str), threads: num }),
    config: runConfig,
    resume: opt(obj<NonNullable<RunStartEvent['resume']>>({ fromStep: num, checkpoint: str })),
  }),
  dataset: body<DatasetEvent>({
    objective, n: num, dim: num, source: str, frame: obj<DatasetEvent['frame']>({ width: num, height: num, channels: num }),
    fit: opt(obj<NonNullable<DatasetEvent['fit']>>({ method: lit('solve', 'gradient'), maxSteps: num })), sequenceLengths: opt(arr(num)),
  }),
  'train-step': body<TrainStepEvent>({ loss: num, lr: num, gradNorm: num, stepMs: num, samplesPerSec: num }),
  'train-end': body<TrainEndEvent>({
    reason: lit('loss-target', 'step-cap', 'diverged', 'cancelled'), loss: num, lossTarget: num, wallMs: num,
    lastFinite: opt(nullable(obj<NonNullable<TrainEndEvent['lastFinite']>>({ step: num, path: nullable(str) }))),
  }),
  recall: body<RecallEvent>({
    from: lit('gaussian', 'uniform', 'input'), rule: lit('fixed-point', 'cycle', 'diverged', 'step-cap'), iterations: num, period: num,
    framesMatched: num, framesTotal: num, framesStored: num, orderCorrect: nullable(bool), meanPsnr: num, cycle: arr(num),
    frames: arr(obj<RecallFrame>({ index: num, matched: bool, stored: bool, state: num, l2: num, l2Stored: num, psnr: num })),
    tolerances: obj<RecallEvent['tolerances']>({ step: num, cycle: num, match: num, storedMinPsnr: num }),
    outcome: opt(obj<RecallOutcome>({
      kind: lit('exact', 'approximate-orbit', 'spurious', 'diverged', 'undecided'), recalled: bool, coverage: num, of: num,
      inOrder: nullable(bool), worstPsnr: num, medianPsnr: num, minPsnr: num, window: num, close: num, tries: num, seed: num,
      sequence: opt(num), sequences: opt(num), why: str,
    })),
  }),
  attractors: body<AttractorEvent>({
    method: eigMethod, solver: eigSolver,
    items: arr(obj<AttractorItem>({ what: str, period: num, rho: num, top: arr(eigenvalue), attractor: bool })),
    attractors: num, stored: num, ms: num, skipped: opt(str),
  }),
  spike: body<SpikeEvent>({
    phase: lit('onset', 'end', 'nonfinite'), onsetStep: num, preLoss: num, peakLoss: num, peakStep: num, height: num, duration: opt(num),
  }),
  'attractor-monitor': body<AttractorMonitorEvent>({
    phase: lit('cadence', 'end', 'inspect'), method: eigMethod, solver: eigSolver,
    items: arr(obj<AttractorMonitorItem>({
      index: num, what: str, period: num, rho: num, top: arr(eigenvalue), attractor: bool, converged: opt(bool), stored: opt(bool),
    })),
    attractors: num, n: num, total: num, rhoHist: histogram, topEigHist: histogram, pooled: str, ms: num, totalMs: num, trainMs: num,
  }),
  artifact: body<ArtifactEvent>({ what: lit('checkpoint', 'video', 'audio', 'contact-sheet', 'metrics', 'plot', 'report'), path: str }),
  log: body<LogEvent>({ level: lit('info', 'warn', 'error'), message: str }),
  'run-end': body<RunEndEvent>({ status: lit('complete', 'failed', 'cancelled'), wallMs: num }),
  stability: body<StabilityEvent>({
    trigger: lit('start', 'cadence', 'spike-onset', 'spike-end'), lambdaMax: num, lr: num, a: num, ratio: nullable(num),
    optimizer: optimizerName, momentum: num, weightDecay: num, applicable: bool, reason: opt(str),
    method: lit('lanczos, jvp forward', 'lanczos, jvp fd'), iterations: num, converged: bool, ms: num,
  }),
  margins: body<MarginsEvent>({
    n: num, m: num, min: num, median: num, fractionPositive: num, loss: num, loss01: num, flips: num,
    lambdaMax: nullable(num), stability: nullable(num),
    tokens: arr(obj<MarginToken>({ token: num, p: num, margin: num, flips: num })),
  }),
  identity: body<IdentityEvent>({
    arch: lit('fc', 'cnn'), depth: num, params: num,
    train: obj<IdentityEvent['train']>({ steps: num, loss: num, reason: lit('loss-target', 'step-cap', 'diverged'), wallMs: num }),
    corr: lit('cosine'), probesPerRho: num,
    rows: arr(obj<IdentityRow>({
      rho: num, corrI: num, corrC: num, corrIStd: num, corrCStd: num,
      identity: obj<IdentityRow['identity']>({ corrI: num, corrC: num }), constant: obj<IdentityRow['constant']>({ corrI: num, corrC: num }),
    })),
    distance: obj<IdentityEvent['distance']>({ identity: num, constant: num }),
    label: lit('identity', 'constant', 'neither'), threshold: num,
  }),
  recovery: body<RecoveryEvent>({
    objective, trials: num, maxIterations: num,
    levels: arr(obj<RecoveryLevel>({
      corruption: lit('noise', 'squares', 'mask'), level: num, trials: num, model: num, phase: nullable(num), nn: num, wrong: num,
      spurious: num, diverged: num, unresolved: num, heading: num,
    })),
    noise: arr(obj<RecoveryNoise>({
      from: lit('uniform', 'gaussian'), sigma: nullable(num), probes: num, stored: num, spurious: num, diverged: num, unresolved: num,
    })),
    stored: num, n: num, ms: num,
  }),
  spurious: body<SpuriousEvent>({
    probes: num, count: num, attractors: num, certified: num,
    items: arr(obj<SpuriousItem>({
      period: num, hits: num, from: arr(str), nearest: num, l2Nearest: num, rho: nullable(num), attractor: nullable(bool), path: opt(str),
    })),
  }),
  basins: body<BasinsEvent>({
    objective: lit('autoencode', 'cycle'), points: arr(tuple(num, num)),
    grid: obj<BasinsEvent['grid']>({ size: num, x0: num, x1: num, y0: num, y1: num }),
    labels: arr(num), field: arr(tuple(num, num, num, num)), steps: num, share: rec(num), sequences: opt(arr(num)),
    spurious: opt(obj<NonNullable<BasinsEvent['spurious']>>({ limits: arr(tuple(num, num)), periods: arr(num), cells: num })),
  }),
  control: body<ControlEvent>({ command: lit('pause', 'resume', 'checkpoint', 'recall', 'record', 'stop') }),
  live: body<LiveEvent>({
    source: str, state: lit('connecting', 'connected', 'reconnecting', 'ended'), arrived: num, admitted: num, dropped: num, repeated: num, stored: num,
    sequences: num, span: nullable(tuple(num, num)), arrivalFps: num, admitFps: num, dropRate: num, stepsPerFrame: nullable(num), gaps: num,
    streamSeconds: num, intervalMs: num,
  }),
  'live-probe': body<LiveProbeEvent>({
    frames: arr(num), coverage: num, of: num, inOrder: nullable(bool), meanPsnr: num, worstPsnr: num, outcome: str, recallable: bool,
    certified: nullable(bool), rho: nullable(num), ms: num,
  }),
  progress: body<ProgressEvent>({ what: lit('decode', 'recall', 'experiment'), done: num, total: nullable(num), unit: str, stage: opt(str), source: opt(str), elapsedMs: opt(num) }),
  experiment: body<ExperimentEvent>({
    name: str, phase: lit('start', 'end'), status: opt(lit('agrees', 'partly', 'disagrees', 'failed', 'skipped')), summary: opt(str),
    report: opt(str), wallMs: opt(num), errorCode: opt(str),
  }),
  preview: {
    t: 'tagged', tag: 'media', variants: {
      image: body<ImagePreviewEvent>({ media: lit('image'), frame: num, psnr: opt(num), width: num, height: num, channels: lit(1, 3), pixels: str }),
      audio: body<AudioPreviewEvent>({
        media: lit('audio'), frame: num, psnr: opt(num), width: num, height: lit(1), channels: lit(1), waveform: arr(tuple(num, num)),
        correlation: opt(num),
      }),
    },
  },
};

const BASE = { runId: str, step: num, time: num } as const;

// ── check and revive ────────────────────────────────────────────────────────────────────────────

const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

class Invalid extends Error {}

const describe = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"` : typeof v === 'object' ? 'an object' : String(v);

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value, checked against `f` and with non-finite numbers revived; throws Invalid naming the path. */
function check(f: Field, v: unknown, path: string): unknown {
  const fail = (want: string): never => {
    throw new Invalid(`${path || 'event'}: expected ${want}, got ${describe(v)}`);
  };
  switch (f.t) {
    case 'num':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
      return fail('a number');
    case 'str':
      return typeof v === 'string' ? v : fail('a string');
    case 'bool':
      return typeof v === 'boolean' ? v : fail('true or false');
    case 'lit':
      return f.values.includes(v as string) ? v : fail(f.values.map((x) => JSON.stringify(x)).join(' | '));
    case 'arr':
      if (!Array.isArray(v)) return fail('an array');
      return v.map((x, i) => check(f.of, x, `${path}[${i}]`));
    case 'tuple':
      if (!Array.isArray(v) || v.length !== f.of.length) return fail(`an array of ${f.of.length}`);
      return v.map((x, i) => check(f.of[i], x, `${path}[${i}]`));
    case 'rec': {
      if (!isPlain(v)) return fail('an object');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = check(f.of, x, `${path}.${k}`);
      return out;
    }
    case 'obj': {
      if (!isPlain(v)) return fail('an object');
      // fields the schema does not name pass through untouched: a later version may add optional ones
      const out: Record<string, unknown> = { ...v };
      for (const [k, ff] of Object.entries(f.fields)) {
        const at = path ? `${path}.${k}` : k;
        if (v[k] === undefined) {
          if (ff.t !== 'opt') throw new Invalid(`${at}: missing`);
          continue;
        }
        out[k] = check(ff, v[k], at);
      }
      return out;
    }
    case 'opt':
      return v === undefined ? v : check(f.of, v, path);
    case 'nullable':
      return v === null ? v : check(f.of, v, path);
    case 'union': {
      const errors: string[] = [];
      for (const g of f.of) {
        try {
          return check(g, v, path);
        } catch (e) {
          if (!(e instanceof Invalid)) throw e;
          errors.push(e.message);
        }
      }
      throw new Invalid(errors.join('; or '));
    }
    case 'tagged': {
      if (!isPlain(v)) return fail('an object');
      const tag = v[f.tag];
      const variant = typeof tag === 'string' && Object.hasOwn(f.variants, tag) ? f.variants[tag] : undefined;
      if (!variant) throw new Invalid(`${path ? path + '.' : ''}${f.tag}: expected ${Object.keys(f.variants).map((k) => `"${k}"`).join(' | ')}, got ${describe(tag)}`);
      return check(variant, v, path);
    }
  }
}

// ── logs written before schemaVersion ───────────────────────────────────────────────────────────

/** Which pipeline wrote a run-start config that does not say (logs before the config was tagged). */
function inferCommand(c: Record<string, unknown>): string | undefined {
  if ('archs' in c) return 'identity';
  if ('points' in c) return 'basins';
  if ('marginsEvery' in c || 'embeddings' in c) return 'assoc';
  if ('input' in c && 'model' in c) return 'memorize';
  return undefined;
}

/** Brings a version-1 event of the first shape (no schemaVersion, untagged config, optional preview data) up to date. */
function upgrade(v: Record<string, unknown>): Record<string, unknown> {
  if (v.kind === 'run-start') {
    const out: Record<string, unknown> = { ...v, schemaVersion: v.schemaVersion ?? 1 };
    if (isPlain(v.config) && v.config.command === undefined) {
      const command = inferCommand(v.config);
      if (command) out.config = { ...v.config, command };
    }
    return out;
  }
  // an empty preview (recall reached no state) had no media data at all
  if (v.kind === 'preview' && v.width === 0) {
    if (v.media === 'image' && v.pixels === undefined) return { ...v, pixels: '' };
    if (v.media === 'audio' && v.waveform === undefined) return { ...v, waveform: [] };
  }
  return v;
}

// ── public API ──────────────────────────────────────────────────────────────────────────────────

export type Decoded =
  | { ok: true; event: EngramEvent }
  /** `json: false`: the line is not JSON at all (e.g. cut short by a crash); otherwise JSON that is not an event. */
  | { ok: false; json: boolean; error: string };

/**
 * Checks that a parsed JSON value is an event of this protocol and returns it with non-finite
 * numbers restored. A run-start from a newer protocol version throws an EngramError (reading on
 * would misread the log); every other problem is an `ok: false` with a reason.
 */
export function validateEvent(value: unknown): Decoded {
  if (!isPlain(value)) return { ok: false, json: true, error: `expected an event object, got ${describe(value)}` };
  const kind = value.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEMA, kind)) {
    return { ok: false, json: true, error: `unknown event kind ${describe(kind)}` };
  }
  const k = kind as EventKind;
  if (k === 'run-start' && typeof value.schemaVersion === 'number' && value.schemaVersion > EVENT_SCHEMA_VERSION) {
    throw new EngramError('E_INPUT_INVALID',
      `this event log was written by a newer engram (event schema version ${value.schemaVersion}; this engram reads up to ${EVENT_SCHEMA_VERSION}); ` +
      'upgrade engram to read it');
  }
  try {
    const v = upgrade(value);
    const base = check({ t: 'obj', fields: BASE }, v, '') as Record<string, unknown>;
    const event = check(SCHEMA[k], base, '') as EngramEvent;
    return { ok: true, event };
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    return { ok: false, json: true, error: `${k}: ${e.message}` };
  }
}

/** One line of events.jsonl → the event, or why it is not one (see validateEvent, which it calls). */
export function parseEvent(line: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { ok: false, json: false, error: `not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  return validateEvent(value);
}

/** The event as one line of events.jsonl (no newline); non-finite numbers become "NaN", "Infinity", "-Infinity". */
export function serializeEvent(e: EngramEvent): string {
  return JSON.stringify(e, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
