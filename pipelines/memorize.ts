/**
 * memorize: read the input → build the cycle (or autoencode) dataset → train, checkpointing every
 * interval → final checkpoint → recall from noise → recordings, all as one event stream that is
 * also written to events.jsonl. A run resumed from a checkpoint continues the same stream.
 *
 *   input$ ─▶ dataset ─┬─▶ train ──▶ train-step… (artifact)… train-end
 *                      └─▶ (after training) model.ckpt ─▶ recall ─▶ recordings ─▶ run-end
 */
import { freemem, totalmem } from 'node:os';
import { EMPTY, Observable, Subject, type OperatorFunction, catchError, concat, connect, defer, filter, finalize, from, map, merge, mergeMap, of, switchMap, tap } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { modelFromCheckpoint, type CheckpointContents } from '../engine/checkpoint.ts';
import { createFcModel, fcModel, type Model } from '../engine/model.ts';
import { makeDataset, splitByLengths, type Dataset, type Objective } from '../engine/objectives.ts';
import { EngramError } from '../errors.ts';
import type { AttractorEvent, AttractorMonitorEvent, ControlCommand, EngramEvent, LogEvent, MemorizeRunConfig, RecallEvent, SpikeEvent, StabilityEvent, TrainStepEvent } from '../events.ts';
import { runJob, type Job } from './job.ts';
import { attractors } from '../operators/attractors.ts';
import { attractorMonitor } from '../operators/attractor-monitor.ts';
import { recall } from '../operators/recall.ts';
import { spikes } from '../operators/spikes.ts';
import { stability } from '../operators/stability.ts';
import { meanMseNormalization, tangentKernelLambdaMax } from '../engine/tangent-kernel.ts';
import { netTrainer, type TrainerFactory } from '../engine/trainer.ts';
import { SOLVE_TRIES, solveBlocker, solveTrainer } from '../engine/solve.ts';
import { train, type TrainEvent, type TrainerState } from '../operators/train.ts';
import { checkpointStore } from '../sinks/checkpoints.ts';
import { MEMORIZE_PLOTS } from '../sinks/plots/index.ts';
import { quantizedKey, unitVector } from '../engine/vectors.ts';
import { decodeWarning, loadInput, partialInputError, type InputSpec, type LoadedInput, type MediaShape } from './inputs.ts';
import { checkMemory, fcMemorizeEstimate, type Machine } from './resources.ts';
import { progressReporter } from './progress.ts';
import { previewOf, withRecallNow } from './preview.ts';
import { writeRecordings } from './recordings.ts';
import { recoveryStage } from './recovery-stage.ts';

/** What a memorize job is given: the run config its run-start records (events.ts), with the command line itself. */
export type MemorizeConfig = Omit<MemorizeRunConfig, 'command'> & { command: string };

/** Continue a run from this checkpoint instead of reading the input again. */
export interface ResumeFrom {
  path: string;
  contents: CheckpointContents;
}

export interface MemorizeSummary {
  frames: number;
  framesMatched: number;
  orderCorrect: boolean | null;
  meanPsnr: number;
  /** The recall's classified outcome (exact, approximate-orbit, spurious, diverged, undecided) and whether a stored memory came back. */
  recallOutcome?: string;
  recalled?: boolean;
  /** --sequences K > 1: the lengths of the stored sequences, and the one the recall came back to (0-based). */
  sequenceLengths?: number[];
  recalledSequence?: number;
  /** The certificate after recall: stored memories certified attractors (ρ < 1), of those certified, and each one's ρ. */
  certified?: { attractors: number; of: number; rho: number[] };
  steps: number;
  finalLoss: number;
  trainReason: string;
  wallMs: number;
  backend: string;
  outDir: string;
}

/**
 * Samples that are identical once quantized to 8 bits cannot have different successors in a cycle.
 * Hashing makes this O(n·d) for long inputs.
 */
export function assertDistinct(vectors: Float32Array[], what: string): void {
  const seen = new Map<string, number>();
  vectors.forEach((v, i) => {
    const key = quantizedKey(v);
    const j = seen.get(key);
    if (j !== undefined) {
      throw new EngramError('E_INPUT_INVALID',
        `samples ${j} and ${i} of ${what} are identical at this size, so no map can send them to different successors; ` +
        'use an input whose samples differ (or a larger --size, or fewer --frames)');
    }
    seen.set(key, i);
  });
}

/**
 * --sequences K: the samples split into K consecutive sequences of (near-)equal length, the longer
 * ones first (10 samples into 3: 4, 3, 3). Each must hold at least 2 samples to be a cycle.
 */
export function splitSequences<T>(samples: T[], k: number, what = 'the input'): T[][] {
  if (!Number.isInteger(k) || k < 1) throw new EngramError('E_BAD_ARGUMENT', `--sequences must be a whole number ≥ 1 (got ${k})`);
  const n = samples.length;
  if (k > 1 && Math.floor(n / k) < 2) {
    throw new EngramError('E_BAD_ARGUMENT', `--sequences ${k} splits the ${n} samples of ${what} into sequences shorter than 2, and a cycle needs 2; ` +
      `use --sequences ${Math.max(1, Math.floor(n / 2))} or fewer, or an input with at least ${2 * k} samples`);
  }
  const out: T[][] = [];
  let at = 0;
  for (let s = 0; s < k; s++) {
    const len = Math.floor(n / k) + (s < n % k ? 1 : 0);
    out.push(samples.slice(at, at + len));
    at += len;
  }
  return out;
}

/** --sequences with an objective that has no sequences, or a value < 1: refused before anything starts. */
export function checkSequencesOption(cfg: Pick<MemorizeConfig, 'objective' | 'sequences'>): void {
  const k = cfg.sequences;
  if (k === undefined) return;
  if (!Number.isInteger(k) || k < 1) throw new EngramError('E_BAD_ARGUMENT', `--sequences must be a whole number ≥ 1 (got ${k})`);
  if (k > 1 && cfg.objective !== 'cycle') {
    throw new EngramError('E_BAD_ARGUMENT', `--sequences ${k} stores several cycles and applies to --objective cycle; an autoencoder stores each sample on its own (drop --sequences, or use --objective cycle)`);
  }
}

/** The dimension of one sample of this input (pixels × channels, or samples per audio chunk). */
export function inputDim(input: InputSpec): number {
  return input.kind === 'audio' ? Math.round(input.rate * input.chunkSeconds) : input.width * input.height * (input.gray ? 1 : 3);
}

/**
 * Refuse (E_RESOURCE) a memorize run that cannot fit in memory (pipelines/resources.ts): before
 * anything starts with `n` from --frames when given (else the least a run needs), again once the
 * backend is known (the wasm heap's 4 GiB) and once the dataset is decoded, before the model is built.
 */
export function checkMemorizeMemory(cfg: Pick<MemorizeConfig, 'input' | 'model' | 'fit' | 'optimizer' | 'batchSize'>, o: { n?: number; dim?: number; backend?: string; machine?: Machine } = {}): void {
  const i = cfg.input;
  const n = o.n ?? (i.kind === 'audio' ? i.maxChunks : i.kind === 'video' ? i.frames : undefined);
  checkMemory(fcMemorizeEstimate({
    dim: o.dim ?? inputDim(i), width: cfg.model.width, depth: cfg.model.depth, bias: cfg.model.bias, fit: cfg.fit ?? 'gradient',
    optimizer: cfg.optimizer.name, batchSize: cfg.batchSize, n, kind: i.kind,
    input: i.kind === 'audio' ? `${i.path} in ${i.chunkSeconds} s chunks at ${i.rate} Hz` : `${i.path} at ${i.width}x${i.height} ${i.gray ? 'gray' : 'RGB'}`,
  }), { backend: o.backend, machine: o.machine });
}

/** How a memorize job starts: continue from a checkpoint, and what runs first inside the job (the demo makes its clip there). */
export interface MemorizeOptions {
  resume?: ResumeFrom;
  /** The operator's commands (pause, resume, checkpoint now, recall now), e.g. from the dashboard's keys. */
  control?: Observable<ControlCommand>;
  /** Runs inside the job before the input is read, once the run directory exists. */
  before?: (job: Job) => Observable<EngramEvent>;
  /** Least time between two decode progress events while the input decodes, ms (default 1000; tests lower it). */
  decodeProgressMs?: number;
}

export function memorize(cfg: MemorizeConfig, backend: BackendInfo, o: MemorizeOptions = {}): Observable<EngramEvent> {
  const { resume } = o;
  return runJob({
    runId: cfg.runId, command: cfg.command, outDir: cfg.outDir,
    mode: resume ? { kind: 'resume', fromStep: resume.contents.step, checkpoint: resume.path } : { kind: 'new', force: cfg.force },
    start: {
      backend, config: { ...cfg, command: 'memorize' },
      runJson: { input: cfg.input.path, kind: cfg.input.kind, reduction: 'mean squared error over all elements (mean over pairs and dimensions)' },
    },
    metrics: true, plots: MEMORIZE_PLOTS, // recovery.png is drawn by its own stage
  }, (job) => concat(o.before?.(job) ?? of(), memorizeBody(job, cfg, backend, o)));
}

/** One memorize run inside its job: all of its state lives here, so every subscription starts afresh. */
function memorizeBody(job: Job, cfg: MemorizeConfig, backend: BackendInfo, { resume, control, decodeProgressMs }: MemorizeOptions): Observable<EngramEvent> {
  const store = checkpointStore(cfg.outDir);
  const ev = job.ev;
  let model: Model | undefined;
  let shape: MediaShape | undefined = resume?.contents.meta?.shape as MediaShape | undefined;
  let lastTrainer: TrainerState | null = resume ? trainerStateFrom(resume.contents) : null;
  const watching = cfg.input.kind === 'images' && cfg.input.watch === true;
  /** Watch mode, between memories: stopping now ends the run as complete. */
  let idle = false;
  job.hold({ dispose: () => model?.dispose() });
  job.onCancel(() => {
    // the train operator saved a last checkpoint when it was unsubscribed, if steps were taken
    const newest = store.newest();
    const saved = newest && newest.contents.step === job.step && !idle;
    return { status: idle ? 'complete' : 'cancelled', events: saved ? [ev({ kind: 'artifact', what: 'checkpoint', path: newest.path })] : [] };
  });

  const toDataset = (input: LoadedInput): Dataset => {
    if (input.decode) {
      job.saveRunJson({ inputDecode: input.decode });
      if (input.decode.partial && cfg.strict) throw partialInputError(cfg.input.path, input.decode);
    }
    const min = cfg.objective === 'cycle' ? 2 : 1;
    if (input.vectors.length < min) {
      const fix = cfg.input.kind === 'audio' ? 'use a longer clip, --partial pad, or a shorter --chunk-seconds'
        : cfg.input.kind === 'images' ? 'add images' : 'check --frames, --start and --duration';
      throw new EngramError('E_INPUT_EMPTY', `${cfg.input.path} gave ${input.vectors.length} sample(s); a ${cfg.objective} needs at least ${min} (${fix})`);
    }
    shape = input.shape;
    const held = input.vectors.length * input.vectors[0].length * 4; // the decoded samples are in memory already
    checkMemorizeMemory(cfg, { n: input.vectors.length, dim: input.vectors[0].length, backend: backend.name, machine: { total: totalmem(), free: freemem() + held } });
    if (cfg.objective === 'cycle') assertDistinct(input.vectors, cfg.input.path);
    const k = cfg.sequences ?? 1;
    if (k > 1) return makeDataset('multi-cycle', splitSequences(input.vectors, k, cfg.input.path));
    return makeDataset(cfg.objective, [input.vectors]);
  };
  // how far the input has decoded, as progress events beside the dataset stream (about one a second; none for a quick decode)
  const decoding = new Subject<EngramEvent>();
  const dataset$: Observable<{ data: Dataset; notes: string[]; warnings?: string[] }> = resume
    ? defer(() => of({ data: datasetFromCheckpoint(resume.contents), notes: [`resumed from ${resume.path} at step ${job.step}`] }))
    : loadInput(cfg.input, { onProgress: (p) => decoding.next(ev({ kind: 'progress', what: 'decode', source: cfg.input.path, unit: p.unit, done: p.decoded, total: p.expected ?? null, elapsedMs: p.elapsedMs })), progressMs: decodeProgressMs }).pipe(
      finalize(() => decoding.complete()),
      map((input) => ({ data: toDataset(input), notes: [...input.notes, ...strictNote(cfg, input)], warnings: warningsOf(cfg, input) })),
    );

  const contents = (data: Dataset, st: TrainerState | null, meta: Record<string, unknown>): CheckpointContents => ({
    spec: model!.spec, step: st?.step ?? job.step, weights: model!.weights(),
    optimizer: st ? { spec: { ...cfg.optimizer }, state: st.optimizer.map((o) => ({ name: o.name, shape: [o.data.length], data: o.data })) } : undefined,
    data: { objective: data.objective, sequenceLengths: data.sequenceLengths, vectors: { name: 'vectors', shape: [data.n, data.dim], data: data.inputs } },
    meta: { runId: cfg.runId, shape, rng: st?.rng, ...(st?.loss !== undefined ? { loss: st.loss } : {}), ...meta },
  });

  const afterTraining = (data: Dataset, trainEnd: { reason: string; loss: number; lastFinite?: { step: number; path: string | null } | null }) =>
    defer(() => {
      const step = job.step;
      if (trainEnd.reason === 'diverged' && trainEnd.lastFinite !== undefined) throw nonfiniteStop(cfg, job, trainEnd);
      if (trainEnd.reason === 'diverged') {
        // NaN weights are worth neither a checkpoint nor a recall; the interval checkpoints stay
        const last = store.newest();
        throw new EngramError('E_DIVERGED',
          `training diverged at step ${step} (loss ${trainEnd.loss}); lower --lr (was ${cfg.optimizer.lr}) and memorize again` +
          (last ? `, or resume from ${last.path} (step ${last.contents.step}) with engram memorize --resume ${cfg.outDir}` : ''));
      }
      const ckpt = store.saveFinal(contents(data, lastTrainer, { loss: trainEnd.loss, reason: trainEnd.reason }));
      const sequences = sequencesOfData(data);
      const frames = sequences.flat();
      let certificate: AttractorEvent | null = null;
      const reporter = progressReporter('recall', 'iterations', ev); // the recall from noise can take a while
      return concat(
        of(ev({ kind: 'artifact', what: 'checkpoint', path: ckpt })),
        reporter.around(of({ map: model!, sequences, objective: data.objective }).pipe(
          recall({ runId: cfg.runId, step, ...cfg.recall, peak: peakOf(shape!), progress: (stage, k, cap) => reporter.report(k, cap, stage) }),
          mergeMap((out) => concat(
            of(ev(out.event), ev(previewOf(shape!, out, frames))),
            of({ model: model!, sequences, objective: data.objective, recall: out }).pipe(
              attractors({ runId: cfg.runId, step, method: cfg.eigMethod, maxItems: cfg.certifyMax }),
              tap((a) => (certificate = a)),
            ),
            from(writeRecordings(cfg.outDir, shape!, out, frames, cfg.force || watching)).pipe(mergeMap((arts) => from(arts.map((a) => ev(a))))),
            cfg.recovery ? recoveryStage({ model: model!, sequences, objective: data.objective, recall: out, shape: shape!, outDir: cfg.outDir, runId: cfg.runId, step }, cfg.recovery, ev) : of(),
            defer(() => {
              const summary = summarize(cfg, out.event, { steps: step, ...trainEnd }, backend, job.started, data, certificate);
              job.saveRunJson({ summary });
              if (!watching) return of();
              // a watched directory: this memory is complete; wait for more images
              idle = true;
              return of(ev({ kind: 'log', level: 'info', message: `memorized ${data.n} images; watching ${cfg.input.path} for more (Ctrl-C to stop)` }));
            }),
          )),
        )),
      );
    });

  return merge<EngramEvent[]>(resume ? EMPTY : decoding, dataset$.pipe(
    // new images (watch mode) replace the training in progress: the same model goes on learning
    switchMap(({ data, notes, warnings = [] }) => {
      idle = false;
      model ??= resume ? fcModel(modelFromCheckpoint(resume.path, resume.contents))
        : createFcModel({ kind: 'fc', dim: data.dim, ...cfg.model }, unitVector(data.inputs.subarray(0, data.dim)));
      let end: Parameters<typeof afterTraining>[1] = { reason: 'step-cap', loss: lastTrainer?.loss ?? Number.NaN };
      const s = shape!;
      const fit = fitOf(cfg, model, data);
      const trainer: TrainerFactory<Dataset> = fit.method === 'solve'
        ? solveTrainer(model, {
          seed: cfg.model.seed, tries: fit.tries, check: { peak: peakOf(s), sigma: cfg.recall.sigma || 1 },
          fallback: fit.fallback ? { gradient: netTrainer(model, cfg.optimizer, { batchSize: cfg.batchSize, seed: cfg.model.seed }), reinit: () => reinit(model!, data) } : undefined,
        })
        : netTrainer(model, cfg.optimizer, { batchSize: cfg.batchSize, seed: cfg.model.seed });
      const frame = s.kind === 'audio' ? { width: s.samples, height: 1, channels: 1 } : { width: s.width, height: s.height, channels: s.channels };
      const seqs = () => sequencesOfData(data);
      return concat(
        of(ev({
          kind: 'dataset', objective: data.objective, n: data.n, dim: data.dim, source: cfg.input.path, frame, fit: { method: fit.method, maxSteps: fit.maxSteps },
          ...(data.sequenceLengths.length > 1 ? { sequenceLengths: data.sequenceLengths } : {}),
        })),
        from([...notes, fit.note].map((message) => ev({ kind: 'log', level: 'info', message }))),
        from(warnings.map((message) => ev({ kind: 'log', level: 'warn', message }))),
        withRecallNow(trainWithSpikes(of(data).pipe(
          train({
            runId: cfg.runId, trainer,
            lossTarget: cfg.lossTarget, maxSteps: fit.maxSteps, restore: lastTrainer ?? undefined, control,
            checkpoint: {
              every: cfg.checkpointEvery,
              save: (st) => {
                lastTrainer = st;
                return store.save(contents(data, st, {}));
              },
              atEnd: (st) => {
                lastTrainer = st;
              },
              saveLastFinite: (st) => store.saveLastFinite(contents(data, st, { reason: 'last finite state before a non-finite loss' })),
            },
            stopOnNonfinite: cfg.stopOnNonfinite,
          }),
          tap((e) => {
            job.step = e.step;
            if (e.kind === 'train-end') end = { reason: e.reason, loss: e.loss, lastFinite: e.lastFinite };
          }),
        ), cfg.runId, cfg.stabilityEvery && fit.method === 'gradient' ? stability({
          runId: cfg.runId, every: cfg.stabilityEvery, optimizer: cfg.optimizer, startStep: job.step,
          a: meanMseNormalization(data.n, data.dim), probe: () => tangentKernelLambdaMax(model!, data.inputs),
        }) : null, cfg.monitor?.every === 0 || fit.method === 'solve' ? undefined : attractorMonitor({
          runId: cfg.runId, model, sequences: seqs(), objective: data.objective, method: cfg.eigMethod,
          every: cfg.monitor?.every, maxExamples: cfg.monitor?.examples,
        })), control, () => of({ map: model!, sequences: seqs(), objective: data.objective }).pipe(
          recall({ runId: cfg.runId, step: job.step, ...cfg.recall, maxIterations: Math.min(cfg.recall.maxIterations, 1000), peak: peakOf(s) }),
          mergeMap((out) => of(ev(out.event), ev(previewOf(s, out, seqs().flat())))))),
        defer(() => afterTraining(data, end)),
      );
    }),
  ));
}

/**
 * How this run fits its net: `solve` when asked or when `auto` finds the net able to interpolate the
 * data (docs/math.md §3.5), else `gradient`. A solve makes at most SOLVE_TRIES attempts; under
 * `auto`, when no attempt replays from noise, it falls back to gradient steps (up to --max-steps more).
 */
export function fitOf(cfg: MemorizeConfig, model: Pick<Model, 'spec'>, data: Pick<Dataset, 'n'>): { method: 'solve' | 'gradient'; maxSteps: number; tries: number; fallback: boolean; note: string } {
  const asked = cfg.fit ?? 'gradient';
  const blocker = asked === 'gradient' ? null : solveBlocker(model.spec, data.n);
  if (asked === 'solve' && blocker) throw new EngramError('E_BAD_ARGUMENT', `--fit solve cannot fit this run: ${blocker}; raise --width or use --fit gradient`);
  const gradient = `${cfg.optimizer.name}, lr ${cfg.optimizer.lr}`;
  if (asked === 'gradient' || blocker) {
    return { method: 'gradient', maxSteps: cfg.maxSteps, tries: 0, fallback: false, note: `fit: gradient (${gradient})` + (blocker ? `, because ${blocker}` : '') };
  }
  const tries = Math.min(cfg.maxSteps, SOLVE_TRIES);
  const fallback = asked === 'auto';
  return {
    method: 'solve', tries, fallback, maxSteps: fallback ? tries + cfg.maxSteps : tries,
    note: `fit: solve — first layer sampled from the data, output layer solved in closed form for small Jacobians at the ${data.n} points; up to ${tries} attempt(s), each checked by recall from noise` +
      (fallback ? `; if no noise start replays, gradient training (${gradient}, up to ${cfg.maxSteps} steps) from a fresh initialization` : ''),
  };
}

/** Fresh weights of the same net (its own seed), for a solve that falls back to gradient training. */
function reinit(model: Model, data: Dataset): void {
  const fresh = createFcModel(model.spec, unitVector(data.inputs.subarray(0, data.dim)));
  model.setWeights(fresh.weights());
  fresh.dispose();
}

/** A partial input, or ffmpeg's decode errors: said as warnings (with --strict a partial input has already failed the run). */
function warningsOf(cfg: MemorizeConfig, input: LoadedInput): string[] {
  const w = input.decode && decodeWarning(cfg.input.path, input.decode);
  return w ? [w] : [];
}

/** --strict on an input whose length nothing states (standard input, a URL, lavfi:, a container without a duration): say it cannot be checked. */
function strictNote(cfg: MemorizeConfig, input: LoadedInput): string[] {
  if (!cfg.strict || !input.decode || input.decode.expectedFrom) return [];
  return [`--strict: ${cfg.input.path} does not say how long it is (no container duration), so a partial decode cannot be detected`];
}

export function datasetFromCheckpoint(c: CheckpointContents): Dataset {
  if (!c.data) throw new EngramError('E_CHECKPOINT', 'the checkpoint holds no training data; memorize again with this engram');
  const [n, d] = c.data.vectors.shape;
  const rows = splitRows(c.data.vectors.data, n, d);
  const sequences: Float32Array[][] = [];
  let at = 0;
  for (const len of c.data.sequenceLengths) {
    sequences.push(rows.slice(at, at + len));
    at += len;
  }
  return makeDataset(c.data.objective as Objective, sequences);
}

function trainerStateFrom(c: CheckpointContents): TrainerState | null {
  const rng = c.meta?.rng as number[] | undefined;
  if (!c.optimizer || !rng) return null;
  const loss = c.meta?.loss;
  return { step: c.step, optimizer: c.optimizer.state.map((s) => ({ name: s.name, data: s.data })), rng, ...(typeof loss === 'number' && Number.isFinite(loss) ? { loss } : {}) };
}

/**
 * Training events with the spike detector's events merged in (one subscription to training), the
 * stability monitor's, which sees both steps and spikes, and the attractor monitor's; all run
 * synchronously between steps, on that step's weights.
 */
export function trainWithSpikes(
  training$: Observable<TrainEvent>, runId: string,
  stabilityMonitor: OperatorFunction<TrainStepEvent | SpikeEvent, StabilityEvent> | null,
  attractorMonitor?: OperatorFunction<TrainEvent, AttractorMonitorEvent>,
): Observable<TrainEvent | SpikeEvent | StabilityEvent | AttractorMonitorEvent | LogEvent> {
  return training$.pipe(
    connect((shared) => {
      let step = 0;
      const steps$ = shared.pipe(filter((e): e is TrainStepEvent => e.kind === 'train-step'), tap((e) => (step = e.step)));
      // a monitor only reports on training: if it fails, say so and train on without it
      const orWarn = <T,>(what: string) => catchError<T, Observable<LogEvent>>((e: unknown) => of<LogEvent>({
        kind: 'log', runId, step, time: Date.now(), level: 'warn', message: `${what} stopped: ${e instanceof Error ? e.message : String(e)}; training goes on without it`,
      }));
      const spikes$ = steps$.pipe(spikes({ runId }));
      const attractors$ = attractorMonitor ? [shared.pipe(attractorMonitor, orWarn<AttractorMonitorEvent>('the attractor monitor'))] : [];
      if (!stabilityMonitor) return merge(shared, spikes$, ...attractors$);
      return spikes$.pipe(connect((sp) => merge(shared, sp, merge(steps$, sp).pipe(stabilityMonitor, orWarn<StabilityEvent>('the stability monitor')), ...attractors$)));
    }),
  );
}

/** --stop-on-nonfinite: the run stops with E_NONFINITE naming the last finite checkpoint; run.json says so. */
function nonfiniteStop(cfg: MemorizeConfig, job: Job, end: { loss: number; lastFinite?: { step: number; path: string | null } | null }): EngramError {
  const lf = end.lastFinite ?? null;
  const step = job.step;
  job.saveRunJson({ stoppedBy: { reason: 'nonfinite', step, loss: String(end.loss), lastFinite: lf ? { step: lf.step, checkpoint: lf.path } : null } });
  return new EngramError('E_NONFINITE',
    `training stopped at step ${step}: the loss or its gradient became non-finite (loss ${end.loss}; --stop-on-nonfinite); ` +
    (lf?.path ? `the last finite state (step ${lf.step}) is saved in ${lf.path}; lower --lr (was ${cfg.optimizer.lr}) and continue with engram memorize --resume ${cfg.outDir} --lr <smaller>`
      : `no step of this session was finite, so nothing new was saved (earlier checkpoints are kept); lower --lr (was ${cfg.optimizer.lr}) and memorize again`));
}

/** Peak-to-peak range for PSNR: pixels live in [0, 1], audio in [−1, 1]. */
export function peakOf(shape: MediaShape): number {
  return shape.kind === 'audio' ? 2 : 1;
}

/** A dataset's training samples grouped into its sequences (one for cycle and autoencode). */
export function sequencesOfData(data: Dataset): Float32Array[][] {
  return splitByLengths(splitRows(data.inputs, data.n, data.dim), data.sequenceLengths);
}

export function splitRows(packed: Float32Array, n: number, d: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => packed.slice(i * d, (i + 1) * d));
}

function summarize(
  cfg: MemorizeConfig, r: RecallEvent, t: { steps: number; reason: string; loss: number }, b: BackendInfo, started: number,
  data: Pick<Dataset, 'sequenceLengths'>, cert: AttractorEvent | null,
): MemorizeSummary {
  const several = data.sequenceLengths.length > 1;
  const certified = cert && !cert.skipped ? cert.items.slice(0, cert.stored) : null;
  return {
    frames: r.framesTotal, framesMatched: r.framesMatched, orderCorrect: r.orderCorrect, meanPsnr: r.meanPsnr,
    recallOutcome: r.outcome?.kind, recalled: r.outcome?.recalled,
    ...(several ? { sequenceLengths: data.sequenceLengths, ...(r.outcome?.sequence !== undefined ? { recalledSequence: r.outcome.sequence } : {}) } : {}),
    ...(certified ? { certified: { attractors: cert!.attractors, of: cert!.stored, rho: certified.map((i) => i.rho) } } : {}),
    steps: t.steps, finalLoss: t.loss, trainReason: t.reason, wallMs: Date.now() - started, backend: b.name, outDir: cfg.outDir,
  };
}
